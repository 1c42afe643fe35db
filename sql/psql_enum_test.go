package sql_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPsqlDT runs psql's \dT, \dT+ and \d over a table with an enum
// column: the pg_type, pg_enum and format_type answers must print as
// PostgreSQL 15's (the expected text was taken from psql against it;
// only the owner's name differs).
func TestPsqlDT(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (.ci/run installs postgresql-client)")
	}
	c, url := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE diary (id INT PRIMARY KEY, m mood NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, psql, "-X", "-d", url, "-c", `\dT`, "-c", `\dT+`, "-c", `\d diary`).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	want := `     List of data types
 Schema | Name | Description 
--------+------+-------------
 public | mood | 
(1 row)

                                    List of data types
 Schema | Name | Internal name | Size | Elements | Owner | Access privileges | Description 
--------+------+---------------+------+----------+-------+-------------------+-------------
 public | mood | mood          | 4    | sad     +| root  |                   | 
        |      |               |      | ok      +|       |                   | 
        |      |               |      | happy    |       |                   | 
(1 row)

               Table "public.diary"
 Column |  Type   | Collation | Nullable | Default 
--------+---------+-----------+----------+---------
 id     | integer |           | not null | 
 m      | mood    |           | not null | 
Indexes:
    "diary_pkey" PRIMARY KEY, btree (id)

`
	if got := string(out); strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Fatalf("psql printed:\n%s\nwant:\n%s", got, want)
	}
}
