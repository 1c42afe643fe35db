package sql_test

import (
	"testing"
)

// TestPsqlMatViews checks what psql shows of a materialized view: \dm
// lists it, \d describes it (columns and indexes), \di lists its index.
func TestPsqlMatViews(t *testing.T) {
	out := psqlAfter(t, []string{
		"CREATE TABLE mv_src (a INT PRIMARY KEY, b TEXT)",
		"INSERT INTO mv_src VALUES (1, 'x'), (2, 'y')",
		"CREATE MATERIALIZED VIEW mv_m AS SELECT a, b FROM mv_src",
		"CREATE UNIQUE INDEX mv_m_a ON mv_m (a)",
		"CREATE MATERIALIZED VIEW mv_empty AS SELECT a FROM mv_src WITH NO DATA",
	}, `\dm`, `\d mv_m`, `\di mv_m*`)
	// As PostgreSQL 15's psql prints it (owner aside).
	want := `               List of relations
 Schema |   Name   |       Type        | Owner 
--------+----------+-------------------+-------
 public | mv_empty | materialized view | root
 public | mv_m     | materialized view | root
(2 rows)

          Materialized view "public.mv_m"
 Column |  Type   | Collation | Nullable | Default 
--------+---------+-----------+----------+---------
 a      | integer |           |          | 
 b      | text    |           |          | 
Indexes:
    "mv_m_a" UNIQUE, btree (a)

            List of relations
 Schema |  Name  | Type  | Owner | Table 
--------+--------+-------+-------+-------
 public | mv_m_a | index | root  | mv_m
(1 row)

`
	if out != want {
		t.Errorf("psql printed:\n%s\nwant:\n%s", out, want)
	}
}
