package kv

import (
	"github.com/cockroachdb/errors"
	"github.com/cockroachdb/pebble/v2"
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
	// KeepMarker, when set and true for a key, leaves a marker in place of
	// the key's resolved lock record instead of deleting it (see
	// isLockMarker): for the keys that are locked again and again.
	KeepMarker func(key []byte) bool
}

// MVCCResolveIntent resolves the intent of update.Txn at update.Span.Key
// (see IntentResolver.Resolve).
func MVCCResolveIntent(rw ReadWriter, ms *MVCCStats, update LockUpdate) (bool, error) {
	r := NewIntentResolver(rw)
	defer r.Close()
	return r.Resolve(ms, update)
}

// IntentResolver resolves intents one after another through one
// iterator: a fresh iterator per intent costs more than the resolution
// (every level's file is found and opened again), which made resolving
// the intents of a bulk load the node's main work for a minute after it.
// The iterator sees rw as it was when it was made, which is all a
// resolution of another key needs; a key resolved a second time gets a
// fresh one. Writes to rw by others while it is open must not touch the
// keys it has still to resolve.
type IntentResolver struct {
	rw ReadWriter
	// locks reads the lock table, versions the keys' versions: two
	// iterators, each moving forward in its own part of the keyspace
	// when the keys come in order, instead of one jumping between them.
	locks, versions *pebble.Iterator
	seen            map[string]struct{}
}

// NewIntentResolver returns a resolver writing to rw; Close releases it.
func NewIntentResolver(rw ReadWriter) *IntentResolver { return &IntentResolver{rw: rw} }

// Close releases the resolver's iterator.
func (r *IntentResolver) Close() {
	if r.locks != nil {
		if r.versions != r.locks {
			r.rw.releasePebbleIter(r.versions)
		}
		r.rw.releasePebbleIter(r.locks)
		r.locks, r.versions, r.seen = nil, nil, nil
	}
}

// Resolve resolves the intent of update.Txn at update.Span.Key:
// commits it (at the commit timestamp, moving it up if needed), aborts it
// (removing it), or, for a PENDING update, pushes its timestamp. It
// reports whether there was such an intent.
func (r *IntentResolver) Resolve(ms *MVCCStats, update LockUpdate) (bool, error) {
	key := update.Span.Key
	if err := checkKey(key); err != nil {
		return false, err
	}
	if _, again := r.seen[string(key)]; again {
		r.Close()
	}
	switch {
	case r.locks == nil:
		// One iterator for both while there is one intent (a one-row
		// write's commit): making an iterator costs more than moving one.
		locks, err := r.rw.newPebbleIter(nil, nil)
		if err != nil {
			return false, err
		}
		r.locks, r.versions, r.seen = locks, locks, map[string]struct{}{}
	case r.versions == r.locks:
		versions, err := r.rw.newPebbleIter(nil, nil)
		if err != nil {
			return false, err
		}
		r.versions = versions
	}
	r.seen[string(key)] = struct{}{}
	return resolveIntent(r.rw, r.locks, r.versions, ms, update)
}

// resolveFound is Resolve of an intent whose lock record the caller read
// (a range resolution's walk of the lock table): only its versions are
// read. Its keys come in order, each once.
func (r *IntentResolver) resolveFound(ms *MVCCStats, update LockUpdate, lock *LockRecord, lockSize int64) (bool, error) {
	if err := checkKey(update.Span.Key); err != nil {
		return false, err
	}
	if r.versions == nil {
		it, err := r.rw.newPebbleIter(nil, nil)
		if err != nil {
			return false, err
		}
		r.locks, r.versions, r.seen = it, it, map[string]struct{}{}
	}
	return resolveLocked(r.rw, r.versions, ms, update, lock, lockSize)
}

func resolveIntent(rw ReadWriter, locks, it *pebble.Iterator, ms *MVCCStats, update LockUpdate) (bool, error) {
	var arr [64]byte
	buf := arr[:0]
	lock, lockSize, err := readLock(locks, update.Span.Key, &buf)
	if err != nil || lock == nil || lock.Txn.ID != update.Txn.ID {
		return false, err
	}
	return resolveLocked(rw, it, ms, update, lock, lockSize)
}

