package sql_test

import (
	"context"
	"testing"
	"time"
)

// TestAnalyzeStatistics: ANALYZE and CREATE STATISTICS store a table's
// statistics, SHOW STATISTICS, pg_stats and pg_class.reltuples show them,
// and DROP TABLE takes them away.
func TestAnalyzeStatistics(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE st (k INT PRIMARY KEY, v TEXT, n INT)")
	exec("INSERT INTO st SELECT i, 'v' || (i % 4), CASE WHEN i % 5 = 0 THEN NULL ELSE i END FROM generate_series(1, 1000) AS i")
	var reltuples int
	if err := c.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE relname = 'st'").Scan(&reltuples); err != nil || reltuples != -1 {
		t.Fatalf("reltuples before ANALYZE: %d %v", reltuples, err)
	}
	exec("ANALYZE st")
	type colStats struct {
		name                      string
		rows, distinct, nulls, sz int64
	}
	show := func() map[string]colStats {
		t.Helper()
		rows, err := c.Query(ctx, "SHOW STATISTICS FOR TABLE st")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]colStats{}
		for rows.Next() {
			var s colStats
			var cols []string
			var created time.Time
			if err := rows.Scan(&s.name, &cols, &created, &s.rows, &s.distinct, &s.nulls, &s.sz); err != nil {
				t.Fatal(err)
			}
			out[cols[0]] = s
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := show()
	if s := got["k"]; s.name != "__analyze__" || s.rows != 1000 || s.distinct < 970 || s.distinct > 1000 || s.nulls != 0 {
		t.Errorf("k: %+v", s)
	}
	if s := got["v"]; s.distinct != 4 || s.sz == 0 {
		t.Errorf("v: %+v", s)
	}
	if s := got["n"]; s.nulls != 200 || s.distinct < 780 || s.distinct > 800 {
		t.Errorf("n: %+v", s)
	}
	if err := c.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE relname = 'st'").Scan(&reltuples); err != nil || reltuples != 1000 {
		t.Fatalf("reltuples after ANALYZE: %d %v", reltuples, err)
	}
	var nullFrac, nDistinct float32
	var bounds string
	if err := c.QueryRow(ctx, "SELECT null_frac, n_distinct, histogram_bounds FROM pg_stats WHERE tablename = 'st' AND attname = 'v'").
		Scan(&nullFrac, &nDistinct, &bounds); err != nil || nullFrac != 0 || nDistinct != 4 || bounds[:4] != "{v0," {
		t.Errorf("pg_stats v: null_frac %v n_distinct %v bounds %.20s (%v)", nullFrac, nDistinct, bounds, err)
	}
	if err := c.QueryRow(ctx, "SELECT null_frac, n_distinct FROM pg_stats WHERE tablename = 'st' AND attname = 'n'").
		Scan(&nullFrac, &nDistinct); err != nil || nullFrac != 0.2 || nDistinct > -0.75 || nDistinct < -0.8 {
		t.Errorf("pg_stats n: null_frac %v n_distinct %v (%v)", nullFrac, nDistinct, err)
	}

	exec("CREATE STATISTICS mine ON k FROM st")
	if s := show()["k"]; s.name != "mine" {
		t.Errorf("after CREATE STATISTICS: %+v", s)
	}
	if _, err := c.Exec(ctx, "CREATE STATISTICS bad ON nope FROM st"); err == nil {
		t.Errorf("CREATE STATISTICS on a missing column succeeded")
	}

	exec("DROP TABLE st")
	exec("CREATE TABLE other (k INT PRIMARY KEY)")
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_stats").Scan(&n); err != nil || n != 0 {
		t.Errorf("pg_stats after DROP TABLE: %d rows (%v)", n, err)
	}
}
