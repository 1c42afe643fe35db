package kv

import (
	"encoding/binary"
	"hash/crc32"
	"sort"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// An intent is a transaction's provisional write: a version at the
// transaction's write timestamp, like any other, plus a lock record in the
// lock table (at LockTableKey(key)) naming the transaction. A reader that
// finds a lock record knows the version at Txn.WriteTimestamp is
// provisional: its own if the transaction is its own, otherwise a conflict
// (if at or below its timestamp) or invisible.
//
// A resolved lock record is usually deleted, but may be left behind as a
// marker instead: an empty value at the lock key, read as "no lock" by
// every reader (isLockMarker) and counted in no statistics. A hot row's
// lock record is written and resolved by every transaction that writes
// the row; deleted each time, the deletions pile up in the memtable under
// the one lock key, and every read of the row's lock steps over all of
// them (Pebble finds the newest entry of a key, and a deletion sends it on
// to the next key, through every older entry of this one). A marker is a
// live value: the read stops at it. The range layer asks for markers only
// on keys it resolves again and again (LockUpdate.KeepMarker), so they
// stay few.
//
// The lock record also keeps the intent history: the values the
// transaction wrote to the key at earlier sequence numbers of the same
// epoch. A savepoint rollback marks a range of sequence numbers ignored;
// reads and resolution then fall back to the newest value written at a
// sequence that is not ignored.

// IntentHistoryEntry is a value written to a key by a transaction at an
// earlier sequence number of the intent's epoch.
type IntentHistoryEntry struct {
	Sequence int32
	Value    Value
}

// LockRecord is the value of a lock table key.
type LockRecord struct {
	Txn TxnMeta
	// LocalTs, when set, is the local timestamp of the provisional
	// version (see Uncertainty): the clock here when it was written,
	// below Txn.WriteTimestamp because the write was ahead of the clock
	// or a push moved the intent up since. Empty: the clock was at or
	// above Txn.WriteTimestamp when the version was written.
	LocalTs hlc.Timestamp
	// History holds the earlier values, by ascending sequence; the current
	// value, at Txn.Sequence, is the version at Txn.WriteTimestamp.
	History []IntentHistoryEntry
}

// LocalTimestamp is the clock here when the provisional version was
// written (see Uncertainty).
func (l *LockRecord) LocalTimestamp() hlc.Timestamp {
	if !l.LocalTs.IsEmpty() {
		return l.LocalTs
	}
	return l.Txn.WriteTimestamp
}

// valueAtSeq returns the value the intent held at the newest sequence ≤ seq
// that is not ignored, given the current value cur; ok is false when no
// such write exists.
func (l *LockRecord) valueAtSeq(seq int32, ignored []SeqNumRange, cur Value) (Value, bool) {
	if l.Txn.Sequence <= seq && !seqIgnored(l.Txn.Sequence, ignored) {
		return cur, true
	}
	i := sort.Search(len(l.History), func(i int) bool { return l.History[i].Sequence > seq })
	for i--; i >= 0; i-- {
		if e := l.History[i]; !seqIgnored(e.Sequence, ignored) {
			return e.Value, true
		}
	}
	return Value{}, false
}

// Lock record layout (all integers big endian or varint as noted):
//
//	version(1) = 1
//	txn id(16) | key (uvarint length, bytes) | epoch (varint)
//	write ts (8+4) | min ts (8+4) | sequence (varint) | priority (varint)
//	history count (uvarint), then per entry:
//	    sequence (varint) | type(1) | payload (uvarint length, bytes)
//	crc32c(4) over everything before it
//
// Version 2, for a provisional version with a local timestamp of its own,
// has LocalTs (8+4) right after the priority.
const (
	lockRecordVersion        = 1
	lockRecordVersionLocalTs = 2
)

// EncodeLockRecord returns the stored form of l.
func EncodeLockRecord(l *LockRecord) []byte {
	b := make([]byte, 0, 64+len(l.Txn.Key))
	if l.LocalTs.IsEmpty() {
		b = append(b, lockRecordVersion)
	} else {
		b = append(b, lockRecordVersionLocalTs)
	}
	b = append(b, l.Txn.ID[:]...)
	b = binary.AppendUvarint(b, uint64(len(l.Txn.Key)))
	b = append(b, l.Txn.Key...)
	b = binary.AppendVarint(b, int64(l.Txn.Epoch))
	b = appendTS(b, l.Txn.WriteTimestamp)
	b = appendTS(b, l.Txn.MinTimestamp)
	b = binary.AppendVarint(b, int64(l.Txn.Sequence))
	b = binary.AppendVarint(b, int64(l.Txn.Priority))
	if !l.LocalTs.IsEmpty() {
		b = appendTS(b, l.LocalTs)
	}
	b = binary.AppendUvarint(b, uint64(len(l.History)))
	for _, e := range l.History {
		b = binary.AppendVarint(b, int64(e.Sequence))
		b = append(b, byte(e.Value.Type))
		b = binary.AppendUvarint(b, uint64(len(e.Value.RawBytes)))
		b = append(b, e.Value.RawBytes...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func appendTS(b []byte, ts hlc.Timestamp) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(ts.WallTime))
	return binary.BigEndian.AppendUint32(b, uint32(ts.Logical))
}

// DecodeLockRecord decodes a stored lock record. It returns an error, never
// panics, on malformed input. The result does not alias b.
func DecodeLockRecord(b []byte) (*LockRecord, error) {
	if len(b) < 5 {
		return nil, errors.Newf("kv: lock record too short (%d bytes)", len(b))
	}
	body := b[:len(b)-4]
	if want, got := binary.BigEndian.Uint32(b[len(b)-4:]), crc32.Checksum(body, castagnoli); want != got {
		return nil, errors.Newf("kv: lock record checksum mismatch: stored %08x, computed %08x", want, got)
	}
	d := decoder{b: body}
	version := d.byte()
	if version != lockRecordVersion && version != lockRecordVersionLocalTs {
		return nil, errors.Newf("kv: unknown lock record version %d", version)
	}
	l := &LockRecord{}
	copy(l.Txn.ID[:], d.bytes(16))
	l.Txn.Key = append([]byte{}, d.bytes(d.length())...)
	l.Txn.Epoch = d.int32()
	l.Txn.WriteTimestamp = d.ts()
	l.Txn.MinTimestamp = d.ts()
	l.Txn.Sequence = d.int32()
	l.Txn.Priority = d.int32()
	if version == lockRecordVersionLocalTs {
		if l.LocalTs = d.ts(); l.LocalTs.IsEmpty() && d.err == nil {
			d.fail("local timestamp")
		}
	}
	n := d.length()
	for i := 0; i < n && d.err == nil; i++ {
		var e IntentHistoryEntry
		e.Sequence = d.int32()
		e.Value.Type = ValueType(d.byte())
		e.Value.RawBytes = append([]byte{}, d.bytes(d.length())...)
		l.History = append(l.History, e)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.Newf("kv: %d trailing bytes in lock record", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return l, nil
}

// decoder reads fields from b, remembering the first error; after an error
// every read returns zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = errors.Newf("kv: malformed lock record: bad %s", what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail("bytes")
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) length() int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > uint64(len(d.b)) {
		d.fail("length")
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) int32() int32 {
	v, n := binary.Varint(d.b)
	if n <= 0 || v < -1<<31 || v > 1<<31-1 {
		d.fail("integer")
		return 0
	}
	d.b = d.b[n:]
	return int32(v)
}

func (d *decoder) ts() hlc.Timestamp {
	s := d.bytes(12)
	if s == nil {
		return hlc.Timestamp{}
	}
	return hlc.Timestamp{WallTime: int64(binary.BigEndian.Uint64(s)), Logical: int32(binary.BigEndian.Uint32(s[8:]))}
}

// isLockMarker reports whether a lock table value is a marker left by a
// resolution: no lock.
func isLockMarker(v []byte) bool { return len(v) == 0 }

// clearLock removes key's lock record: deletes it, or overwrites it with
// a marker.
func clearLock(rw ReadWriter, key []byte, marker bool) error {
	lk := MVCCKey{Key: LockTableKey(key)}
	if marker {
		return rw.Put(lk, nil)
	}
	return rw.Clear(lk)
}

// readLock returns the lock record for key, or nil, and its stored size
// (key plus value bytes; 0 for none or a marker).
func readLock(it pebbleIterLike, key []byte, buf *[]byte) (*LockRecord, int64, error) {
	*buf = AppendMVCCKey(append((*buf)[:0], LocalLockTablePrefix...), MVCCKey{Key: key})
	ek := *buf
	if !it.SeekPrefixGE(ek) {
		return nil, 0, it.Error()
	}
	if string(it.Key()) != string(ek) {
		return nil, 0, nil
	}
	v, err := it.ValueAndErr()
	if err != nil || isLockMarker(v) {
		return nil, 0, err
	}
	l, err := DecodeLockRecord(v)
	if err != nil {
		return nil, 0, &ChecksumError{Key: MVCCKey{Key: LockTableKey(key)}, Reason: err.Error()}
	}
	return l, int64(len(ek) + len(v)), nil
}

// pebbleIterLike is the part of *pebble.Iterator point lookups use.
type pebbleIterLike interface {
	SeekPrefixGE(key []byte) bool
	Key() []byte
	ValueAndErr() ([]byte, error)
	Error() error
}
