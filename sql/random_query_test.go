package sql_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestRandomQueriesAgainstPostgres runs randomly generated joins, filters
// and aggregates over random small tables on Meridian and on PostgreSQL
// 15 (MERIDIAN_TEST_PG_URL, which .ci/run provides) and requires the same
// rows from both, in any order (or both failing, or PostgreSQL answering
// 0A000: it runs a FULL JOIN only on a condition it can hash or merge). The seed is printed;
// MERIDIAN_TEST_SEED replays one, MERIDIAN_TEST_QUERIES sets how many
// queries run (default 400).
func TestRandomQueriesAgainstPostgres(t *testing.T) {
	pg, mer, rng, seed, n := randomDifferential(t, "random_queries", 400)
	ctx := context.Background()
	for _, stmt := range randomSchema(rng) {
		for _, c := range []*pgx.Conn{pg, mer} {
			if _, err := c.Exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	// A query Meridian runs far slower than PostgreSQL (nested correlated
	// subqueries run per row) is cut off and logged, not compared: the
	// test's time stays bounded.
	if _, err := mer.Exec(ctx, "SET statement_timeout = '3s'"); err != nil {
		t.Fatal(err)
	}
	g := &queryGen{rng: rng}
	failures, reordered, hashed, slow := 0, 0, 0, 0
	for i := range n {
		q := g.query()
		if g.rng.IntN(8) == 0 {
			// A set operation of two one-column queries.
			op := []string{"UNION", "UNION ALL", "INTERSECT", "EXCEPT", "EXCEPT ALL", "INTERSECT ALL"}[g.rng.IntN(6)]
			q = g.oneColumn() + " " + op + " " + g.oneColumn()
		}
		want, wantErr := textRows(ctx, pg, q)
		got, gotErr := textRows(ctx, mer, q)
		switch {
		case gotErr != nil && strings.Contains(gotErr.Error(), "(SQLSTATE 57014)"):
			t.Logf("query %d: %s\nMeridian took over 3 s", i, q)
			slow++
		case wantErr != nil && gotErr != nil:
		case wantErr != nil && strings.Contains(wantErr.Error(), "(SQLSTATE 0A000)"):
			// What PostgreSQL does not implement (a FULL JOIN on a
			// condition it cannot hash or merge) Meridian may.
		case wantErr != nil:
			t.Errorf("query %d: %s\nPostgreSQL fails (%v), Meridian returns %d rows", i, q, wantErr, len(got))
			failures++
		case gotErr != nil:
			t.Errorf("query %d: %s\nMeridian fails: %v", i, q, gotErr)
			failures++
		case !slices.Equal(want, got):
			t.Errorf("query %d: %s\nPostgreSQL: %d rows %s\nMeridian:   %d rows %s", i, q, len(want), abbrev(want), len(got), abbrev(got))
			failures++
		}
		if failures >= 5 {
			t.Fatalf("stopping after %d differences (seed %d)", failures, seed)
		}
		if plan, err := textRows(ctx, mer, "EXPLAIN "+q); err == nil {
			for _, l := range plan {
				if strings.Contains(l, "join order") {
					reordered++
					break
				}
			}
			for _, l := range plan {
				if strings.Contains(l, "hash join") {
					hashed++
					break
				}
			}
		}
	}
	t.Logf("%d queries, %d with joins reordered, %d with hash joins, %d cut off after 3 s", n, reordered, hashed, slow)
	if n >= 100 && (reordered == 0 || hashed == 0) {
		t.Errorf("no query was reordered or hash joined: the test no longer exercises them")
	}
}

// randomDifferential sets up a randomized comparison with PostgreSQL:
// a connection to a fresh PostgreSQL database named db and one to
// Meridian, and the seeded generator (MERIDIAN_TEST_SEED replays a
// seed, printed; MERIDIAN_TEST_QUERIES overrides n's default).
func randomDifferential(t *testing.T, db string, defaultN int) (pg, mer *pgx.Conn, rng *rand.Rand, seed uint64, n int) {
	t.Helper()
	pgURL := freshPostgresDB(t, db)
	seed = rand.Uint64()
	if s := os.Getenv("MERIDIAN_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	n = defaultN
	if s := os.Getenv("MERIDIAN_TEST_QUERIES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (MERIDIAN_TEST_SEED=%d replays it)", seed, seed)
	rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close(context.Background()) })
	mer, _ = startSQL(t)
	return pg, mer, rng, seed, n
}

// textRows runs q by the simple protocol and returns its rows as text,
// sorted.
func textRows(ctx context.Context, c *pgx.Conn, q string) ([]string, error) {
	rows, err := c.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var fields []string
		for _, v := range rows.RawValues() {
			if v == nil {
				fields = append(fields, "NULL")
			} else {
				fields = append(fields, string(v))
			}
		}
		out = append(out, strings.Join(fields, "|"))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

func abbrev(rows []string) string {
	if len(rows) > 8 {
		return fmt.Sprint(rows[:8]) + " ..."
	}
	return fmt.Sprint(rows)
}

// randomTables is how many tables randomSchema creates: t0, t1, ...
const randomTables = 4

// randomSchema creates the tables t0..t3 (k int primary key, a int, b int,
// s text; some with an index on a, or on (b, a)) and fills each with up to
// 15 rows of small values, NULLs among them, so that joins match often;
// then analyzes them.
func randomSchema(rng *rand.Rand) []string {
	var out []string
	for i := range randomTables {
		out = append(out, fmt.Sprintf("CREATE TABLE t%d (k int PRIMARY KEY, a int, b int, s text)", i))
		switch rng.IntN(3) {
		case 0:
			out = append(out, fmt.Sprintf("CREATE INDEX t%d_a ON t%d (a)", i, i))
		case 1:
			out = append(out, fmt.Sprintf("CREATE INDEX t%d_ba ON t%d (b, a)", i, i))
		}
		var vals []string
		for k := range rng.IntN(16) {
			vals = append(vals, fmt.Sprintf("(%d, %s, %s, %s)", k, smallInt(rng), smallInt(rng), smallText(rng)))
		}
		if len(vals) > 0 {
			out = append(out, fmt.Sprintf("INSERT INTO t%d VALUES %s", i, strings.Join(vals, ", ")))
		}
	}
	// Statistics for every table: Meridian then orders inner joins by
	// its estimates (join_order.go) instead of as written.
	return append(out, "ANALYZE")
}

func smallInt(rng *rand.Rand) string {
	if rng.IntN(6) == 0 {
		return "NULL"
	}
	return strconv.Itoa(rng.IntN(5))
}

func smallText(rng *rand.Rand) string {
	if rng.IntN(6) == 0 {
		return "NULL"
	}
	return "'" + string(rune('x'+rng.IntN(3))) + "'"
}

// queryGen generates queries over randomSchema's tables.
type queryGen struct {
	rng       *rand.Rand
	aliases   int
	innerOnly bool
}

// query is a SELECT over 1-8 tables (a comma list, explicit joins of
// every kind, or both), a WHERE clause of 0-3 conjuncts, and a select
// list of columns or an aggregate.
func (g *queryGen) query() string {
	g.aliases = 0
	// A third of the queries join only by inner joins, which the join
	// order search may rearrange whole.
	g.innerOnly = g.rng.IntN(3) == 0
	var from []string
	var seen []string
	for i := range 1 + g.rng.IntN(3) {
		// Up to 8 tables: PostgreSQL takes long to plan more.
		f, names := g.fromItem(2 - min(i, 1))
		from = append(from, f)
		seen = append(seen, names...)
	}
	list, groupBy := g.selectList(seen)
	if groupBy != "" && g.rng.IntN(3) == 0 {
		groupBy += fmt.Sprintf(" HAVING count(*) > %d", g.rng.IntN(3))
	}
	cols := list
	if groupBy == "" && list != "count(*)" && g.rng.IntN(6) == 0 {
		list = "DISTINCT " + list
	}
	q := "SELECT " + list + " FROM " + strings.Join(from, ", ")
	var where []string
	for range g.rng.IntN(4) {
		if g.rng.IntN(3) == 0 {
			where = append(where, g.subqueryPredicate(seen))
		} else {
			where = append(where, g.predicate(seen, seen))
		}
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += groupBy
	if n := strings.Count(cols, ",") + 1; groupBy == "" && cols != "*" && cols != "count(*)" && !strings.Contains(cols, "(") && g.rng.IntN(4) == 0 {
		// Ordered by every output column, so that LIMIT keeps the same
		// rows on both sides.
		var by []string
		for i := 1; i <= n; i++ {
			by = append(by, strconv.Itoa(i)+[]string{"", " DESC", " NULLS FIRST"}[g.rng.IntN(3)])
		}
		q += fmt.Sprintf(" ORDER BY %s LIMIT %d OFFSET %d", strings.Join(by, ", "), 1+g.rng.IntN(5), g.rng.IntN(3))
	}
	return q
}

// fromItem is a table or, depth allowing, a join of two from items; it
// returns the aliases it brings into scope.
func (g *queryGen) fromItem(depth int) (string, []string) {
	if depth == 0 || g.rng.IntN(3) == 0 {
		alias := fmt.Sprintf("x%d", g.aliases)
		g.aliases++
		tab := fmt.Sprintf("t%d", g.rng.IntN(randomTables))
		switch g.rng.IntN(10) {
		case 0:
			// A derived table with the same columns: filtered, or grouped.
			return fmt.Sprintf("(SELECT k, a, b, s FROM %s WHERE %s.%s IS NOT NULL) AS %s", tab, tab, []string{"a", "b", "s"}[g.rng.IntN(3)], alias), []string{alias}
		case 1:
			return fmt.Sprintf("(SELECT min(k) AS k, a, count(*)::int AS b, max(s) AS s FROM %s GROUP BY a) AS %s", tab, alias), []string{alias}
		case 2:
			return fmt.Sprintf("(SELECT k, a, b, s FROM %s UNION SELECT k + 100, b, a, s FROM %s) AS %s", tab, tab, alias), []string{alias}
		}
		return fmt.Sprintf("%s AS %s", tab, alias), []string{alias}
	}
	l, ln := g.fromItem(depth - 1)
	r, rn := g.fromItem(depth - 1)
	kinds := []string{"JOIN", "INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"}
	if g.innerOnly {
		kinds = kinds[:2]
	}
	kind := kinds[g.rng.IntN(len(kinds))]
	cond := g.predicate(ln, rn)
	if g.rng.IntN(3) == 0 {
		cond += " AND " + g.predicate(append(slices.Clone(ln), rn...), nil)
	}
	return fmt.Sprintf("(%s %s %s ON %s)", l, kind, r, cond), append(ln, rn...)
}

// predicate is a condition over columns of left and right (right nil:
// any of left); mostly equalities between them, which joins key on.
func (g *queryGen) predicate(left, right []string) string {
	if right == nil {
		right = left
	}
	l := g.pick(left)
	r := g.pick(right)
	ic := func() string { return []string{"k", "a", "b"}[g.rng.IntN(3)] }
	switch g.rng.IntN(13) {
	case 0, 1, 2, 3:
		return fmt.Sprintf("%s.%s = %s.%s", l, ic(), r, ic())
	case 4:
		return fmt.Sprintf("%s.s = %s.s", l, r)
	case 5:
		return fmt.Sprintf("%s.%s + 1 = %s.%s", l, ic(), r, ic())
	case 6:
		return fmt.Sprintf("%s.%s < %s.%s", l, ic(), r, ic())
	case 7:
		return fmt.Sprintf("(%s.%s = %s.%s OR %s.%s = %d)", l, ic(), r, ic(), r, ic(), g.rng.IntN(5))
	case 8:
		return fmt.Sprintf("%s.%s = %d", r, ic(), g.rng.IntN(5))
	case 9:
		return fmt.Sprintf("%s.%s IS NULL", r, ic())
	case 10:
		return fmt.Sprintf("%s.%s = %s.%s AND %s.%s = %s.%s", l, ic(), r, ic(), l, ic(), r, ic())
	case 11:
		switch g.rng.IntN(5) {
		case 0:
			return fmt.Sprintf("%s.%s BETWEEN %d AND %s.%s", r, ic(), g.rng.IntN(3), l, ic())
		case 1:
			return fmt.Sprintf("%s.%s IN (%d, %d, NULL)", r, ic(), g.rng.IntN(5), g.rng.IntN(5))
		case 2:
			return fmt.Sprintf("%s.s LIKE '%s%%'", r, string(rune('x'+g.rng.IntN(3))))
		case 3:
			return fmt.Sprintf("COALESCE(%s.%s, %s.%s, -1) >= %d", l, ic(), r, ic(), g.rng.IntN(4))
		}
		return fmt.Sprintf("CASE WHEN %s.%s > 2 THEN %s.%s ELSE %s.%s END = %s.%s", l, ic(), l, ic(), r, ic(), r, ic())
	}
	return "true"
}

func (g *queryGen) pick(names []string) string { return names[g.rng.IntN(len(names))] }

// oneColumn is a query of one integer column over one or two tables.
func (g *queryGen) oneColumn() string {
	g.aliases = 0
	f, names := g.fromItem(1)
	q := fmt.Sprintf("SELECT %s.%s FROM %s", g.pick(names), []string{"k", "a", "b"}[g.rng.IntN(3)], f)
	if g.rng.IntN(2) == 0 {
		q += " WHERE " + g.predicate(names, names)
	}
	return q
}

// subqueryPredicate is a condition with a subquery over another table,
// mostly correlated with the outer columns of outer: [NOT] EXISTS on
// equalities (which decorrelate.go turns into semi- and anti-joins),
// correlated and uncorrelated [NOT] IN, and a correlated scalar
// aggregate.
func (g *queryGen) subqueryPredicate(outer []string) string {
	o := g.pick(outer)
	y := fmt.Sprintf("y%d", g.aliases)
	g.aliases++
	tab := fmt.Sprintf("t%d AS %s", g.rng.IntN(randomTables), y)
	ic := func() string { return []string{"k", "a", "b"}[g.rng.IntN(3)] }
	extra := ""
	switch g.rng.IntN(3) {
	case 0:
		extra = fmt.Sprintf(" AND %s.%s = %d", y, ic(), g.rng.IntN(5))
	case 1:
		extra = fmt.Sprintf(" AND %s.%s < %s.%s", y, ic(), o, ic())
	}
	if g.rng.IntN(4) == 0 {
		// A subquery inside, naming both levels above it.
		z := fmt.Sprintf("z%d", g.aliases)
		g.aliases++
		extra += fmt.Sprintf(" AND EXISTS (SELECT 1 FROM t%d AS %s WHERE %s.a = %s.%s AND %s.k <= %s.%s)",
			g.rng.IntN(randomTables), z, z, y, ic(), z, o, ic())
	}
	not := []string{"", "NOT "}[g.rng.IntN(2)]
	switch g.rng.IntN(5) {
	case 0, 1:
		return fmt.Sprintf("%sEXISTS (SELECT 1 FROM %s WHERE %s.%s = %s.%s%s)", not, tab, y, ic(), o, ic(), extra)
	case 2:
		return fmt.Sprintf("%s.%s %sIN (SELECT %s.%s FROM %s WHERE %s.s = %s.s%s)", o, ic(), not, y, ic(), tab, y, o, extra)
	case 3:
		return fmt.Sprintf("%s.%s %sIN (SELECT %s.%s FROM %s)", o, ic(), not, y, ic(), tab)
	}
	return fmt.Sprintf("%s.%s = (SELECT max(%s.%s) FROM %s WHERE %s.%s = %s.%s)", o, ic(), y, ic(), tab, y, ic(), o, ic())
}

// selectList is count(*), *, a grouped count and sum (with the GROUP BY
// clause to follow WHERE), or a few columns.
func (g *queryGen) selectList(names []string) (list, groupBy string) {
	switch g.rng.IntN(5) {
	case 0:
		return "count(*)", ""
	case 1:
		return "*", ""
	case 2:
		by := g.pick(names) + "." + []string{"a", "b", "s"}[g.rng.IntN(3)]
		agg := []string{"sum(%s.k)", "count(DISTINCT %s.a)", "min(%s.b)", "max(%s.s)", "sum(%s.a * 2 + 1)", "count(%s.b)"}[g.rng.IntN(6)]
		return fmt.Sprintf("%s, count(*), "+agg, by, g.pick(names)), " GROUP BY " + by
	}
	var cols []string
	for range 1 + g.rng.IntN(4) {
		if g.rng.IntN(8) == 0 {
			// A window function whose answer does not depend on the
			// order of peers.
			part := g.pick(names) + "." + []string{"a", "b", "s"}[g.rng.IntN(3)]
			ord := g.pick(names) + "." + []string{"k", "a", "b"}[g.rng.IntN(3)]
			cols = append(cols, []string{
				"count(*) OVER (PARTITION BY " + part + ")",
				"sum(" + ord + ") OVER (PARTITION BY " + part + ")",
				"rank() OVER (PARTITION BY " + part + " ORDER BY " + ord + ")",
				"dense_rank() OVER (ORDER BY " + ord + " DESC)",
			}[g.rng.IntN(4)])
			continue
		}
		if g.rng.IntN(5) == 0 {
			// A correlated scalar subquery.
			y := fmt.Sprintf("y%d", g.aliases)
			g.aliases++
			cols = append(cols, fmt.Sprintf("(SELECT count(*) FROM t%d AS %s WHERE %s.a = %s.%s)",
				g.rng.IntN(randomTables), y, y, g.pick(names), []string{"k", "a", "b"}[g.rng.IntN(3)]))
			continue
		}
		if g.rng.IntN(6) == 0 {
			n := g.pick(names)
			cols = append(cols, []string{
				n + ".a + " + n + ".b * 2",
				"COALESCE(" + n + ".a, " + n + ".k)",
				"CASE WHEN " + n + ".b IS NULL THEN 'none' ELSE " + n + ".s END",
				"upper(" + n + ".s) || " + n + ".k",
			}[g.rng.IntN(4)])
			continue
		}
		cols = append(cols, g.pick(names)+"."+[]string{"k", "a", "b", "s"}[g.rng.IntN(4)])
	}
	return strings.Join(cols, ", "), ""
}
