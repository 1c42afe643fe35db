package sql_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestIndexOnlyScan: queries of one table that name only an index's
// columns and the primary key read the index's entries alone (EXPLAIN
// says index only) and answer what the same queries answer over an
// identical table without the index; a column of a type whose key
// encoding is not exact (numeric, float), one outside the index or *
// keep the row reads.
func TestIndexOnlyScan(t *testing.T) {
	c, _ := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const cols = `(k INT PRIMARY KEY, a INT, s TEXT, d DATE, ts TIMESTAMPTZ, u UUID, by BYTEA, b BOOL, n NUMERIC, f FLOAT8, other INT)`
	for _, q := range []string{
		`CREATE TABLE io_i ` + cols,
		`CREATE TABLE io_p ` + cols,
		`CREATE INDEX io_i_as ON io_i (a, s)`,
		`CREATE INDEX io_i_d ON io_i (d, ts, u, by, b)`,
		`CREATE INDEX io_i_n ON io_i (n)`,
		`CREATE INDEX io_i_f ON io_i (f)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, tab := range []string{"io_i", "io_p"} {
		if _, err := c.Exec(ctx, `INSERT INTO `+tab+` SELECT g, g % 7, CASE WHEN g % 5 = 0 THEN NULL ELSE 's' || (g % 4) END,
			DATE '2024-01-01' + g % 9, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 hour', md5(g::text)::uuid,
			decode(md5(g::text), 'hex'), g % 2 = 0, (g % 6)::numeric * 1.50, CASE WHEN g % 3 = 0 THEN -0.0 ELSE g / 4.0 END, g
			FROM generate_series(1, 300) g`); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		q         string
		indexOnly bool
	}{
		{`SELECT count(*) FROM %s WHERE a = 3`, true},
		{`SELECT k, s FROM %s WHERE a = 2 ORDER BY k`, true},
		{`SELECT a, s, count(*) FROM %s WHERE a > 4 GROUP BY a, s ORDER BY a, s`, true},
		{`SELECT DISTINCT s FROM %s WHERE a = 1 AND s IS NOT NULL ORDER BY s`, true},
		{`SELECT k, d, ts, u, by, b FROM %s WHERE d = '2024-01-03' ORDER BY k`, true},
		{`SELECT max(k) FROM %s WHERE d >= '2024-01-02' AND d <= '2024-01-04' AND b`, true},
		{`SELECT k, other FROM %s WHERE a = 2 ORDER BY k`, false},
		{`SELECT * FROM %s WHERE a = 6 ORDER BY k`, false},
		{`SELECT k, n FROM %s WHERE n = 3 ORDER BY k`, false},
		{`SELECT k, f FROM %s WHERE f < 1 ORDER BY k`, false},
		{`SELECT count(*) FROM %s WHERE a = 3 AND other > 10`, false},
	} {
		rows := map[string][][]string{}
		for _, tab := range []string{"io_i", "io_p"} {
			q := strings.ReplaceAll(tc.q, "%s", tab)
			rows[tab] = queryAll(ctx, t, c, q)
			if tab == "io_i" {
				plan := fmt.Sprint(queryAll(ctx, t, c, "EXPLAIN "+q))
				if got := strings.Contains(plan, "index only"); got != tc.indexOnly {
					t.Errorf("%s: index only %v, want %v:\n%s", q, got, tc.indexOnly, plan)
				}
			}
		}
		if len(rows["io_p"]) == 0 {
			t.Errorf("%s: no rows to compare", tc.q)
		}
		if !reflect.DeepEqual(rows["io_i"], rows["io_p"]) {
			t.Errorf("%s:\n with the index %v\n without       %v", tc.q, rows["io_i"], rows["io_p"])
		}
	}
}
