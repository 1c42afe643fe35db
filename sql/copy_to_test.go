package sql_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/sql/memkv"
)

// TestCopyTo: COPY ... TO STDOUT in text, CSV (with HEADER) and binary
// format sends what PostgreSQL 15 sends for the same rows, byte for byte:
// the expectations below are PostgreSQL's, and with MERIDIAN_TEST_PG_URL
// the test also runs each COPY there and compares.
func TestCopyTo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	setup := []string{
		"DROP TABLE IF EXISTS copy_to_t",
		"CREATE TABLE copy_to_t (id INT PRIMARY KEY, t TEXT, f FLOAT8, b BOOL, n NUMERIC(6,2), d DATE)",
		`INSERT INTO copy_to_t VALUES (1, E'tab\there', 1.5, true, 3.14, '2024-02-29'), (2, E'line\nbreak\\slash', NULL, false, NULL, NULL),
			(3, 'with,comma "q"', -0.25, NULL, 0, '1999-12-31'), (4, '', 1e300, true, -1.5, '2000-01-01')`,
	}
	cases := []struct {
		copy, want string
	}{
		{"COPY copy_to_t TO STDOUT", "1\ttab\\there\t1.5\tt\t3.14\t2024-02-29\n2\tline\\nbreak\\\\slash\t\\N\tf\t\\N\t\\N\n" +
			"3\twith,comma \"q\"\t-0.25\t\\N\t0.00\t1999-12-31\n4\t\t1e+300\tt\t-1.50\t2000-01-01\n"},
		{"COPY (SELECT id, t FROM copy_to_t WHERE id > 1 ORDER BY id DESC) TO STDOUT WITH (FORMAT csv, HEADER)",
			"id,t\n4,\"\"\n3,\"with,comma \"\"q\"\"\"\n2,\"line\nbreak\\slash\"\n"},
		{"COPY copy_to_t (t, id) TO STDOUT CSV", "tab\there,1\n\"line\nbreak\\slash\",2\n\"with,comma \"\"q\"\"\",3\n\"\",4\n"},
		{"COPY (SELECT id AS \"a\tb\" FROM copy_to_t WHERE id = 1) TO STDOUT WITH (HEADER)", "a\\tb\n1\n"},
		// PostgreSQL's bytes, by their MD5.
		{"COPY copy_to_t TO STDOUT WITH (FORMAT binary)", "md5:63bdd299681c6ca60530b35436597f9c"},
	}
	run := func(t *testing.T, url string) {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close(ctx) }()
		for _, q := range setup {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, tc := range cases {
			var buf bytes.Buffer
			tag, err := c.PgConn().CopyTo(ctx, &buf, tc.copy)
			if err != nil {
				t.Fatalf("%s: %v", tc.copy, err)
			}
			got := buf.String()
			if len(tc.want) > 4 && tc.want[:4] == "md5:" {
				got = fmt.Sprintf("md5:%x", md5.Sum(buf.Bytes()))
			}
			if got != tc.want || !strings.HasPrefix(tag.String(), "COPY ") {
				t.Errorf("%s:\n got %q (%s)\nwant %q", tc.copy, got, tag, tc.want)
			}
		}
		if _, err := c.PgConn().CopyTo(ctx, &bytes.Buffer{}, "COPY copy_to_t TO STDOUT WITH (FORMAT binary, HEADER)"); sqlState(err) != "0A000" {
			t.Errorf("HEADER in binary format: %v", err)
		}
		// bytea in the session's bytea_output, then COPY's escapes.
		for _, tc := range []struct{ output, want string }{
			{"hex", `\\x5c00ff` + "\t" + `\\x6162` + "\n"},
			{"escape", `\\\\\\000\\377` + "\tab\n"},
		} {
			if _, err := c.Exec(ctx, "SET bytea_output = "+tc.output); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := c.PgConn().CopyTo(ctx, &buf, `COPY (SELECT '\x5c00ff'::bytea, 'ab'::bytea) TO STDOUT`); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.want {
				t.Errorf("bytea_output = %s: got %q, want %q", tc.output, buf.String(), tc.want)
			}
		}
	}
	onMeridianAndPostgres(t, run)
}

// onMeridianAndPostgres runs run against a Meridian server (the subtest
// "meridian") and, with MERIDIAN_TEST_PG_URL, against PostgreSQL
// ("postgres"), by their URLs; it returns the Meridian one.
func onMeridianAndPostgres(t *testing.T, run func(t *testing.T, url string)) (meridianURL string) {
	meridianURL = "postgres://root@" + serve(t, memkv.New(), nil) + "/defaultdb?sslmode=disable"
	t.Run("meridian", func(t *testing.T) { run(t, meridianURL) })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("MERIDIAN_TEST_PG_URL")
		if url == "" {
			t.Skip("MERIDIAN_TEST_PG_URL not set (.ci/run starts a PostgreSQL and sets it)")
		}
		run(t, url)
	})
	return meridianURL
}
