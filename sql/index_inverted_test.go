package sql_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGinIndex: a GIN index is what a containment or key-existence
// filter reads (EXPLAIN names it), and it reads a few entries and rows,
// not the table (EXPLAIN ANALYZE's KV counts); conjuncts it cannot serve
// and better access paths leave it alone.
func TestGinIndex(t *testing.T) {
	c, _ := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, q := range []string{
		`CREATE TABLE gi (k INT PRIMARY KEY, j JSONB, a INT[], p JSONB)`,
		`INSERT INTO gi SELECT i, jsonb_build_object('id', i, 'g', i % 100, 'tags', jsonb_build_array('t' || (i % 7), 't' || (i % 11))),
			ARRAY[i % 13, i % 17], jsonb_build_object('g', i % 50) FROM generate_series(1, 1000) i`,
		`CREATE INDEX gi_j ON gi USING gin (j)`,
		`CREATE INDEX gi_a ON gi USING gin (a)`,
		`CREATE INDEX gi_p ON gi USING gin (p jsonb_path_ops)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	kvRe := regexp.MustCompile(`kv: (\d+) requests, (\d+) rows read`)
	for _, tc := range []struct {
		where   string
		index   string // "" for none of the GIN indexes
		rows    int
		maxRead int // most rows (entries and rows) the scan may read
	}{
		{`j @> '{"g": 7}'`, "gi_j", 10, 20},
		{`'{"g": 7}' <@ j`, "gi_j", 10, 20},
		{`j @> '{"g": 7, "tags": ["t0"]}'`, "gi_j", 3, 300},
		{`j @> '{"tags": ["t3", "t5"]}'`, "gi_j", 26, 500},
		{`j ? 'id'`, "gi_j", 1000, 0},
		{`j ? 'nope'`, "gi_j", 0, 0},
		{`j ?| ARRAY['nope', 'neither']`, "gi_j", 0, 0},
		{`j ?& ARRAY['id', 'nope']`, "gi_j", 0, 0},
		{`a @> ARRAY[3]`, "gi_a", 131, 262},
		{`a && ARRAY[1, 2]`, "gi_a", 253, 0},
		{`p @> '{"g": 3}'`, "gi_p", 20, 40},
		{`p ? 'g'`, "", 1000, 0},                // jsonb_path_ops serves @> alone
		{`j @> '{"g": 7}' AND k = 7`, "", 1, 1}, // a point read wins
		{`j @> '{}'`, "", 1000, 0},              // no narrower than the table
		{`j->'g' = '7'`, "", 10, 0},             // not containment
		{`a <@ ARRAY[1, 2, 3]`, "", 42, 0},      // not served
		{`j @> '{"g": 7}' OR k = 1`, "", 11, 0}, // a disjunction
		{`j @> (SELECT '{"g": 8}'::jsonb)`, "gi_j", 10, 0},
	} {
		q := "SELECT k FROM gi WHERE " + tc.where
		plan := strings.Join(flat(queryAll(ctx, t, c, "EXPLAIN "+q)), "\n")
		for _, idx := range []string{"gi_j", "gi_a", "gi_p"} {
			if want, got := idx == tc.index, strings.Contains(plan, "@"+idx+" (inverted index spans"); want != got {
				t.Errorf("%s: reads %s: %v, want %v:\n%s", q, idx, got, want, plan)
			}
		}
		if n := len(queryAll(ctx, t, c, q)); n != tc.rows {
			t.Errorf("%s: %d rows, want %d", q, n, tc.rows)
		}
		if tc.maxRead > 0 {
			an := strings.Join(flat(queryAll(ctx, t, c, "EXPLAIN ANALYZE "+q)), "\n")
			m := kvRe.FindStringSubmatch(an)
			if m == nil {
				t.Fatalf("%s: no KV counts in\n%s", q, an)
			}
			if read, _ := strconv.Atoi(m[2]); read > tc.maxRead {
				t.Errorf("%s: read %d rows, want at most %d:\n%s", q, read, tc.maxRead, an)
			}
		}
	}
	// A parameter's value is known only when the statement runs.
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM gi WHERE j @> $1`, `{"g": 9}`).Scan(&n); err != nil || n != 10 {
		t.Errorf("j @> $1: %d rows, %v; want 10", n, err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM gi WHERE j @> $1`, `{}`).Scan(&n); err != nil || n != 1000 {
		t.Errorf("j @> $1 of {}: %d rows, %v; want 1000", n, err)
	}
	// Its keys are no row's values: SPLIT AT cannot name one.
	if _, err := c.Exec(ctx, `ALTER INDEX gi@gi_j SPLIT AT VALUES ('{"g": 1}')`); err == nil || !strings.Contains(err.Error(), "0A000") {
		t.Errorf("SPLIT AT of a GIN index: %v, want 0A000", err)
	}
	// COPY writes the entries too.
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader("2001\t{\"copied\": [1, 2]}\t{99}\t\\N\n"), "COPY gi FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SELECT k FROM gi WHERE j @> '{"copied": [2]}'`, `SELECT k FROM gi WHERE a @> ARRAY[99]`} {
		if got := flat(queryAll(ctx, t, c, q)); !reflect.DeepEqual(got, []string{"2001"}) {
			t.Errorf("%s after COPY: %v", q, got)
		}
	}
}

func flat(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, " "))
	}
	return out
}

