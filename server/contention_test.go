package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
)

// TestSQLContendedUpdates runs pgbench's TPC-B transaction from four
// clients on one node: every transaction updates the one branch row last,
// after an account and a teller, so all of them queue on its lock. They
// must all get through (a batch carrying the previous statement's writes
// with the locking read once stalled every client in backoff).
func TestSQLContendedUpdates(t *testing.T) {
	c := newTestCluster(t, 1, true)
	n := c.node(0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup := sqlConnect(t, n)
	for _, q := range []string{
		"CREATE TABLE branches (bid INT PRIMARY KEY, bbalance INT NOT NULL)",
		"CREATE TABLE tellers (tid INT PRIMARY KEY, bid INT NOT NULL, tbalance INT NOT NULL)",
		"CREATE TABLE accounts (aid INT PRIMARY KEY, bid INT NOT NULL, abalance INT NOT NULL)",
		"INSERT INTO branches VALUES (1, 0)",
		"INSERT INTO tellers SELECT i, 1, 0 FROM generate_series(1, 10) AS g(i)",
		"INSERT INTO accounts SELECT i, 1, 0 FROM generate_series(1, 100) AS g(i)",
	} {
		if _, err := setup.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const clients, perClient = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for w := range clients {
		conn := sqlConnect(t, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perClient; {
				err := tpcbTxn(ctx, conn, 1+(w*31+k*7)%100, 1+(w+k)%10)
				switch {
				case err == nil:
					k++
				case sqlCode(err) == "40001":
				default:
					errs <- errors.Wrapf(err, "client %d", w)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var sum int
	if err := setup.QueryRow(ctx, "SELECT bbalance FROM branches").Scan(&sum); err != nil || sum != clients*perClient {
		t.Fatalf("branch balance %d, %v; want %d", sum, err, clients*perClient)
	}
}

func tpcbTxn(ctx context.Context, c *pgx.Conn, aid, tid int) (err error) {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(ctx)
		}
	}()
	if _, err := tx.Exec(ctx, "UPDATE accounts SET abalance = abalance + 1 WHERE aid = $1", aid); err != nil {
		return err
	}
	var bal int
	if err := tx.QueryRow(ctx, "SELECT abalance FROM accounts WHERE aid = $1", aid).Scan(&bal); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE tellers SET tbalance = tbalance + 1 WHERE tid = $1", tid); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE branches SET bbalance = bbalance + 1 WHERE bid = 1"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
