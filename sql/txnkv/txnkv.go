// Package txnkv runs the SQL layer on the cluster: it adapts package txn's
// transactions to kvapi, giving the transaction layer's typed errors
// their SQLSTATE on the way. It is the one package of sql/ that imports
// the transaction layer; the session, the planner and the executor see
// only kvapi.
package txnkv

import (
	"context"
	"github.com/meridiandb/meridian/range/rangepb"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/txn"
)

// NewDB returns the cluster's transactions (package txn) as the kvapi.DB
// the SQL layer runs on. It is where the transaction layer's typed errors
// get their SQLSTATE: a transaction that must run again is 40001, a write
// whose outcome is unknown 40003.
func NewDB(db *txn.DB) kvapi.DB { return txnDB{db} }

type txnDB struct{ db *txn.DB }

func (d txnDB) NewTxn(ctx context.Context) (kvapi.Txn, error) {
	t := d.db.NewTxn("sql")
	// SQL's writes are blind (Put, Del; it reads first what they depend
	// on): held back until a read of their keys or the commit, a
	// transaction's writes travel in one batch, and one on one range
	// commits in one Raft command.
	t.BufferWrites()
	return &txnAdapter{t: t}, nil
}

// NewHistoricalTxn implements kvapi.HistoricalDB.
func (d txnDB) NewHistoricalTxn(ctx context.Context, ts hlc.Timestamp) (kvapi.Txn, error) {
	return &historicalAdapter{txnAdapter{t: d.db.NewHistoricalTxn("sql as of system time", ts)}, ts}, nil
}

// historicalAdapter is a transaction reading at a fixed past timestamp.
type historicalAdapter struct {
	txnAdapter
	ts hlc.Timestamp
}

func (a *historicalAdapter) AsOfSystemTime() hlc.Timestamp { return a.ts }

var _ kvapi.HistoricalDB = txnDB{}

type txnAdapter struct {
	t *txn.Txn
	// lockTimeout and noWait: see kvapi.LockWaiter.
	lockTimeout time.Duration
	noWait      bool
}

var _ kvapi.LockWaiter = (*txnAdapter)(nil)

func (a *txnAdapter) SetLockTimeout(d time.Duration) {
	a.lockTimeout = d
	a.t.SetLockWait(a.lockTimeout, a.noWait)
}

func (a *txnAdapter) SetLockNoWait(on bool) {
	a.noWait = on
	a.t.SetLockWait(a.lockTimeout, a.noWait)
}

var _ kvapi.Snapshotter = (*txnAdapter)(nil)

func (a *txnAdapter) Snapshot() kvapi.Snapshot { return a.t.Snapshot() }

// At is the transaction read at s (txn.Txn.At).
func (a *txnAdapter) At(s kvapi.Snapshot) kvapi.Txn {
	return &txnAdapter{t: a.t.At(s.(txn.Snapshot)), lockTimeout: a.lockTimeout, noWait: a.noWait}
}

var _ kvapi.Timestamped = (*txnAdapter)(nil)

func (a *txnAdapter) ReadTimestamp() hlc.Timestamp    { return a.t.ReadTimestamp() }
func (a *txnAdapter) UpdateDeadline(ts hlc.Timestamp) { a.t.UpdateDeadline(ts) }
func (a *txnAdapter) ForwardTimestamp(ctx context.Context, ts hlc.Timestamp) error {
	return sqlError(a.t.ForwardTimestamp(ctx, ts))
}

// sqlError attaches the SQLSTATE a client should see to a transaction
// layer error.
func sqlError(err error) error {
	if err == nil {
		return nil
	}
	var amb *rangepb.AmbiguousResultError
	var lna *kvpb.LockNotAvailableError
	var bgc *kvpb.BatchTimestampBeforeGCError
	var cfe *kvpb.ConditionFailedError
	switch {
	case errors.As(err, &cfe):
		// Only InsertAbsent writes conditionally.
		return &kvapi.KeyExistsError{Key: cfe.Key}
	case errors.As(err, &bgc):
		// PostgreSQL's error for a snapshot whose old row versions were
		// vacuumed away (old_snapshot_threshold).
		return pgerror.WithHint(pgerror.Newf(pgerror.CodeSnapshotTooOld,
			"snapshot too old: cannot read at %s, at or below the GC threshold %s of the data", bgc.Timestamp, bgc.Threshold),
			"Versions older than the zone's gc.ttlseconds are garbage collected: read at a later time (AS OF SYSTEM TIME), or raise gc.ttlseconds with ALTER ... CONFIGURE ZONE.")
	case errors.As(err, &lna) && lna.NoWait:
		// PostgreSQL names the relation; the key's table is not known here.
		return pgerror.New(pgerror.CodeLockNotAvailable, "could not obtain lock on row: another transaction holds it (NOWAIT)")
	case errors.As(err, &lna):
		return pgerror.New(pgerror.CodeLockNotAvailable, "canceling statement due to lock timeout")
	case txn.IsRetryable(err):
		return pgerror.WithHint(pgerror.WithCode(err, pgerror.CodeSerializationFailure),
			"The transaction conflicted with another one; run it again.")
	case errors.Is(err, txn.ErrSavepointEpoch):
		return pgerror.WithCode(err, pgerror.CodeSerializationFailure)
	case errors.As(err, &amb):
		return pgerror.WithCode(err, pgerror.CodeStatementCompletionUnknown)
	}
	return err
}

