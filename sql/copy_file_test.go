package sql_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestCopyFile: COPY ... FROM 'file' and TO 'file' read and write a file
// on the server's machine in each format, and refuse what PostgreSQL 15
// refuses with its SQLSTATEs, messages and hints. With
// MERIDIAN_TEST_PG_URL it runs against PostgreSQL too (which runs on the
// same machine, so it reads and writes the same directory).
func TestCopyFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Readable and writable by PostgreSQL's server, which runs as another
	// user.
	dir, err := os.MkdirTemp("", "copyfile")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte("1\ttab\\there\t1.5\n2\t\\N\t\\N\n3\tback\\\\slash\t-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(csv, []byte("f;id;t\n0.25;4;\"semi;colon\"\n;5;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const wantText = "1\ttab\\there\t1.5\n2\t\\N\t\\N\n3\tback\\\\slash\t-2\n4\tsemi;colon\t0.25\n5\t\\N\t\\N\n"
	const wantCSV = "id,t\n5,\n4,semi;colon\n3,back\\slash\n"

	run := func(t *testing.T, url string) {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close(ctx) }()
		exec := func(q string) {
			t.Helper()
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec("DROP TABLE IF EXISTS copy_file_t")
		exec("DROP TABLE IF EXISTS copy_file_u")
		exec("CREATE TABLE copy_file_t (id INT PRIMARY KEY, t TEXT, f FLOAT8)")
		exec("CREATE TABLE copy_file_u (id INT PRIMARY KEY, t TEXT, f FLOAT8)")
		tag, err := c.Exec(ctx, "COPY copy_file_t FROM '"+in+"'")
		if err != nil {
			if sqlState(err) == "58P01" && strings.HasSuffix(t.Name(), "/postgres") {
				t.Skipf("the PostgreSQL server cannot read %s (not on this machine?): %v", in, err)
			}
			t.Fatal(err)
		}
		if tag.String() != "COPY 3" {
			t.Errorf("COPY FROM file: tag %q", tag)
		}
		exec("COPY copy_file_t (f, id, t) FROM '" + csv + "' WITH (FORMAT csv, HEADER, DELIMITER ';')")

		// Out again: as text, and a query's rows as CSV with a header.
		name := strings.ReplaceAll(t.Name(), "/", "_")
		outText := filepath.Join(dir, name+".txt")
		exec("COPY copy_file_t TO '" + outText + "'")
		outCSV := filepath.Join(dir, name+".csv")
		if tag, err := c.Exec(ctx, "COPY (SELECT id, t FROM copy_file_t WHERE id > 2 ORDER BY id DESC) TO '"+outCSV+"' WITH (FORMAT csv, HEADER)"); err != nil || tag.String() != "COPY 3" {
			t.Fatalf("COPY (query) TO file: %v %v", tag, err)
		}
		for file, want := range map[string]string{outText: wantText, outCSV: wantCSV} {
			got, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("%s:\n got %q\nwant %q", file, got, want)
			}
		}

		// In the extended protocol too.
		if res := c.PgConn().ExecParams(ctx, "COPY copy_file_t TO '"+outText+"'", nil, nil, nil, nil).Read(); res.Err != nil || res.CommandTag.String() != "COPY 5" {
			t.Errorf("COPY TO file, extended protocol: %v %v", res.CommandTag, res.Err)
		}

		// The binary format round-trips through a file.
		outBin := filepath.Join(dir, name+".bin")
		exec("COPY copy_file_t TO '" + outBin + "' (FORMAT binary)")
		if res := c.PgConn().ExecParams(ctx, "COPY copy_file_u FROM '"+outBin+"' WITH (FORMAT binary)", nil, nil, nil, nil).Read(); res.Err != nil || res.CommandTag.String() != "COPY 5" {
			t.Errorf("COPY FROM file, extended protocol: %v %v", res.CommandTag, res.Err)
		}
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM copy_file_u u JOIN copy_file_t t USING (id) WHERE u.t IS NOT DISTINCT FROM t.t AND u.f IS NOT DISTINCT FROM t.f").Scan(&n); err != nil || n != 5 {
			t.Errorf("binary round trip: %d rows alike, %v", n, err)
		}

		missing := filepath.Join(dir, "missing", "x")
		for _, tc := range []struct{ q, code, msg, hint string }{
			{"COPY copy_file_t FROM '" + missing + "'", "58P01", `could not open file "` + missing + `" for reading: No such file or directory`,
				"COPY FROM instructs the PostgreSQL server process to read a file. You may want a client-side facility such as psql's \\copy."},
			{"COPY copy_file_t TO '" + missing + "'", "58P01", `could not open file "` + missing + `" for writing: No such file or directory`,
				"COPY TO instructs the PostgreSQL server process to write a file. You may want a client-side facility such as psql's \\copy."},
			{"COPY copy_file_t FROM '" + dir + "'", "42809", `"` + dir + `" is a directory`, ""},
			{"COPY copy_file_t TO '" + dir + "'", "42809", `could not open file "` + dir + `" for writing: Is a directory`, ""},
			{"COPY copy_file_t TO 'relative.txt'", "42602", "relative path not allowed for COPY to file", ""},
			{"COPY copy_file_t (nope) FROM '" + in + "'", "42703", `column "nope" of relation "copy_file_t" does not exist`, ""},
			{"COPY copy_file_t FROM STDIN WITH (DESTINATION 'x')", "42601", `option "destination" not recognized`, ""},
		} {
			_, err := c.Exec(ctx, tc.q)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != tc.code || pe.Message != tc.msg || pe.Hint != tc.hint {
				t.Errorf("%s: %v (hint %q), want %s %s (hint %q)", tc.q, err, hintOf(err), tc.code, tc.msg, tc.hint)
			}
		}

		// A role that is not a superuser may not, whatever its table
		// privileges.
		exec("DROP ROLE IF EXISTS copy_file_nobody")
		exec("CREATE ROLE copy_file_nobody")
		exec("GRANT ALL ON copy_file_t TO copy_file_nobody")
		exec("SET ROLE copy_file_nobody")
		const anyone = "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone."
		for _, tc := range []struct{ q, msg string }{
			{"COPY copy_file_t FROM '" + in + "'", "must be superuser or have privileges of the pg_read_server_files role to COPY from a file"},
			{"COPY copy_file_t TO '" + outText + "'", "must be superuser or have privileges of the pg_write_server_files role to COPY to a file"},
			{"COPY (SELECT 1) TO 'relative'", "must be superuser or have privileges of the pg_write_server_files role to COPY to a file"},
			{"COPY copy_file_t FROM PROGRAM 'cat'", "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program"},
		} {
			_, err := c.Exec(ctx, tc.q)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" || pe.Message != tc.msg || pe.Hint != anyone {
				t.Errorf("%s as a non-superuser: %v (hint %q)", tc.q, err, hintOf(err))
			}
		}
		exec("RESET ROLE")
		exec("REVOKE ALL ON copy_file_t FROM copy_file_nobody")
		exec("DROP ROLE copy_file_nobody")
	}
	url := onMeridianAndPostgres(t, run)

	// Meridian runs no programs for COPY, and has no data directory to
	// read a relative path in (PostgreSQL reads it in its own).
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	for _, q := range []string{"COPY copy_file_t FROM PROGRAM 'cat " + in + "'", "COPY copy_file_t TO PROGRAM 'cat'", "COPY (SELECT 1) TO PROGRAM 'cat'", "COPY copy_file_t FROM 'in.txt'"} {
		if _, err := c.Exec(ctx, q); sqlState(err) != "0A000" || !strings.Contains(err.Error(), "COPY FROM") && !strings.Contains(err.Error(), "COPY TO") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func hintOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Hint
	}
	return ""
}
