package kv

import "github.com/meridiandb/meridian/kv/kvpb"

// keyNext returns the smallest key greater than key.
func keyNext(key []byte) []byte { return kvpb.KeyNext(key) }

// lockTableSpan maps a span of keys to the span of their lock records.
func lockTableSpan(start, end []byte) (lo, hi []byte) {
	lo = kvpb.LockTableKey(start)
	if len(end) == 0 {
		return lo, kvpb.LocalLockTableMax
	}
	return lo, kvpb.LockTableKey(end)
}
