// Package memkv is an in-memory sql.DB for testing the SQL layer alone:
// transactions run one at a time (each holds the store's lock from its
// start to its end), so they are trivially serializable, and their writes
// are buffered until Commit. It is a test double; the cluster's DB is the
// txn package.
package memkv

import (
	"bytes"
	"context"
	"sort"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql"
)

// DB is the store. The zero value is not usable; call New.
type DB struct {
	// lock is held by the one running transaction.
	lock chan struct{}
	data map[string][]byte
}

// New returns an empty store.
func New() *DB {
	return &DB{lock: make(chan struct{}, 1), data: map[string][]byte{}}
}

var _ sql.DB = (*DB)(nil)

// NewTxn waits for the running transaction to end, then starts one.
func (db *DB) NewTxn(ctx context.Context) (sql.Txn, error) {
	select {
	case db.lock <- struct{}{}:
		return &txn{db: db, writes: map[string][]byte{}}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type txn struct {
	db *DB
	// writes are buffered; a nil value is a deletion.
	writes map[string][]byte
	done   bool
}

func (t *txn) check() error {
	if t.done {
		return errors.New("memkv: transaction already ended")
	}
	return nil
}

func (t *txn) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if v, ok := t.writes[string(key)]; ok {
		return v, nil
	}
	return t.db.data[string(key)], nil
}

func (t *txn) Scan(ctx context.Context, start, end []byte, limit int64) ([]sql.KeyValue, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	merged := map[string][]byte{}
	for k, v := range t.db.data {
		if k >= string(start) && k < string(end) {
			merged[k] = v
		}
	}
	for k, v := range t.writes {
		if k >= string(start) && k < string(end) {
			merged[k] = v
		}
	}
	var out []sql.KeyValue
	for k, v := range merged {
		if v != nil {
			out = append(out, sql.KeyValue{Key: []byte(k), Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	if limit > 0 && int64(len(out)) > limit {
		out = out[:limit]
	}
	return out, nil
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

func (t *txn) PutMany(ctx context.Context, kvs []sql.KeyValue) error {
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

func (t *txn) Del(ctx context.Context, key []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	t.writes[string(key)] = nil
	return nil
}

func (t *txn) Commit(ctx context.Context) error {
	if err := t.check(); err != nil {
		return err
	}
	for k, v := range t.writes {
		if v == nil {
			delete(t.db.data, k)
		} else {
			t.db.data[k] = v
		}
	}
	t.end()
	return nil
}

func (t *txn) Rollback(ctx context.Context) error {
	if !t.done {
		t.end()
	}
	return nil
}

func (t *txn) end() {
	t.done = true
	<-t.db.lock
}
