package txn

import (
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/rangepb"
)

// Txn is one transaction. It is not safe for concurrent use: one goroutine
// runs it (its heartbeats run on their own, on the DB's stopper). After an
// error that is a RetryableError, every operation returns it until
// DB.Txn restarts the transaction.
type Txn struct {
	db *DB
	c  *coordinator
	// readSeq: a view At a snapshot, whose reads see the transaction's
	// writes up to this sequence only; 0 for the transaction itself.
	readSeq int32
}

// Snapshot is a point in a transaction's own writes (Txn.Snapshot).
type Snapshot struct{ seq int32 }

// Snapshot marks the transaction's writes so far, held ones included.
func (t *Txn) Snapshot() Snapshot {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return Snapshot{seq: t.c.seqNums.seqLocked()}
}

// At is a view of the transaction whose reads (Get, Scan, GetMany and
// their locking forms) see its writes up to s and none made since: a SQL
// statement's reads see the data as the statement began, which its own
// writes do not change (PostgreSQL's command snapshot). Writes through
// the view are the transaction's, and a write that reads (CPut,
// InsertAbsent) reads at its own sequence. The view shares the
// transaction's state: it is the same transaction.
func (t *Txn) At(s Snapshot) *Txn {
	if s.seq == 0 {
		// Before any write: nothing to hide, unless writes follow.
		s.seq = -1
	}
	return &Txn{db: t.db, c: t.c, readSeq: s.seq}
}

// BufferWrites makes the transaction hold back its blind writes (Put,
// PutMany, Del, DelMany) until a request reads one of their keys or
// writes otherwise, or until its commit, and send them in that
// request's batch (reads of other keys go without them): fewer round
// trips and Raft commands, and a
// transaction whose writes all land in one range commits in one Raft
// command with no record and no intents left behind (one-phase commit;
// a read-only one sends nothing at commit). The writes then take their
// locks, and report their errors, at that later request: Put and Del
// return nil while they are held. Call it before the first request.
func (t *Txn) BufferWrites() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.bufferWrites = true
}

// FlushWrites sends the writes BufferWrites holds back now, on their own:
// for a caller whose protocol needs them in place (as intents others wait
// for) before it reads on.
func (t *Txn) FlushWrites(ctx context.Context) error {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.retryErr != nil {
		return c.mu.retryErr
	}
	if c.mu.held.len() == 0 || c.mu.finalized {
		return nil
	}
	_, err := c.sendLocked(ctx, c.mu.held.take())
	return err
}

// SetLockWait bounds how long the transaction's requests from now on wait
// for another transaction's lock: at most timeout (0: as long as it takes),
// or, with noWait, not at all. A request that would wait longer fails with
// a *kvpb.LockNotAvailableError and does nothing; the transaction stays
// usable. SQL sets it per statement from lock_timeout and FOR UPDATE NOWAIT.
func (t *Txn) SetLockWait(timeout time.Duration, noWait bool) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.mu.lockTimeout, t.c.mu.lockNoWait = timeout, noWait
}

// ReadTimestamp returns the timestamp the transaction reads at (after a
// commit: the commit timestamp).
func (t *Txn) ReadTimestamp() hlc.Timestamp {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return tsFromProto(t.c.mu.txn.ReadTimestamp)
}

// UpdateDeadline makes ts, or an earlier deadline already set, the time
// the transaction must commit before: a commit at or above it fails with
// a RetryableError instead. A transaction that used something valid only
// until ts (a leased table descriptor) may not commit after it.
func (t *Txn) UpdateDeadline(ts hlc.Timestamp) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.deadline.updateLocked(ts)
}

// ForwardTimestamp moves the transaction's reads and writes up to ts now
// (if they are below): what it read so far is checked for changes up to
// ts, as after a push; if something changed, it returns a RetryableError
// and the transaction must restart. A schema change uses it to read and
// commit after every transaction that used the descriptor version it
// replaces.
func (t *Txn) ForwardTimestamp(ctx context.Context, ts hlc.Timestamp) error {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.retryErr != nil {
		return c.mu.retryErr
	}
	if c.mu.finalized {
		return ErrTxnFinalized
	}
	if err := c.refresher.refreshLocked(ctx, c.mu.txn, ts); err != nil {
		err = toRetryable(err, c.mu.txn)
		var re *RetryableError
		if errors.As(err, &re) {
			c.mu.retryErr = re
		}
		return err
	}
	if c.clock != nil {
		_, _ = c.clock.Update(ts)
	}
	return nil
}

// KeyValue is one row of a scan.
type KeyValue struct {
	Key, Value []byte
	Timestamp  hlc.Timestamp
}

