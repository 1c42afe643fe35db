package sql_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPrivileges: privileges on objects over pgwire with pgx (extended
// protocol): a user without a grant is refused with 42501 and
// PostgreSQL 15's message, the same user with one is served and reads the
// rows back; grants reach members of a role and PUBLIC; a view reads its
// relations as its owner; ownership governs DDL; REVOKE takes effect on
// the next statement; superusers and SET ROLE behave as in PostgreSQL.
func TestPrivileges(t *testing.T) {
	admin, url := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	exec := func(c *pgx.Conn, q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s as %s: %v", q, c.Config().User, err)
		}
	}
	for _, q := range []string{
		"CREATE ROLE alice LOGIN", "CREATE ROLE bob LOGIN", "CREATE ROLE carol SUPERUSER LOGIN", "CREATE ROLE readers",
		"GRANT readers TO bob",
		"CREATE TABLE pt (a INT PRIMARY KEY, b TEXT)", "INSERT INTO pt VALUES (1, 'one'), (2, 'two')",
		"CREATE SEQUENCE ps", "CREATE VIEW pv AS SELECT a FROM pt WHERE a > 1",
	} {
		exec(admin, q)
	}
	as := func(user string) *pgx.Conn {
		c, err := pgx.Connect(ctx, strings.Replace(url, "test@", user+"@", 1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	alice, bob, carol := as("alice"), as("bob"), as("carol")
	denied := func(c *pgx.Conn, q, msg string) {
		t.Helper()
		_, err := c.Exec(ctx, q)
		if pgCode(err) != "42501" || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s as %s: got %v, want 42501 %q", q, c.Config().User, err, msg)
		}
	}
	count := func(c *pgx.Conn, q string, want int) {
		t.Helper()
		var n int
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Errorf("%s as %s: %v", q, c.Config().User, err)
		} else if n != want {
			t.Errorf("%s as %s: got %d, want %d", q, c.Config().User, n, want)
		}
	}

	// No grant: refused, for every kind of statement.
	denied(alice, "SELECT * FROM pt", "permission denied for table pt")
	denied(alice, "INSERT INTO pt VALUES (3, 'three')", "permission denied for table pt")
	denied(alice, "UPDATE pt SET b = 'x'", "permission denied for table pt")
	denied(alice, "DELETE FROM pt", "permission denied for table pt")
	denied(alice, "TRUNCATE pt", "permission denied for table pt")
	denied(alice, "SELECT * FROM pv", "permission denied for view pv")
	denied(alice, "SELECT nextval('ps')", "permission denied for sequence ps")
	denied(alice, "DROP TABLE pt", "must be owner of table pt")
	denied(alice, "ALTER TABLE pt ADD COLUMN c INT", "must be owner of table pt")
	denied(alice, "CREATE TABLE alice_t (a INT)", "permission denied for schema public")
	denied(alice, "GRANT SELECT ON pt TO bob", "permission denied for table pt")
	count(alice, "SELECT count(*) FROM (VALUES (1)) v WHERE has_table_privilege('pt', 'SELECT')", 0)

	// With grants: served.
	exec(admin, "GRANT SELECT, INSERT ON pt TO alice")
	count(alice, "SELECT count(*) FROM pt", 2)
	exec(alice, "INSERT INTO pt VALUES (3, 'three')")
	count(alice, "SELECT count(*) FROM pt", 3)
	denied(alice, "UPDATE pt SET b = 'x' WHERE a = 1", "permission denied for table pt")
	denied(alice, "DELETE FROM pt WHERE a = 3", "permission denied for table pt")
	count(alice, "SELECT count(*) FROM (VALUES (1)) v WHERE has_table_privilege('pt', 'SELECT') AND NOT has_table_privilege('pt', 'UPDATE')", 1)
	count(admin, "SELECT count(*) FROM (VALUES (1)) v WHERE has_table_privilege('alice', 'pt', 'INSERT') AND NOT has_table_privilege('bob', 'pt', 'SELECT')", 1)

	// Through a role's membership, and through PUBLIC.
	denied(bob, "SELECT * FROM pt", "permission denied for table pt")
	exec(admin, "GRANT SELECT ON TABLE pt TO readers")
	count(bob, "SELECT count(*) FROM pt", 3)
	exec(admin, "GRANT SELECT ON pv TO PUBLIC")
	count(alice, "SELECT count(*) FROM pv", 2) // the view reads pt as its owner
	exec(admin, "REVOKE SELECT ON pt FROM readers")
	denied(bob, "SELECT * FROM pt", "permission denied for table pt")
	count(bob, "SELECT count(*) FROM pv", 2)

	// Sequences.
	exec(admin, "GRANT USAGE ON SEQUENCE ps TO alice")
	count(alice, "SELECT nextval('ps')", 1)
	denied(alice, "SELECT setval('ps', 10)", "permission denied for sequence ps")

	// Schemas, ownership and grants by the owner.
	exec(admin, "GRANT CREATE ON SCHEMA public TO alice")
	exec(alice, "CREATE TABLE alice_t (a INT)")
	exec(alice, "INSERT INTO alice_t VALUES (1)")
	denied(bob, "SELECT * FROM alice_t", "permission denied for table alice_t")
	exec(alice, "GRANT SELECT ON alice_t TO bob")
	count(bob, "SELECT count(*) FROM alice_t", 1)
	denied(bob, "DROP TABLE alice_t", "must be owner of table alice_t")
	exec(admin, "CREATE SCHEMA private")
	exec(admin, "CREATE TABLE private.secret (a INT)")
	exec(admin, "GRANT SELECT ON private.secret TO alice")
	denied(alice, "SELECT * FROM private.secret", "permission denied for schema private")
	exec(admin, "GRANT USAGE ON SCHEMA private TO alice")
	count(alice, "SELECT count(*) FROM private.secret", 0)

	// REVOKE: the next statement is refused, also a query inside DDL.
	exec(admin, "REVOKE ALL ON pt FROM alice")
	denied(alice, "SELECT * FROM pt", "permission denied for table pt")
	denied(alice, "CREATE TABLE alice_copy AS SELECT * FROM pt", "permission denied for table pt")
	denied(alice, "EXPLAIN SELECT * FROM pt", "permission denied for table pt")
	exec(admin, "GRANT SELECT ON pt TO alice")
	denied(alice, "SELECT * FROM pt WHERE a = 1 FOR UPDATE", "permission denied for table pt")
	exec(alice, "CREATE TABLE alice_copy AS SELECT * FROM pt")
	count(alice, "SELECT count(*) FROM alice_copy", 3)
	exec(admin, "REVOKE SELECT ON pt FROM alice")

	// A superuser is never refused; SET ROLE checks as the role.
	count(carol, "SELECT count(*) FROM pt", 3)
	exec(carol, "SET ROLE alice")
	denied(carol, "SELECT * FROM pt", "permission denied for table pt")
	var cur, sess string
	if err := carol.QueryRow(ctx, "SELECT current_user, session_user").Scan(&cur, &sess); err != nil || cur != "alice" || sess != "carol" {
		t.Errorf("current_user, session_user after SET ROLE: %q %q %v", cur, sess, err)
	}
	exec(carol, "RESET ROLE")
	count(carol, "SELECT count(*) FROM pt", 3)
	denied(bob, "SET ROLE alice", `permission denied to set role "alice"`)

	// CONNECT, checked when a session starts.
	exec(admin, "REVOKE CONNECT ON DATABASE defaultdb FROM PUBLIC")
	if _, err := pgx.Connect(ctx, strings.Replace(url, "test@", "bob@", 1)); pgCode(err) != "42501" || !strings.Contains(err.Error(), `permission denied for database "defaultdb"`) {
		t.Errorf("connecting without CONNECT: %v", err)
	}
	exec(admin, "GRANT CONNECT ON DATABASE defaultdb TO readers")
	count(as("bob"), "SELECT 1", 1)
}

// TestSetRoleOnlyBySetRole: the role setting changes only through SET
// ROLE, which checks membership: set_config and RESET ALL do not touch it.
func TestSetRoleOnlyBySetRole(t *testing.T) {
	admin, url := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{"CREATE ROLE sr_a LOGIN", "CREATE ROLE sr_boss SUPERUSER"} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c, err := pgx.Connect(ctx, strings.Replace(url, "test@", "sr_a@", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.Exec(ctx, "SELECT set_config('role', 'sr_boss', false)"); pgCode(err) != "0A000" {
		t.Errorf("set_config('role'): %v", err)
	}
	if _, err := c.Exec(ctx, "SET ROLE sr_boss"); pgCode(err) != "42501" {
		t.Errorf("SET ROLE to a role not granted: %v", err)
	}
	var cur string
	if err := c.QueryRow(ctx, "SELECT current_user").Scan(&cur); err != nil || cur != "sr_a" {
		t.Errorf("current_user: %q %v", cur, err)
	}
	if _, err := admin.Exec(ctx, "SET ROLE sr_a"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "RESET ALL"); err != nil {
		t.Fatal(err)
	}
	if err := admin.QueryRow(ctx, "SELECT current_user").Scan(&cur); err != nil || cur != "sr_a" {
		t.Errorf("current_user after RESET ALL: %q %v", cur, err)
	}
}
