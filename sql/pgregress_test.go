package sql_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
)

// pgRegressFiles run in this order on one database, as PostgreSQL's
// pg_regress would after test_setup.
var pgRegressFiles = []string{"test_setup", "boolean", "int4", "int8", "text", "varchar", "strings"}

// TestPGRegress runs PostgreSQL 15's regression tests from the shared
// conformance material (../shared/conformance/pg_regress, or
// MERIDIAN_PG_REGRESS_DIR) through psql against Meridian, as pg_regress
// does (psql -X -a -q, PGTZ=PST8PDT, PGDATESTYLE='Postgres, MDY'), and
// counts the lines of psql's output that differ from PostgreSQL's
// expected output (go test -v shows them per file). The test fails when a
// file differs in more lines than the ceiling in
// testdata/pg_regress_ceiling.txt: a ratchet that new work lowers.
//
// With MERIDIAN_PG_REGRESS_ON_POSTGRES=1 it runs against the PostgreSQL
// of MERIDIAN_TEST_PG_URL instead, which checks the harness: there only
// the lines that load the C test library differ.
func TestPGRegress(t *testing.T) {
	dir := os.Getenv("MERIDIAN_PG_REGRESS_DIR")
	if dir == "" {
		dir = "../../shared/conformance/pg_regress"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "sql", "test_setup.sql")); err != nil {
		t.Skipf("no pg_regress material in %s (the shared conformance material is not in this checkout)", dir)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (.ci/run installs postgresql-client)")
	}
	var url string
	if os.Getenv("MERIDIAN_PG_REGRESS_ON_POSTGRES") != "" {
		url = freshPostgresDB(t, "pg_regress")
	} else {
		_, url = startSQL(t)
	}
	ceilings := readFloors(t, "testdata/pg_regress_ceiling.txt")
	total := 0
	for _, name := range pgRegressFiles {
		start := hlc.PhysicalNow()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		in, err := os.Open(filepath.Join(abs, "sql", name+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		// On standard input, as pg_regress feeds it: psql then reports
		// errors without the file:line prefix -f would add.
		cmd := exec.CommandContext(ctx, psql, "-X", "-a", "-q", "-d", url)
		cmd.Stdin = in
		cmd.Env = append(os.Environ(), "PGTZ=PST8PDT", "PGDATESTYLE=Postgres, MDY", "PG_ABS_SRCDIR="+abs,
			"PG_LIBDIR=/nonexistent", "PG_DLSUFFIX=.so", "PGOPTIONS=", "LC_ALL=C", "PGAPPNAME=pg_regress")
		out, _ := cmd.CombinedOutput()
		timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
		cancel()
		_ = in.Close()
		// MERIDIAN_PG_REGRESS_OUT keeps psql's output for a look.
		outDir := os.Getenv("MERIDIAN_PG_REGRESS_OUT")
		if outDir == "" {
			outDir = t.TempDir()
		}
		got := filepath.Join(outDir, name+".out")
		if err := os.WriteFile(got, out, 0o644); err != nil {
			t.Fatal(err)
		}
		diff, _ := exec.Command("diff", filepath.Join(abs, "expected", name+".out"), got).Output()
		n := 0
		for _, line := range strings.Split(string(diff), "\n") {
			if strings.HasPrefix(line, "< ") || strings.HasPrefix(line, "> ") || line == "<" || line == ">" {
				n++
			}
		}
		expected, _ := os.ReadFile(filepath.Join(abs, "expected", name+".out"))
		t.Logf("%-12s %5d differing lines (expected output: %d lines) in %s", name, n, strings.Count(string(expected), "\n"), hlc.PhysicalNow().Sub(start).Round(time.Millisecond))
		if timedOut {
			t.Errorf("%s: psql did not finish within a minute", name)
		}
		total += n
		if ceiling, ok := ceilings[name]; ok && n > ceiling {
			t.Errorf("%s: %d lines differ, above the ceiling of %d", name, n, ceiling)
		}
	}
	t.Logf("%-12s %5d differing lines", "total", total)
}

// freshPostgresDB creates an empty database on MERIDIAN_TEST_PG_URL's
// server and returns its URL.
func freshPostgresDB(t *testing.T, name string) string {
	url := os.Getenv("MERIDIAN_TEST_PG_URL")
	if url == "" {
		t.Skip("MERIDIAN_TEST_PG_URL not set")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(url, "/"+cfg.Database+"?", "/"+name+"?", 1)
}
