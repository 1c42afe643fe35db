package txn

import (
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// txnConflictRetrier resends, after a backoff, a batch that ran into the
// intent of a live transaction it could not push. Ranges now wait for
// such a transaction themselves (wound-wait, see kvserver's
// sendWithConflicts), so this sees the conflict only when a range gave up
// (its context ended) or runs without a TxnSender. After maxAttempts the
// error goes up, and the transaction restarts.
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
