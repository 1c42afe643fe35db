package server

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestLoneInsertCommitsInOneRoundTrip: a lone INSERT (a simple query's
// only statement, or an Execute with its Sync right behind it) leaves its
// primary key check to its commit
// (sql/insert_deferred.go), so that its transaction sends one KV batch —
// the commit, carrying the write — where it sent two (a read of the key,
// then the commit): on a cluster, one round trip to the leaseholder
// instead of two. So does an ON CONFLICT DO NOTHING of a new key, and of
// a taken one (the commit fails whole on one range: no rollback after).
// Counted with the gateway's txn_batches_total over 30 statements of
// each kind, against a bound background transactions (descriptor leases)
// stay well under.
func TestLoneInsertCommitsInOneRoundTrip(t *testing.T) {
	nodes := sqlCluster(t)
	ctx := context.Background()
	c := sqlConnect(t, nodes[0])
	for _, q := range []string{
		"SET CLUSTER SETTING sql.stats.automatic_collection.enabled = false",
		"CREATE TABLE rt (k INT PRIMARY KEY, v INT)",
		"INSERT INTO rt VALUES (0, 0)", // the table's descriptor leased
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const n = 30
	for _, tc := range []struct {
		name, stmt, tag string
		extended        bool
	}{
		{"plain", "INSERT INTO rt VALUES (%d, 1)", "INSERT 0 1", false},
		{"do-nothing-new", "INSERT INTO rt VALUES (%d + 1000, 1) ON CONFLICT DO NOTHING", "INSERT 0 1", false},
		{"do-nothing-taken", "INSERT INTO rt VALUES (%d, 2) ON CONFLICT DO NOTHING", "INSERT 0 0", false},
		// pgx's Exec with arguments: Bind, Execute and Sync in one write;
		// the Execute, with its Sync already there, commits on its own.
		{"extended", "INSERT INTO rt VALUES ($1::INT + 2000, 1)", "INSERT 0 1", true},
	} {
		before := nodes[0].db.Metrics().Batches.Load()
		for i := 1; i <= n; i++ {
			var tag string
			if tc.extended {
				ct, err := c.Exec(ctx, tc.stmt, i)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				tag = ct.String()
			} else {
				res, err := c.PgConn().Exec(ctx, fmt.Sprintf(tc.stmt, i)).ReadAll()
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				tag = lastTag(res)
			}
			if tag != tc.tag {
				t.Fatalf("%s: %q, want %q", tc.name, tag, tc.tag)
			}
		}
		batches := nodes[0].db.Metrics().Batches.Load() - before
		t.Logf("%s: %d KV batches for %d statements", tc.name, batches, n)
		if batches >= 3*n/2 {
			t.Fatalf("%s: %d KV batches for %d statements, want about one each", tc.name, batches, n)
		}
	}
	// Nothing of the taken keys' second values got in.
	var sum int
	if err := c.QueryRow(ctx, "SELECT sum(v)::INT FROM rt").Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 3*n {
		t.Fatalf("sum(v) = %d, want %d", sum, 3*n)
	}

	// A row whose index entry lives on another range: a taken key fails
	// the commit on the row's range while the entry's part lands on the
	// other; the rollback that follows removes it.
	for _, q := range []string{
		"CREATE TABLE rt2 (k INT PRIMARY KEY, c INT, INDEX rt2_c (c))",
		"ALTER INDEX rt2@rt2_c SPLIT AT VALUES (0)",
		"INSERT INTO rt2 VALUES (1, 5)",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err := c.PgConn().Exec(ctx, "INSERT INTO rt2 VALUES (1, 6)").ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("duplicate key with its index entry elsewhere: %v, want 23505", err)
	}
	var found int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM rt2@rt2_c WHERE c = 6").Scan(&found); err != nil || found != 0 {
		t.Fatalf("index entries for c = 6: %d (%v), want none", found, err)
	}
	if _, err := c.PgConn().Exec(ctx, "INSERT INTO rt2 VALUES (2, 6)").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM rt2@rt2_c WHERE c = 6").Scan(&found); err != nil || found != 1 {
		t.Fatalf("index entries for c = 6: %d (%v), want 1", found, err)
	}
}

func lastTag(res []*pgconn.Result) string {
	if len(res) == 0 {
		return ""
	}
	return res[len(res)-1].CommandTag.String()
}
