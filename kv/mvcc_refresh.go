package kv

import (
	"fmt"

	"github.com/meridiandb/meridian/hlc"
)

// RefreshConflictError reports what made a refresh fail: a committed
// version, or another transaction's intent, in (From, To] on Key.
type RefreshConflictError struct {
	Key       []byte
	Timestamp hlc.Timestamp
	// Intent is set when the conflict is another transaction's intent.
	Intent *TxnMeta
}

func (e *RefreshConflictError) Error() string {
	if e.Intent != nil {
		return fmt.Sprintf("refresh: intent of txn %s on %q at %s", e.Intent.ID.Short(), e.Key, e.Timestamp)
	}
	return fmt.Sprintf("refresh: committed value on %q at %s", e.Key, e.Timestamp)
}

// MVCCRefresh checks that a read of [start, end) (the key start when end is
// empty) done at from would see the same thing at to: no version in (from,
// to] and no other transaction's intent at or below to. The transaction
// txn's own intents are ignored: they are its own writes, which it reads
// anyway. It returns a RefreshConflictError otherwise.
//
// A transaction whose timestamp was pushed uses it to move its reads
// forward (a read refresh) instead of restarting.
func MVCCRefresh(r Reader, start, end []byte, from, to hlc.Timestamp, txn TxnID) error {
	if len(end) == 0 {
		end = keyNext(start)
	}
	// Locks first: they tell which provisional versions are the
	// transaction's own.
	lo, hi := lockTableSpan(start, end)
	lit, err := r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: lo}), EncodeMVCCKey(MVCCKey{Key: hi}))
	if err != nil {
		return err
	}
	own := map[string]hlc.Timestamp{}
	for valid := lit.First(); valid; valid = lit.Next() {
		lk, err := DecodeMVCCKey(lit.Key())
		if err != nil {
			r.releasePebbleIter(lit)
			return err
		}
		key, err := DecodeLockTableKey(lk.Key)
		if err != nil {
			r.releasePebbleIter(lit)
			return err
		}
		v, err := lit.ValueAndErr()
		if err != nil {
			r.releasePebbleIter(lit)
			return err
		}
		if isLockMarker(v) {
			continue
		}
		rec, err := DecodeLockRecord(v)
		if err != nil {
			r.releasePebbleIter(lit)
			return &ChecksumError{Key: lk, Reason: err.Error()}
		}
		if rec.Txn.ID == txn {
			own[string(key)] = rec.Txn.WriteTimestamp
			continue
		}
		if rec.Txn.WriteTimestamp.LessEq(to) {
			r.releasePebbleIter(lit)
			meta := rec.Txn
			return &RefreshConflictError{Key: append([]byte{}, key...), Timestamp: rec.Txn.WriteTimestamp, Intent: &meta}
		}
	}
	err = lit.Error()
	r.releasePebbleIter(lit)
	if err != nil {
		return err
	}

	it, err := r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: start}), EncodeMVCCKey(MVCCKey{Key: end}))
	if err != nil {
		return err
	}
	defer r.releasePebbleIter(it)
	for valid := it.First(); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return err
		}
		if k.Timestamp.IsEmpty() || !from.Less(k.Timestamp) || to.Less(k.Timestamp) {
			continue
		}
		if ts, ok := own[string(k.Key)]; ok && ts == k.Timestamp {
			continue
		}
		return &RefreshConflictError{Key: append([]byte{}, k.Key...), Timestamp: k.Timestamp}
	}
	return it.Error()
}
