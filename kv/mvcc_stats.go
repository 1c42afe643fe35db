package kv

import (
	"bytes"
	"fmt"

	"github.com/meridiandb/meridian/hlc"
)

// MVCCStats summarise the data of a span of the store (a range). The MVCC
// operations keep them up to date incrementally: each write computes the
// contribution of the one key it touches before and after and adds the
// difference. ComputeStats recomputes them from scratch; the two always
// agree exactly.
//
// What counts, per user key with versions:
//   - KeyCount 1 and KeyBytes len(key)+1 for the key itself, plus KeyBytes
//     MVCCVersionTimestampSize and ValCount 1, ValBytes len(stored value)
//     per version (intents and tombstones included).
//   - Live: if the newest version (committed or provisional) is not a
//     tombstone, LiveCount 1 and LiveBytes len(key)+1 +
//     MVCCVersionTimestampSize + len(newest value).
//   - GCBytesAge: every byte that is not live ages from the moment it
//     stopped being live: a version from the timestamp of the version that
//     shadowed it, a tombstone (and, for a deleted key, the key bytes) from
//     its own timestamp. Age is counted in whole seconds: bytes ×
//     (now/1e9 − since/1e9), which makes ages exactly additive.
//   - Lock records: LockCount 1 and LockBytes (lock key + record bytes);
//     IntentCount 1 and IntentBytes (MVCCVersionTimestampSize + value) for
//     the provisional version.
//
// Unversioned keys outside the lock table count in SysCount and SysBytes
// (key plus value bytes).
type MVCCStats struct {
	// LastUpdateNanos is the wall time GCBytesAge is aged to.
	LastUpdateNanos int64
	GCBytesAge      int64

	LiveBytes, LiveCount int64
	KeyBytes, KeyCount   int64
	ValBytes, ValCount   int64

	IntentBytes, IntentCount int64
	LockBytes, LockCount     int64

	SysBytes, SysCount int64
}

// GCBytes are the bytes that are not live: what GC may eventually remove.
func (ms *MVCCStats) GCBytes() int64 { return ms.KeyBytes + ms.ValBytes - ms.LiveBytes }

// AgeTo moves the stats' clock to nowNanos, ageing the non-live bytes.
func (ms *MVCCStats) AgeTo(nowNanos int64) {
	ms.GCBytesAge += ms.GCBytes() * (nowNanos/1e9 - ms.LastUpdateNanos/1e9)
	ms.LastUpdateNanos = nowNanos
}

// Add adds o to ms, first ageing the older of the two to the other's
// LastUpdateNanos.
func (ms *MVCCStats) Add(o MVCCStats) {
	if o.LastUpdateNanos < ms.LastUpdateNanos {
		o.AgeTo(ms.LastUpdateNanos)
	} else {
		ms.AgeTo(o.LastUpdateNanos)
	}
	ms.GCBytesAge += o.GCBytesAge
	ms.LiveBytes += o.LiveBytes
	ms.LiveCount += o.LiveCount
	ms.KeyBytes += o.KeyBytes
	ms.KeyCount += o.KeyCount
	ms.ValBytes += o.ValBytes
	ms.ValCount += o.ValCount
	ms.IntentBytes += o.IntentBytes
	ms.IntentCount += o.IntentCount
	ms.LockBytes += o.LockBytes
	ms.LockCount += o.LockCount
	ms.SysBytes += o.SysBytes
	ms.SysCount += o.SysCount
}

// Subtract subtracts o from ms, ageing like Add.
func (ms *MVCCStats) Subtract(o MVCCStats) {
	neg := MVCCStats{LastUpdateNanos: o.LastUpdateNanos}
	neg.GCBytesAge = -o.GCBytesAge
	neg.LiveBytes, neg.LiveCount = -o.LiveBytes, -o.LiveCount
	neg.KeyBytes, neg.KeyCount = -o.KeyBytes, -o.KeyCount
	neg.ValBytes, neg.ValCount = -o.ValBytes, -o.ValCount
	neg.IntentBytes, neg.IntentCount = -o.IntentBytes, -o.IntentCount
	neg.LockBytes, neg.LockCount = -o.LockBytes, -o.LockCount
	neg.SysBytes, neg.SysCount = -o.SysBytes, -o.SysCount
	ms.Add(neg)
}

// String formats the stats for test output.
func (ms MVCCStats) String() string {
	return fmt.Sprintf("key_count=%d key_bytes=%d val_count=%d val_bytes=%d live_count=%d live_bytes=%d "+
		"gc_bytes_age=%d intent_count=%d intent_bytes=%d lock_count=%d lock_bytes=%d sys_count=%d sys_bytes=%d",
		ms.KeyCount, ms.KeyBytes, ms.ValCount, ms.ValBytes, ms.LiveCount, ms.LiveBytes, ms.GCBytesAge,
		ms.IntentCount, ms.IntentBytes, ms.LockCount, ms.LockBytes, ms.SysCount, ms.SysBytes)
}

// statVersion is what stats need to know of one version.
type statVersion struct {
	ts        hlc.Timestamp
	valLen    int64
	tombstone bool
}

// statLock is what stats need to know of a lock record.
type statLock struct {
	size     int64 // lock key + record bytes
	intentTs hlc.Timestamp
}

// ageSeconds is the age in whole seconds, at nowNanos, of bytes that
// stopped being live at since.
func ageSeconds(nowNanos int64, since hlc.Timestamp) int64 {
	return nowNanos/1e9 - since.WallTime/1e9
}

