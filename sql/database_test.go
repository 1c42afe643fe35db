package sql_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meridiandb/meridian/sql/memkv"
)

// TestDatabases: each database has its own schemas and relations, a
// connection's names resolve in its database, and CREATE / DROP / ALTER
// DATABASE behave as in PostgreSQL 15 (errors included).
func TestDatabases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := serve(t, memkv.New(), nil)
	url := func(db string) string { return "postgres://root@" + addr + "/" + db + "?sslmode=disable" }
	connect := func(db string) *pgx.Conn {
		t.Helper()
		c, err := pgx.Connect(ctx, url(db))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	mustExec := func(c *pgx.Conn, q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	wantErr := func(c *pgx.Conn, q, code string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); sqlState(err) != code {
			t.Fatalf("%s: got %v, want SQLSTATE %s", q, err, code)
		}
	}
	def := connect("defaultdb")
	mustExec(def, "CREATE TABLE shared_name (a INT PRIMARY KEY)")
	mustExec(def, "INSERT INTO shared_name VALUES (1)")
	mustExec(def, "CREATE DATABASE app")
	wantErr(def, "CREATE DATABASE app", "42P04")
	mustExec(def, "CREATE DATABASE IF NOT EXISTS app")

	if _, err := pgx.Connect(ctx, url("nosuch")); sqlState(err) != "3D000" {
		t.Fatalf("connect to a missing database: %v", err)
	}

	app := connect("app")
	wantErr(app, "SELECT * FROM shared_name", "42P01")
	mustExec(app, "CREATE TABLE shared_name (b TEXT PRIMARY KEY)")
	mustExec(app, "INSERT INTO shared_name VALUES ('in app')")
	var b string
	if err := app.QueryRow(ctx, "SELECT b FROM shared_name").Scan(&b); err != nil || b != "in app" {
		t.Fatalf("app's table: %q %v", b, err)
	}
	var a int
	if err := def.QueryRow(ctx, "SELECT a FROM shared_name").Scan(&a); err != nil || a != 1 {
		t.Fatalf("defaultdb's table: %d %v", a, err)
	}
	var cur string
	if err := app.QueryRow(ctx, "SELECT current_database()").Scan(&cur); err != nil || cur != "app" {
		t.Fatalf("current_database: %q %v", cur, err)
	}
	var n int
	if err := app.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = 'shared_name'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("pg_class shows another database's relations: %d %v", n, err)
	}
	wantErr(app, "SELECT * FROM defaultdb.public.shared_name", "0A000")
	wantErr(app, "DROP DATABASE app", "55006")
	wantErr(app, "ALTER DATABASE app RENAME TO app2", "0A000")

	tx, err := def.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "DROP DATABASE app"); sqlState(err) != "25001" {
		t.Fatalf("DROP DATABASE in a block: %v", err)
	}
	_ = tx.Rollback(ctx)

	mustExec(def, "CREATE ROLE nodb LOGIN")
	nodb, err := pgx.Connect(ctx, "postgres://nodb@"+addr+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = nodb.Close(ctx) }()
	wantErr(nodb, "CREATE DATABASE notmine", "42501")
	wantErr(nodb, "DROP DATABASE app", "42501")

	_ = app.Close(ctx)
	mustExec(def, "ALTER DATABASE app RENAME TO app2")
	if _, err := pgx.Connect(ctx, url("app")); sqlState(err) != "3D000" {
		t.Fatalf("connect by the old name: %v", err)
	}
	app2 := connect("app2")
	if err := app2.QueryRow(ctx, "SELECT b FROM shared_name").Scan(&b); err != nil || b != "in app" {
		t.Fatalf("renamed database's table: %q %v", b, err)
	}
	_ = app2.Close(ctx)
	mustExec(def, "DROP DATABASE app2")
	wantErr(def, "DROP DATABASE app2", "3D000")
	mustExec(def, "DROP DATABASE IF EXISTS app2")
	// A database made again under the name starts empty.
	mustExec(def, "CREATE DATABASE app2")
	wantErr(connect("app2"), "SELECT * FROM shared_name", "42P01")
}

