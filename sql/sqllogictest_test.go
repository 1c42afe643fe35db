package sql_test

import (
	"bufio"
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestSQLLogicTest runs SQLite's sqllogictest files from the shared
// conformance material (../shared/conformance/sqllogictest, or the
// directory in MERIDIAN_SLT_DIR) against Meridian over pgwire, and reports
// passed, failed and skipped records per file (go test -v shows them).
// The test fails only if a file passes fewer records than the floor
// recorded in testdata/sqllogictest_floor.txt: a ratchet that new work
// raises and nothing may lower.
func TestSQLLogicTest(t *testing.T) {
	dir := os.Getenv("MERIDIAN_SLT_DIR")
	if dir == "" {
		dir = "../../shared/conformance/sqllogictest"
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.test"))
	more, _ := filepath.Glob(filepath.Join(dir, "evidence", "*.test"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Skipf("no sqllogictest files in %s (the shared conformance material is not in this checkout)", dir)
	}
	floors := readFloors(t, "testdata/sqllogictest_floor.txt")
	// With MERIDIAN_TEST_PG_URL each file also runs on PostgreSQL 15, in
	// a fresh database, and Meridian must pass at least as many of its
	// records as PostgreSQL does.
	pgURL := os.Getenv("MERIDIAN_TEST_PG_URL")
	var total, pgTotal sltCounts
	for _, f := range files {
		name, _ := filepath.Rel(dir, f)
		c, _ := startSQL(t)
		counts := runSLTFile(t, c, f)
		total.pass += counts.pass
		total.fail += counts.fail
		total.skip += counts.skip
		t.Logf("%-32s pass %5d  fail %5d  skip %5d%s", name, counts.pass, counts.fail, counts.skip, counts.firstFailure)
		if floor, ok := floors[name]; ok && counts.pass < floor {
			t.Errorf("%s: %d records pass, below the floor of %d", name, counts.pass, floor)
		}
		if pgURL != "" {
			pc, err := pgx.Connect(context.Background(), freshPostgresDB(t, "slt_"+strings.NewReplacer("/", "_", ".", "_").Replace(name)))
			if err != nil {
				t.Fatal(err)
			}
			pgCounts := runSLTFile(t, pc, f)
			_ = pc.Close(context.Background())
			pgTotal.pass += pgCounts.pass
			pgTotal.fail += pgCounts.fail
			t.Logf("%-32s PostgreSQL pass %5d  fail %5d%s", name, pgCounts.pass, pgCounts.fail, pgCounts.firstFailure)
			if counts.pass < pgCounts.pass {
				t.Errorf("%s: %d records pass on Meridian, %d on PostgreSQL", name, counts.pass, pgCounts.pass)
			}
		}
	}
	t.Logf("%-32s pass %5d  fail %5d  skip %5d", "total", total.pass, total.fail, total.skip)
	if pgURL != "" {
		t.Logf("%-32s PostgreSQL pass %5d  fail %5d", "total", pgTotal.pass, pgTotal.fail)
	}
}

type sltCounts struct {
	pass, fail, skip int
	firstFailure     string
}

func readFloors(t *testing.T, path string) map[string]int {
	out := map[string]int{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(line, "#") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("%s: bad line %q", path, line)
		}
		out[f[0]] = n
	}
	return out
}

// runSLTFile runs one file's records in order (the format is SQLite's
// about.wiki; this database is engine "postgresql").
func runSLTFile(t *testing.T, c *pgx.Conn, path string) sltCounts {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var counts sltCounts
	hashThreshold := 0
	ctx := context.Background()
	fail := func(lineNo int, format string, args ...interface{}) {
		counts.fail++
		if counts.firstFailure == "" {
			counts.firstFailure = fmt.Sprintf("  (first failure at line %d: %s)", lineNo, fmt.Sprintf(format, args...))
			if len(counts.firstFailure) > 200 {
				counts.firstFailure = counts.firstFailure[:200] + "…)"
			}
		}
	}
	for i := 0; i < len(lines); {
		// A record: lines up to a blank line.
		for i < len(lines) && (strings.TrimSpace(lines[i]) == "" || strings.HasPrefix(lines[i], "#")) {
			i++
		}
		if i >= len(lines) {
			break
		}
		start := i
		var rec []string
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			rec = append(rec, lines[i])
			i++
		}
		skip := false
		for len(rec) > 0 {
			f := strings.Fields(rec[0])
			if len(f) >= 2 && f[0] == "skipif" {
				skip = skip || f[1] == "postgresql"
				rec = rec[1:]
				continue
			}
			if len(f) >= 2 && f[0] == "onlyif" {
				skip = skip || f[1] != "postgresql"
				rec = rec[1:]
				continue
			}
			break
		}
		if len(rec) == 0 {
			continue
		}
		head := strings.Fields(rec[0])
		switch head[0] {
		case "halt":
			if !skip {
				return counts
			}
			continue
		case "hash-threshold":
			if len(head) > 1 {
				hashThreshold, _ = strconv.Atoi(head[1])
			}
			continue
		case "statement":
			if skip {
				counts.skip++
				continue
			}
			sql := strings.Join(rec[1:], "\n")
			_, err := c.PgConn().Exec(ctx, sql).ReadAll()
			wantOK := len(head) > 1 && head[1] == "ok"
			if (err == nil) == wantOK {
				counts.pass++
			} else {
				fail(start+1, "statement %s: %v", head[1], err)
			}
		case "query":
			if skip {
				counts.skip++
				continue
			}
			types, sortMode := "", "nosort"
			if len(head) > 1 {
				types = head[1]
			}
			if len(head) > 2 {
				sortMode = head[2]
			}
			var sqlLines, expected []string
			j := 1
			for ; j < len(rec) && rec[j] != "----"; j++ {
				sqlLines = append(sqlLines, rec[j])
			}
			if j < len(rec) {
				expected = rec[j+1:]
			}
			got, err := sltQuery(ctx, c, strings.Join(sqlLines, "\n"), types, sortMode)
			if err != nil {
				fail(start+1, "%v", err)
				continue
			}
			if len(got) > hashThreshold && hashThreshold > 0 || (len(expected) == 1 && strings.Contains(expected[0], "values hashing to")) {
				h := md5.New()
				for _, v := range got {
					h.Write([]byte(v + "\n"))
				}
				got = []string{fmt.Sprintf("%d values hashing to %x", len(got), h.Sum(nil))}
			}
			if strings.Join(got, "\n") == strings.Join(expected, "\n") {
				counts.pass++
			} else {
				fail(start+1, "got %q, want %q", trimList(got), trimList(expected))
			}
		default:
			// Unknown record types (SQLite-only directives) are skipped.
			counts.skip++
		}
	}
	return counts
}

func trimList(v []string) []string {
	if len(v) > 6 {
		return append(v[:6:6], "…")
	}
	return v
}

// sltQuery runs a query and formats its values as sqllogictest does:
// integers %d, reals %.3f, NULL as NULL, the empty string as (empty).
func sltQuery(ctx context.Context, c *pgx.Conn, sql, types, sortMode string) ([]string, error) {
	res, err := c.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	last := res[len(res)-1]
	var rows [][]string
	for _, row := range last.Rows {
		var vals []string
		for k, v := range row {
			typ := byte('T')
			if k < len(types) {
				typ = types[k]
			}
			vals = append(vals, sltValue(v, typ))
		}
		rows = append(rows, vals)
	}
	switch sortMode {
	case "rowsort":
		sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], " ") < strings.Join(rows[j], " ") })
	}
	var out []string
	for _, r := range rows {
		out = append(out, r...)
	}
	if sortMode == "valuesort" {
		sort.Strings(out)
	}
	return out, nil
}

func sltValue(v []byte, typ byte) string {
	if v == nil {
		return "NULL"
	}
	s := string(v)
	switch typ {
	case 'I':
		// SQLite has no booleans: its comparisons are integers.
		switch s {
		case "t":
			return "1"
		case "f":
			return "0"
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return strconv.FormatInt(int64(f), 10)
		}
	case 'R':
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return fmt.Sprintf("%.3f", f)
		}
	}
	if s == "" {
		return "(empty)"
	}
	return s
}
