package txn

import (
	"context"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
)

// Savepoint is a point in a transaction's writes that RollbackToSavepoint
// returns to. It is valid in the epoch it was taken in.
//
// A rollback does not rewrite anything: the writes after the savepoint
// keep their intents, and their sequence numbers join the transaction's
// ignored ranges (rangepb.Transaction.ignored_seq_nums), which every read
// of the transaction skips and the resolution at commit drops
// (CockroachDB's design: pkg/kv/kvclient/kvcoord/txn_interceptor_seq_num_allocator.go).
type Savepoint struct {
	epoch int32
	// seq is the sequence number of the last write before the savepoint.
	seq int32
}

// AtStart reports whether the savepoint precedes every write of the
// transaction: rolling back to it after a restart is a fresh start.
func (s Savepoint) AtStart() bool { return s.seq == 0 }

// ErrSavepointEpoch: the transaction restarted since the savepoint was
// taken (or must restart now): what it undid is gone, so it cannot return
// to it.
var ErrSavepointEpoch = errors.New("the transaction restarted after the savepoint was taken: it can only be rolled back as a whole")

// Savepoint marks the transaction's writes so far. Writes held back
// (BufferWrites) are sent first: a savepoint counts sequence numbers, and a
// held write gets its number only when sent; sending it now also keeps a
// later failed batch from taking a write made before the savepoint with it.
func (t *Txn) Savepoint(ctx context.Context) (Savepoint, error) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.retryErr != nil {
		return Savepoint{}, c.mu.retryErr
	}
	if c.mu.finalized {
		return Savepoint{}, ErrTxnFinalized
	}
	if c.mu.held.len() > 0 {
		if _, err := c.sendLocked(ctx, c.mu.held.take()); err != nil {
			return Savepoint{}, err
		}
	}
	return Savepoint{epoch: c.mu.txn.Meta.Epoch, seq: c.seqNums.seq}, nil
}

// RollbackToSavepoint undoes every write made after sp (reads stay done:
// their spans are still checked at commit). It fails with
// ErrSavepointEpoch if the transaction restarted since, and with the
// pending RetryableError if it must restart now.
func (t *Txn) RollbackToSavepoint(ctx context.Context, sp Savepoint) error {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.finalized {
		return ErrTxnFinalized
	}
	if c.mu.retryErr != nil {
		return c.mu.retryErr
	}
	if sp.epoch != c.mu.txn.Meta.Epoch {
		return ErrSavepointEpoch
	}
	// Writes not sent yet are simply dropped; the sent ones are ignored.
	c.mu.held.clear()
	if sent := c.seqNums.seq; sent > sp.seq {
		c.mu.txn.IgnoredSeqNums = addSeqRange(c.mu.txn.IgnoredSeqNums, sp.seq+1, sent)
	}
	return nil
}

// addSeqRange adds [start, end] to rs, merging the ranges it covers or
// touches: a later rollback covers the tail of every earlier one, so rs
// stays short.
func addSeqRange(rs []*rangepb.SeqNumRange, start, end int32) []*rangepb.SeqNumRange {
	out := rs[:0:0]
	for _, r := range rs {
		if r.End+1 < start || r.Start > end+1 {
			out = append(out, r)
			continue
		}
		start, end = min(start, r.Start), max(end, r.End)
	}
	return append(out, &rangepb.SeqNumRange{Start: start, End: end})
}
