package sql_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/memkv"
)

// TestTempRelations: a session's temporary table is its own (another
// session does not see it, and may have its own of the same name) and is
// dropped, with its schema, when the session ends.
func TestTempRelations(t *testing.T) {
	ex := sql.NewExecutor(memkv.New(), hlc.PhysicalNow)
	a, url := serveSQL(t, ex)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	exec := func(c *pgx.Conn, q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	count := func(c *pgx.Conn, q string) int {
		t.Helper()
		var n int
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	exec(a, "CREATE TEMP TABLE scratch (k INT PRIMARY KEY)")
	exec(a, "INSERT INTO scratch VALUES (1), (2)")
	if _, err := b.Exec(ctx, "SELECT * FROM scratch"); err == nil {
		t.Fatal("another session reads the temporary table")
	}
	exec(b, "CREATE TEMP TABLE scratch (k INT PRIMARY KEY)")
	if n := count(b, "SELECT count(*) FROM scratch"); n != 0 {
		t.Fatalf("the second session's own table has %d rows", n)
	}
	tempSchemas := "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pg_temp_%'"
	if n := count(b, tempSchemas); n != 2 {
		t.Fatalf("%d temporary schemas, want one per session", n)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The server drops the schema as it closes the session, after the
	// client is gone: wait for it.
	// (In-memory transactions do not wait for each other: a read that
	// meets the drop's uncommitted writes fails with 40001 and is tried
	// again.)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		err := b.QueryRow(ctx, tempSchemas).Scan(&n)
		if err == nil && n == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d temporary schemas after the first session ended (%v), want 1", n, err)
		case <-tick.C:
		}
	}
	if n := count(b, "SELECT count(*) FROM scratch"); n != 0 {
		t.Fatalf("the second session's table has %d rows", n)
	}
}

// TestTempPrivilege: making temporary relations takes TEMP on the
// database, not rights on the session's temporary schema, as in
// PostgreSQL: a role without it is refused when the schema would be made
// (42501, naming the database) and, once it exists, may only use it.
func TestTempPrivilege(t *testing.T) {
	c, _ := startSQL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	denied := func(q, msg string) {
		t.Helper()
		_, err := c.Exec(ctx, q)
		if pgCode(err) != "42501" || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s: got %v, want 42501 %q", q, err, msg)
		}
	}
	var db string
	if err := c.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	exec("CREATE ROLE tp_r")
	exec("SET ROLE tp_r")
	exec("CREATE TEMP TABLE tp_ok (a INT)") // PUBLIC has TEMP
	exec("DROP TABLE tp_ok")
	exec("RESET ROLE")
	exec("DISCARD TEMP")
	exec(`REVOKE TEMP ON DATABASE "` + db + `" FROM PUBLIC`)
	exec("SET ROLE tp_r")
	denied("CREATE TEMP TABLE tp_x (a INT)", `permission denied to create temporary tables in database "`+db+`"`)
	exec("RESET ROLE")
	exec("CREATE TEMP TABLE tp_y (a INT)")
	exec("SET ROLE tp_r")
	denied("CREATE TEMP TABLE tp_x (a INT)", "permission denied for schema pg_temp_")
	exec("RESET ROLE")
	exec(`GRANT TEMP ON DATABASE "` + db + `" TO tp_r`)
	exec("SET ROLE tp_r")
	exec("CREATE TEMP TABLE tp_x (a INT)")
}
