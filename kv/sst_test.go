package kv

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/hlc"
)

// TestExportIngestSST sends a range's data (versions, intents, lock
// records, unversioned keys) from one store to another as an SST, the way
// a replica snapshot does, and checks reads and stats agree.
func TestExportIngestSST(t *testing.T) {
	src, dst := openTestEngine(t), openTestEngine(t)
	var ms MVCCStats
	for i := 0; i < 200; i++ {
		key := []byte(fmt.Sprintf("k%03d", i))
		for v := 1; v <= 1+i%3; v++ {
			ts := hlc.Timestamp{WallTime: int64(v) * 1e9}
			if err := MVCCPut(src, &ms, key, ts, MakeBytesValue([]byte(fmt.Sprintf("%d-%d", i, v))), MVCCWriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	txn := &Txn{TxnMeta: TxnMeta{ID: TxnID{7}, WriteTimestamp: hlc.Timestamp{WallTime: 9e9}}}
	if err := MVCCPut(src, &ms, []byte("k050"), hlc.Timestamp{}, MakeBytesValue([]byte("intent")), MVCCWriteOptions{Txn: txn}); err != nil {
		t.Fatal(err)
	}
	if err := MVCCPutUnversioned(src, &ms, []byte("\x01krange-desc"), MakeBytesValue([]byte("desc"))); err != nil {
		t.Fatal(err)
	}
	// Stray data the snapshot must replace on the receiver.
	if err := MVCCPut(dst, nil, []byte("k999"), hlc.Timestamp{WallTime: 1}, MakeBytesValue([]byte("stale")), MVCCWriteOptions{}); err != nil {
		t.Fatal(err)
	}

	lo, hi := lockTableSpan([]byte("k"), []byte("l"))
	spans := []Span{{Key: []byte("\x01k"), EndKey: []byte("\x01l")}, {Key: lo, EndKey: hi}, {Key: []byte("k"), EndKey: []byte("l")}}
	sst, err := ExportSST(src, spans...)
	if err != nil {
		t.Fatal(err)
	}
	b := dst.NewBatch()
	for _, sp := range spans {
		if err := b.ClearRange(sp.Key, sp.EndKey); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if err := dst.IngestSST(context.Background(), sst); err != nil {
		t.Fatal(err)
	}

	ts := hlc.Timestamp{WallTime: 10e9}
	for _, e := range []Engine{src, dst} {
		got, err := ComputeStats(e, KeyMin, KeyMax, ms.LastUpdateNanos)
		if err != nil {
			t.Fatal(err)
		}
		if got != ms {
			t.Fatalf("stats differ:\nincremental: %s\nrecomputed:  %s", ms, got)
		}
	}
	a, err := MVCCScan(src, []byte("k"), []byte("l"), ts, MVCCScanOptions{Txn: txn})
	if err != nil {
		t.Fatal(err)
	}
	c, err := MVCCScan(dst, []byte("k"), []byte("l"), ts, MVCCScanOptions{Txn: txn})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.KVs()) != 200 || len(c.KVs()) != 200 {
		t.Fatalf("scan: %d and %d results", len(a.KVs()), len(c.KVs()))
	}
	for i := range a.KVs() {
		if string(a.KVs()[i].Key) != string(c.KVs()[i].Key) || !a.KVs()[i].Value.Equal(c.KVs()[i].Value) || a.KVs()[i].Timestamp != c.KVs()[i].Timestamp {
			t.Fatalf("result %d differs: %v vs %v", i, a.KVs()[i], c.KVs()[i])
		}
	}
	if _, err := MVCCGet(dst, []byte("k050"), ts, MVCCGetOptions{}); err == nil {
		t.Fatal("the intent did not travel with the snapshot")
	}
}

func TestVerifySST(t *testing.T) {
	e, err := Open("", Options{InMemory: true, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, k := range []string{"a", "b", "c"} {
		if err := MVCCPut(e, nil, []byte(k), hlc.Timestamp{WallTime: 1}, MakeBytesValue([]byte("v")), MVCCWriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sst, err := ExportSST(e, Span{Key: []byte("a"), EndKey: []byte("z")})
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySST(sst, Span{Key: []byte("a"), EndKey: []byte("z")}); err != nil {
		t.Fatalf("a good SST: %v", err)
	}
	if err := VerifySST(sst, Span{Key: []byte("a"), EndKey: []byte("c")}); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("a key outside the spans: %v", err)
	}
	bad := append([]byte(nil), sst...)
	bad[len(bad)/3] ^= 0xff
	if err := VerifySST(bad, Span{Key: []byte("a"), EndKey: []byte("z")}); err == nil {
		t.Fatal("a corrupt SST verified")
	}
	if err := VerifySST([]byte("not an sst"), Span{Key: []byte("a"), EndKey: []byte("z")}); err == nil {
		t.Fatal("garbage verified")
	}
}
