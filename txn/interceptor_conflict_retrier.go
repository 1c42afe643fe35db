package txn

import (
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// txnConflictRetrier resends, after a backoff, a batch that ran into the
// intent of a live transaction that won the push (higher priority). The
// range answers with the kv.LockConflictError rather than waiting, until
// the concurrency branch's lock wait queues and txn wait queue take over
// on the server (then this layer never sees the error). Waiting here
// cannot deadlock: a push is won by the higher priority (ties by ID), so
// every cycle of waiters contains a winner that aborts its pushee; and an
// abandoned holder loses every push once its heartbeat expires. After
// maxAttempts the error goes up, and the transaction restarts.
type txnConflictRetrier struct {
	wrapped     lockedSender
	maxAttempts int
}

func (c *txnConflictRetrier) setWrapped(w lockedSender) { c.wrapped = w }
func (c *txnConflictRetrier) epochBumpedLocked()        {}
func (c *txnConflictRetrier) closeLocked()              {}

func (c *txnConflictRetrier) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	backoff := 500 * time.Microsecond
	for attempt := 1; ; attempt++ {
		br, err := c.wrapped.SendLocked(ctx, ba)
		var lce *kv.LockConflictError
		if err == nil || !errors.As(err, &lce) || attempt >= c.maxAttempts {
			return br, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, errors.Wrap(err, ctx.Err().Error())
		case <-t.C:
		}
		backoff = min(2*backoff, 20*time.Millisecond)
	}
}
