package kvapi

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// RunTxn runs fn in a transaction of db's own and commits it, and again,
// in a new one, while it fails with a serialization failure (40001:
// another transaction took or changed the same thing), at most attempts
// more times, after a jittered pause that doubles from 1 ms up to
// maxPause. Any other error rolls the transaction back and is returned.
func RunTxn(ctx context.Context, db DB, attempts int, maxPause time.Duration, fn func(Txn) error) error {
	pause := time.Millisecond
	for attempt := 0; ; attempt++ {
		txn, err := db.NewTxn(ctx)
		if err != nil {
			return err
		}
		err = fn(txn)
		if err == nil {
			err = txn.Commit(ctx)
		}
		if err == nil {
			return nil
		}
		_ = txn.Rollback(context.WithoutCancel(ctx))
		if pgerror.CodeOf(err) != pgerror.CodeSerializationFailure || attempt >= attempts || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(pause/2 + rand.N(pause/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, maxPause)
	}
}