// TestGinIndexRandom compares, over random jsonb documents and arrays
// and random writes, what containment and key-existence queries answer
// through GIN indexes with what they answer over an identical table
// without them (a full scan). The seed is logged: rerun one with
// MERIDIAN_GIN_SEED.
func TestGinIndexRandom(t *testing.T) {
	seed := rand.Int63() // the global source is seeded at random
	if s, ok := lookupEnvInt("MERIDIAN_GIN_SEED"); ok {
		seed = s
	}
	t.Logf("seed %d (MERIDIAN_GIN_SEED=%d to rerun)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	c, _ := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := c.Exec(ctx, q, args...); err != nil {
			t.Fatalf("seed %d: %s: %v", seed, q, err)
		}
	}
	for _, tab := range []string{"rg_i", "rg_p"} {
		exec(`CREATE TABLE ` + tab + ` (k INT PRIMARY KEY, j JSONB, a INT[])`)
	}
	exec(`CREATE INDEX rg_i_j ON rg_i USING gin (j)`)
	exec(`CREATE INDEX rg_i_a ON rg_i USING gin (a)`)
	both := func(q string, args ...any) {
		t.Helper()
		for _, tab := range []string{"rg_i", "rg_p"} {
			exec(strings.ReplaceAll(q, "%s", tab), args...)
		}
	}
	const rows = 150
	for k := 1; k <= rows; k++ {
		both(`INSERT INTO %s VALUES ($1, $2::jsonb, $3::int[])`, k, randomDoc(rng, 0), randomIntArray(rng))
	}
	// One more index made over existing rows (a backfill).
	exec(`CREATE INDEX rg_i_j2 ON rg_i USING gin (j jsonb_path_ops)`)
	matched := 0 // queries that found rows: the comparison is not all of empty answers
	check := func(round int) {
		t.Helper()
		for i := 0; i < 40; i++ {
			var where string
			switch rng.Intn(6) {
			case 0, 1, 2:
				where = fmt.Sprintf("j @> '%s'", strings.ReplaceAll(randomDoc(rng, 0), "'", "''"))
			case 3:
				where = fmt.Sprintf("j ? '%s'", randomKey(rng))
			case 4:
				where = fmt.Sprintf("j ?| ARRAY['%s', '%s'] OR j ?& ARRAY['%s', '%s']", randomKey(rng), randomKey(rng), randomKey(rng), randomKey(rng))
				if rng.Intn(2) == 0 {
					where = fmt.Sprintf("j ?& ARRAY['%s', '%s']", randomKey(rng), randomKey(rng))
				}
			case 5:
				op := "@>"
				if rng.Intn(2) == 0 {
					op = "&&"
				}
				where = fmt.Sprintf("a %s '%s'", op, randomIntArray(rng))
			}
			if rng.Intn(4) == 0 {
				where += fmt.Sprintf(" AND j @> '%s'", strings.ReplaceAll(randomDoc(rng, 1), "'", "''"))
			}
			var got [2][][]string
			for n, tab := range []string{"rg_i", "rg_p"} {
				got[n] = queryAll(ctx, t, c, "SELECT k FROM "+tab+" WHERE "+where+" ORDER BY k")
			}
			if len(got[1]) > 0 {
				matched++
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				plan := flat(queryAll(ctx, t, c, "EXPLAIN SELECT k FROM rg_i WHERE "+where))
				t.Fatalf("seed %d, round %d: WHERE %s:\n through the index %v\n full scan         %v\nplan %v", seed, round, where, flat(got[0]), flat(got[1]), plan)
			}
		}
	}
	check(0)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 60; i++ {
			k := 1 + rng.Intn(rows+20)
			switch rng.Intn(4) {
			case 0:
				both(`UPDATE %s SET j = $1::jsonb WHERE k = $2`, randomDoc(rng, 0), k)
			case 1:
				both(`UPDATE %s SET a = $1::int[] WHERE k = $2`, randomIntArray(rng), k)
			case 2:
				both(`DELETE FROM %s WHERE k = $1`, k)
			case 3:
				both(`INSERT INTO %s VALUES ($1, $2::jsonb, $3::int[]) ON CONFLICT (k) DO UPDATE SET j = excluded.j`, k, randomDoc(rng, 0), randomIntArray(rng))
			}
		}
		// A write through the index itself.
		doc := strings.ReplaceAll(randomDoc(rng, 1), "'", "''")
		both(fmt.Sprintf(`UPDATE %%s SET j = j || '{"touched": %d}' WHERE j @> '%s'`, round, doc))
		check(round)
	}
	t.Logf("%d of %d queries found rows", matched, 4*40)
	if matched < 4*40/5 {
		t.Errorf("seed %d: only %d queries found rows", seed, matched)
	}
}

