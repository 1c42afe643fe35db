package sql_test

import (
	"context"
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
