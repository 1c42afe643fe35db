package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestCopyCommitsInOneRoundTrip: a COPY that commits right after it
// (outside a transaction block) leaves its primary key checks to its
// writes (sql/insert_deferred.go) and its transaction holds the writes
// back to its commit (txn.heldWrites), so a chunk of a bulk load in one
// range is one KV batch, committed in one Raft command as committed
// values: no intent is ever written (kvserver isOnePhaseCommit). Before,
// 20,000 rows took a read and a write batch per 500 rows and left 20,000
// intents to resolve after the commit. Duplicate keys are still 23505,
// found at the commit, and nothing of a failed COPY stays; a COPY larger
// than what a transaction holds back goes through as intents.
func TestCopyCommitsInOneRoundTrip(t *testing.T) {
	nodes := sqlCluster(t)
	ctx := context.Background()
	c := sqlConnect(t, nodes[0])
	for _, q := range []string{
		"SET CLUSTER SETTING sql.stats.automatic_collection.enabled = false",
		"CREATE TABLE cp (k INT PRIMARY KEY, v TEXT)",
		"INSERT INTO cp VALUES (-1, 'x')", // the table's descriptor leased
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(from, to int, width int) string {
		var sb strings.Builder
		pad := strings.Repeat("v", width)
		for i := from; i < to; i++ {
			fmt.Fprintf(&sb, "%d\t%s\n", i, pad)
		}
		return sb.String()
	}
	copyIn := func(data string) (int64, error) {
		res, err := c.PgConn().CopyFrom(ctx, strings.NewReader(data), "COPY cp FROM STDIN")
		return res.RowsAffected(), err
	}
	locks := func() int64 {
		var n int64
		for _, node := range nodes {
			for _, r := range node.Store().Replicas() {
				got, _, err := r.StatsAndRecompute()
				if err != nil {
					t.Fatal(err)
				}
				n += got.LockCount
			}
		}
		return n
	}

	// The gateway's KV batches: the COPY's name lookups and its commit,
	// and whatever background work (descriptor leases) sends meanwhile;
	// one or two per 500 rows before.
	before := nodes[0].db.Metrics().Batches.Load()
	if n, err := copyIn(rows(0, 20000, 20)); err != nil || n != 20000 {
		t.Fatalf("COPY of 20,000 rows: %d, %v", n, err)
	}
	batches := nodes[0].db.Metrics().Batches.Load() - before
	t.Logf("COPY of 20,000 rows: %d KV batches", batches)
	if batches >= 40 {
		t.Fatalf("COPY of 20,000 rows: %d KV batches, want a few", batches)
	}
	if n := locks(); n != 0 {
		t.Fatalf("%d lock records right after a one-phase COPY, want none", n)
	}

	// A key taken before, or twice in the COPY (in different batches of
	// its rows): 23505 at the commit, and nothing of the COPY stays.
	for _, tc := range []struct{ name, data string }{
		{"taken", rows(20000, 23000, 20) + "2500\tdup\n"},
		{"twice", rows(23000, 24000, 20) + rows(24000, 25000, 20) + "23001\tdup\n"},
	} {
		_, err := copyIn(tc.data)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			t.Fatalf("%s: %v, want 23505", tc.name, err)
		}
		if !strings.Contains(pe.Detail, "already exists") {
			t.Fatalf("%s: detail %q, want the key named", tc.name, pe.Detail)
		}
	}
	var count int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM cp").Scan(&count); err != nil || count != 20001 {
		t.Fatalf("rows after the failed COPYs: %d (%v), want 20001", count, err)
	}

	// Past what a transaction holds back (8 MiB): the rows go on as
	// intents, and all arrive.
	if n, err := copyIn(rows(100000, 120000, 500)); err != nil || n != 20000 {
		t.Fatalf("COPY of 10 MB: %d, %v", n, err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM cp WHERE k >= 100000").Scan(&count); err != nil || count != 20000 {
		t.Fatalf("rows of the large COPY: %d (%v), want 20000", count, err)
	}
}
