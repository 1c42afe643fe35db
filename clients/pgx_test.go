package clients

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestPgx: pgx v5 over the simple and the extended protocol, a Batch,
// CopyFrom, and binary-format round trips of the common types.
func TestPgx(t *testing.T) {
	url := newDatabase(t, "pgx_smoke")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := c.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE items (id INT8 PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2), ok BOOL,
		at TIMESTAMPTZ, day DATE, data BYTEA, u UUID, f FLOAT8)`)

	// Extended protocol, binary parameters and results.
	at := time.Date(2024, 2, 29, 12, 30, 45, 123456000, time.UTC)
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	u := [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}
	price := pgtype.Numeric{Int: big.NewInt(1999), Exp: -2, Valid: true}
	mustExec(`INSERT INTO items VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		int64(1), "widget", price, true, at, day, []byte{0, 1, 0xff}, u, 2.5)
	var (
		id     int64
		name   string
		gotP   pgtype.Numeric
		ok     bool
		gotAt  time.Time
		gotDay time.Time
		data   []byte
		tags   []string
		gotU   [16]byte
		f      float64
	)
	if err := c.QueryRow(ctx, `SELECT id, name, price, ok, at, day, data, ARRAY['a', 'b c'], u, f FROM items WHERE id = $1`, int64(1)).
		Scan(&id, &name, &gotP, &ok, &gotAt, &gotDay, &data, &tags, &gotU, &f); err != nil {
		t.Fatal(err)
	}
	if pv, _ := gotP.Value(); id != 1 || name != "widget" || pv != "19.99" || !ok || !gotAt.Equal(at) || !gotDay.Equal(day) ||
		string(data) != "\x00\x01\xff" || len(tags) != 2 || tags[1] != "b c" || gotU != u || f != 2.5 {
		t.Fatalf("extended protocol read back %v %q %v %v %v %v %x %q %x %v", id, name, pv, ok, gotAt, gotDay, data, tags, gotU, f)
	}

	// Simple protocol: the same row, every value as text.
	var text string
	if err := c.QueryRow(ctx, `SELECT price::text || ' ' || at::text || ' ' || ARRAY['a', 'b c']::text || ' ' || u::text FROM items WHERE id = 1`,
		pgx.QueryExecModeSimpleProtocol).Scan(&text); err != nil {
		t.Fatal(err)
	}
	if want := "19.99 2024-02-29 12:30:45.123456+00 {a,\"b c\"} 12345678-9abc-def0-0102-030405060708"; text != want {
		t.Fatalf("simple protocol read %q, want %q", text, want)
	}

	// A Batch: statements pipelined up to one Sync.
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO items (id, name) VALUES ($1, $2)`, int64(2), "two")
	b.Queue(`UPDATE items SET name = name || '!' WHERE id = $1`, int64(2))
	b.Queue(`SELECT name FROM items WHERE id = $1`, int64(2))
	br := c.SendBatch(ctx, b)
	for range 2 {
		if _, err := br.Exec(); err != nil {
			t.Fatal(err)
		}
	}
	if err := br.QueryRow().Scan(&name); err != nil || name != "two!" {
		t.Fatalf("batch read %q, %v", name, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}

	// CopyFrom: COPY ... FROM STDIN in binary.
	rows := [][]any{}
	for i := int64(10); i < 110; i++ {
		rows = append(rows, []any{i, "copied", pgtype.Numeric{Int: big.NewInt(i), Exp: 0, Valid: true}})
	}
	n, err := c.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name", "price"}, pgx.CopyFromRows(rows))
	if err != nil || n != 100 {
		t.Fatalf("CopyFrom: %d rows, %v", n, err)
	}
	var count, sum int64
	if err := c.QueryRow(ctx, `SELECT count(*), sum(price)::INT8 FROM items WHERE name = 'copied'`).Scan(&count, &sum); err != nil || count != 100 || sum != 5950 {
		t.Fatalf("after CopyFrom: count %d sum %d, %v", count, sum, err)
	}

	// A deliberate error: a duplicate key is 23505, and the connection
	// goes on serving.
	_, err = c.Exec(ctx, `INSERT INTO items (id, name) VALUES ($1, 'dup')`, int64(1))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("duplicate key: %v, want SQLSTATE 23505", err)
	}
	if _, err := c.Exec(ctx, `SELECT 1/0`, pgx.QueryExecModeSimpleProtocol); !errors.As(err, &pgErr) || pgErr.Code != "22012" {
		t.Fatalf("division by zero: %v, want SQLSTATE 22012", err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM items`).Scan(&count); err != nil || count != 102 {
		t.Fatalf("count after errors: %d, %v", count, err)
	}
}
