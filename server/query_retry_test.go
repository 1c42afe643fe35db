package server

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestQueryStringRetriedUnseen: a query string of several statements
// outside a transaction block whose implicit transaction must restart
// (crdb_internal.force_retry fails with 40001 until the query string has
// run for its interval) runs again, unseen by the client: each statement's
// result arrives once, and only the last attempt's writes stand. It is not
// run again, and the client gets the 40001, once part of its answer went
// out (past the 32 KiB the connection buffers), once it changed the
// session outside the transaction (a session advisory lock), or when a
// statement sets the session (SET): each of those runs once.
func TestQueryStringRetriedUnseen(t *testing.T) {
	nodes := sqlCluster(t)
	c := sqlConnect(t, nodes[0])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pc := c.PgConn()
	run := func(q string) ([]*pgconn.Result, error) {
		return pc.Exec(ctx, q).ReadAll()
	}
	code := func(err error) string {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Code
		}
		return ""
	}

	res, err := run("CREATE TABLE qr (k INT PRIMARY KEY); INSERT INTO qr VALUES (1); " +
		"SELECT k FROM qr; SELECT crdb_internal.force_retry('50 milliseconds')")
	if err != nil {
		t.Fatalf("a query string retried by the server: %v", err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results, want one per statement (4)", len(res))
	}
	if got := string(res[2].CommandTag.String()); got != "SELECT 1" || len(res[2].Rows) != 1 || string(res[2].Rows[0][0]) != "1" {
		t.Fatalf("SELECT k FROM qr: %s %q, want the one row of the last attempt", got, res[2].Rows)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM qr").Scan(&n); err != nil || n != 1 {
		t.Fatalf("qr holds %d rows (%v), want 1: the earlier attempts' inserts rolled back", n, err)
	}

	// A lone statement was retried before already.
	if _, err := run("SELECT crdb_internal.force_retry('20 milliseconds')"); err != nil {
		t.Fatalf("a lone statement: %v", err)
	}

	// Each of these runs once: its nextval (outside the transaction) is
	// taken once.
	if _, err := run("CREATE SEQUENCE qs"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, q string }{
		{"past the buffer", "SELECT nextval('qs'); SELECT generate_series(1, 20000); SELECT crdb_internal.force_retry('1 hour')"},
		{"a session lock", "SELECT nextval('qs'); SELECT pg_advisory_lock(7); SELECT crdb_internal.force_retry('1 hour')"},
		{"SET", "SELECT nextval('qs'); SET application_name = 'qr'; SELECT crdb_internal.force_retry('1 hour')"},
	} {
		if _, err := run(tc.q); code(err) != "40001" {
			t.Fatalf("%s: %v, want the 40001", tc.name, err)
		}
	}
	if err := c.QueryRow(ctx, "SELECT nextval('qs')").Scan(&n); err != nil || n != 4 {
		t.Fatalf("nextval after the three: %d (%v), want 4: each ran once", n, err)
	}
	// The lock was taken once: one unlock releases it.
	var unlocked bool
	if err := c.QueryRow(ctx, "SELECT pg_advisory_unlock(7)").Scan(&unlocked); err != nil || !unlocked {
		t.Fatalf("first unlock: %v %v", unlocked, err)
	}
	if err := c.QueryRow(ctx, "SELECT pg_advisory_unlock(7)").Scan(&unlocked); err != nil || unlocked {
		t.Fatalf("second unlock: %v %v, want false (the lock taken once)", unlocked, err)
	}
}
