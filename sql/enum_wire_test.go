package sql_test

import (
	"context"
	"strings"
	"testing"
)

// TestEnumWireFormats reads and writes an enum in both of PostgreSQL's
// formats, which are both the label's text (enum_out/enum_send): a
// parameter of the enum's OID in binary, results in text and binary, and
// a bad label as 22P02.
func TestEnumWireFormats(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TYPE ew_mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE ew_t (id int PRIMARY KEY, m ew_mood)"); err != nil {
		t.Fatal(err)
	}
	var o int64
	if err := c.QueryRow(ctx, "SELECT oid::int8 FROM pg_type WHERE typname = 'ew_mood'").Scan(&o); err != nil {
		t.Fatal(err)
	}
	typOID := uint32(o)
	res := c.PgConn().ExecParams(ctx, "INSERT INTO ew_t VALUES (1, $1)", [][]byte{[]byte("happy")}, []uint32{typOID}, []int16{1}, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, format := range []int16{0, 1} {
		res := c.PgConn().ExecParams(ctx, "SELECT m FROM ew_t WHERE id = 1", nil, nil, nil, []int16{format}).Read()
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if len(res.Rows) != 1 || string(res.Rows[0][0]) != "happy" {
			t.Fatalf("format %d: rows %q, want happy", format, res.Rows)
		}
		if got := res.FieldDescriptions[0].DataTypeOID; got != typOID {
			t.Fatalf("format %d: column type OID %d, want the enum's %d", format, got, typOID)
		}
	}
	// pgx itself: a string parameter for the enum column (described as
	// the enum's OID) and the value scanned as a string.
	if _, err := c.Exec(ctx, "INSERT INTO ew_t VALUES (2, $1)", "ok"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := c.QueryRow(ctx, "SELECT m FROM ew_t WHERE m < $1 ORDER BY m DESC LIMIT 1", "happy").Scan(&got); err != nil || got != "ok" {
		t.Fatalf("pgx: %q, %v; want ok", got, err)
	}
	bad := c.PgConn().ExecParams(ctx, "SELECT $1::ew_mood", [][]byte{[]byte("nope")}, []uint32{typOID}, []int16{1}, nil).Read()
	if bad.Err == nil || !strings.Contains(bad.Err.Error(), `invalid input value for enum ew_mood: "nope" (SQLSTATE 22P02)`) {
		t.Fatalf("bad label: %v, want 22P02", bad.Err)
	}
}

// TestEnumBadLabelMessage: every way a bad label reaches an enum (a
// literal cast, a text value cast, an INSERT, an UPDATE, a comparison)
// fails with PostgreSQL's message, which the logic files, comparing
// SQLSTATEs only, do not check.
func TestEnumBadLabelMessage(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TYPE ebl AS ENUM ('a'); CREATE TABLE ebl_t (k ebl)"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"INSERT INTO ebl_t VALUES ('zz')", "SELECT 'zz'::ebl", "SELECT 'zz'::text::ebl", "SELECT k FROM ebl_t WHERE k = 'zz'", "UPDATE ebl_t SET k = 'zz'"} {
		_, err := c.Exec(ctx, q)
		if err == nil || !strings.Contains(err.Error(), `invalid input value for enum ebl: "zz" (SQLSTATE 22P02)`) {
			t.Errorf("%s: %v", q, err)
		}
	}
}
