package sql_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestStringLiteralWarningsOnTheWire: with standard_conforming_strings
// off, a literal's backslash escape is warned of with PostgreSQL's code,
// hint and position, in the simple protocol and at an extended Parse; the
// client follows the setting through ParameterStatus, a rollback's
// undoing of it included.
func TestStringLiteralWarningsOnTheWire(t *testing.T) {
	_, url := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		notices = append(notices, fmt.Sprintf("%s %s %s @%d (%s)", n.Severity, n.Code, n.Message, n.Position, n.Hint))
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	scs := func() string { return c.PgConn().ParameterStatus("standard_conforming_strings") }
	if got := scs(); got != "on" {
		t.Fatalf("standard_conforming_strings at startup: %q", got)
	}
	if _, err := c.Exec(ctx, "SET standard_conforming_strings = off"); err != nil {
		t.Fatal(err)
	}
	if got := scs(); got != "off" {
		t.Fatalf("standard_conforming_strings after SET: %q", got)
	}
	const want = `WARNING 22P06 nonstandard use of \\ in a string literal @8 (Use the escape string syntax for backslashes, e.g., E'\\'.)`
	// The simple protocol through pgconn (pgx refuses it with the
	// setting off), then the extended one.
	rs, err := c.PgConn().Exec(ctx, `SELECT 'a\\b'`).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if v := string(rs[0].Rows[0][0]); v != `a\b` || len(notices) != 1 || notices[0] != want {
		t.Errorf("simple protocol: value %q, notices %q", v, notices)
	}
	notices = nil
	var v string
	if err := c.QueryRow(ctx, `SELECT 'a\\b'`, pgx.QueryExecModeDescribeExec).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != `a\b` || len(notices) != 1 || notices[0] != want {
		t.Errorf("extended protocol: value %q, notices %q", v, notices)
	}
	for _, q := range []string{"RESET standard_conforming_strings", "BEGIN", "SET standard_conforming_strings = off", "ROLLBACK"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if got := scs(); got != "on" {
		t.Fatalf("standard_conforming_strings after a rolled back SET: %q", got)
	}
}
