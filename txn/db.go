package txn

import (
	"context"
	"crypto/rand"
	"math"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
)

// Options tune a DB. Zero fields take the defaults.
type Options struct {
	// HeartbeatInterval is the time between a transaction's heartbeats.
	// Default 1s (the servers' liveness threshold is 5s).
	HeartbeatInterval time.Duration
	// MaxRetries bounds the runs of one DB.Txn function. Default 100.
	MaxRetries int
	// BufferWrites makes every transaction hold back its blind writes
	// until its next read or its commit (see Txn.BufferWrites). Default
	// off: each write is sent when made.
	BufferWrites bool
	// DisablePipelining makes every write wait for its Raft command to
	// apply before it is answered. Default off: writes are pipelined (see
	// txnPipeliner).
	DisablePipelining bool
	// DisableParallelCommits makes a commit a plain EndTxn sent after the
	// transaction's writes are known durable: two rounds of consensus
	// when the committing batch carries writes on several ranges. Default
	// off: commits are parallel (see txnCommitter).
	DisableParallelCommits bool
}

func (o *Options) ensureDefaults() {
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 100
	}
}

// DB runs transactions and non-transactional requests through a Sender.
// It is safe for concurrent use.
type DB struct {
	sender  Sender
	clock   *hlc.Clock
	stopper *stop.Stopper
	opts    Options
	metrics Metrics
}

// Metrics count the transactions of a DB as they end.
type Metrics struct {
	// Commits and Aborts count transactions committed and rolled back (or
	// failed for good); Restarts counts commits refused with a retryable
	// error (the transaction runs again).
	Commits, Aborts, Restarts atomic.Int64
	// Batches counts the KV batches transactions sent through their
	// interceptors (reads, writes, refreshes, commits; not heartbeats):
	// each a round trip to the leaseholders of the ranges it touches.
	Batches atomic.Int64
}

// Metrics returns the DB's transaction counters.
func (db *DB) Metrics() *Metrics { return &db.metrics }

// NewDB returns a DB over sender. Heartbeat loops run as tasks of stopper;
// clock stamps new transactions.
func NewDB(sender Sender, clock *hlc.Clock, stopper *stop.Stopper, opts Options) *DB {
	opts.ensureDefaults()
	return &DB{sender: sender, clock: clock, stopper: stopper, opts: opts}
}

// NormalPriority is every new transaction's priority. Between two of the
// same priority, a transaction waits in line for the other's lock; once it
// has waited the store's TxnWoundAfter, pushes follow age (wound-wait, as
// in Spanner): the older transaction aborts the younger one holding what
// it needs, the younger one keeps waiting for the older to finish. A
// transaction aborted that way starts over one priority higher, so that
// it cannot lose forever.
const NormalPriority int32 = 1 << 20

// NewTxn starts a transaction (nothing is sent until its first request).
func (db *DB) NewTxn(name string) *Txn {
	return db.newTxn(name, NormalPriority)
}

// NewHistoricalTxn returns a read-only transaction that reads at ts, a
// time in the past (AS OF SYSTEM TIME): it sees what was committed at or
// below ts, with no uncertainty (ts is not a clock reading that others'
// writes could have raced), and refuses to write (ErrHistoricalWrite).
// It never restarts: nothing can push a read or invalidate it.
func (db *DB) NewHistoricalTxn(name string, ts hlc.Timestamp) *Txn {
	t := db.newTxn(name, NormalPriority)
	p := t.c.mu.txn
	p.Meta.WriteTimestamp, p.Meta.MinTimestamp = tsToProto(ts), tsToProto(ts)
	p.ReadTimestamp, p.GlobalUncertaintyLimit = tsToProto(ts), tsToProto(ts)
	t.c.readOnly = true
	return t
}

func (db *DB) newTxn(name string, priority int32) *Txn {
	now := db.clock.Now()
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	t := &rangepb.Transaction{
		Meta: &rangepb.TxnMeta{
			Id: id, WriteTimestamp: tsToProto(now), MinTimestamp: tsToProto(now), Priority: priority,
		},
		Name:                   name,
		ReadTimestamp:          tsToProto(now),
		GlobalUncertaintyLimit: tsToProto(now.Add(int64(db.clock.MaxOffset()), 0)),
	}
	c := newCoordinator(db, t)
	c.bufferWrites = db.opts.BufferWrites
	return &Txn{db: db, c: c}
}

// Txn runs fn in a transaction and commits it (unless fn did). When the
// transaction must run again (a RetryableError, from fn or the commit),
// it runs fn again: in the next epoch of the same transaction, or in a new
// transaction if it was aborted, with a priority at least as high. fn
// must be safe to run more than once and should return errors from the
// Txn unwrapped or wrapped with cockroachdb/errors. An error that is not
// retryable rolls the transaction back and is returned.
func (db *DB) Txn(ctx context.Context, fn func(ctx context.Context, txn *Txn) error) error {
	t := db.NewTxn("")
	backoff := time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn(ctx, t)
		if err == nil && !t.finalized() {
			err = t.Commit(ctx)
		}
		if err == nil {
			return nil
		}
		var re *RetryableError
		if !errors.As(err, &re) || attempt >= db.opts.MaxRetries || ctx.Err() != nil {
			_ = t.Rollback(ctx)
			return err
		}
		prio := t.priority()
		if re.Aborted {
			prio = min(prio+1, math.MaxInt32-1)
			// Clean up what the aborted incarnation left, then start over.
			_ = t.Rollback(ctx)
			t = db.newTxn("", prio)
		} else {
			ts := re.Timestamp
			ts.Forward(db.clock.Now())
			t.c.restart(ts, prio)
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			_ = t.Rollback(ctx)
			return errors.Wrap(err, ctx.Err().Error())
		case <-timer.C:
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

// sendNonTxn sends a batch outside any transaction. A conflict with a
// transaction's lock waits at the range (its lock table) like any other.
func (db *DB) sendNonTxn(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	return db.sender.Send(ctx, ba)
}

// Get reads key outside any transaction, at the leaseholder's clock.
func (db *DB) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	br, err := db.sendNonTxn(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key}}}}})
	if err != nil {
		return nil, false, err
	}
	g := br.Responses[0].GetGet()
	return g.Value, g.Found, nil
}

// Put writes key outside any transaction.
func (db *DB) Put(ctx context.Context, key, value []byte) error {
	_, err := db.sendNonTxn(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: key, Value: value}}}}})
	return err
}
