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

// TestRolePrivileges: who may run role statements, with PostgreSQL 15's
// answers (taken from a PostgreSQL 15 session running the same
// statements under SET SESSION AUTHORIZATION): a plain role may only
// change its own password; CREATEROLE manages roles that are not
// superusers; the admin option lets a member grant its role; superusers
// are a superuser's business.
func TestRolePrivileges(t *testing.T) {
	admin, url := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{
		"CREATE ROLE alice LOGIN", "CREATE ROLE bob CREATEROLE LOGIN", "CREATE ROLE carol SUPERUSER LOGIN",
		"CREATE ROLE xr", "GRANT xr TO alice WITH ADMIN OPTION",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	as := func(user string) *pgx.Conn {
		c, err := pgx.Connect(ctx, strings.Replace(url, "test@", user+"@", 1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	for _, step := range []struct {
		conn *pgx.Conn
		stmt string
		want string // "" for success, else the message (SQLSTATE 42501)
	}{
		{as("alice"), "CREATE ROLE z", "permission denied to create role"},
		{as("alice"), "ALTER ROLE bob LOGIN", "permission denied"},
		{as("alice"), "ALTER ROLE alice PASSWORD 'x'", ""},
		{as("alice"), "ALTER ROLE alice CREATEDB", "permission denied"},
		{as("alice"), "DROP ROLE bob", "permission denied to drop role"},
		{as("alice"), "GRANT xr TO bob", ""},
		{as("alice"), "GRANT bob TO alice", `must have admin option on role "bob"`},
		{as("alice"), "REVOKE xr FROM bob", ""},
		{as("alice"), "ALTER ROLE carol PASSWORD 'y'", "must be superuser to alter superuser roles or change superuser attribute"},
		{as("bob"), "CREATE ROLE dave", ""},
		{as("bob"), "CREATE ROLE e SUPERUSER", "must be superuser to create superusers"},
		{as("bob"), "ALTER ROLE carol PASSWORD 'y'", "must be superuser to alter superuser roles or change superuser attribute"},
		{as("bob"), "ALTER ROLE root PASSWORD 'y'", "must be superuser to alter superuser roles or change superuser attribute"},
		{as("bob"), "ALTER ROLE dave SUPERUSER", "must be superuser to alter superuser roles or change superuser attribute"},
		{as("bob"), "GRANT carol TO dave", "must be superuser to alter superusers"},
		{as("bob"), "DROP ROLE carol", "must be superuser to drop superusers"},
		{as("bob"), "DROP ROLE dave", ""},
		{as("carol"), "CREATE ROLE f SUPERUSER", ""},
		{as("carol"), "DROP ROLE f", ""},
	} {
		_, err := step.conn.Exec(ctx, step.stmt)
		var pe *pgconn.PgError
		switch {
		case step.want == "" && err != nil:
			t.Errorf("%s as %s: %v", step.stmt, step.conn.Config().User, err)
		case step.want != "" && (!errors.As(err, &pe) || pe.Code != "42501" || pe.Message != step.want):
			t.Errorf("%s as %s: got %v, want 42501 %q", step.stmt, step.conn.Config().User, err, step.want)
		}
	}
}
