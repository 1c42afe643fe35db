package clients

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// updatePsql regenerates testdata/psql/smoke.expected from PostgreSQL 15:
//
//	MERIDIAN_TEST_PG_URL=postgres://USER:PASS@HOST:PORT/postgres go test ./clients -run 'TestPsql$' -update-psql
//
// It runs the same script there as the same user, root (a role the
// generation creates with LOGIN CREATEDB and drops afterwards), in a
// database of the same name and collation that root owns, so nothing of
// the output is rewritten. (As root, not as another role: Meridian does
// not record a table's owner yet, relowner is always root.)
var updatePsql = flag.Bool("update-psql", false, "regenerate testdata/psql/smoke.expected from the PostgreSQL at MERIDIAN_TEST_PG_URL")

// TestPsql runs testdata/psql/smoke.sql with psql 15: \l \dn \dt \d \di
// \du, \copy in text and CSV, \x, and three errors whose SQLSTATEs the
// script echoes. The output must be PostgreSQL's, byte for byte.
func TestPsql(t *testing.T) {
	psql := requireTool(t, "psql", "Debian's postgresql-client; .ci/run installs it")
	const expected = "testdata/psql/smoke.expected"
	if *updatePsql {
		pg := os.Getenv("MERIDIAN_TEST_PG_URL")
		if pg == "" {
			t.Fatal("-update-psql needs MERIDIAN_TEST_PG_URL")
		}
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, pg)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(ctx)
		for _, q := range []string{"DROP DATABASE IF EXISTS psql_smoke", "DROP ROLE IF EXISTS clients_smoke", "DROP ROLE IF EXISTS root",
			"CREATE ROLE root LOGIN CREATEDB PASSWORD 'root'", "CREATE ROLE clients_smoke LOGIN CREATEDB",
			"CREATE DATABASE psql_smoke OWNER root LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		defer func() {
			for _, q := range []string{"DROP DATABASE IF EXISTS psql_smoke", "DROP ROLE IF EXISTS clients_smoke", "DROP ROLE IF EXISTS root"} {
				if _, err := admin.Exec(ctx, q); err != nil {
					t.Errorf("%s: %v", q, err)
				}
			}
		}()
		cfg := admin.Config()
		url := fmt.Sprintf("postgres://root:root@%s:%d/psql_smoke?sslmode=disable", cfg.Host, cfg.Port)
		out := runPsqlScript(t, psql, url)
		if err := os.WriteFile(expected, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	url := newDatabase(t, "psql_smoke")
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "DROP ROLE IF EXISTS clients_smoke; CREATE ROLE clients_smoke LOGIN CREATEDB"); err != nil {
		t.Fatal(err)
	}
	out := runPsqlScript(t, psql, url)
	want, err := os.ReadFile(expected)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Fatalf("psql printed:\n%s\nPostgreSQL 15 printed (%s):\n%s", out, expected, want)
	}
}

// runPsqlScript runs smoke.sql from its directory (\copy reads files
// beside it) and returns what psql printed, errors included.
func runPsqlScript(t *testing.T, psql, url string) string {
	t.Helper()
	return run(t, 30*time.Second, "testdata/psql", []string{"PGTZ=UTC", "PGDATESTYLE=ISO, MDY"}, psql, "-X", "-d", url, "-f", "smoke.sql")
}
