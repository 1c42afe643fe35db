package sql_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/memkv"
	"github.com/meridiandb/meridian/sql/mon"
)

// TestQueryMemoryLimit: with a small SQL memory budget and a temporary
// directory, a sort larger than the budget spills sorted runs to disk and
// answers exactly what a node without a budget answers; its files are
// gone when the statement ends, the budget is never passed, and what
// cannot spill still fails with 53200 while the session goes on.
func TestQueryMemoryLimit(t *testing.T) {
	const limit = 256 << 10
	m := mon.NewMonitor("--max-sql-memory", limit)
	db := memkv.New()
	ex := sql.NewExecutor(db, hlc.PhysicalNow)
	ex.UseMemoryMonitor(m)
	dir := t.TempDir()
	ex.UseTempStorage(dir)
	c, _ := serveSQL(t, ex)
	// The reference: the same store, no budget.
	ref, _ := serveSQL(t, sql.NewExecutor(db, hlc.PhysicalNow))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if _, err := c.Exec(ctx, `CREATE TABLE spill (k INT PRIMARY KEY, s TEXT, n NUMERIC, f FLOAT8, b BOOL, d DATE, ts TIMESTAMPTZ, u UUID, by BYTEA)`); err != nil {
		t.Fatal(err)
	}
	// 20000 rows of about 200 bytes: some 4MiB, sixteen times the budget.
	// Inserted in batches, each below it.
	for lo := 1; lo <= 20000; lo += 1000 {
		if _, err := c.Exec(ctx, fmt.Sprintf(`INSERT INTO spill
			SELECT g, md5(g::text) || repeat('x', g %% 50),
			       CASE WHEN g %% 7 = 0 THEN NULL ELSE g * 1.25 END,
			       (g %% 113)::float8 / 3, g %% 2 = 0, DATE '2020-01-01' + g %% 400,
			       TIMESTAMPTZ '2020-01-01 00:00:00+00' + (g %% 977) * INTERVAL '1 minute',
			       md5(g::text)::uuid, decode(md5(g::text), 'hex')
			FROM generate_series(%d, %d) g`, lo, lo+999)); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`SELECT k, s FROM spill ORDER BY s OFFSET 19980`,
		`SELECT k FROM spill ORDER BY n DESC NULLS LAST, k OFFSET 19980`,
		`SELECT k, n FROM spill ORDER BY n NULLS FIRST, k LIMIT 5 OFFSET 2850`,
		`SELECT k, f, d FROM spill ORDER BY f, d DESC, k OFFSET 19990`,
		`SELECT k, ts, u, by FROM spill ORDER BY ts, u OFFSET 19990`,
		`SELECT b, k FROM spill ORDER BY b, k DESC OFFSET 9995 LIMIT 10`,
		`SELECT sum(k) FROM (SELECT k FROM spill ORDER BY s, f DESC) t`,
		`SELECT s FROM (SELECT k, s FROM spill ORDER BY s DESC) t WHERE k < 0`,
		`SELECT g FROM generate_series(1, 20000) g ORDER BY g DESC OFFSET 19990`,
		// Hash joins whose right side is past the budget.
		`SELECT count(*), sum(a.k - b.k), max(b.s) FROM spill a JOIN spill b ON a.s = b.s`,
		`SELECT count(*), count(b.k), round(sum(b.f)::numeric, 4) FROM spill a LEFT JOIN (SELECT * FROM spill WHERE k % 3 = 0) b ON a.k = b.k + 0`,
		`SELECT count(*), count(a.k), count(b.k), sum(a.k), sum(b.k) FROM (SELECT k, n FROM spill WHERE k % 2 = 0) a
			FULL JOIN (SELECT k, n, s FROM spill WHERE k % 3 = 0) b ON a.n = b.n`,
		`SELECT count(*), count(a.k), sum(b.k) FROM (SELECT k, d, s FROM spill WHERE k % 5 = 0) a
			RIGHT JOIN spill b ON a.k + 1 = b.k AND a.d + 1 = b.d AND b.s > a.s`,
		`SELECT a.k, b.k, b.ts FROM spill a JOIN spill b ON a.u = b.u AND a.by = b.by ORDER BY b.d, a.k DESC OFFSET 19995`,
		// Aggregations whose groups are past the budget.
		`SELECT count(*), sum(c), max(m), min(s) FROM (SELECT s, count(*) c, max(k) m FROM spill GROUP BY s) t`,
		`SELECT k % 7000, count(*), sum(k), min(s), max(d), round(avg(f)::numeric, 6), bool_and(b) FROM spill GROUP BY 1 ORDER BY 1 OFFSET 6990`,
		`SELECT u, count(DISTINCT d), string_agg(s, ',' ORDER BY k), sum(n) FILTER (WHERE b) FROM spill GROUP BY u ORDER BY u OFFSET 19995`,
		`SELECT d, ts, count(*) FROM spill GROUP BY d, ts HAVING count(*) > 0 ORDER BY count(*) DESC, d, ts LIMIT 5`,
	} {
		want := queryAll(ctx, t, ref, q)
		runs := ex.SpilledRuns.Load()
		got := queryAll(ctx, t, c, q)
		if ex.SpilledRuns.Load() < runs+2 {
			t.Errorf("%s: %d runs spilled, want several", q, ex.SpilledRuns.Load()-runs)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %v\nwant %v", q, got, want)
		}
		if files, err := os.ReadDir(dir); err != nil || len(files) != 0 {
			t.Fatalf("%s: %d temporary files left (%v)", q, len(files), err)
		}
		if used := m.Used(); used != 0 {
			t.Fatalf("%s: %d bytes still charged", q, used)
		}
	}
	if hw := m.HighWater(); hw == 0 || hw > limit {
		t.Fatalf("high water %d: want charges, never past %d", hw, limit)
	}

	// A write reads the rows it changes at the statement's snapshot
	// (snapshotReadNode): they stream to the writes, none held, nothing
	// spilled however many they are.
	runs := ex.SpilledRuns.Load()
	tag, err := c.PgConn().Exec(ctx, `UPDATE spill SET b = NOT b`).ReadAll()
	if err != nil || tag[0].CommandTag.String() != "UPDATE 20000" {
		t.Fatalf("UPDATE of the whole table: %v %v", tag, err)
	}
	if n := ex.SpilledRuns.Load() - runs; n != 0 {
		t.Errorf("the UPDATE spilled %d runs", n)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Fatalf("%d temporary files left after the UPDATE", len(files))
	}
	if used := m.Used(); used != 0 {
		t.Fatalf("%d bytes still charged after the UPDATE", used)
	}
	var flipped int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM spill WHERE b = (k % 2 = 1)`).Scan(&flipped); err != nil || flipped != 20000 {
		t.Fatalf("after the UPDATE: %d rows flipped, %v", flipped, err)
	}

	// What does not spill fails as before: an aggregate's state, grouping
	// sets, and a hash join whose rows all share one key, which no
	// partitioning splits. The session goes on.
	for _, q := range []string{
		`SELECT length(string_agg(s, ',')) FROM spill`,
		`SELECT s, count(*) FROM spill GROUP BY GROUPING SETS ((s), ())`,
		`SELECT count(*) FROM (SELECT 1 AS one) a JOIN (SELECT k, s, 1 AS one FROM spill) b ON a.one = b.one`,
	} {
		_, err := c.PgConn().Exec(ctx, q).ReadAll()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "53200" {
			t.Fatalf("%s: want 53200, got %v", q, err)
		}
		if used := m.Used(); used != 0 {
			t.Fatalf("%s: %d bytes still charged after the failure", q, used)
		}
		if files, _ := os.ReadDir(dir); len(files) != 0 {
			t.Fatalf("%s: %d temporary files left after the failure", q, len(files))
		}
	}
	var n int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM (SELECT k FROM spill ORDER BY s) t`).Scan(&n); err != nil || n != 20000 {
		t.Fatalf("after the failure: %d, %v", n, err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Fatalf("%d temporary files left at the end", len(files))
	}
}

// queryAll is q's rows, each as its columns' text.
func queryAll(ctx context.Context, t *testing.T, c *pgx.Conn, q string) [][]string {
	t.Helper()
	rows, err := c.Query(ctx, q, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var row []string
		for _, v := range rows.RawValues() {
			if v == nil {
				row = append(row, "NULL")
			} else {
				row = append(row, string(v))
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}
