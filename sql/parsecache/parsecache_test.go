package parsecache

import (
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/lexbase"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

func parse(q string) (statements.Statements, error) { return parser.ParseWithInt(q, types.Int4) }

// same fails the test unless got is what parsing query itself gives.
func same(t *testing.T, query string, got statements.Statements, gotErr error) {
	t.Helper()
	want, wantErr := parse(query)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%s: error %v, want %v", query, gotErr, wantErr)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d statements, want %d", query, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if tree.AsString(g.AST) != tree.AsString(w.AST) || g.SQL != w.SQL ||
			g.NumPlaceholders != w.NumPlaceholders || g.NumAnnotations != w.NumAnnotations {
			t.Fatalf("%s:\n got %q (sql %q, %d placeholders, %d annotations)\nwant %q (sql %q, %d, %d)", query,
				tree.AsString(g.AST), g.SQL, g.NumPlaceholders, g.NumAnnotations,
				tree.AsString(w.AST), w.SQL, w.NumPlaceholders, w.NumAnnotations)
		}
	}
}

// TestTemplates: a second query of a shape comes from the template, and
// is what the parser makes of it; shapes whose literals the tree does not
// hold as plain literals are parsed every time, also correctly.
func TestTemplates(t *testing.T) {
	for _, tc := range []struct {
		first, second string
		templated     bool
	}{
		{"SELECT abalance FROM pgbench_accounts WHERE aid = 5;", "SELECT abalance FROM pgbench_accounts WHERE aid = 91234;", true},
		{"INSERT INTO t VALUES (1, 'a') ON CONFLICT DO NOTHING", "INSERT INTO t VALUES (2, 'it''s') ON CONFLICT DO NOTHING", true},
		{"UPDATE t SET v = v + 1.5 WHERE k IN (1, 2) RETURNING v", "UPDATE t SET v = v + 2.25e3 WHERE k IN (7, 8) RETURNING v", true},
		{"DELETE FROM t WHERE s LIKE 'a%'", "DELETE FROM t WHERE s LIKE e'b\\n%'", true},
		{"SELECT $$x$$, x'0a', b'ab'", "SELECT $q$y$q$, x'ff', b'cd'", true},
		{"SELECT k FROM t ORDER BY 1 LIMIT 10", "SELECT k FROM t ORDER BY 2 LIMIT 3", true},
		{"SELECT extract('YEAR' FROM d) FROM t", "SELECT extract('MONTH' FROM d) FROM t", false},
		// OFFSET is walked before LIMIT.
		{"SELECT k FROM t LIMIT 10 OFFSET 2", "SELECT k FROM t LIMIT 3 OFFSET 0", false},
		{"SELECT (SELECT max(v) FROM u WHERE u.k = 3) FROM t WHERE k = 4", "SELECT (SELECT max(v) FROM u WHERE u.k = 5) FROM t WHERE k = 6", true},
		{"SELECT now()", "SELECT now()", true},
		// Walked in another order than written (the WITH last): no template.
		{"WITH x AS (SELECT 1) SELECT 2 FROM x", "WITH x AS (SELECT 3) SELECT 4 FROM x", false},
		{"SELECT -5", "SELECT -6", false},
		{"SELECT 'a'::VARCHAR(10)", "SELECT 'b'::VARCHAR(20)", false},
		{"SELECT 1; SELECT 'a';", " ;SELECT 3 ; ; SELECT 'b'", true},
		// One statement of the string has no template: all are parsed.
		{"SELECT 1; SELECT -1", "SELECT 2; SELECT -2", false},
		{"CREATE TABLE t (k INT DEFAULT 1)", "CREATE TABLE t (k INT DEFAULT 2)", false},
		{"SELECT FROM WHERE 1", "SELECT FROM WHERE 2", false},
		{"SELECT 'unterminated", "SELECT 'unterminated", false},
	} {
		c := New(8)
		got, err := c.Parse(tc.first, parse)
		same(t, tc.first, got, err)
		before := c.Hits()
		got, err = c.Parse(tc.second, parse)
		same(t, tc.second, got, err)
		if templated := len(got) > 0 && c.Hits()-before == len(got); templated != tc.templated {
			t.Errorf("%s: from templates: %v, want %v (hits %d)", tc.second, templated, tc.templated, c.Hits()-before)
		}
	}
}

// TestTemplateNotChanged: filling a template leaves it as it was, so the
// first query's literals do not leak into the next.
func TestTemplateNotChanged(t *testing.T) {
	c := New(8)
	for i := 0; i < 5; i++ {
		q := "SELECT v FROM t WHERE k = " + strconv.Itoa(i) + " AND s = 's" + strconv.Itoa(i) + "'"
		got, err := c.Parse(q, parse)
		same(t, q, got, err)
	}
	if c.Hits() != 5 || c.Len() != 1 {
		t.Fatalf("hits %d, shapes %d; want 5 and 1", c.Hits(), c.Len())
	}
}

