package server

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPlanCache: a prepared statement's executions after the first run
// its kept plan; a schema change on another node, a REVOKE, a temporary
// table that now shadows the name, and new statistics each make the next
// execution plan again (and answer as a fresh plan would).
func TestPlanCache(t *testing.T) {
	nodes := sqlCluster(t)
	ctx := context.Background()
	a, b := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1])
	exec := func(c *pgx.Conn, q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	hits := func() int64 { return nodes[0].sqlExec.Load().PlanCacheHits.Load() }
	exec(a, "CREATE TABLE pc (k INT PRIMARY KEY, v INT)")
	exec(a, "INSERT INTO pc VALUES (1, 10), (2, 20)")
	if _, err := a.Prepare(ctx, "sel", "SELECT v FROM pc WHERE k = $1"); err != nil {
		t.Fatal(err)
	}
	sel := func(c *pgx.Conn, k int) (int, error) {
		var v int
		err := c.QueryRow(ctx, "sel", k).Scan(&v)
		return v, err
	}
	h0 := hits()
	for k := 1; k <= 2; k++ {
		for range 3 {
			if v, err := sel(a, k); err != nil || v != 10*k {
				t.Fatalf("k=%d: %d %v", k, v, err)
			}
		}
	}
	if got := hits() - h0; got < 5 {
		t.Fatalf("%d of 6 executions ran the kept plan, want 5", got)
	}

	// A column renamed through another node: the kept plan names it no
	// more, and a fresh plan finds no v.
	exec(b, "ALTER TABLE pc RENAME COLUMN v TO w")
	if _, err := sel(a, 1); sqlCode(err) != "42703" {
		t.Fatalf("after the rename: %v, want 42703", err)
	}
	exec(b, "ALTER TABLE pc RENAME COLUMN w TO v")
	if v, err := sel(a, 1); err != nil || v != 10 {
		t.Fatalf("after renaming back: %d %v", v, err)
	}

	// New statistics: planned again, same answer.
	h1 := hits()
	exec(a, "ANALYZE pc")
	if v, err := sel(a, 2); err != nil || v != 20 || hits() != h1 {
		t.Fatalf("after ANALYZE: %d %v, hits %d -> %d (want a fresh plan)", v, err, h1, hits())
	}

	// A role's kept plan still checks its privileges.
	exec(a, "CREATE ROLE pcuser LOGIN")
	exec(a, "GRANT SELECT ON pc TO pcuser")
	u, err := pgx.Connect(ctx, "postgres://pcuser@"+nodes[0].SQLAddr()+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = u.Close(ctx) }()
	if _, err := u.Prepare(ctx, "sel", "SELECT v FROM pc WHERE k = $1"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v, err := sel(u, 1); err != nil || v != 10 {
			t.Fatalf("as pcuser: %d %v", v, err)
		}
	}
	exec(b, "REVOKE SELECT ON pc FROM pcuser")
	if _, err := sel(u, 1); sqlCode(err) != "42501" {
		t.Fatalf("after REVOKE: %v, want 42501", err)
	}

	// A temporary table of the same name now comes first in the search
	// path: the name means another table.
	exec(a, "CREATE TEMP TABLE pc (k INT PRIMARY KEY, v INT)")
	exec(a, "INSERT INTO pc VALUES (1, 111)")
	if v, err := sel(a, 1); err != nil || v != 111 {
		t.Fatalf("with a temporary pc: %d %v, want 111", v, err)
	}
}