// TestDropSchemaCascadeNotice: DROP SCHEMA ... CASCADE names what it
// drops as PostgreSQL does, one object in the NOTICE, more in its DETAIL.
func TestDropSchemaCascadeNotice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var notices []*pgconn.Notice
	cfg, err := pgx.ParseConfig("postgres://root@" + serve(t, memkv.New(), nil) + "/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n) }
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	for _, q := range []string{
		"CREATE SCHEMA one", "CREATE TABLE one.t (a INT)",
		"CREATE SCHEMA many", "CREATE TABLE many.t (a INT PRIMARY KEY)", "CREATE VIEW many.v AS SELECT a FROM many.t",
		"CREATE TABLE public.child (a INT REFERENCES many.t (a))",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := c.Exec(ctx, "DROP SCHEMA one CASCADE"); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0].Message != "drop cascades to table one.t" || notices[0].Detail != "" {
		t.Fatalf("notices: %+v", notices)
	}
	notices = nil
	if _, err := c.Exec(ctx, "DROP SCHEMA many CASCADE"); err != nil {
		t.Fatal(err)
	}
	want := "drop cascades to table many.t\ndrop cascades to constraint child_a_fkey on table child\ndrop cascades to view many.v"
	if len(notices) != 1 || notices[0].Message != "drop cascades to 3 other objects" || notices[0].Detail != want {
		t.Fatalf("notices: %+v", notices)
	}
}

// TestPsqlConnect: psql's \c moves a session to another database and
// \l lists them.
func TestPsqlConnect(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	addr := serve(t, memkv.New(), nil)
	host, port, _ := strings.Cut(addr, ":")
	script := "CREATE DATABASE other;\n\\c other\nCREATE TABLE only_here (a INT);\nSELECT current_database();\n\\dt\n\\c defaultdb\n\\dt\n"
	cmd := exec.Command(psql, "-X", "-h", host, "-p", port, "-U", "root", "-d", "defaultdb")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		`You are now connected to database "other" as user "root".`,
		" other\n",
		" public | only_here | table | root\n",
		`You are now connected to database "defaultdb" as user "root".`,
		"Did not find any relations.",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("psql printed no %q:\n%s", want, got)
		}
	}
}

// TestDropTypeCascadeNotice: DROP TYPE … CASCADE and DROP SCHEMA …
// CASCADE name the columns and types they drop as PostgreSQL 15 does
// (the expected texts were taken from it): the tables in the order they
// were made, a table's columns last first, a schema's types among its
// relations in the order they were made.
func TestDropTypeCascadeNotice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var notices []*pgconn.Notice
	cfg, err := pgx.ParseConfig("postgres://root@" + serve(t, memkv.New(), nil) + "/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n) }
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	for _, q := range []string{
		"CREATE TYPE t9 AS ENUM ('a')", "CREATE TABLE w2 (a t9, id int, b t9, c t9)", "CREATE TABLE w1 (a t9)",
		"CREATE SCHEMA dsn", "CREATE TABLE dsn.x (k int)", "CREATE TYPE dsn.t2 AS ENUM ('a')", "CREATE TABLE dsn.z (k dsn.t2)",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := c.Exec(ctx, "DROP TYPE t9 CASCADE"); err != nil {
		t.Fatal(err)
	}
	want := "drop cascades to column c of table w2\ndrop cascades to column b of table w2\ndrop cascades to column a of table w2\ndrop cascades to column a of table w1"
	if len(notices) != 1 || notices[0].Message != "drop cascades to 4 other objects" || notices[0].Detail != want {
		t.Fatalf("notices: %+v", notices)
	}
	notices = nil
	if _, err := c.Exec(ctx, "DROP SCHEMA dsn CASCADE"); err != nil {
		t.Fatal(err)
	}
	want = "drop cascades to table dsn.x\ndrop cascades to type dsn.t2\ndrop cascades to table dsn.z"
	if len(notices) != 1 || notices[0].Message != "drop cascades to 3 other objects" || notices[0].Detail != want {
		t.Fatalf("notices: %+v", notices)
	}
}
