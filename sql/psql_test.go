package sql_test

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// TestPsqlListsRelations runs psql's \dt and \dv, whose catalog queries
// (pg_class, pg_namespace, pg_am, pg_get_userbyid, pg_table_is_visible,
// !~) must answer as PostgreSQL's would.
func TestPsqlListsRelations(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (.ci/run installs postgresql-client)")
	}
	c, url := startSQL(t)
	ctx := context.Background()
	for _, q := range []string{"CREATE TABLE people (id INT PRIMARY KEY, name TEXT)", "CREATE TABLE pets (id INT PRIMARY KEY)", "CREATE VIEW names AS SELECT name FROM people"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, psql, "-X", "-d", url, "-c", `\dt`, "-c", `\dv`).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	want := `        List of relations
 Schema |  Name  | Type  | Owner 
--------+--------+-------+-------
 public | people | table | root
 public | pets   | table | root
(2 rows)

       List of relations
 Schema | Name  | Type | Owner 
--------+-------+------+-------
 public | names | view | root
(1 row)

`
	if string(out) != want {
		t.Fatalf("psql printed:\n%s\nwant:\n%s", out, want)
	}
}
