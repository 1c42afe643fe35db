package txn

import (
	"context"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
)

// txnHeartbeater creates the transaction's record with its first write and
// keeps it alive: without heartbeats, others take the transaction for
// abandoned once the liveness threshold passes, and abort it. The loop
// also tells the coordinator when others aborted (or pushed) it, so that
// it stops early rather than finding out at commit.
type txnHeartbeater struct {
	wrapped  lockedSender
	sender   Sender
	stopper  *stop.Stopper
	interval time.Duration
	// mu is the coordinator's mutex; the loop takes it to read and update
	// the state through state and update.
	mu     *sync.Mutex
	state  func() *rangepb.Transaction
	update func(*rangepb.Transaction)

	// The fields below are guarded by mu.
	recordCreated bool
	// aborted is set by the loop when the record turned out ABORTED.
	aborted *rangepb.Transaction
	// stopLoop ends the loop; nil until it starts.
	stopLoop chan struct{}
	// recordTimer starts the loop an interval after the transaction
	// first held something without a record (see armLocked).
	recordTimer *time.Timer
	// ending: an EndTxn went down; no record is created after it.
	ending bool
}

func (h *txnHeartbeater) init(db *DB, mu *sync.Mutex, state func() *rangepb.Transaction, update func(*rangepb.Transaction)) {
	h.sender, h.stopper, h.interval = db.sender, db.stopper, db.opts.HeartbeatInterval
	h.mu, h.state, h.update = mu, state, update
}

func (h *txnHeartbeater) setWrapped(w lockedSender) { h.wrapped = w }
func (h *txnHeartbeater) epochBumpedLocked()        { h.ending = false }

func (h *txnHeartbeater) closeLocked() {
	if h.recordTimer != nil {
		h.recordTimer.Stop()
		h.recordTimer = nil
	}
	if h.stopLoop != nil {
		close(h.stopLoop)
		h.stopLoop = nil
	}
}

// firstWriteKey returns the key of the batch's first write, nil if none.
func firstWriteKey(ba *rangepb.BatchRequest) []byte {
	for _, ru := range ba.Requests {
		if key, _, write := writeSpan(ru); write {
			return key
		}
	}
	return nil
}

func isRollback(ba *rangepb.BatchRequest) bool {
	for _, ru := range ba.Requests {
		if et := ru.GetEndTxn(); et != nil && !et.Commit {
			return true
		}
	}
	return false
}

func (h *txnHeartbeater) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	if h.aborted != nil && !isRollback(ba) {
		return nil, &rangepb.TransactionAbortedError{Txn: h.aborted}
	}
	if ba.Requests[len(ba.Requests)-1].GetEndTxn() != nil {
		h.ending = true
	}
	if h.recordCreated {
		return h.wrapped.SendLocked(ctx, ba)
	}
	key := firstWriteKey(ba)
	if key == nil {
		if len(ba.Header.Txn.Meta.Key) == 0 {
			// A locking read before any write anchors the transaction
			// too, without a record yet: a range gives a locking read's
			// lock only to a transaction with an anchor, the key others
			// push it at (where, until the record is written, they find
			// it alive for a liveness threshold from its start). Without
			// it, the first statement's UPDATE locked nothing: two TPC-C
			// payments read the warehouse row "for update" at once, and
			// one failed its refresh at commit (37% of payments retried).
			for _, ru := range ba.Requests {
				if k, _, ok := lockingReadSpan(ru); ok {
					ba.Header.Txn.Meta.Key = append([]byte(nil), k...)
					if h.update != nil {
						h.update(ba.Header.Txn)
					}
					h.armLocked(ba.Header.Txn.Meta.Key)
					break
				}
			}
		}
		return h.wrapped.SendLocked(ctx, ba)
	}
	// The first write: it anchors the transaction, and its record is
	// created in the same batch, ahead of it, so that no intent of the
	// transaction exists without its record.
	if len(ba.Header.Txn.Meta.Key) == 0 {
		ba.Header.Txn.Meta.Key = append([]byte(nil), key...)
		if h.update != nil {
			// The anchor sticks even if this batch fails: intents it may
			// have left name it, so the record must be there.
			h.update(ba.Header.Txn)
		}
	}
	hb := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_HeartbeatTxn{HeartbeatTxn: &rangepb.HeartbeatTxnRequest{Key: ba.Header.Txn.Meta.Key}}}
	ba.Requests = append([]*rangepb.RequestUnion{hb}, ba.Requests...)
	br, err := h.wrapped.SendLocked(ctx, ba)
	if err != nil {
		return nil, err
	}
	br.Responses = br.Responses[1:]
	h.recordCreated = true
	if !hasCommit(ba) {
		// (A batch that commits with its first writes — buffered writes,
		// see Txn.BufferWrites — ends the transaction: nothing to keep
		// alive. On one range it commits in one phase, and the record is
		// never written.)
		h.startLoopLocked(ba.Header.Txn.Meta.Key)
	}
	return br, nil
}