// keyStats is the contribution, at nowNanos, of a user key's versions
// (newest first) and lock. versions may be a prefix of the full list: the
// contribution of the rest depends only on the last version given, so two
// prefixes ending in the same version can be subtracted (see statsDelta).
func keyStats(key []byte, versions []statVersion, lock *statLock, nowNanos int64) MVCCStats {
	ms := MVCCStats{LastUpdateNanos: nowNanos}
	if len(versions) > 0 {
		prefix := int64(len(key) + 1)
		ms.KeyCount, ms.KeyBytes = 1, prefix
		if newest := versions[0]; !newest.tombstone {
			ms.LiveCount = 1
			ms.LiveBytes = prefix + MVCCVersionTimestampSize + newest.valLen
		} else {
			ms.GCBytesAge += prefix * ageSeconds(nowNanos, newest.ts)
		}
		for i, v := range versions {
			ms.ValCount++
			ms.KeyBytes += MVCCVersionTimestampSize
			ms.ValBytes += v.valLen
			switch {
			case i > 0:
				ms.GCBytesAge += (MVCCVersionTimestampSize + v.valLen) * ageSeconds(nowNanos, versions[i-1].ts)
			case v.tombstone:
				ms.GCBytesAge += (MVCCVersionTimestampSize + v.valLen) * ageSeconds(nowNanos, v.ts)
			}
		}
	}
	if lock != nil {
		ms.LockCount, ms.LockBytes = 1, lock.size
		for _, v := range versions {
			if v.ts == lock.intentTs {
				ms.IntentCount, ms.IntentBytes = 1, MVCCVersionTimestampSize+v.valLen
				break
			}
		}
	}
	return ms
}

// statsDelta returns after − before for one key, at nowNanos.
func statsDelta(key []byte, before, after []statVersion, lb, la *statLock, nowNanos int64) MVCCStats {
	d := keyStats(key, after, la, nowNanos)
	d.Subtract(keyStats(key, before, lb, nowNanos))
	return d
}

// statsNow is the time a write at ts charges its stats at: the stats never
// move backwards in time.
func statsNow(ms *MVCCStats, ts hlc.Timestamp) int64 {
	return max(ms.LastUpdateNanos, ts.WallTime)
}

// ComputeStats recomputes from scratch the stats of the user keys in
// [start, end) (with their lock records) and of the unversioned keys there,
// aged to nowNanos.
func ComputeStats(r Reader, start, end []byte, nowNanos int64) (MVCCStats, error) {
	ms := MVCCStats{LastUpdateNanos: nowNanos}
	it, err := r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: start}), EncodeMVCCKey(MVCCKey{Key: end}))
	if err != nil {
		return ms, err
	}
	defer r.releasePebbleIter(it)
	llo, lhi := lockTableSpan(start, end)
	lit, err := r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: llo}), EncodeMVCCKey(MVCCKey{Key: lhi}))
	if err != nil {
		return ms, err
	}
	defer r.releasePebbleIter(lit)
	lockValid := lit.First()
	// lockFor returns the lock record for key, counting any lock record
	// for an earlier key alone (none should exist).
	lockFor := func(key []byte) (*statLock, error) {
		for ; lockValid; lockValid = lit.Next() {
			lk, err := DecodeMVCCKey(lit.Key())
			if err != nil {
				return nil, err
			}
			locked, err := DecodeLockTableKey(lk.Key)
			if err != nil {
				return nil, err
			}
			c := -1
			if key != nil {
				c = bytes.Compare(locked, key)
			}
			if c > 0 {
				return nil, nil
			}
			v, err := lit.ValueAndErr()
			if err != nil {
				return nil, err
			}
			if isLockMarker(v) {
				if c == 0 {
					lockValid = lit.Next()
					return nil, nil
				}
				continue
			}
			rec, err := DecodeLockRecord(v)
			if err != nil {
				return nil, &ChecksumError{Key: lk, Reason: err.Error()}
			}
			sl := &statLock{size: int64(len(lit.Key()) + len(v)), intentTs: rec.Txn.WriteTimestamp}
			if c == 0 {
				lockValid = lit.Next()
				return sl, nil
			}
			ms.Add(keyStats(locked, nil, sl, nowNanos))
		}
		return nil, lit.Error()
	}

	var cur []byte
	var versions []statVersion
	flush := func() error {
		if cur == nil {
			return nil
		}
		l, err := lockFor(cur)
		if err != nil {
			return err
		}
		ms.Add(keyStats(cur, versions, l, nowNanos))
		cur, versions = nil, versions[:0]
		return nil
	}
	for valid := it.First(); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return ms, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return ms, err
		}
		if !k.IsValue() {
			if IsLockTableKey(k.Key) {
				continue // counted with the key it locks
			}
			if err := flush(); err != nil {
				return ms, err
			}
			ms.SysCount++
			ms.SysBytes += int64(len(it.Key()) + len(v))
			continue
		}
		if cur == nil || !bytes.Equal(cur, k.Key) {
			if err := flush(); err != nil {
				return ms, err
			}
			cur = append([]byte{}, k.Key...)
		}
		versions = append(versions, statVersion{ts: k.Timestamp, valLen: int64(len(v)), tombstone: valueIsTombstone(v)})
	}
	if err := it.Error(); err != nil {
		return ms, err
	}
	if err := flush(); err != nil {
		return ms, err
	}
	// Lock records past the last key with versions.
	if _, err := lockFor(nil); err != nil {
		return ms, err
	}
	return ms, nil
}
