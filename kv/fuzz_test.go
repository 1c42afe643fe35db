package kv

import (
	"bytes"
	"testing"

	"github.com/meridiandb/meridian/hlc"
)

func FuzzDecodeMVCCKey(f *testing.F) {
	for _, k := range []MVCCKey{{Key: []byte("a")}, {Key: []byte("a"), Timestamp: hlc.Timestamp{WallTime: 5}},
		{Key: []byte("\x00\x01"), Timestamp: hlc.Timestamp{WallTime: 5, Logical: 3}}, {Key: nil, Timestamp: hlc.MinTimestamp}} {
		f.Add(EncodeMVCCKey(k))
	}
	f.Add([]byte{})
	f.Add([]byte{9})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 13})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := DecodeMVCCKey(b)
		// The comparer must cope with any bytes.
		_ = mvccCompare(b, EncodeMVCCKey(MVCCKey{Key: []byte("m")}))
		_ = mvccSplit(b)
		if err != nil {
			return
		}
		if enc := EncodeMVCCKey(k); !bytes.Equal(enc, b) {
			t.Fatalf("%x decodes to %s, which encodes to %x", b, k, enc)
		}
		if mvccSplit(b) != len(k.Key)+1 {
			t.Fatalf("split of %x is %d, key %q", b, mvccSplit(b), k.Key)
		}
	})
}

func FuzzMVCCKeyOrder(f *testing.F) {
	f.Add([]byte("a"), int64(1), int32(0), []byte("a"), int64(2), int32(0))
	f.Add([]byte("a"), int64(0), int32(0), []byte("a\x00"), int64(2), int32(1))
	f.Fuzz(func(t *testing.T, ka []byte, wa int64, la int32, kb []byte, wb int64, lb int32) {
		if wa < 0 || wb < 0 || la < 0 || lb < 0 {
			return
		}
		a := MVCCKey{Key: ka, Timestamp: hlc.Timestamp{WallTime: wa, Logical: la}}
		b := MVCCKey{Key: kb, Timestamp: hlc.Timestamp{WallTime: wb, Logical: lb}}
		c := mvccCompare(EncodeMVCCKey(a), EncodeMVCCKey(b))
		want := 0
		if a.Less(b) {
			want = -1
		} else if b.Less(a) {
			want = 1
		}
		if (c < 0) != (want < 0) || (c > 0) != (want > 0) {
			t.Fatalf("compare(%s, %s) = %d, want %d", a, b, c, want)
		}
	})
}

func FuzzDecodeValue(f *testing.F) {
	f.Add([]byte("k"), appendValue(nil, []byte("k"), MakeBytesValue([]byte("hello"))))
	f.Add([]byte("k"), appendValue(nil, []byte("k"), MakeIntValue(-7)))
	f.Add([]byte("k"), appendValue(nil, []byte("k"), TombstoneValue))
	f.Add([]byte("k"), []byte{1, 2})
	f.Fuzz(func(t *testing.T, key, b []byte) {
		v, err := decodeValue(MVCCKey{Key: key}, b)
		if _, err2 := DecodeValueUnchecked(b); err == nil && err2 != nil {
			t.Fatalf("checked decode accepted what unchecked refused: %v", err2)
		}
		if err != nil {
			return
		}
		if enc := appendValue(nil, key, v); !bytes.Equal(enc, b) {
			t.Fatalf("%x decodes to %v, which encodes to %x", b, v, enc)
		}
	})
}

func FuzzDecodeLockRecord(f *testing.F) {
	rec := &LockRecord{Txn: TxnMeta{ID: TxnID{1, 2}, Key: []byte("anchor"), Epoch: 2,
		WriteTimestamp: hlc.Timestamp{WallTime: 10, Logical: 1}, MinTimestamp: hlc.Timestamp{WallTime: 9},
		Sequence: 4, Priority: -3},
		History: []IntentHistoryEntry{{Sequence: 1, Value: MakeBytesValue([]byte("x"))}, {Sequence: 3, Value: TombstoneValue}}}
	f.Add(EncodeLockRecord(rec))
	f.Add(EncodeLockRecord(&LockRecord{}))
	f.Add([]byte{1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLockRecord(b)
		if err != nil {
			return
		}
		if enc := EncodeLockRecord(l); !bytes.Equal(enc, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, l, enc)
		}
	})
}
