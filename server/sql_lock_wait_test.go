package server

import (
	"context"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestLockTimeoutAndNoWait: a statement that meets a row another
// transaction holds (here, on another node) waits at most lock_timeout and
// then fails with 55P03; SELECT … FOR UPDATE NOWAIT fails at once with
// 55P03; SKIP LOCKED is refused with 0A000. The holder is not disturbed
// and commits; once it has, the same statements succeed.
func TestLockTimeoutAndNoWait(t *testing.T) {
	nodes := sqlCluster(t)
	ctx := context.Background()
	a, b := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1])
	for _, q := range []string{"CREATE TABLE lockto (k INT PRIMARY KEY, v INT)", "INSERT INTO lockto VALUES (1, 0)"} {
		if _, err := a.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT v FROM lockto WHERE k = 1 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE lockto SET v = 1 WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	// The read sends the buffered write: its intent is on the range.
	if _, err := tx.Exec(ctx, "SELECT v FROM lockto WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	code := func(err error) (string, string) {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			return "", ""
		}
		return pgErr.Code, pgErr.Message
	}

	if _, err := b.Exec(ctx, "SET lock_timeout = '100ms'"); err != nil {
		t.Fatal(err)
	}
	_, err = b.Exec(ctx, "UPDATE lockto SET v = 2 WHERE k = 1")
	if c, m := code(err); c != "55P03" || m != "canceling statement due to lock timeout" {
		t.Fatalf("UPDATE of a held row under lock_timeout: %v, want 55P03 canceling statement due to lock timeout", err)
	}
	var lt string
	if err := b.QueryRow(ctx, "SHOW lock_timeout").Scan(&lt); err != nil || lt != "100ms" {
		t.Fatalf("SHOW lock_timeout = %q, %v", lt, err)
	}
	if _, err := b.Exec(ctx, "SET lock_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	btx, err := b.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = btx.Exec(ctx, "SELECT v FROM lockto WHERE k = 1 FOR UPDATE NOWAIT")
	if c, _ := code(err); c != "55P03" {
		t.Fatalf("FOR UPDATE NOWAIT on a held row: %v, want 55P03", err)
	}
	if err := btx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = b.Exec(ctx, "SELECT v FROM lockto WHERE k = 1 FOR UPDATE SKIP LOCKED")
	if c, _ := code(err); c != "0A000" {
		t.Fatalf("SKIP LOCKED: %v, want 0A000", err)
	}

	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("the holder could not commit: %v", err)
	}
	var v int
	if err := b.QueryRow(ctx, "SELECT v FROM lockto WHERE k = 1 FOR UPDATE NOWAIT").Scan(&v); err != nil || v != 1 {
		t.Fatalf("FOR UPDATE NOWAIT after the holder committed: v = %d, %v; want 1", v, err)
	}
	if _, err := b.Exec(ctx, "SET lock_timeout = '5s'"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, "UPDATE lockto SET v = v + 1 WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	if err := b.QueryRow(ctx, "SELECT v FROM lockto WHERE k = 1").Scan(&v); err != nil || v != 2 {
		t.Fatalf("v = %d, %v; want 2", v, err)
	}
}
