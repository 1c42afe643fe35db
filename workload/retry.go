package workload

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxRetries bounds how often RunTx retries one transaction before it gives
// up and returns the last retryable error.
const MaxRetries = 100

// IsoLevel parses an isolation level name for TxOptions. The empty string
// keeps the server's default (READ COMMITTED on PostgreSQL, SERIALIZABLE on
// Meridian and CockroachDB).
func IsoLevel(s string) (pgx.TxIsoLevel, error) {
	switch s {
	case "":
		return "", nil
	case "serializable":
		return pgx.Serializable, nil
	case "repeatable-read", "repeatable read":
		return pgx.RepeatableRead, nil
	case "read-committed", "read committed":
		return pgx.ReadCommitted, nil
	}
	return "", errors.Newf("unknown isolation level %q (want serializable, repeatable-read or read-committed)", s)
}

// RunTx runs fn in a transaction on pool and commits it. A serialization
// failure or deadlock (SQLSTATE 40001, 40P01), from fn or from the commit,
// rolls back and runs fn again (see Retry); the number of such retries is
// returned with the final outcome. fn must be safe to run more than once.
// An error fn returns for any other reason rolls the transaction back and
// is returned as is (a workload uses that for its deliberate rollbacks).
func RunTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) (retries int, err error) {
	return Retry(ctx, func() error { return runTxOnce(ctx, pool, opts, fn) })
}

// Retry runs fn until it returns anything but a retryable error (see
// IsRetryable), at most MaxRetries more times, sleeping a jittered,
// doubling backoff (2 ms up to 0.5 s) between attempts.
func Retry(ctx context.Context, fn func() error) (retries int, err error) {
	backoff := 2 * time.Millisecond
	for {
		err = fn()
		if err == nil || !IsRetryable(err) || retries >= MaxRetries || ctx.Err() != nil {
			return retries, err
		}
		retries++
		d := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return retries, err
		case <-t.C:
		}
		if backoff < 500*time.Millisecond {
			backoff *= 2
		}
	}
}

func runTxOnce(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		// The rollback's own error adds nothing: the connection is either
		// fine or discarded by the pool.
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return tx.Commit(ctx)
}
