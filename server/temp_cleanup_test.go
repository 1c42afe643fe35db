package server

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
)

// TestTempSchemaCleanup: the temporary schema of a session whose node
// stopped is dropped by that node once it runs again, and that of a
// session whose node stays dead by the others once the node counts as
// dead; a live session's stays, with its table, throughout.
func TestTempSchemaCleanup(t *testing.T) {
	c := newTestClusterWith(t, 3, true, func(cfg *Config) {
		cfg.TempSchemaCleanupInterval = 100 * time.Millisecond
		cfg.TimeUntilStoreDead = 3 * time.Second
		// The drop of a dead node's session's schema waits out that
		// node's descriptor leases.
		cfg.DescriptorLeaseDuration = 3 * time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c1 := sqlConnect(t, c.node(0))
	tempSchema := func(conn *pgx.Conn) string {
		t.Helper()
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE scratch (k INT PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO scratch VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		var name string
		if err := conn.QueryRow(ctx, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pg_temp_' || pg_backend_pid() || '_%'").Scan(&name); err != nil {
			t.Fatal(err)
		}
		return name
	}
	exists := func(name string) bool {
		t.Helper()
		var n int
		if err := c1.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	gone := func(name string) func() error {
		return func() error {
			if exists(name) {
				return errors.Newf("%s still exists", name)
			}
			return nil
		}
	}
	live := tempSchema(c1)

	// n2 stops with a session's temporary table; it drops the schema
	// once it runs again.
	s2 := tempSchema(sqlConnect(t, c.node(1)))
	c.stop(1)
	if !exists(s2) {
		t.Fatalf("%s went with its node's stop", s2)
	}
	c.start(1)
	waitFor(t, time.Minute, gone(s2))

	// n3 stops for good: n1 or n2 drops its session's schema once n3
	// counts as dead.
	s3 := tempSchema(sqlConnect(t, c.node(2)))
	c.stop(2)
	waitFor(t, time.Minute, gone(s3))

	if !exists(live) {
		t.Fatalf("the live session's %s was dropped", live)
	}
	var k int
	if err := c1.QueryRow(ctx, "SELECT k FROM scratch").Scan(&k); err != nil || k != 1 {
		t.Fatalf("the live session's temporary table: %d %v", k, err)
	}
}
