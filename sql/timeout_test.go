package sql_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// TestStatementTimeoutAtStartup: statement_timeout given at startup
// (options=-c ...) bounds statements of both protocols; a startup setting
// Meridian does not know ends the connection attempt, as in PostgreSQL.
func TestStatementTimeoutAtStartup(t *testing.T) {
	_, url := startSQL(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url+"&options=-c%20statement_timeout%3D100ms")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	var v string
	if err := c.QueryRow(ctx, "SHOW statement_timeout").Scan(&v); err != nil || v != "100ms" {
		t.Fatalf("SHOW statement_timeout = %q, %v", v, err)
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		_, err := c.Exec(ctx, "SELECT pg_sleep(10)", mode)
		if sqlState(err) != "57014" || !strings.Contains(err.Error(), "statement timeout") {
			t.Fatalf("%v: %v, want 57014 canceling statement due to statement timeout", mode, err)
		}
	}
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&v); err != nil {
		t.Fatalf("after the timeout: %v", err)
	}
	if _, err := pgx.Connect(ctx, url+"&options=-c%20no_such_setting%3D1"); sqlState(err) != "42704" {
		t.Fatalf("unknown startup setting: %v, want 42704", err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	// What JDBC sends at startup.
	cfg.RuntimeParams = map[string]string{"extra_float_digits": "3", "DateStyle": "ISO", "TimeZone": "UTC", "client_encoding": "UTF8"}
	jc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("JDBC's startup parameters: %v", err)
	}
	_ = jc.Close(ctx)
	// The client machine's time zone, which JDBC sends: the session runs
	// in it.
	cfg.RuntimeParams["TimeZone"] = "PST8PDT"
	var warned []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { warned = append(warned, n.Severity+" "+n.Code+" "+n.Message) }
	tc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("TimeZone=PST8PDT at startup: %v", err)
	}
	defer func() { _ = tc.Close(ctx) }()
	if err := tc.QueryRow(ctx, "SHOW TimeZone").Scan(&v); err != nil || v != "PST8PDT" {
		t.Fatalf("SHOW TimeZone = %q, %v", v, err)
	}
	var shown string
	if err := tc.QueryRow(ctx, "SELECT '2024-01-15 12:00:00+00'::timestamptz::text").Scan(&shown); err != nil || shown != "2024-01-15 04:00:00-08" {
		t.Fatalf("a timestamptz in PST8PDT: %q, %v", shown, err)
	}
	if len(warned) != 0 {
		t.Fatalf("warnings: %q", warned)
	}
	// What libpq sends for PGDATESTYLE (pg_regress sets 'Postgres, MDY'):
	// taken, reported back as the session has it, and used.
	cfg.RuntimeParams["DateStyle"] = "Postgres, MDY"
	dc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("DateStyle=Postgres, MDY at startup: %v", err)
	}
	defer func() { _ = dc.Close(ctx) }()
	if got := dc.PgConn().ParameterStatus("DateStyle"); got != "Postgres, MDY" {
		t.Fatalf("ParameterStatus DateStyle = %q", got)
	}
	if err := dc.QueryRow(ctx, "SELECT '2024-01-15 12:00:00+00'::timestamptz::text").Scan(&shown); err != nil || shown != "Mon Jan 15 04:00:00 2024 PST" {
		t.Fatalf("a timestamptz in Postgres, MDY: %q, %v", shown, err)
	}
	if len(warned) != 0 {
		t.Fatalf("warnings: %q", warned)
	}
}

// TestCancelRunningStatement: a CancelRequest stops a running statement
// with 57014, whether it waits (pg_sleep) or computes.
func TestCancelRunningStatement(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	for _, q := range []string{"SELECT pg_sleep(30)", "SELECT count(*) FROM generate_series(1, 10000000000)"} {
		done := make(chan error, 1)
		go func() {
			_, err := c.Exec(ctx, q)
			done <- err
		}()
		deadline := time.NewTimer(10 * time.Second)
	wait:
		for {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.PgConn().CancelRequest(cctx)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			retry := time.NewTimer(50 * time.Millisecond)
			select {
			case err := <-done:
				retry.Stop()
				if sqlState(err) != "57014" || !strings.Contains(err.Error(), "canceling statement due to user request") {
					t.Fatalf("%s: %v, want 57014 canceling statement due to user request", q, err)
				}
				break wait
			case <-retry.C:
				// The cancel may have come before the statement started.
			case <-deadline.C:
				t.Fatalf("%s: not cancelled", q)
			}
		}
		deadline.Stop()
		var n int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
			t.Fatalf("after the cancel: %v", err)
		}
	}
}

// TestIdleInTransactionTimeout: a session idle in a transaction block
// for longer than idle_in_transaction_session_timeout is ended with
// 25P03, and its transaction rolled back.
func TestIdleInTransactionTimeout(t *testing.T) {
	c, url := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE idle (k INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	idle, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = idle.Close(ctx) }()
	if _, err := idle.Exec(ctx, "SET idle_in_transaction_session_timeout = '100ms'; BEGIN; INSERT INTO idle VALUES (1)").ReadAll(); err != nil {
		t.Fatal(err)
	}
	// Wait for the server to end the connection with its FATAL error.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = idle.WaitForNotification(wctx)
	if sqlState(err) != "25P03" || !strings.Contains(err.Error(), "idle-in-transaction timeout") {
		t.Fatalf("got %v, want 25P03 terminating connection due to idle-in-transaction timeout", err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM idle").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows of the ended transaction: %d, %v", n, err)
	}
}

// TestIdleSessionTimeout: a session idle outside a transaction for longer
// than idle_session_timeout is ended with 57P05.
func TestIdleSessionTimeout(t *testing.T) {
	_, url := startSQL(t)
	ctx := context.Background()
	c, err := pgconn.Connect(ctx, url+"&options=-c%20idle_session_timeout%3D100ms")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.WaitForNotification(wctx); sqlState(err) != "57P05" {
		t.Fatalf("got %v, want 57P05 terminating connection due to idle-session timeout", err)
	}
}
