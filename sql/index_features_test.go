package sql_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPartialAndExpressionIndexes: which index a scan reads (EXPLAIN),
// and that it returns the rows the table scan would. An expression index
// serves a filter on its expression, also with a parameter (pgx's
// extended protocol), and not one on the bare column; a partial index
// serves only filters that imply its predicate, with or without a key
// condition.
func TestPartialAndExpressionIndexes(t *testing.T) {
	c, _ := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{
		"CREATE TABLE pe (id INT PRIMARY KEY, name TEXT, active BOOL, score INT)",
		"INSERT INTO pe VALUES (1, 'Ann', true, 3), (2, 'ann', false, 3), (3, 'Bo', true, 4), (4, 'ANN', NULL, 3)",
		"CREATE INDEX pe_lower ON pe (lower(name))",
		"CREATE INDEX pe_active ON pe (score) WHERE active",
		"CREATE INDEX pe_big ON pe (name) WHERE score > 3",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, tc := range []struct {
		where string
		index string // "" for none of the secondary indexes
		ids   string
	}{
		{"lower(name) = 'ann'", "pe_lower", "1 2 4"},
		{"name = 'ann'", "", "2"},
		{"lower(name) >= 'b'", "pe_lower", "3"},
		{"active AND score = 3", "pe_active", "1"},
		{"score = 3 AND active", "pe_active", "1"},
		{"score = 3", "", "1 2 4"},
		{"active", "pe_active", "1 3"},
		{"active IS NOT NULL AND score = 3", "", "1 2"},
		{"score > 3 AND name >= 'B'", "pe_big", "3"},
		{"score >= 4 AND name >= 'B'", "pe_big", "3"},
		{"score = 4 AND name >= 'B'", "pe_big", "3"},
		{"4 <= score AND name >= 'B'", "pe_big", "3"},
		{"score > 2 AND name >= 'B'", "", "2 3"},
		{"score >= 3 AND name >= 'B'", "", "2 3"},
	} {
		q := "SELECT id FROM pe WHERE " + tc.where + " ORDER BY id"
		rows, err := c.Query(ctx, "EXPLAIN "+q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		for _, idx := range []string{"pe_lower", "pe_active", "pe_big"} {
			if used := strings.Contains(text, "@"+idx); used != (idx == tc.index) {
				t.Errorf("%s: uses %s: %v, want %v\n%s", tc.where, idx, used, idx == tc.index, text)
			}
		}
		if got := ids(t, c, q); got != tc.ids {
			t.Errorf("%s: rows %q, want %q", tc.where, got, tc.ids)
		}
	}
	if got := ids(t, c, "SELECT id FROM pe WHERE lower(name) = $1 ORDER BY id", "ann"); got != "1 2 4" {
		t.Errorf("with a parameter: rows %q", got)
	}
}

// ids runs a query of one integer column and returns its values joined
// by spaces.
func ids(t *testing.T, c *pgx.Conn, q string, args ...any) string {
	t.Helper()
	rows, err := c.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, strconv.Itoa(id))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.Join(out, " ")
}
