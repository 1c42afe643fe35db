package kv

import (
	"bytes"
	"time"

	"github.com/meridiandb/meridian/hlc"
)

// Garbage collection removes the versions no reader can see any more.
// Reads below the GC threshold are refused by the range layer, so a
// version is garbage when a newer committed version exists at or below the
// threshold; the newest version at or below it is garbage too if it is a
// tombstone. Intents are never collected (resolution removes them).

// GCThreshold returns the GC threshold for a TTL: versions shadowed more
// than ttl before now are collectable.
func GCThreshold(now hlc.Timestamp, ttl time.Duration) hlc.Timestamp {
	t := hlc.Timestamp{WallTime: now.WallTime - ttl.Nanoseconds()}
	if t.WallTime <= 0 {
		return hlc.Timestamp{}
	}
	return t
}

// GCResult counts what MVCCGarbageCollect removed.
type GCResult struct {
	KeysAffected    int64
	VersionsRemoved int64
}

// MVCCGarbageCollect removes, for the user keys in [start, end), the
// versions that no read at or above threshold can see, updating ms.
func MVCCGarbageCollect(rw ReadWriter, ms *MVCCStats, start, end []byte, threshold hlc.Timestamp) (GCResult, error) {
	var res GCResult
	if threshold.IsEmpty() {
		return res, nil
	}
	type keyVersions struct {
		key      []byte
		versions []statVersion
	}
	// Collect first, then delete: deleting under a live iterator of the
	// same batch is not allowed.
	var garbage []keyVersions
	it, err := rw.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: start}), EncodeMVCCKey(MVCCKey{Key: end}))
	if err != nil {
		return res, err
	}
	var cur keyVersions
	flush := func() {
		if cur.key != nil {
			garbage = append(garbage, cur)
		}
		cur = keyVersions{}
	}
	for valid := it.First(); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			rw.releasePebbleIter(it)
			return res, err
		}
		if !k.IsValue() {
			continue
		}
		if cur.key == nil || !bytes.Equal(cur.key, k.Key) {
			flush()
			cur.key = append([]byte{}, k.Key...)
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			rw.releasePebbleIter(it)
			return res, err
		}
		cur.versions = append(cur.versions, statVersion{ts: k.Timestamp, valLen: int64(len(raw)), tombstone: valueIsTombstone(raw)})
	}
	flush()
	err = it.Error()
	rw.releasePebbleIter(it)
	if err != nil {
		return res, err
	}

	var buf []byte
	for _, kv := range garbage {
		lit, err := rw.newPebbleIter(nil, nil)
		if err != nil {
			return res, err
		}
		lock, lockSize, err := readLock(lit, kv.key, &buf)
		rw.releasePebbleIter(lit)
		if err != nil {
			return res, err
		}
		var sl *statLock
		var intentTs hlc.Timestamp
		if lock != nil {
			intentTs = lock.Txn.WriteTimestamp
			sl = &statLock{size: lockSize, intentTs: intentTs}
		}
		// The first committed version at or below the threshold is kept
		// (unless a tombstone); everything below it goes.
		cut := -1
		for i, v := range kv.versions {
			if lock != nil && v.ts == intentTs {
				continue
			}
			if v.ts.LessEq(threshold) {
				cut = i + 1
				if v.tombstone {
					cut = i
				}
				break
			}
		}
		if cut < 0 || cut >= len(kv.versions) {
			continue
		}
		for _, v := range kv.versions[cut:] {
			if err := rw.Clear(MVCCKey{Key: kv.key, Timestamp: v.ts}); err != nil {
				return res, err
			}
		}
		res.KeysAffected++
		res.VersionsRemoved += int64(len(kv.versions) - cut)
		if ms != nil {
			ms.Add(statsDelta(kv.key, kv.versions, kv.versions[:cut], sl, sl, statsNow(ms, threshold)))
		}
	}
	return res, nil
}

