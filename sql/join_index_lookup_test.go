package sql_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestIndexLookupJoin: with statistics that make the right tables large
// and the left side small, inner joins on a prefix of a primary key or
// of a secondary index read spans per left row (EXPLAIN says so), and
// answer exactly what the same queries answer as hash joins (no
// statistics): duplicates, NULL keys, right-side filters, extra
// conditions, keys of another integer width.
func TestIndexLookupJoin(t *testing.T) {
	c, _ := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, q := range []string{
		`CREATE TABLE il_o (id INT PRIMARY KEY, cust INT, tag TEXT)`,
		`CREATE TABLE il_i (o INT, n INT, sku INT8, qty INT, PRIMARY KEY (o, n))`,
		`CREATE TABLE il_s (id INT8 PRIMARY KEY, grp INT, name TEXT, INDEX il_s_grp (grp, name))`,
		`INSERT INTO il_o SELECT g, g % 7, CASE WHEN g % 5 = 0 THEN NULL ELSE 't' || (g % 3) END FROM generate_series(1, 60) g`,
		`INSERT INTO il_i SELECT g / 4, g % 4, g % 11, g FROM generate_series(1, 400) g`,
		`INSERT INTO il_s SELECT g, CASE WHEN g % 9 = 0 THEN NULL ELSE g % 6 END, 'n' || g FROM generate_series(0, 30) g`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	queries := []string{
		`SELECT o.id, i.n, i.qty FROM il_o o JOIN il_i i ON i.o = o.id WHERE o.cust = 3`,
		`SELECT o.id, i.n, i.sku FROM il_o o JOIN il_i i ON i.o = o.id AND i.qty > 4 * o.id WHERE o.tag = 't1'`,
		`SELECT o.id, s.id, s.name FROM il_o o JOIN il_s s ON s.grp = o.cust WHERE o.id < 9`,
		`SELECT o.id, s.name, s.id FROM il_o o JOIN il_s s ON s.grp = o.cust AND s.name = 'n' || (o.cust + 6) WHERE o.id < 20`,
		`SELECT o.id, i.n, s.name FROM il_o o JOIN il_i i ON i.o = o.id JOIN il_s s ON s.id = i.sku WHERE o.cust = 2 AND s.name > 'n3'`,
	}
	run := func(q string) []string {
		t.Helper()
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return out
	}
	want := map[string][]string{}
	for _, q := range queries {
		want[q] = run(q + " ORDER BY 1, 2, 3")
		if len(want[q]) == 0 {
			t.Fatalf("%s: no rows to compare", q)
		}
	}
	stats := func(table string, rows int, cols ...string) string {
		var es []string
		for _, col := range cols {
			es = append(es, fmt.Sprintf(`{"columns": [%q], "row_count": %d, "distinct_count": %d, "null_count": 0, "avg_size": 4}`, col, rows, rows/10))
		}
		return fmt.Sprintf(`ALTER TABLE %s INJECT STATISTICS '[%s]'`, table, strings.Join(es, ", "))
	}
	for _, q := range []string{
		stats("il_o", 60, "id", "cust", "tag"),
		stats("il_i", 1000000, "o", "n", "sku", "qty"),
		stats("il_s", 1000000, "id", "grp", "name"),
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range queries {
		plan := strings.Join(run("EXPLAIN "+q), "\n")
		if !strings.Contains(plan, "by its first") {
			t.Errorf("%s: no index lookup join:\n%s", q, plan)
		}
		if got := run(q + " ORDER BY 1, 2, 3"); !reflect.DeepEqual(got, want[q]) {
			t.Errorf("%s:\n got %v\nwant %v\n%s", q, got, want[q], plan)
		}
	}
}