// ID returns the transaction's ID.
func (t *Txn) ID() []byte {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.c.mu.txn.Meta.Id
}

// Proto returns a copy of the transaction's current state.
func (t *Txn) Proto() *rangepb.Transaction {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.c.stateLocked()
}

func (t *Txn) priority() int32 {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.c.mu.txn.Meta.Priority
}

func (t *Txn) finalized() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.c.mu.finalized
}

// Get reads key; found is false if it has no value.
func (t *Txn) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	return t.get(ctx, key, false)
}

// GetForUpdate is Get as a locking read (the read of an UPDATE): it reads
// the latest committed value, moving the transaction's reads up to it if
// need be, and waits for another transaction's intent at any timestamp.
func (t *Txn) GetForUpdate(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	return t.get(ctx, key, true)
}

func (t *Txn) get(ctx context.Context, key []byte, forUpdate bool) (value []byte, found bool, err error) {
	br, err := t.c.sendReads(ctx, t.readSeq, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: key, ForUpdate: forUpdate}}})
	if err != nil {
		return nil, false, err
	}
	g := br.Responses[0].GetGet()
	return g.Value, g.Found, nil
}

// Scan reads the keys in [start, end), at most maxKeys of them when
// positive.
func (t *Txn) Scan(ctx context.Context, start, end []byte, maxKeys int64) ([]KeyValue, error) {
	return t.scan(ctx, start, end, maxKeys, false)
}

// ScanForUpdate is Scan as a locking read (see GetForUpdate).
func (t *Txn) ScanForUpdate(ctx context.Context, start, end []byte, maxKeys int64) ([]KeyValue, error) {
	return t.scan(ctx, start, end, maxKeys, true)
}

func (t *Txn) scan(ctx context.Context, start, end []byte, maxKeys int64, forUpdate bool) ([]KeyValue, error) {
	br, err := t.c.sendReads(ctx, t.readSeq, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{
		Span: &rangepb.Span{Key: start, EndKey: end}, MaxKeys: maxKeys, ForUpdate: forUpdate,
	}}})
	if err != nil {
		return nil, err
	}
	rows := br.Responses[0].GetScan().GetRows()
	out := make([]KeyValue, len(rows))
	for i, r := range rows {
		out[i] = KeyValue{Key: r.Key, Value: r.Value, Timestamp: tsFromProto(r.Timestamp)}
	}
	return out, nil
}

// GetMany reads several keys in one batch (one round trip per range they
// fall in); a missing key reads as nil.
func (t *Txn) GetMany(ctx context.Context, keys [][]byte) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	reqs := make([]*rangepb.RequestUnion, len(keys))
	for i, k := range keys {
		reqs[i] = &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: k}}}
	}
	br, err := t.c.sendReads(ctx, t.readSeq, reqs...)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	for i, r := range br.Responses {
		if g := r.GetGet(); g.GetFound() {
			out[i] = g.Value
			if out[i] == nil {
				out[i] = []byte{}
			}
		}
	}
	return out, nil
}

// InsertAbsent writes each of kvs whose key has no value, and fails with
// a kvpb.ConditionFailedError naming a key that has one (a ConditionalPut
// expecting none). Under BufferWrites the writes are held back like blind
// writes: their condition is checked where they are sent — with a later
// read of one of their keys, or with the commit, whose error it then is
// (the commit rolls the transaction back first). That is what an INSERT
// that commits right after wants: its uniqueness check and its write in
// the commit's one Raft command, instead of a read's round trip before
// it.
func (t *Txn) InsertAbsent(ctx context.Context, kvs []KeyValue) error {
	if len(kvs) == 0 {
		return nil
	}
	reqs := make([]*rangepb.RequestUnion, len(kvs))
	for i, kv := range kvs {
		reqs[i] = &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ConditionalPut{ConditionalPut: &rangepb.ConditionalPutRequest{
			Key: kv.Key, Value: kv.Value}}}
	}
	_, err := t.c.sendHoldable(ctx, true, 0, reqs...)
	return err
}

// PutMany writes several keys in one batch.
func (t *Txn) PutMany(ctx context.Context, kvs []KeyValue) error {
	if len(kvs) == 0 {
		return nil
	}
	reqs := make([]*rangepb.RequestUnion, len(kvs))
	for i, kv := range kvs {
		reqs[i] = &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: kv.Key, Value: kv.Value}}}
	}
	_, err := t.c.send(ctx, reqs...)
	return err
}

// Put writes value at key.
func (t *Txn) Put(ctx context.Context, key, value []byte) error {
	_, err := t.c.send(ctx, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: key, Value: value}}})
	return err
}