// resolveLocked is resolveIntent once the key's lock record (lock, of
// lockSize bytes with its key) is read.
func resolveLocked(rw ReadWriter, it *pebble.Iterator, ms *MVCCStats, update LockUpdate, lock *LockRecord, lockSize int64) (bool, error) {
	key := update.Span.Key
	var arr [64]byte
	buf := arr[:0]
	// Read the provisional version and the newest committed one below it
	// (the versions the stats of this change depend on).
	st := writeState{lock: lock, lockSize: lockSize, marker: update.KeepMarker != nil && update.KeepMarker(key)}
	intentTs := lock.Txn.WriteTimestamp
	found := false
	buf = AppendMVCCKey(buf[:0], MVCCKey{Key: key, Timestamp: hlc.MaxTimestamp})
	for valid := it.SeekPrefixGE(buf); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return false, err
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			return false, err
		}
		st.versions = append(st.versions, statVersion{ts: k.Timestamp, valLen: int64(len(raw)), tombstone: valueIsTombstone(raw)})
		if k.Timestamp == intentTs {
			v, err := decodeValue(k, raw)
			if err != nil {
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
	if err := it.Error(); err != nil {
		return false, err
	}
	if !found {
		return false, errors.AssertionFailedf("kv: lock on %q without its provisional version at %s", key, intentTs)
	}

	inEpoch := lock.Txn.Epoch == update.Txn.Epoch
	// A commit takes the writes of its own epoch only. An intent of an
	// earlier epoch was superseded; one of a later epoch than the commit
	// says can only come from a coordinator that went on after its
	// transaction committed: committing it would make a write nobody
	// committed part of the transaction (and leaving it would have every
	// reader that meets it push the committed record again and again).
	remove := update.Status == ABORTED || (update.Status == COMMITTED && lock.Txn.Epoch != update.Txn.Epoch)
	v, replaced := st.cur, false
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
				replaced = true
			}
		}
		newLock.History = keep
	}
	if remove {
		return true, removeIntent(rw, ms, key, st)
	}
	newTs := intentTs
	newTs.Forward(update.Txn.WriteTimestamp)
	if update.Status == COMMITTED && newTs == intentTs && !replaced {
		return true, commitInPlace(rw, ms, key, st)
	}
	// The version keeps the clock of its first writing as its local
	// timestamp when it moves up (see Uncertainty): it was written before
	// any reader that began after then, whatever timestamp it commits at.
	var localTs hlc.Timestamp
	if orig := lock.LocalTimestamp(); orig.Less(newTs) {
		localTs = orig
	}
	if update.Status == COMMITTED {
		newLock = nil
	} else {
		newLock.Txn.WriteTimestamp, newLock.LocalTs = newTs, localTs
	}
	return true, writeVersion(rw, ms, key, st, newTs, v, localTs, newLock)
}

// commitInPlace commits an intent whose provisional version already is
// the committed one (same timestamp, same value): only the lock record
// goes. Rewriting the version would write every committed value twice
// (Raft log, WAL, memtable) and pile up entries of the same key in the
// memtable, which every later read of a hot row must step over.
func commitInPlace(rw ReadWriter, ms *MVCCStats, key []byte, st writeState) error {
	if err := clearLock(rw, key, st.marker); err != nil {
		return err
	}
	if ms != nil {
		ts := st.lock.Txn.WriteTimestamp
		lb := &statLock{size: st.lockSize, intentTs: ts}
		ms.Add(statsDelta(key, st.versions, st.versions, lb, nil, statsNow(ms, ts)))
	}
	return nil
}

// removeIntent deletes the provisional version and the lock record.
func removeIntent(rw ReadWriter, ms *MVCCStats, key []byte, st writeState) error {
	ts := st.lock.Txn.WriteTimestamp
	if err := rw.Clear(MVCCKey{Key: key, Timestamp: ts}); err != nil {
		return err
	}
	if err := clearLock(rw, key, st.marker); err != nil {
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
	// Collect first: resolving writes to rw, under the iterator. The lock
	// records found are passed on, so that each intent's resolution does
	// not seek its lock again.
	type found struct {
		key  []byte
		lock *LockRecord
		size int64
	}
	var keys []found
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
		if isLockMarker(v) {
			continue
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
		keys = append(keys, found{key: append([]byte{}, key...), lock: rec, size: int64(len(it.Key()) + len(v))})
	}
	err = it.Error()
	rw.releasePebbleIter(it)
	if err != nil {
		return 0, nil, err
	}
	var n int64
	r := NewIntentResolver(rw)
	defer r.Close()
	for _, k := range keys {
		u := update
		u.Span = Span{Key: k.key}
		ok, err := r.resolveFound(ms, u, k.lock, k.size)
		if err != nil {
			return n, nil, err
		}
		if ok {
			n++
		}
	}
	return n, resume, nil
}
