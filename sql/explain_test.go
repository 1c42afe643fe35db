package sql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestExplainAnalyze runs a statement under EXPLAIN ANALYZE: it executes
// (its rows are written) and the plan shows each node's row count.
func TestExplainAnalyze(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE ea (a INT PRIMARY KEY, b INT)"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	rows, err := c.Query(ctx, "EXPLAIN ANALYZE INSERT INTO ea VALUES (1, 1), (2, 2), (3, 3)")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	out := strings.Join(lines, "\n")
	if !strings.Contains(out, "values (3 rows)  (rows: 3,") || !strings.Contains(out, "rows written: 3") {
		t.Fatalf("EXPLAIN ANALYZE printed:\n%s", out)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM ea").Scan(&n); err != nil || n != 3 {
		t.Fatalf("rows after EXPLAIN ANALYZE INSERT: %d %v", n, err)
	}
}

// TestExplainAnalyzeKV: EXPLAIN ANALYZE shows the KV requests each node
// made itself and the rows they read: a scan its batches, a lookup join
// its batched point reads, a node that reads nothing none.
func TestExplainAnalyzeKV(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE kv_l (k INT PRIMARY KEY, r INT, w INT)",
		"CREATE TABLE kv_r (k INT PRIMARY KEY, v TEXT)",
		"CREATE INDEX kv_l_r ON kv_l (r)",
		"INSERT INTO kv_l SELECT g, g * 2, g % 10 FROM generate_series(1, 2500) g",
		"INSERT INTO kv_r SELECT g, 'v' || g FROM generate_series(1, 10000) g",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	explain := func(q string) []string {
		t.Helper()
		rows, err := c.Query(ctx, "EXPLAIN ANALYZE "+q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		return lines
	}
	lineWith := func(lines []string, node string) string {
		t.Helper()
		for _, l := range lines {
			if strings.Contains(l, node) {
				return l
			}
		}
		t.Fatalf("no %q line in:\n%s", node, strings.Join(lines, "\n"))
		return ""
	}
	// kvTotal adds up the KV requests of a plan's nodes.
	kvTotal := func(lines []string) int {
		total := 0
		for _, l := range lines {
			var reqs, read int
			if i := strings.Index(l, "kv: "); i >= 0 {
				if _, err := fmt.Sscanf(l[i:], "kv: %d requests, %d rows read", &reqs, &read); err != nil {
					t.Fatal(err)
				}
			}
			total += reqs
		}
		return total
	}
	// 2500 rows in batches of at most 1000: three scan requests.
	lines := explain("SELECT count(*) FROM kv_l")
	if l := lineWith(lines, "scan kv_l"); !strings.Contains(l, "kv: 3 requests, 2500 rows read)") {
		t.Errorf("full scan: %s", l)
	}
	if l := lineWith(lines, "group"); strings.Contains(l, "kv:") {
		t.Errorf("the aggregation read nothing itself: %s", l)
	}
	// Through a secondary index: each batch of entries, then their rows
	// in one read: 2 x 3 requests for 2500 rows, not one per row.
	lines = explain("SELECT count(*) FROM kv_l WHERE r > 0 AND w > 0")
	if l := lineWith(lines, "scan kv_l@kv_l_r"); !strings.Contains(l, "kv: 6 requests, 5000 rows read)") {
		t.Errorf("index scan: %s", l)
	}
	// Naming only the index's columns and the primary key: the entries
	// alone (index_only.go).
	lines = explain("SELECT count(*), sum(k) FROM kv_l WHERE r > 0")
	if l := lineWith(lines, "scan kv_l@kv_l_r"); !strings.Contains(l, "index only") || !strings.Contains(l, "kv: 3 requests, 2500 rows read)") {
		t.Errorf("index-only scan: %s", l)
	}
	// A correlated EXISTS on an equality runs as a semi-join: kv_r is
	// read once (10 batches), not once per kv_l row (2500 x 10).
	lines = explain("SELECT count(*) FROM kv_l WHERE EXISTS (SELECT 1 FROM kv_r WHERE kv_r.v = 'v' || kv_l.r)")
	if l := lineWith(lines, "group"); !strings.Contains(l, "rows: 1,") {
		t.Errorf("semi-join: %s", l)
	}
	if n := kvTotal(lines); n > 3+10+1 {
		t.Errorf("semi-join: %d KV requests, want kv_l's 3 and kv_r's 10:\n%s", n, strings.Join(lines, "\n"))
	}
	// A correlated scalar subquery runs once per distinct value of the
	// outer column it names (w: 10) in a query that writes nothing, not
	// once per row, and reads its row by key; one that calls a volatile
	// function runs per row.
	memoQ := "SELECT count(*) FROM kv_l WHERE kv_l.k > (SELECT max(k) FROM kv_r WHERE kv_r.k = kv_l.w + 1)"
	if n := kvTotal(explain(memoQ)); n > 3+10 {
		t.Errorf("memoized subquery: %d KV requests, want kv_l's 3 and 10 point reads", n)
	}
	if n := kvTotal(explain(strings.Replace(memoQ, "max(k)", "max(k + (random() * 0)::int)", 1))); n < 2500 {
		t.Errorf("volatile subquery: %d KV requests, want one per row", n)
	}
	// A point read: one request, one row.
	lines = explain("SELECT v FROM kv_r WHERE k = 7")
	if l := lineWith(lines, "scan kv_r"); !strings.Contains(l, "kv: 1 requests, 1 rows read)") {
		t.Errorf("point read: %s", l)
	}
	// The lookup join reads kv_r's rows itself, 128 left rows a batch:
	// each of the 2500 finds its partner (r = 2k <= 5000). Its scan's
	// requests are the scan's alone.
	lines = explain("SELECT count(*) FROM kv_l JOIN kv_r ON kv_r.k = kv_l.r")
	if l := lineWith(lines, "lookup join"); !strings.Contains(l, "kv: 20 requests, 2500 rows read)") {
		t.Errorf("lookup join: %s", l)
	}
	if l := lineWith(lines, "scan kv_l"); !strings.Contains(l, "kv: 3 requests, 2500 rows read)") {
		t.Errorf("lookup join's left scan: %s", l)
	}
}