// CPut writes value at key if the key's value is expected (nil: if the key
// has no value); otherwise it fails with a kvpb.ConditionFailedError.
func (t *Txn) CPut(ctx context.Context, key, value, expected []byte) error {
	_, err := t.c.send(ctx, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ConditionalPut{ConditionalPut: &rangepb.ConditionalPutRequest{
		Key: key, Value: value, ExpValue: expected, ExpExists: expected != nil,
	}}})
	return err
}

// DelMany deletes several keys in one batch.
func (t *Txn) DelMany(ctx context.Context, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	reqs := make([]*rangepb.RequestUnion, len(keys))
	for i, k := range keys {
		reqs[i] = &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Delete{Delete: &rangepb.DeleteRequest{Key: k}}}
	}
	_, err := t.c.send(ctx, reqs...)
	return err
}

// Del deletes key.
func (t *Txn) Del(ctx context.Context, key []byte) error {
	_, err := t.c.send(ctx, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Delete{Delete: &rangepb.DeleteRequest{Key: key}}})
	return err
}

// DelRange deletes the keys with values in [start, end) and returns how
// many it deleted. It is pipelined like a point write: the ranges answer
// once it is proposed, listing the keys it deleted, which the transaction
// then proves as its other writes in flight.
func (t *Txn) DelRange(ctx context.Context, start, end []byte) (int64, error) {
	br, err := t.c.send(ctx, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_DeleteRange{DeleteRange: &rangepb.DeleteRangeRequest{
		Span: &rangepb.Span{Key: start, EndKey: end},
	}}})
	if err != nil {
		return 0, err
	}
	return br.Responses[0].GetDeleteRange().GetDeleted(), nil
}

// Inc adds n to the integer at key and returns the new value.
func (t *Txn) Inc(ctx context.Context, key []byte, n int64) (int64, error) {
	br, err := t.c.send(ctx, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Increment{Increment: &rangepb.IncrementRequest{Key: key, Increment: n}}})
	if err != nil {
		return 0, err
	}
	return br.Responses[0].GetIncrement().NewValue, nil
}

// Commit commits the transaction. After it, the transaction is finalized
// whatever the outcome, except for a RetryableError (DB.Txn then runs it
// again).
func (t *Txn) Commit(ctx context.Context) error {
	return t.end(ctx, true)
}

// Rollback aborts the transaction and removes its intents. Rolling back a
// finalized transaction does nothing.
func (t *Txn) Rollback(ctx context.Context) error {
	t.c.mu.Lock()
	done := t.c.mu.finalized
	// A transaction that must restart can still be rolled back.
	t.c.mu.retryErr = nil
	t.c.mu.Unlock()
	if done {
		return nil
	}
	return t.end(ctx, false)
}

func (t *Txn) end(ctx context.Context, commit bool) error {
	t.c.mu.Lock()
	wroteBefore := t.c.mu.sentWrites
	t.c.mu.Unlock()
	_, err := t.c.send(ctx, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_EndTxn{EndTxn: &rangepb.EndTxnRequest{Commit: commit}}})
	if err != nil && !commit {
		err = t.db.rollbackStaged(ctx, err)
	}
	var cfe *kvpb.ConditionFailedError
	if commit && errors.As(err, &cfe) && (wroteBefore || !t.c.onlyWriteIsAnchor()) {
		// A held InsertAbsent found its key taken: nothing committed,
		// but the batch's parts on other ranges, or earlier batches, may
		// have written intents and staged the record. Roll back
		// (recovering a staged record, which the missing write keeps from
		// committing) before finishing. A commit whose one write was its
		// anchor went to one range, where it failed whole: nothing to
		// roll back.
		_ = t.end(ctx, false)
		return err
	}
	m := &t.db.metrics
	switch {
	case err != nil && commit && IsRetryable(err):
		m.Restarts.Add(1)
		return err
	case err == nil && commit:
		m.Commits.Add(1)
	default:
		m.Aborts.Add(1)
	}
	t.c.mu.Lock()
	ts := tsFromProto(t.c.mu.txn.Meta.WriteTimestamp)
	ts.Forward(tsFromProto(t.c.mu.txn.ReadTimestamp))
	t.c.finishLocked()
	t.c.mu.Unlock()
	if err == nil && commit {
		// Acknowledged only once no clock can start a transaction below
		// it (see hlc.Clock.WaitPast). The commit stands either way: a
		// context that ends first cuts the wait short, not the commit.
		_ = t.db.clock.WaitPast(ctx, ts)
	}
	return err
}
