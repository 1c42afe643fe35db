package server

import (
	"context"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/notify"
	"github.com/meridiandb/meridian/txn"
)

// notifySource is the notification queue (sql/notify) as this node reads
// it: historical reads through the node's transactions.
type notifySource struct {
	db    *txn.DB
	clock *hlc.Clock
}

// Read implements notify.Source: a read-only transaction at ts, which
// waits for the notifying transactions below ts and keeps later ones
// above it.
func (s notifySource) Read(ctx context.Context, ts hlc.Timestamp) ([]notify.Row, error) {
	t := s.db.NewHistoricalTxn("notify", ts)
	defer func() { _ = t.Rollback(ctx) }()
	start, end := notify.QueueSpan()
	kvs, err := t.Scan(ctx, start, end, 0)
	if err != nil {
		return nil, err
	}
	rows := make([]notify.Row, len(kvs))
	for i, kv := range kvs {
		rows[i] = notify.Row{Key: kv.Key, Value: kv.Value, TS: kv.Timestamp}
	}
	return rows, nil
}

// Delete implements notify.Source.
func (s notifySource) Delete(ctx context.Context, keys [][]byte) error {
	return s.db.Txn(ctx, func(ctx context.Context, t *txn.Txn) error { return t.DelMany(ctx, keys) })
}

// Now implements notify.Source.
func (s notifySource) Now() hlc.Timestamp { return s.clock.Now() }
