package kvserver

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// The abort span: which transactions a pusher aborted on this range by
// removing their intents here. A transaction that another aborted keeps
// running until it next meets its record (a heartbeat, its commit); if one
// of its intents was removed meanwhile, a read of that key would no longer
// see its own write — it would read what was there before, or what the
// pusher wrote since. Its commit fails either way, but what it read and
// returned before then (a SQL statement's rows) showed a state no
// transaction ever saw; PostgreSQL never shows a transaction without its
// own writes. So a resolution that removes an aborted transaction's
// intent on behalf of someone else (ResolveIntent with poison) leaves an
// entry for it in the range's replicated range-ID keys, and every later
// request of that transaction that reads or writes user keys here is
// refused with TransactionAbortedError (checkAbortSpan), which makes its
// coordinator start over as a new transaction.
//
// Entries go when the transaction cleans up after itself (its own ABORTED
// resolution, without poison, clears them), and otherwise with the GC
// queue, once older than the range's GC threshold. Splits copy the left's
// entries to the right (the transaction may have had intents on both
// halves); merges keep the right's.
//
// Only a transaction that has written before the batch is checked (its
// header's sequence is not zero): one that never wrote here has no intent
// to lose, and the common single-statement transaction pays nothing.
// CockroachDB's abort span is the model; its check is on every batch of a
// transaction that holds locks.

// suffixAbortSpan prefixes a range's abort span entries, each followed by
// its transaction's ID.
var suffixAbortSpan = []byte("abrt")

func abortSpanPrefix(id RangeID) []byte { return rangeIDKey(id, replicatedInfix, suffixAbortSpan) }

func abortSpanKey(id RangeID, txn kv.TxnID) []byte {
	return append(abortSpanPrefix(id), txn[:]...)
}

// abortSpanSpan is the span of a range's abort span entries.
func abortSpanSpan(id RangeID) kv.Span {
	p := abortSpanPrefix(id)
	end := append([]byte(nil), p...)
	end[len(end)-1]++
	return kv.Span{Key: p, EndKey: end}
}

// checkAbortSpan refuses a batch of a transaction a pusher aborted on this
// range (see the file comment). A rollback goes through: it is how the
// transaction cleans up.
func (r *Replica) checkAbortSpan(ec *evalCtx, ba *rangepb.BatchRequest) error {
	if ec.txn == nil || ec.txn.Meta.Sequence == 0 {
		return nil
	}
	userKeys := false
	for _, ru := range ba.Requests {
		if et := ru.GetEndTxn(); et != nil && !et.Commit {
			return nil
		}
		f := ru.Flags()
		userKeys = userKeys || f.Has(rangepb.ReadsUserKeys) || f.Has(rangepb.WritesUserKeys)
	}
	if !userKeys {
		return nil
	}
	var e rangepb.AbortSpanEntry
	found, err := loadProto(r.store.engine, abortSpanKey(r.rangeID, txnID(ec.txn.Meta)), &e)
	if err != nil || !found {
		return err
	}
	return &TransactionAbortedError{Txn: ec.txn}
}

// updateAbortSpan records what an ABORTED resolution of txn's intents on
// this range means for its abort span: with poison and an intent removed,
// an entry; without poison (the transaction's own cleanup), none. Once per
// transaction per batch (an intent resolver's batch resolves many keys of
// one transaction).
func updateAbortSpan(ec *evalCtx, w kv.Writer, meta *rangepb.TxnMeta, status rangepb.TransactionStatus, poison, removed bool) error {
	if status != rangepb.TransactionStatus_ABORTED || (poison && !removed) {
		return nil
	}
	id := txnID(meta)
	if ec.abortSpanDone[id] {
		return nil
	}
	if ec.abortSpanDone == nil {
		ec.abortSpanDone = map[kv.TxnID]bool{}
	}
	ec.abortSpanDone[id] = true
	key := abortSpanKey(ec.r.rangeID, id)
	if !poison {
		return w.Clear(kv.MVCCKey{Key: key})
	}
	return putProto(w, key, &rangepb.AbortSpanEntry{Key: meta.GetKey(), AbortedAt: tsToProto(ec.now)})
}

// forEachAbortSpanEntry calls fn with the transaction ID and the encoded
// entry of each of range id's abort span entries in rd; the value is
// valid only during the call.
func forEachAbortSpanEntry(rd kv.Reader, id RangeID, fn func(txn kv.TxnID, value []byte) error) error {
	sp := abortSpanSpan(id)
	it, err := rd.NewIterator(kv.IterOptions{LowerBound: sp.Key, UpperBound: sp.EndKey})
	if err != nil {
		return err
	}
	defer it.Close()
	var txn kv.TxnID
	for it.SeekGE(kv.MVCCKey{Key: sp.Key}); ; it.Next() {
		if ok, err := it.Valid(); err != nil || !ok {
			return err
		}
		k := it.UnsafeKey().Key
		if len(k) != len(sp.Key)+len(txn) {
			return errors.Newf("r%d: malformed abort span key %q", id, k)
		}
		copy(txn[:], k[len(sp.Key):])
		v, err := it.UnsafeValue()
		if err != nil {
			return err
		}
		if err := fn(txn, v); err != nil {
			return err
		}
	}
}

// AbortSpanTxns returns the transactions range id's abort span in rd
// holds (for tests and debugging).
func AbortSpanTxns(rd kv.Reader, id RangeID) ([]kv.TxnID, error) {
	var out []kv.TxnID
	err := forEachAbortSpanEntry(rd, id, func(txn kv.TxnID, _ []byte) error {
		out = append(out, txn)
		return nil
	})
	return out, err
}

// copyAbortSpan copies range from's abort span entries to range to's (a
// split's right-hand side, a merge's left).
func copyAbortSpan(rd kv.Reader, w kv.Writer, from, to RangeID) error {
	return forEachAbortSpanEntry(rd, from, func(txn kv.TxnID, v []byte) error {
		return w.Put(kv.MVCCKey{Key: abortSpanKey(to, txn)}, append([]byte(nil), v...))
	})
}

// gcAbortSpan removes the range's abort span entries recorded at or below
// threshold: transactions aborted that long ago have long learnt it (a
// heartbeat every second finds their record), and could not commit anyway.
func gcAbortSpan(rw kv.ReadWriter, id RangeID, threshold hlc.Timestamp) error {
	var old []kv.TxnID
	if err := forEachAbortSpanEntry(rw, id, func(txn kv.TxnID, v []byte) error {
		var e rangepb.AbortSpanEntry
		if err := proto.Unmarshal(v, &e); err != nil {
			return errors.Wrapf(err, "r%d: abort span entry", id)
		}
		if tsFromProto(e.AbortedAt).LessEq(threshold) {
			old = append(old, txn)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, txn := range old {
		if err := rw.Clear(kv.MVCCKey{Key: abortSpanKey(id, txn)}); err != nil {
			return err
		}
	}
	return nil
}
