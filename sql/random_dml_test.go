package sql_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestRandomDMLAgainstPostgres runs the same random INSERT, UPDATE and
// DELETE statements (ON CONFLICT DO NOTHING / DO UPDATE, UPDATE ... FROM,
// DELETE ... USING, INSERT ... SELECT, RETURNING, subqueries in WHERE)
// on PostgreSQL 15 and on Meridian, and requires the same outcome of
// each (its SQLSTATE, or its command tag and returned rows) and, after
// each, the same table contents. The seed is
// printed (MERIDIAN_TEST_SEED replays it; MERIDIAN_TEST_QUERIES sets the
// number of statements).
func TestRandomDMLAgainstPostgres(t *testing.T) {
	pg, mer, rng, seed, n := randomDifferential(t, "random_dml", 300)
	ctx := context.Background()
	schema := []string{
		"CREATE TABLE d0 (k int PRIMARY KEY, a int, b int, s text)",
		"CREATE TABLE d1 (k int PRIMARY KEY, a int, b int, s text)",
		"CREATE UNIQUE INDEX d1_a ON d1 (a)",
		"CREATE INDEX d0_b ON d0 (b)",
	}
	for _, stmt := range schema {
		for _, c := range []*pgx.Conn{pg, mer} {
			if _, err := c.Exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	g := &dmlGen{rng: rng}
	failures := 0
	check := func(what string, want, got string) {
		t.Helper()
		if want != got {
			t.Errorf("%s\nPostgreSQL: %s\nMeridian:   %s", what, want, got)
			failures++
		}
		if failures >= 5 {
			t.Fatalf("stopping after %d differences (seed %d)", failures, seed)
		}
	}
	for i := range n {
		stmt := g.statement()
		check(fmt.Sprintf("statement %d: %s", i, stmt), outcome(ctx, pg, stmt), outcome(ctx, mer, stmt))
		for _, tab := range []string{"d0", "d1"} {
			q := "SELECT * FROM " + tab + " ORDER BY k"
			check(fmt.Sprintf("after statement %d (%s), %s", i, stmt, tab), outcome(ctx, pg, q), outcome(ctx, mer, q))
		}
	}
}

// outcome is what a statement did: its SQLSTATE if it failed, else its
// command tag and its rows (sorted).
func outcome(ctx context.Context, c *pgx.Conn, stmt string) string {
	res, err := c.PgConn().Exec(ctx, stmt).ReadAll()
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return "error " + pe.Code
		}
		return "error " + err.Error()
	}
	last := res[len(res)-1]
	var rows []string
	for _, r := range last.Rows {
		var f []string
		for _, v := range r {
			if v == nil {
				f = append(f, "NULL")
			} else {
				f = append(f, string(v))
			}
		}
		rows = append(rows, strings.Join(f, "|"))
	}
	slices.Sort(rows)
	return last.CommandTag.String() + " " + strings.Join(rows, " ")
}

// dmlGen generates statements over d0 and d1 (k primary key, a, b, s;
// d1.a unique) with small values, so that they meet each other's rows.
type dmlGen struct {
	rng *rand.Rand
	// n counts the statements made: a primary key update moves rows by
	// 100000 * n, past every key there is (PostgreSQL checks keys row by
	// row in its heap's order, which may meet a key another row of the
	// same statement is about to vacate; Meridian's order is the key's).
	n int
}

func (g *dmlGen) tab() string { return fmt.Sprintf("d%d", g.rng.IntN(2)) }

func (g *dmlGen) val() string {
	if g.rng.IntN(6) == 0 {
		return "NULL"
	}
	return strconv.Itoa(g.rng.IntN(12))
}

func (g *dmlGen) text() string {
	if g.rng.IntN(6) == 0 {
		return "NULL"
	}
	return "'" + string(rune('p'+g.rng.IntN(4))) + "'"
}

func (g *dmlGen) col() string { return []string{"a", "b", "k"}[g.rng.IntN(3)] }