// armLocked makes a transaction that holds something without a record
// yet (a locking read's lock, writes the coordinator holds back, both
// anchored at anchor) write its record and heartbeat it if it is still
// running an interval from now: until then, those who push it find it
// alive for a liveness threshold from its start, and after that they
// would take a transaction that merely runs long (a psql user between
// statements) for abandoned and abort it. A short transaction never
// writes the record: the timer costs no goroutine until it fires.
func (h *txnHeartbeater) armLocked(anchor []byte) {
	if h.recordCreated || h.stopLoop != nil || h.stopper == nil || h.interval <= 0 {
		return
	}
	stopLoop := make(chan struct{})
	h.stopLoop = stopLoop
	h.recordTimer = time.AfterFunc(h.interval, func() {
		_ = h.stopper.RunAsyncTask("txn-heartbeat", func(ctx context.Context) {
			if h.heartbeat(ctx, anchor, stopLoop) {
				h.loop(ctx, anchor, stopLoop)
			}
		})
	})
}

// firstHeartbeatTimeout bounds the heartbeat that writes a record, sent
// while the coordinator's mutex is held; a timed-out one is tried again
// at the next tick.
const firstHeartbeatTimeout = 5 * time.Second

func (h *txnHeartbeater) startLoopLocked(anchor []byte) {
	if h.stopLoop != nil || h.stopper == nil || h.interval <= 0 {
		return
	}
	stopLoop := make(chan struct{})
	h.stopLoop = stopLoop
	if err := h.stopper.RunAsyncTask("txn-heartbeat", func(ctx context.Context) {
		h.loop(ctx, anchor, stopLoop)
	}); err != nil {
		h.stopLoop = nil
	}
}

func (h *txnHeartbeater) loop(ctx context.Context, anchor []byte, stopLoop chan struct{}) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stopLoop:
			return
		case <-t.C:
		}
		if !h.heartbeat(ctx, anchor, stopLoop) {
			return
		}
	}
}

// heartbeat sends one heartbeat; it returns false when the loop should end.
func (h *txnHeartbeater) heartbeat(ctx context.Context, anchor []byte, stopLoop chan struct{}) bool {
	h.mu.Lock()
	select {
	case <-stopLoop:
		h.mu.Unlock()
		return false
	default:
	}
	txn := h.state()
	first := !h.recordCreated
	if first && (h.ending || txn.Status != rangepb.TransactionStatus_PENDING) {
		h.mu.Unlock()
		return false
	}
	if !first {
		h.mu.Unlock()
	}
	// The heartbeat that creates the record holds the coordinator's
	// mutex while it is sent, so that it and the commit go one after the
	// other: a record created after a one-phase commit would be left
	// PENDING forever, and a commit after it must find it (and not take
	// the one-phase path, which writes no record). Bounded, since the
	// transaction's own requests wait for it meanwhile.
	sendCtx := ctx
	if first {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, firstHeartbeatTimeout)
		defer cancel()
	}
	br, err := h.sender.Send(sendCtx, &rangepb.BatchRequest{
		Header: &rangepb.BatchHeader{Txn: txn},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_HeartbeatTxn{HeartbeatTxn: &rangepb.HeartbeatTxnRequest{
			Key: anchor, Now: txn.LastHeartbeat,
		}}}},
	})
	if !first {
		h.mu.Lock()
	}
	defer h.mu.Unlock()
	var tae *rangepb.TransactionAbortedError
	switch {
	case errors.As(err, &tae):
		h.aborted = tae.Txn
		return false
	case err != nil:
		// Transient (a lease moving, a node stopping): try again at the
		// next tick; the liveness threshold spans several of them.
		return true
	}
	h.recordCreated = true
	res := br.Responses[0].GetHeartbeatTxn().GetTxn()
	h.update(res)
	return res.GetStatus() == rangepb.TransactionStatus_PENDING
}
