// Package memkv is an in-memory kvapi.DB for testing the SQL layer alone.
// Transactions run concurrently under optimistic concurrency control: each
// reads the store as of its start, buffers its writes, and commits only if
// nothing it read or wrote was committed by another transaction since it
// started (otherwise it fails with 40001, as a retryable conflict does on
// the cluster). A read that meets a newer version fails at once, so a
// transaction never sees anything but its snapshot. It is a test double;
// the cluster's DB is the txn package.
package memkv

import (
	"bytes"
	"context"
	"maps"
	"sort"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// DB is the store. The zero value is not usable; call New.
type DB struct {
	mu sync.Mutex
	// data holds every key ever written: its last committed value (nil
	// once deleted) and the commit that wrote it.
	data map[string]version
	// seq numbers commits.
	seq uint64
}

type version struct {
	value []byte
	seq   uint64
}

// New returns an empty store.
func New() *DB {
	return &DB{data: map[string]version{}}
}

var _ kvapi.DB = (*DB)(nil)

// NewTxn starts a transaction reading the store as it is now.
func (db *DB) NewTxn(ctx context.Context) (kvapi.Txn, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return &txn{db: db, start: db.seq, writes: map[string][]byte{}}, nil
}

type txn struct {
	db    *DB
	start uint64
	// writes are buffered; a nil value is a deletion.
	writes map[string][]byte
	// reads and scans are what the transaction read, validated at commit.
	reads map[string]bool
	scans [][2]string
	done  bool
}

func (t *txn) check() error {
	if t.done {
		return errors.New("memkv: transaction already ended")
	}
	return nil
}

func conflict(key string) error {
	return pgerror.Newf(pgerror.CodeSerializationFailure,
		"restart transaction: key %q was written by a concurrent transaction", key)
}

func (t *txn) Get(ctx context.Context, key []byte) ([]byte, error) {
	return t.get(key, t.writes)
}

// get reads key over the transaction's writes w (its latest, or a
// snapshot's: snapshotTxn).
func (t *txn) get(key []byte, w map[string][]byte) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if v, ok := w[string(key)]; ok {
		return v, nil
	}
	t.db.mu.Lock()
	defer t.db.mu.Unlock()
	v := t.db.data[string(key)]
	if v.seq > t.start {
		return nil, conflict(string(key))
	}
	if t.reads == nil {
		t.reads = map[string]bool{}
	}
	t.reads[string(key)] = true
	return v.value, nil
}

func (t *txn) Scan(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error) {
	return t.scan(start, end, limit, t.writes)
}

// scan reads [start, end) over the transaction's writes w (see get).
func (t *txn) scan(start, end []byte, limit int64, w map[string][]byte) ([]kvapi.KeyValue, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	merged := map[string][]byte{}
	t.db.mu.Lock()
	for k, v := range t.db.data {
		if k >= string(start) && k < string(end) {
			if v.seq > t.start {
				t.db.mu.Unlock()
				return nil, conflict(k)
			}
			merged[k] = v.value
		}
	}
	t.db.mu.Unlock()
	t.scans = append(t.scans, [2]string{string(start), string(end)})
	for k, v := range w {
		if k >= string(start) && k < string(end) {
			merged[k] = v
		}
	}
	var out []kvapi.KeyValue
	for k, v := range merged {
		if v != nil {
			out = append(out, kvapi.KeyValue{Key: []byte(k), Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	if limit > 0 && int64(len(out)) > limit {
		out = out[:limit]
	}
	return out, nil
}

// GetForUpdate is Get: a transaction here reads its snapshot or fails.
func (t *txn) GetForUpdate(ctx context.Context, key []byte) ([]byte, error) { return t.Get(ctx, key) }

// ScanForUpdate is Scan.
func (t *txn) ScanForUpdate(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error) {
	return t.Scan(ctx, start, end, limit)
}

func (t *txn) GetMany(ctx context.Context, keys [][]byte) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, err := t.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (t *txn) PutMany(ctx context.Context, kvs []kvapi.KeyValue) error {
	for _, kv := range kvs {
		if err := t.Put(ctx, kv.Key, kv.Value); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) Put(ctx context.Context, key, value []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	t.writes[string(key)] = append([]byte{}, value...)
	return nil
}

func (t *txn) DelMany(ctx context.Context, keys [][]byte) error {
	for _, k := range keys {
		if err := t.Del(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// DelRange deletes the keys Scan finds in [start, end).
func (t *txn) DelRange(ctx context.Context, start, end []byte) (int64, error) {
	kvs, err := t.Scan(ctx, start, end, 0)
	if err != nil {
		return 0, err
	}
	for _, kv := range kvs {
		t.writes[string(kv.Key)] = nil
	}
	return int64(len(kvs)), nil
}

func (t *txn) Del(ctx context.Context, key []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	t.writes[string(key)] = nil
	return nil
}

// Commit validates the transaction against the commits since its start
// (anything it read, scanned or wrote changed since: 40001) and applies
// its writes as one new commit.
func (t *txn) Commit(ctx context.Context) error {
	if err := t.check(); err != nil {
		return err
	}
	t.done = true
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.seq != t.start {
		for k := range t.reads {
			if db.data[k].seq > t.start {
				return conflict(k)
			}
		}
		for k := range t.writes {
			if db.data[k].seq > t.start {
				return conflict(k)
			}
		}
		for k, v := range db.data {
			if v.seq <= t.start {
				continue
			}
			for _, s := range t.scans {
				if k >= s[0] && k < s[1] {
					return conflict(k)
				}
			}
		}
	}
	if len(t.writes) == 0 {
		return nil
	}
	db.seq++
	for k, v := range t.writes {
		db.data[k] = version{value: v, seq: db.seq}
	}
	return nil
}

func (t *txn) Rollback(ctx context.Context) error {
	t.done = true
	return nil
}

// Savepoint copies the transaction's buffered writes: rolling back to it
// puts the copy back.
func (t *txn) Savepoint(ctx context.Context) (kvapi.Savepoint, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return maps.Clone(t.writes), nil
}

func (t *txn) RollbackToSavepoint(ctx context.Context, sp kvapi.Savepoint) error {
	if err := t.check(); err != nil {
		return err
	}
	w, ok := sp.(map[string][]byte)
	if !ok {
		return errors.AssertionFailedf("memkv: not a savepoint of this store: %T", sp)
	}
	t.writes = maps.Clone(w)
	return nil
}

var _ kvapi.Snapshotter = (*txn)(nil)

// Snapshot copies the transaction's writes so far.
func (t *txn) Snapshot() kvapi.Snapshot { return maps.Clone(t.writes) }

// At is the transaction reading over the writes of snapshot s.
func (t *txn) At(s kvapi.Snapshot) kvapi.Txn {
	return &snapshotTxn{txn: t, writes: s.(map[string][]byte)}
}

// snapshotTxn is a transaction whose reads see its writes as they were at
// a snapshot; its writes are the transaction's.
type snapshotTxn struct {
	*txn
	writes map[string][]byte
}

func (s *snapshotTxn) Get(ctx context.Context, key []byte) ([]byte, error) {
	return s.get(key, s.writes)
}

func (s *snapshotTxn) GetForUpdate(ctx context.Context, key []byte) ([]byte, error) {
	return s.get(key, s.writes)
}

func (s *snapshotTxn) GetMany(ctx context.Context, keys [][]byte) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, err := s.get(k, s.writes)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (s *snapshotTxn) Scan(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error) {
	return s.scan(start, end, limit, s.writes)
}

func (s *snapshotTxn) ScanForUpdate(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error) {
	return s.scan(start, end, limit, s.writes)
}
