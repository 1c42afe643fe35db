package sql_test

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestDeallocateProtocolStatements: DEALLOCATE name, DEALLOCATE ALL and
// DISCARD ALL close the statements a driver prepared with Parse, as in
// PostgreSQL (what PgBouncer's DISCARD ALL between clients relies on):
// executing one afterwards fails with 26000; a name nobody prepared fails
// DEALLOCATE with 26000.
func TestDeallocateProtocolStatements(t *testing.T) {
	c, _ := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := func(err error) string {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Code
		}
		return ""
	}
	pg := c.PgConn()
	prepare := func(name string) {
		t.Helper()
		if _, err := pg.Prepare(ctx, name, "SELECT 1", nil); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string) error {
		return pg.ExecPrepared(ctx, name, nil, nil, nil).Read().Err
	}
	exec := func(q string) error {
		_, err := pg.Exec(ctx, q).ReadAll()
		return err
	}
	prepare("s1")
	prepare("s2")
	if err := run("s1"); err != nil {
		t.Fatal(err)
	}
	if err := exec("DEALLOCATE s1"); err != nil {
		t.Fatal(err)
	}
	if err := run("s1"); code(err) != "26000" {
		t.Fatalf("s1 after DEALLOCATE s1: %v, want 26000", err)
	}
	if err := run("s2"); err != nil {
		t.Fatalf("s2 after DEALLOCATE s1: %v", err)
	}
	if err := exec("DEALLOCATE nobody"); code(err) != "26000" {
		t.Fatalf("DEALLOCATE of nothing: %v, want 26000", err)
	}
	if err := exec("DISCARD ALL"); err != nil {
		t.Fatal(err)
	}
	if err := run("s2"); code(err) != "26000" {
		t.Fatalf("s2 after DISCARD ALL: %v, want 26000", err)
	}
	prepare("s3")
	if err := exec("DEALLOCATE ALL"); err != nil {
		t.Fatal(err)
	}
	if err := run("s3"); code(err) != "26000" {
		t.Fatalf("s3 after DEALLOCATE ALL: %v, want 26000", err)
	}
}
