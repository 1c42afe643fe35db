package kv

import (
	"bytes"
)

// FindSplitKey returns the user key at which to split [start, end) so
// that the left side holds about targetSize bytes (keys plus values, all
// versions): pass half the range's size for the byte-middle. The split key
// is the first key of a user key, so the versions of one key never end up
// on both sides. It returns nil when no key other than the first would do.
// The local keyspace is never split.
func FindSplitKey(r Reader, start, end []byte, targetSize int64) ([]byte, error) {
	if bytes.Compare(start, LocalMax) < 0 {
		start = LocalMax
	}
	it, err := r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: start}), EncodeMVCCKey(MVCCKey{Key: end}))
	if err != nil {
		return nil, err
	}
	defer r.releasePebbleIter(it)
	var size int64
	var prev []byte
	first := true
	for valid := it.First(); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return nil, err
		}
		if first || !bytes.Equal(prev, k.Key) {
			// A user key boundary: a candidate, unless it is the first key.
			if !first && size >= targetSize {
				return append([]byte{}, k.Key...), nil
			}
			first = false
			prev = append(prev[:0], k.Key...)
		}
		size += int64(len(it.Key()) + len(it.Value()))
	}
	return nil, it.Error()
}