// TestCacheStartsOver: a full cache empties and goes on.
func TestCacheStartsOver(t *testing.T) {
	c := New(3)
	for i := 0; i < 10; i++ {
		q := "SELECT c" + strconv.Itoa(i) + " FROM t WHERE k = 1"
		got, err := c.Parse(q, parse)
		same(t, q, got, err)
	}
	if c.Len() > 3 {
		t.Fatalf("%d shapes in a cache of 3", c.Len())
	}
}

// TestCorpusStatements: every statement of the SQL logic files (and of
// the shared conformance material, PostgreSQL's regression scripts and
// SQLite's sqllogictest files, when the checkout has it), parsed again
// with other literals of the same kinds, is what the parser makes of that
// text. Seed printed; MERIDIAN_SEED reruns one.
func TestCorpusStatements(t *testing.T) {
	seed := int64(rand.Uint32())
	if s := os.Getenv("MERIDIAN_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	var stmts, withLits, templated int
	for _, q := range corpus(t) {
		// The block as it is (several statements, or a syntax error).
		c := New(32)
		for i := 0; i < 2; i++ {
			got, err := c.Parse(q, parse)
			same(t, q, got, err)
		}
		parsed, err := parse(q)
		if err != nil {
			continue
		}
		for _, st := range parsed {
			stmts++
			shapes, ok := scan(st.SQL)
			if !ok || len(shapes) != 1 || len(shapes[0].lits) == 0 {
				continue
			}
			sh := shapes[0]
			withLits++
			c := New(8)
			got, err := c.Parse(st.SQL, parse)
			same(t, st.SQL, got, err)
			other := otherLiterals(rng, sh)
			got, err = c.Parse(other, parse)
			same(t, other, got, err)
			templated += c.Hits()
		}
	}
	t.Logf("%d statements, %d with literals, %d of their %d queries from templates", stmts, withLits, templated, 2*withLits)
	if templated < withLits/2 {
		t.Fatalf("only %d of %d queries came from templates", templated, 2*withLits)
	}
}

// corpus returns the SQL of the logic files' exec and query blocks, and
// of the shared conformance material if present.
func corpus(t *testing.T) []string {
	var out []string
	blocks := func(pattern, sep string, header func(string) bool) {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, block := range strings.Split(string(b), sep) {
				var sql []string
				for _, l := range strings.Split(block, "\n") {
					if l == "----" {
						break
					}
					if !header(l) {
						sql = append(sql, l)
					}
				}
				out = append(out, strings.Join(sql, "\n"))
			}
		}
	}
	prefixed := func(prefixes ...string) func(string) bool {
		return func(l string) bool {
			for _, p := range prefixes {
				if strings.HasPrefix(l, p) {
					return true
				}
			}
			return false
		}
	}
	blocks("../testdata/logic/*", "\n\n", prefixed("exec", "query", "#"))
	if len(out) == 0 {
		t.Fatal("no logic files")
	}
	shared := "../../../shared/conformance"
	blocks(shared+"/pg_regress/sql/*.sql", ";\n", prefixed("\\", "--"))
	blocks(shared+"/sqllogictest/*.test", "\n\n", prefixed("statement", "query", "#", "skipif", "onlyif", "hash-threshold", "halt"))
	blocks(shared+"/sqllogictest/evidence/*.test", "\n\n", prefixed("statement", "query", "#", "skipif", "onlyif", "hash-threshold", "halt"))
	return out
}

// otherLiterals is sh's query with each literal replaced by another of
// its kind.
func otherLiterals(rng *rand.Rand, sh shape) string {
	var b strings.Builder
	prev := sh.start
	for _, l := range sh.lits {
		b.WriteString(sh.query[prev:l.start])
		switch l.kind {
		case lexbase.ICONST:
			b.WriteString(strconv.Itoa(rng.Intn(1000)))
		case lexbase.FCONST:
			b.WriteString(strconv.Itoa(rng.Intn(1000)) + "." + strconv.Itoa(rng.Intn(100)))
		case lexbase.SCONST:
			b.WriteString("'v" + strconv.Itoa(rng.Intn(1000)) + "'")
		default:
			b.WriteString("x'" + strconv.FormatInt(int64(rng.Intn(256)+256), 16)[1:] + "'")
		}
		prev = l.end
	}
	b.WriteString(sh.query[prev:sh.end])
	return b.String()
}
