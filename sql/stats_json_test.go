package sql_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStatisticsJSONRoundTrip: the statistics ANALYZE collects, shown by
// SHOW STATISTICS USING JSON and injected into an identical empty table,
// are the same statistics: the same JSON back, the same estimates.
func TestStatisticsJSONRoundTrip(t *testing.T) {
	c, _ := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const schema = `(k INT PRIMARY KEY, s TEXT, f FLOAT8, n NUMERIC, d DATE, ts TIMESTAMPTZ, b BOOL, by BYTEA, INDEX (s))`
	exec(`CREATE TABLE rt_a ` + schema)
	exec(`CREATE TABLE rt_b ` + schema)
	// Skewed: a third of s is one value, n is NULL in a seventh.
	exec(`INSERT INTO rt_a SELECT g, CASE WHEN g % 3 = 0 THEN 'often' ELSE 'v' || (g % 97)::text || ' ''q''' END,
		(g % 41)::float8 / 7, CASE WHEN g % 7 = 0 THEN NULL ELSE g * 1.5 END, DATE '2024-01-01' + g % 300,
		TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 hour', g % 2 = 0, decode(md5(g::text), 'hex')
		FROM generate_series(1, 3000) g`)
	exec(`ANALYZE rt_a`)
	show := func(table string) string {
		t.Helper()
		var j string
		if err := c.QueryRow(ctx, `SHOW STATISTICS USING JSON FOR TABLE `+table).Scan(&j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	a := show("rt_a")
	if !strings.Contains(a, `"histo_buckets"`) || !strings.Contains(a, `"often"`) {
		t.Fatalf("rt_a's statistics have no histograms: %s", a)
	}
	exec(`ALTER TABLE rt_b INJECT STATISTICS '` + strings.ReplaceAll(a, "'", "''") + `'`)
	if b := show("rt_b"); b != a {
		t.Fatalf("injected statistics differ:\n rt_a %s\n rt_b %s", a, b)
	}
	for _, where := range []string{
		"s = 'often'", "s = 'v5 ''q'''", "f < 1", "n IS NULL", "n > 4000", "d BETWEEN '2024-03-01' AND '2024-04-01'",
		"ts > '2024-03-01'", "b", "by > '\\x80'::bytea", "k < 100 AND s = 'often'",
	} {
		plan := func(table string) string {
			t.Helper()
			rows, err := c.Query(ctx, "EXPLAIN SELECT * FROM "+table+" WHERE "+where)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				out = append(out, strings.ReplaceAll(line, table, "rt"))
			}
			return strings.Join(out, "\n")
		}
		pa, pb := plan("rt_a"), plan("rt_b")
		if pa != pb || !strings.Contains(pa, "estimated rows") {
			t.Errorf("WHERE %s: plans differ or have no estimates:\n rt_a\n%s\n rt_b\n%s", where, pa, pb)
		}
	}
}
