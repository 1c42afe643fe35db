package server

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestSQLRestartSavepoint: CockroachDB's client-side retry protocol
// (SAVEPOINT cockroach_restart first; on 40001, ROLLBACK TO SAVEPOINT
// cockroach_restart and run the block again; RELEASE SAVEPOINT
// cockroach_restart commits) works across a real conflict on a
// three-node cluster: the first attempt fails with 40001 (another
// session changed what it read), the second commits, and its writes, not
// the first attempt's, are what the table holds.
func TestSQLRestartSavepoint(t *testing.T) {
	nodes := sqlCluster(t)
	a, b := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exec := func(c *pgx.Conn, q string, args ...any) error {
		_, err := c.Exec(ctx, q, args...)
		return err
	}
	if err := exec(a, "CREATE TABLE counters (k INT PRIMARY KEY, v INT)"); err != nil {
		t.Fatal(err)
	}
	if err := exec(a, "INSERT INTO counters VALUES (1, 10), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	if err := exec(a, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if err := exec(a, "SAVEPOINT cockroach_restart"); err != nil {
		t.Fatal(err)
	}
	attempts := 0
	for {
		attempts++
		err := func() error {
			var v int
			if err := a.QueryRow(ctx, "SELECT v FROM counters WHERE k = 1").Scan(&v); err != nil {
				return err
			}
			if attempts == 1 {
				// Another session changes what this one just read.
				if err := exec(b, "UPDATE counters SET v = v + 100 WHERE k = 1"); err != nil {
					t.Fatal(err)
				}
			}
			if err := exec(a, "UPDATE counters SET v = $1 WHERE k = 2", v); err != nil {
				return err
			}
			if err := exec(a, "UPDATE counters SET v = $1 WHERE k = 1", v+1); err != nil {
				return err
			}
			return exec(a, "RELEASE SAVEPOINT cockroach_restart")
		}()
		if err == nil {
			break
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "40001" || attempts > 5 {
			t.Fatalf("attempt %d: %v", attempts, err)
		}
		if err := exec(a, "ROLLBACK TO SAVEPOINT cockroach_restart"); err != nil {
			t.Fatalf("after 40001: %v", err)
		}
	}
	if err := exec(a, "SELECT 1"); err == nil {
		t.Fatal("a statement after RELEASE SAVEPOINT cockroach_restart ran; want an error until COMMIT")
	}
	if err := exec(a, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if attempts < 2 {
		t.Fatalf("the block committed at the first attempt: the conflict did not happen")
	}
	var v2 int
	if err := a.QueryRow(ctx, "SELECT v FROM counters WHERE k = 2").Scan(&v2); err != nil {
		t.Fatal(err)
	}
	var v1 int
	if err := a.QueryRow(ctx, "SELECT v FROM counters WHERE k = 1").Scan(&v1); err != nil {
		t.Fatal(err)
	}
	if v1 != 111 || v2 != 110 {
		t.Fatalf("k=1 holds %d and k=2 %d, want 111 and 110 (from the value the committed attempt read)", v1, v2)
	}
	t.Logf("committed at attempt %d", attempts)
}
