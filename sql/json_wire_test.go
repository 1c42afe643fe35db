package sql_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lib/pq/oid"
)

// TestJSONBBinaryRoundTrip sends a jsonb parameter in binary format
// (jsonb_recv: version byte 1, then text), stores it in a column and
// reads it back in binary and text formats, through pgconn (every format
// explicit) and through pgx's own jsonb codec.
func TestJSONBBinaryRoundTrip(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE jbw (id int PRIMARY KEY, doc jsonb)"); err != nil {
		t.Fatal(err)
	}
	in := append([]byte{1}, `{"b":[1,2.50],"a":{"x":null}}`...)
	res := c.PgConn().ExecParams(ctx, "INSERT INTO jbw VALUES (1, $1)",
		[][]byte{in}, []uint32{uint32(oid.T_jsonb)}, []int16{1}, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	const want = `{"a": {"x": null}, "b": [1, 2.50]}`
	for _, format := range []int16{0, 1} {
		res := c.PgConn().ExecParams(ctx, "SELECT doc FROM jbw WHERE id = 1", nil, nil, nil, []int16{format}).Read()
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if len(res.Rows) != 1 {
			t.Fatalf("format %d: %d rows", format, len(res.Rows))
		}
		got := res.Rows[0][0]
		if format == 1 {
			if len(got) == 0 || got[0] != 1 {
				t.Fatalf("binary jsonb %q lacks version byte 1", got)
			}
			got = got[1:]
		}
		if string(got) != want {
			t.Fatalf("format %d: got %s, want %s", format, got, want)
		}
		if res.FieldDescriptions[0].DataTypeOID != uint32(oid.T_jsonb) {
			t.Fatalf("column type OID %d, want jsonb's %d", res.FieldDescriptions[0].DataTypeOID, oid.T_jsonb)
		}
	}
	// A version other than 1 is refused, as jsonb_recv does.
	bad := c.PgConn().ExecParams(ctx, "SELECT $1::jsonb", [][]byte{append([]byte{2}, `{}`...)},
		[]uint32{uint32(oid.T_jsonb)}, []int16{1}, nil).Read()
	if bad.Err == nil {
		t.Fatal("jsonb binary version 2 accepted")
	}

	// pgx's codec, in binary, both ways.
	var doc map[string]any
	if err := c.QueryRow(ctx, "SELECT doc FROM jbw WHERE id = $1", pgx.QueryResultFormats{pgx.BinaryFormatCode}, 1).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["a"].(map[string]any); !ok {
		t.Fatalf("decoded %v", doc)
	}
	if _, err := c.Exec(ctx, "INSERT INTO jbw VALUES (2, $1)", map[string]any{"k": []int{1, 2}}); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := c.QueryRow(ctx, "SELECT doc::text FROM jbw WHERE id = 2").Scan(&s); err != nil {
		t.Fatal(err)
	}
	if s != `{"k": [1, 2]}` {
		t.Fatalf("got %s", s)
	}
}

// TestPsqlDescribesJSONB checks that psql's \d names a jsonb column's type
// as PostgreSQL's does.
func TestPsqlDescribesJSONB(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (.ci/run installs postgresql-client)")
	}
	c, url := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE jbd (id int PRIMARY KEY, doc jsonb NOT NULL, extra jsonb)"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, psql, "-X", "-d", url, "-c", `\d jbd`).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	want := `                Table "public.jbd"
 Column |  Type   | Collation | Nullable | Default 
--------+---------+-----------+----------+---------
 id     | integer |           | not null | 
 doc    | jsonb   |           | not null | 
 extra  | jsonb   |           |          | 
Indexes:
    "jbd_pkey" PRIMARY KEY, btree (id)

`
	if string(out) != want {
		t.Fatalf("psql \\d jbd:\n%s\nwant:\n%s", out, want)
	}
}

// TestCopyJSONB loads jsonb through COPY in text format and in binary
// format (pgx's CopyFrom: jsonb's version byte, then text).
func TestCopyJSONB(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE jbc (id int PRIMARY KEY, doc jsonb)"); err != nil {
		t.Fatal(err)
	}
	text := "1\t{\"b\":1,\"a\":[true]}\n2\t\\N\n"
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader(text), "COPY jbc FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{{3, map[string]any{"k": "v"}}, {4, nil}}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"jbc"}, []string{"id", "doc"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	var got []string
	r, err := c.Query(ctx, "SELECT coalesce(doc::text, 'NULL') FROM jbc ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var s string
		if err := r.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := `{"a": [true], "b": 1}|NULL|{"k": "v"}|NULL`
	if strings.Join(got, "|") != want {
		t.Fatalf("got %s, want %s", strings.Join(got, "|"), want)
	}
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader("5\t{bad\n"), "COPY jbc FROM STDIN"); err == nil {
		t.Fatal("COPY accepted invalid jsonb")
	}
}

// TestJSONWire checks json (oid 114, not jsonb's 3802) on the wire: a
// parameter sent as json in binary (json_recv: the text itself) is kept
// as written, and a json column comes back with json's oid and its text
// in both formats (json_send: the text, no version byte).
func TestJSONWire(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE jw (id int PRIMARY KEY, doc json)"); err != nil {
		t.Fatal(err)
	}
	const in = `{"b":[1,2.50],  "a":1, "a":2}`
	res := c.PgConn().ExecParams(ctx, "INSERT INTO jw VALUES (1, $1)",
		[][]byte{[]byte(in)}, []uint32{uint32(oid.T_json)}, []int16{1}, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, format := range []int16{0, 1} {
		res := c.PgConn().ExecParams(ctx, "SELECT doc, doc -> 'a' FROM jw WHERE id = 1", nil, nil, nil, []int16{format}).Read()
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if len(res.Rows) != 1 {
			t.Fatalf("format %d: %d rows", format, len(res.Rows))
		}
		if got := string(res.Rows[0][0]); got != in {
			t.Fatalf("format %d: got %s, want %s", format, got, in)
		}
		if got := string(res.Rows[0][1]); got != "2" {
			t.Fatalf("format %d: doc -> 'a' is %s, want 2 (the last duplicate)", format, got)
		}
		for i, f := range res.FieldDescriptions {
			if f.DataTypeOID != uint32(oid.T_json) {
				t.Fatalf("column %d type OID %d, want json's %d", i, f.DataTypeOID, oid.T_json)
			}
		}
	}
	bad := c.PgConn().ExecParams(ctx, "SELECT $1::json", [][]byte{[]byte(`{"a":`)},
		[]uint32{uint32(oid.T_json)}, []int16{0}, nil).Read()
	if bad.Err == nil || !strings.Contains(bad.Err.Error(), "22P02") {
		t.Fatalf("invalid json parameter: %v", bad.Err)
	}
}