// MVCCGarbageKeys lists, from start on, up to maxKeys user keys below end
// that hold versions a GC at threshold would remove: keys with a version
// below the newest one at or below threshold, or whose newest version at
// or below it is a tombstone. resume is where to go on from, nil at end.
// Intents are not told apart here: a key may be listed whose only
// garbage-looking version is an intent, which MVCCGarbageCollect then
// leaves. The GC queue lists with it and removes the keys' garbage in
// batches, each under its keys' latches.
func MVCCGarbageKeys(r Reader, start, end []byte, threshold hlc.Timestamp, maxKeys int) (keys [][]byte, resume []byte, _ error) {
	if threshold.IsEmpty() {
		return nil, nil, nil
	}
	it, err := r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: start}), EncodeMVCCKey(MVCCKey{Key: end}))
	if err != nil {
		return nil, nil, err
	}
	defer r.releasePebbleIter(it)
	var cur []byte
	// below counts cur's versions at or below threshold so far.
	below := 0
	for valid := it.First(); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return nil, nil, err
		}
		if !k.IsValue() {
			continue
		}
		if cur == nil || !bytes.Equal(cur, k.Key) {
			if len(keys) == maxKeys {
				return keys, append([]byte(nil), k.Key...), nil
			}
			cur, below = append(cur[:0], k.Key...), 0
		}
		if !threshold.Less(k.Timestamp) {
			below++
			garbage := below == 2
			if below == 1 {
				raw, err := it.ValueAndErr()
				if err != nil {
					return nil, nil, err
				}
				garbage = valueIsTombstone(raw)
			}
			if garbage && (len(keys) == 0 || !bytes.Equal(keys[len(keys)-1], cur)) {
				keys = append(keys, append([]byte(nil), cur...))
			}
		}
	}
	return keys, nil, it.Error()
}

// MVCCGarbageCollectKeys is MVCCGarbageCollect on each of keys alone.
func MVCCGarbageCollectKeys(rw ReadWriter, ms *MVCCStats, keys [][]byte, threshold hlc.Timestamp) (GCResult, error) {
	var res GCResult
	for _, k := range keys {
		r, err := MVCCGarbageCollect(rw, ms, k, append(k[:len(k):len(k)], 0), threshold)
		if err != nil {
			return res, err
		}
		res.KeysAffected += r.KeysAffected
		res.VersionsRemoved += r.VersionsRemoved
	}
	return res, nil
}

// MVCCOldLocks lists, from start on, up to maxLocks locks (intents) on
// keys below end whose transaction wrote at or below threshold: the GC
// queue asks their transactions, finished or abandoned, to let go of
// them. resume is as in MVCCGarbageKeys.
func MVCCOldLocks(r Reader, start, end []byte, threshold hlc.Timestamp, maxLocks int) (locks []Lock, resume []byte, _ error) {
	lo, hi := lockTableSpan(start, end)
	it, err := r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: lo}), EncodeMVCCKey(MVCCKey{Key: hi}))
	if err != nil {
		return nil, nil, err
	}
	defer r.releasePebbleIter(it)
	for valid := it.First(); valid; valid = it.Next() {
		mk, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return nil, nil, err
		}
		key, err := DecodeLockTableKey(mk.Key)
		if err != nil {
			return nil, nil, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, nil, err
		}
		if isLockMarker(v) {
			continue
		}
		l, err := DecodeLockRecord(v)
		if err != nil {
			return nil, nil, &ChecksumError{Key: MVCCKey{Key: LockTableKey(key)}, Reason: err.Error()}
		}
		if threshold.Less(l.Txn.WriteTimestamp) {
			continue
		}
		if len(locks) == maxLocks {
			return locks, append([]byte(nil), key...), nil
		}
		locks = append(locks, Lock{Key: append([]byte(nil), key...), Txn: l.Txn})
	}
	return locks, nil, it.Error()
}