func lookupEnvInt(name string) (int64, bool) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

var randomKeys = []string{"a", "b", "c", "d", "e's"}

func randomKey(rng *rand.Rand) string {
	return strings.ReplaceAll(randomKeys[rng.Intn(len(randomKeys))], "'", "''")
}

// randomDoc is a small random jsonb document's text; depth > 0 starts
// deeper (smaller values, for a query's extra conjunct).
func randomDoc(rng *rand.Rand, depth int) string {
	var gen func(d int) string
	gen = func(d int) string {
		r := rng.Intn(10)
		if d >= 3 {
			r = rng.Intn(6)
		}
		switch r {
		case 0:
			return "null"
		case 1:
			return []string{"true", "false"}[rng.Intn(2)]
		case 2, 3:
			return []string{"1", "2", "1.0", "-3", "2.50"}[rng.Intn(5)]
		case 4, 5:
			return strconv.Quote([]string{"x", "y", "a", "", "é"}[rng.Intn(5)])
		case 6, 7:
			n := rng.Intn(4)
			parts := make([]string, n)
			for i := range parts {
				parts[i] = gen(d + 1)
			}
			return "[" + strings.Join(parts, ", ") + "]"
		}
		n := rng.Intn(4)
		parts := make([]string, 0, n)
		for i := 0; i < n; i++ {
			parts = append(parts, strconv.Quote(randomKeys[rng.Intn(len(randomKeys))])+": "+gen(d+1))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if depth == 0 && rng.Intn(3) > 0 {
		// Mostly objects at the top, as documents are.
		n := 1 + rng.Intn(3)
		parts := make([]string, 0, n)
		for i := 0; i < n; i++ {
			parts = append(parts, strconv.Quote(randomKeys[rng.Intn(len(randomKeys))])+": "+gen(1))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return gen(depth)
}

func randomIntArray(rng *rand.Rand) string {
	n := rng.Intn(5)
	parts := make([]string, n)
	for i := range parts {
		if rng.Intn(8) == 0 {
			parts[i] = "NULL"
		} else {
			parts[i] = strconv.Itoa(rng.Intn(8))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}
