package sql_test

import (
	"context"
	"strings"
	"testing"
)

// TestExplainEveryNode explains a query through each of the nodes that
// EXPLAIN once left out (printing the Go type and dropping the subtree):
// the node's line and its whole subtree must be printed, and EXPLAIN
// ANALYZE must count the rows of each.
func TestExplainEveryNode(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE en (a INT PRIMARY KEY, b INT); INSERT INTO en VALUES (1, 10), (2, 20)"); err != nil {
		t.Fatal(err)
	}
	const recursive = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r"
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"EXPLAIN SELECT a, row_number() OVER (ORDER BY b) FROM en", []string{
			"• render a, row_number",
			"  • window row_number",
			"    • scan en@en_pkey (full scan)",
		}},
		{"EXPLAIN SELECT DISTINCT ON (b) a, b FROM en ORDER BY b, a", []string{
			"• distinct on @2",
			"  • sort @2, @1",
			"    • render a, b",
			"      • scan en@en_pkey (full scan)",
		}},
		{"EXPLAIN " + recursive, []string{
			"• render n",
			"  • recursive r (UNION ALL)",
			"    • render ?column?",
			"      • values (1 rows)",
		}},
		{"EXPLAIN SELECT * FROM generate_series(1, 3)", []string{
			"• render generate_series",
			"  • generate_series(1, 3)",
		}},
		{"EXPLAIN SELECT * FROM unnest(ARRAY[1, 2])", []string{
			"• render unnest",
			"  • unnest(ARRAY[1, 2])",
		}},
		{"EXPLAIN ANALYZE SELECT a, row_number() OVER (ORDER BY b) FROM en", []string{
			"• render a, row_number  (rows: 2,",
			"  • window row_number  (rows: 2,",
			"    • scan en@en_pkey (full scan)  (rows: 2,",
			"rows written: 0",
		}},
		{"EXPLAIN ANALYZE " + recursive, []string{
			"• render n  (rows: 3,",
			"  • recursive r (UNION ALL)  (rows: 3,",
			"    • render ?column?  (rows: 1,",
			"      • values (1 rows)  (rows: 1,",
			"rows written: 0",
		}},
	} {
		var lines []string
		rows, err := c.Query(ctx, tc.query)
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
		ok := len(lines) == len(tc.want)
		for i := 0; ok && i < len(lines); i++ {
			ok = strings.HasPrefix(lines[i], tc.want[i])
		}
		if !ok {
			t.Errorf("%s printed:\n%s\nwant (line prefixes):\n%s", tc.query, strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}
