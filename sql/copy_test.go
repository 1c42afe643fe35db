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
	"github.com/jackc/pgx/v5/pgconn"
)

// TestCopyFrom loads rows with COPY ... FROM STDIN in the three formats
// clients use: binary (pgx's CopyFrom, the TPC-C loader), text (psql's
// \copy) and CSV with a header; bad data fails the whole COPY with 22P04
// and the connection goes on.
func TestCopyFrom(t *testing.T) {
	c, url := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, `CREATE TABLE cp (id INT PRIMARY KEY, name TEXT, amt NUMERIC(8,2), at TIMESTAMP, ok BOOL, note VARCHAR(10) DEFAULT 'none')`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
	n, err := c.CopyFrom(ctx, pgx.Identifier{"cp"}, []string{"id", "name", "amt", "at", "ok"}, pgx.CopyFromRows([][]any{
		{1, "ann", 12.5, at, true},
		{2, nil, 0.01, nil, false},
	}))
	if err != nil || n != 2 {
		t.Fatalf("binary COPY: %d rows, %v", n, err)
	}

	// psql's \copy sends the file in text format.
	if psql, err := exec.LookPath("psql"); err == nil {
		file := filepath.Join(t.TempDir(), "rows.tsv")
		if err := os.WriteFile(file, []byte("3\ttab\\there\t7\t2024-03-02 00:00:00\tt\tx\n4\t\\N\t\\N\t\\N\t\\N\t\\N\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(psql, "-X", "-d", url, "-c", `\copy cp FROM '`+file+`'`).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "COPY 2") {
			t.Fatalf("psql \\copy: %v\n%s", err, out)
		}
	} else {
		if _, err := c.Exec(ctx, "INSERT INTO cp VALUES (3, 'tab\there', 7, '2024-03-02', true, 'x'), (4, NULL, NULL, NULL, NULL, NULL)"); err != nil {
			t.Fatal(err)
		}
	}

	// CSV with a header, through the protocol directly.
	res, err := c.PgConn().CopyFrom(ctx, strings.NewReader("id,name\n5,\"five, quoted\"\n6,\n"), "COPY cp (id, name) FROM STDIN WITH (FORMAT csv, HEADER true)")
	if err != nil || res.RowsAffected() != 2 {
		t.Fatalf("CSV COPY: %v %v", res, err)
	}

	// Bad data: the whole COPY fails, nothing of it stays.
	_, err = c.PgConn().CopyFrom(ctx, strings.NewReader("7\tseven\n8\n"), "COPY cp (id, name) FROM STDIN")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22P04" {
		t.Fatalf("short row: %v", err)
	}
	_, err = c.PgConn().CopyFrom(ctx, strings.NewReader("1\tdup\n"), "COPY cp (id, name) FROM STDIN")
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("duplicate key: %v", err)
	}
	// The client gives up mid-COPY.
	_, err = c.PgConn().CopyFrom(ctx, &failingReader{}, "COPY cp (id, name) FROM STDIN")
	if err == nil {
		t.Fatal("COPY from a failing reader succeeded")
	}

	rows, err := c.Query(ctx, "SELECT id, coalesce(name, '-'), coalesce(amt::TEXT, '-'), coalesce(note, '-') FROM cp ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id int32
		var name, amt, note string
		if err := rows.Scan(&id, &name, &amt, &note); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{name, amt, note}, "|"))
	}
	want := []string{"ann|12.50|none", "-|0.01|none", "tab\there|7.00|x", "-|-|-", "five, quoted|-|none", "-|-|none"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("rows:\n got %q\nwant %q", got, want)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		r.n++
		return copy(p, "9\tnine\n"), nil
	}
	return 0, errors.New("the client gave up")
}

// TestCopyFromSerial: COPY fills a SERIAL column from its sequence, as an
// INSERT does, in a database of its own with a schema on the search path
// (lib/pq's CopyIn into a table with an id SERIAL failed with "relation
// ... does not exist": COPY evaluated defaults without the session).
func TestCopyFromSerial(t *testing.T) {
	_, url := startSQL(t)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User = "root" // the owner of a new database must be a role
	root, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close(ctx)
	if _, err := root.Exec(ctx, "CREATE DATABASE copyserial"); err != nil {
		t.Fatal(err)
	}
	cfg.Database = "copyserial"
	c2, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	for _, q := range []string{"CREATE SCHEMA app", "SET search_path = app", "CREATE TABLE cs (id SERIAL PRIMARY KEY, name TEXT)", "INSERT INTO cs (name) VALUES ('first')"} {
		if _, err := c2.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := c2.PgConn().CopyFrom(ctx, strings.NewReader("second\nthird\n"), "COPY cs (name) FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	rows, err := c2.Query(ctx, "SELECT id::TEXT || name FROM cs ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(ids, ",") != "1first,2second,3third" {
		t.Fatalf("rows %q, %v", ids, err)
	}
	var last int64
	if err := c2.QueryRow(ctx, "SELECT currval('cs_id_seq')").Scan(&last); err != nil || last != 3 {
		t.Fatalf("currval %d, %v", last, err)
	}
}
