package kv

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// LockUpdate tells the intents of a transaction what became of it.
type LockUpdate struct {
	// Span is the key (EndKey empty) or span whose intents to resolve.
	Span Span
	// Txn is the transaction's latest metadata: with COMMITTED its
	// WriteTimestamp is the commit timestamp; with PENDING, the timestamp
	// the intents are pushed to.
	Txn    TxnMeta
	Status TxnStatus
	// IgnoredSeqNums are the savepoint rollbacks of Txn's epoch: writes at
	// these sequences are dropped.
	IgnoredSeqNums []SeqNumRange
}

// MVCCResolveIntent resolves the intent of update.Txn at update.Span.Key:
// commits it (at the commit timestamp, moving it up if needed), aborts it
// (removing it), or, for a PENDING update, pushes its timestamp. It reports
// whether there was such an intent.
func MVCCResolveIntent(rw ReadWriter, ms *MVCCStats, update LockUpdate) (bool, error) {
	key := update.Span.Key
	if err := checkKey(key); err != nil {
		return false, err
	}
	it, err := rw.newPebbleIter(nil, nil)
	if err != nil {
		return false, err
	}
	var arr [64]byte
	buf := arr[:0]
	lock, lockSize, err := readLock(it, key, &buf)
	if err != nil || lock == nil || lock.Txn.ID != update.Txn.ID {
		rw.releasePebbleIter(it)
		return false, err
	}
	// Read the provisional version and the newest committed one below it
	// (the versions the stats of this change depend on).
	st := writeState{lock: lock, lockSize: lockSize}
	intentTs := lock.Txn.WriteTimestamp
	found := false
	buf = AppendMVCCKey(buf[:0], MVCCKey{Key: key, Timestamp: hlc.MaxTimestamp})
	for valid := it.SeekPrefixGE(buf); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			rw.releasePebbleIter(it)
			return false, err
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			rw.releasePebbleIter(it)
			return false, err
		}
		st.versions = append(st.versions, statVersion{ts: k.Timestamp, valLen: int64(len(raw)), tombstone: valueIsTombstone(raw)})
		if k.Timestamp == intentTs {
			v, err := decodeValue(k, raw)
			if err != nil {
				rw.releasePebbleIter(it)
				return false, err
			}
			st.cur = Value{Type: v.Type, RawBytes: append([]byte(nil), v.RawBytes...)}
			found = true
			continue
		}
		if intentTs.Less(k.Timestamp) {
			continue
		}
		break
	}
	err = it.Error()
	rw.releasePebbleIter(it)
	if err != nil {
		return false, err
	}
	if !found {
		return false, errors.AssertionFailedf("kv: lock on %q without its provisional version at %s", key, intentTs)
	}

	inEpoch := lock.Txn.Epoch == update.Txn.Epoch
	remove := update.Status == ABORTED || (update.Status == COMMITTED && lock.Txn.Epoch < update.Txn.Epoch)
	v := st.cur
	newLock := &LockRecord{Txn: lock.Txn, History: lock.History}
	if !remove && inEpoch && len(update.IgnoredSeqNums) > 0 {
		// Savepoint rollbacks: fall back to the newest write that stands.
		var keep []IntentHistoryEntry
		for _, e := range lock.History {
			if !seqIgnored(e.Sequence, update.IgnoredSeqNums) {
				keep = append(keep, e)
			}
		}
		if seqIgnored(lock.Txn.Sequence, update.IgnoredSeqNums) {
			if len(keep) == 0 {
				remove = true
			} else {
				last := keep[len(keep)-1]
				v, newLock.Txn.Sequence, keep = last.Value, last.Sequence, keep[:len(keep)-1]
			}
		}
		newLock.History = keep
	}
	if remove {
		return true, removeIntent(rw, ms, key, st)
	}
	newTs := intentTs
	newTs.Forward(update.Txn.WriteTimestamp)
	if update.Status == COMMITTED {
		newLock = nil
	} else {
		newLock.Txn.WriteTimestamp = newTs
	}
	return true, writeVersion(rw, ms, key, st, newTs, v, newLock)
}

// removeIntent deletes the provisional version and the lock record.
func removeIntent(rw ReadWriter, ms *MVCCStats, key []byte, st writeState) error {
	ts := st.lock.Txn.WriteTimestamp
	if err := rw.Clear(MVCCKey{Key: key, Timestamp: ts}); err != nil {
		return err
	}
	if err := rw.Clear(MVCCKey{Key: LockTableKey(key)}); err != nil {
		return err
	}
	if ms != nil {
		after := withoutVersion(st.versions, ts, true)
		lb := &statLock{size: st.lockSize, intentTs: ts}
		ms.Add(statsDelta(key, st.versions, after, lb, nil, statsNow(ms, ts)))
	}
	return nil
}

// MVCCResolveIntentRange resolves the intents of update.Txn in
// update.Span, at most max of them when positive. It returns how many it
// resolved and, when it stopped at max, the span left.
func MVCCResolveIntentRange(rw ReadWriter, ms *MVCCStats, update LockUpdate, max int64) (int64, *Span, error) {
	lo, hi := lockTableSpan(update.Span.Key, update.Span.EndKey)
	it, err := rw.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: lo}), EncodeMVCCKey(MVCCKey{Key: hi}))
	if err != nil {
		return 0, nil, err
	}
	// Collect first: resolving writes to rw, under the iterator.
	var keys [][]byte
	var resume *Span
	for valid := it.First(); valid; valid = it.Next() {
		lk, err := DecodeMVCCKey(it.Key())
		if err != nil {
			rw.releasePebbleIter(it)
			return 0, nil, err
		}
		key, err := DecodeLockTableKey(lk.Key)
		if err != nil {
			rw.releasePebbleIter(it)
			return 0, nil, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			rw.releasePebbleIter(it)
			return 0, nil, err
		}
		rec, err := DecodeLockRecord(v)
		if err != nil {
			rw.releasePebbleIter(it)
			return 0, nil, &ChecksumError{Key: lk, Reason: err.Error()}
		}
		if rec.Txn.ID != update.Txn.ID {
			continue
		}
		if max > 0 && int64(len(keys)) >= max {
			resume = &Span{Key: append([]byte{}, key...), EndKey: update.Span.EndKey}
			break
		}
		keys = append(keys, append([]byte{}, key...))
	}
	err = it.Error()
	rw.releasePebbleIter(it)
	if err != nil {
		return 0, nil, err
	}
	var n int64
	for _, k := range keys {
		u := update
		u.Span = Span{Key: k}
		ok, err := MVCCResolveIntent(rw, ms, u)
		if err != nil {
			return n, nil, err
		}
		if ok {
			n++
		}
	}
	return n, resume, nil
}