// where is a condition on table alias t.
func (g *dmlGen) where(t string) string {
	switch g.rng.IntN(7) {
	case 0:
		return fmt.Sprintf("%s.%s = %s", t, g.col(), g.val())
	case 1:
		return fmt.Sprintf("%s.%s < %s.%s", t, g.col(), t, g.col())
	case 2:
		return fmt.Sprintf("%s.%s IS NULL", t, g.col())
	case 3:
		return fmt.Sprintf("%s.k IN (SELECT o.%s FROM %s AS o WHERE o.s = %s.s)", t, g.col(), g.tab(), t)
	case 4:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM %s AS o WHERE o.a = %s.%s)", g.tab(), t, g.col())
	case 5:
		return fmt.Sprintf("%s.s LIKE '%s%%'", t, string(rune('p'+g.rng.IntN(4))))
	}
	return fmt.Sprintf("%s.%s BETWEEN %d AND %d", t, g.col(), g.rng.IntN(6), 3+g.rng.IntN(9))
}

func (g *dmlGen) returning() string {
	if g.rng.IntN(3) == 0 {
		return " RETURNING t.k, t.a, t.b, t.s"
	}
	return ""
}

func (g *dmlGen) statement() string {
	g.n++
	t := g.tab()
	switch g.rng.IntN(9) {
	case 0, 1, 2:
		var rows []string
		for range 1 + g.rng.IntN(3) {
			rows = append(rows, fmt.Sprintf("(%d, %s, %s, %s)", g.rng.IntN(16), g.val(), g.val(), g.text()))
		}
		q := fmt.Sprintf("INSERT INTO %s AS t VALUES %s", t, strings.Join(rows, ", "))
		switch g.rng.IntN(4) {
		case 0:
			q += " ON CONFLICT DO NOTHING"
		case 1:
			q += " ON CONFLICT (k) DO UPDATE SET b = t.b + EXCLUDED.b, s = EXCLUDED.s"
		case 2:
			q += " ON CONFLICT (k) DO UPDATE SET a = EXCLUDED.a WHERE t.b IS NOT NULL"
		}
		return q + g.returning()
	case 3:
		// Each source row's a is its own (d1.a is unique: which of two
		// source rows with one a wins would follow the scan order,
		// PostgreSQL's heap's or Meridian's key's).
		off := 1 + g.rng.IntN(8)
		return fmt.Sprintf("INSERT INTO %s AS t SELECT src.k + %d, src.k + %d, src.a, src.s FROM %s AS src WHERE %s ON CONFLICT DO NOTHING%s",
			t, off, off+g.rng.IntN(3), g.tab(), g.where("src"), g.returning())
	case 4, 5:
		set := []string{
			fmt.Sprintf("a = %s", g.val()),
			"b = COALESCE(t.b, 0) + 1",
			fmt.Sprintf("s = %s", g.text()),
			"b = t.a, s = t.s || 'x'", // (not a = t.b: d1.a is unique, and the order rows are checked in differs)
			fmt.Sprintf("k = t.k + %d", 100000*g.n),
		}[g.rng.IntN(5)]
		return fmt.Sprintf("UPDATE %s AS t SET %s WHERE %s%s", t, set, g.where("t"), g.returning())
	case 6:
		// One source row per target row at most: joined on the source's
		// key.
		return fmt.Sprintf("UPDATE %s AS t SET b = o.b, s = o.s FROM %s AS o WHERE o.k = t.%s AND %s%s",
			t, g.tab(), g.col(), g.where("t"), g.returning())
	case 7:
		return fmt.Sprintf("DELETE FROM %s AS t WHERE %s%s", t, g.where("t"), g.returning())
	}
	return fmt.Sprintf("DELETE FROM %s AS t USING %s AS o WHERE o.k = t.%s AND o.s IS NOT NULL%s", t, g.tab(), g.col(), g.returning())
}