func (a *txnAdapter) Get(ctx context.Context, key []byte) ([]byte, error) {
	return a.get(a.t.Get(ctx, key))
}

func (a *txnAdapter) GetForUpdate(ctx context.Context, key []byte) ([]byte, error) {
	return a.get(a.t.GetForUpdate(ctx, key))
}

func (a *txnAdapter) get(v []byte, found bool, err error) ([]byte, error) {
	if err != nil || !found {
		return nil, sqlError(err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (a *txnAdapter) Scan(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error) {
	return a.scan(a.t.Scan(ctx, start, end, limit))
}

func (a *txnAdapter) ScanForUpdate(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error) {
	return a.scan(a.t.ScanForUpdate(ctx, start, end, limit))
}

func (a *txnAdapter) scan(kvs []txn.KeyValue, err error) ([]kvapi.KeyValue, error) {
	if err != nil {
		return nil, sqlError(err)
	}
	out := make([]kvapi.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = kvapi.KeyValue{Key: kv.Key, Value: kv.Value}
	}
	return out, nil
}

func (a *txnAdapter) GetMany(ctx context.Context, keys [][]byte) ([][]byte, error) {
	v, err := a.t.GetMany(ctx, keys)
	return v, sqlError(err)
}

func (a *txnAdapter) PutMany(ctx context.Context, kvs []kvapi.KeyValue) error {
	in := make([]txn.KeyValue, len(kvs))
	for i, kv := range kvs {
		in[i] = txn.KeyValue{Key: kv.Key, Value: kv.Value}
	}
	return sqlError(a.t.PutMany(ctx, in))
}

func (a *txnAdapter) Put(ctx context.Context, key, value []byte) error {
	return sqlError(a.t.Put(ctx, key, value))
}

func (a *txnAdapter) DelMany(ctx context.Context, keys [][]byte) error {
	return sqlError(a.t.DelMany(ctx, keys))
}

func (a *txnAdapter) DelRange(ctx context.Context, start, end []byte) (int64, error) {
	n, err := a.t.DelRange(ctx, start, end)
	return n, sqlError(err)
}

func (a *txnAdapter) Del(ctx context.Context, key []byte) error {
	return sqlError(a.t.Del(ctx, key))
}

// FlushWrites implements kvapi.WriteFlusher.
func (a *txnAdapter) FlushWrites(ctx context.Context) error { return sqlError(a.t.FlushWrites(ctx)) }

func (a *txnAdapter) Commit(ctx context.Context) error { return sqlError(a.t.Commit(ctx)) }

func (a *txnAdapter) InsertAbsent(ctx context.Context, kvs []kvapi.KeyValue) error {
	tkvs := make([]txn.KeyValue, len(kvs))
	for i, kv := range kvs {
		tkvs[i] = txn.KeyValue{Key: kv.Key, Value: kv.Value}
	}
	return sqlError(a.t.InsertAbsent(ctx, tkvs))
}

func (a *txnAdapter) Rollback(ctx context.Context) error { return sqlError(a.t.Rollback(ctx)) }

func (a *txnAdapter) Savepoint(ctx context.Context) (kvapi.Savepoint, error) {
	sp, err := a.t.Savepoint(ctx)
	return sp, sqlError(err)
}

func (a *txnAdapter) RollbackToSavepoint(ctx context.Context, sp kvapi.Savepoint) error {
	tsp, ok := sp.(txn.Savepoint)
	if !ok {
		return errors.AssertionFailedf("txnkv: a savepoint of another transaction kind: %T", sp)
	}
	return sqlError(a.t.RollbackToSavepoint(ctx, tsp))
}
