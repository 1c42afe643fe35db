package kvserver

import (
	"context"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
)

// errPushLost marks a conflict whose push failed: the lock's holder is
// alive and ahead of the pusher in the wound-wait order (pusherWins).
var errPushLost = errors.New("push lost to a live transaction")

// txnWaits lets requests that lost a push wait for transactions to
// finish. A wait ends when any transaction record on this store is
// finalized or pushed (the waiter then pushes again, which now succeeds
// if it was its pushee), or after a backoff, since the pushee's record
// may live on another node and its heartbeat may expire. Waits never
// form a cycle: a waiter is always behind its pushee in the wound-wait
// order.
type txnWaits struct {
	mu sync.Mutex
	// changed is closed, and replaced, whenever a transaction finishes
	// here.
	changed chan struct{}
}

func newTxnWaits() *txnWaits { return &txnWaits{changed: make(chan struct{})} }

func (w *txnWaits) current() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed
}

// noteFinished wakes the waiters if ba, just served, ended a transaction
// or pushed one.
func (w *txnWaits) noteFinished(ba *rangepb.BatchRequest) {
	for _, ru := range ba.Requests {
		switch ru.Value.(type) {
		case *rangepb.RequestUnion_EndTxn, *rangepb.RequestUnion_PushTxn:
			w.mu.Lock()
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
			return
		}
	}
}

// pusheeWait is one request's waiting: its backoff grows from one
// millisecond to maxPusheeWaitPoll across the waits of the request, which
// last maxPusheeWait in all.
type pusheeWait struct {
	backoff time.Duration
	start   time.Time // of the first wait
}

// maxPusheeWait bounds how long one request waits on the range: then the
// conflict goes back to the client, which sends the request again (its
// conflict retrier), so that no single attempt outlives the client's
// per-attempt timeout (kvclient.Sender.AttemptTimeout) and turns into an
// ambiguous result.
const maxPusheeWait = 2 * time.Second

// errWaitedEnough ends a wait that reached maxPusheeWait.
var errWaitedEnough = errors.New("waited the longest a request waits on a range")

// maxPusheeWaitPoll bounds how long a waiter goes without pushing again:
// the time it takes at most to notice a pushee on another node finishing.
const maxPusheeWaitPoll = 50 * time.Millisecond

func (pw *pusheeWait) wait(ctx context.Context, w *txnWaits) error {
	now := hlc.PhysicalNow()
	if pw.start.IsZero() {
		pw.start = now
	} else if now.Sub(pw.start) >= maxPusheeWait {
		return errWaitedEnough
	}
	if pw.backoff == 0 {
		pw.backoff = time.Millisecond
	}
	t := time.NewTimer(pw.backoff)
	defer t.Stop()
	pw.backoff = min(2*pw.backoff, maxPusheeWaitPoll)
	select {
	case <-w.current():
	case <-t.C:
	case <-ctx.Done():
		return errors.Wrap(ctx.Err(), "waiting for a conflicting transaction")
	}
	return nil
}
