package sql_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestSessionSettings checks what drivers and ORMs ask a new connection:
// who they are, which server, which settings.
func TestSessionSettings(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	for _, tc := range []struct{ query, want string }{
		{"SELECT current_user", "test"},
		{"SELECT session_user", "test"},
		{"SHOW server_version", "15.0.0"},
		{"SELECT current_setting('server_version_num')", "150000"},
		{"SHOW TRANSACTION ISOLATION LEVEL", "serializable"},
		{"SHOW standard_conforming_strings", "on"},
		{"SHOW max_identifier_length", "63"},
		{"SELECT current_setting('DateStyle')", "ISO, MDY"},
		{"SELECT coalesce(current_setting('no.such', true), 'missing')", "missing"},
	} {
		var got string
		if err := c.QueryRow(ctx, tc.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.query, got, tc.want)
		}
	}
	var pid uint32
	if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if pid != c.PgConn().PID() {
		t.Errorf("pg_backend_pid() = %d, BackendKeyData said %d", pid, c.PgConn().PID())
	}
	rows, err := c.Query(ctx, "SHOW ALL")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if rows.Err() != nil || n < 10 {
		t.Fatalf("SHOW ALL: %d rows, %v", n, rows.Err())
	}
	// A weaker isolation level is accepted and gives serializable, which
	// SHOW says.
	for _, q := range []string{"SET default_transaction_isolation = 'read committed'",
		"BEGIN ISOLATION LEVEL READ COMMITTED", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var iso string
	if err := c.QueryRow(ctx, "SHOW transaction_isolation").Scan(&iso); err != nil || iso != "serializable" {
		t.Fatalf("SHOW transaction_isolation: %q, %v", iso, err)
	}
	if _, err := c.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ query, code string }{
		{"SET server_version = '9.0'", "55P02"},
		{"SELECT current_setting('no.such')", "42704"},
		{"SET transaction_isolation = 'sometimes'", "22023"},
		{"SET default_transaction_read_only = sometimes", "22023"},
		{"BEGIN PRIORITY HIGH", "0A000"},
	} {
		_, err := c.Exec(ctx, tc.query)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != tc.code {
			t.Errorf("%s: got %v, want SQLSTATE %s", tc.query, err, tc.code)
		}
	}
}
