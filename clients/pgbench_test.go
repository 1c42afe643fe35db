package clients

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPgbench runs PostgreSQL's pgbench against the node: its
// initialization twice, so that the second one's drop step drops the
// first one's tables, then TPC-B-like transactions from two clients that
// must all succeed, the balances agreeing afterwards.
//
// The whole default initialization (100,000 accounts, then ADD PRIMARY
// KEY) takes about 50 s on a real node of a 2-core VM, past this
// package's budget; sql's TestPgbench runs it in full on the in-memory
// store. Here pgbench -i makes the tables (d: drop, t: create, p: primary
// keys) and the test loads a small scale-1 data set with the same shape:
// 1 branch, 10 tellers, 1,000 accounts (pgbench then picks accounts
// beyond 1,000 too, whose UPDATE touches no row, as a script may).
func TestPgbench(t *testing.T) {
	pgbench := requireTool(t, "pgbench", "Debian's postgresql-client; .ci/run installs it")
	url := newDatabase(t, "pgbench_smoke")
	for range 2 {
		out := run(t, 30*time.Second, "", nil, pgbench, "-i", "-I", "dtp", url)
		if !strings.Contains(out, "dropping old tables") || !strings.Contains(out, "done in") {
			t.Fatalf("pgbench -i:\n%s", out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, q := range []string{
		"INSERT INTO pgbench_branches (bid, bbalance) VALUES (1, 0)",
		"INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT g, 1, 0 FROM generate_series(1, 10) g",
		"INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT g, 1, 0, '' FROM generate_series(1, 1000) g",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out := run(t, 60*time.Second, "", nil, pgbench, "-t", "20", "-c", "2", "--max-tries=100", url)
	if !strings.Contains(out, "number of transactions actually processed: 40/40") || !strings.Contains(out, "number of failed transactions: 0 (0.000%)") {
		t.Fatalf("pgbench did not process every transaction:\n%s", out)
	}
	// Every transaction adds its delta to one teller, the branch and the
	// history (and to its account when the account exists).
	var tl, b, h, n int64
	if err := c.QueryRow(ctx, `SELECT (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches),
		(SELECT sum(delta) FROM pgbench_history), (SELECT count(*) FROM pgbench_history)`).Scan(&tl, &b, &h, &n); err != nil {
		t.Fatal(err)
	}
	if tl != h || b != h || n != 40 {
		t.Fatalf("tellers %d, branches %d, history %d in %d rows; want equal sums in 40 rows", tl, b, h, n)
	}
}
