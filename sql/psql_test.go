package sql_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPsqlListsRelations runs psql's \dt, \dv, \di, \dt+, \l, \d TABLE
// and \du, whose catalog queries (pg_class, pg_attribute, pg_index,
// pg_constraint, format_type, pg_get_indexdef, ARRAY(subquery), = ANY,
// generate_series, ...) must answer as PostgreSQL's would.
func TestPsqlListsRelations(t *testing.T) {
	out := psqlAfter(t, []string{"CREATE TABLE people (id INT PRIMARY KEY, name TEXT NOT NULL, score NUMERIC(10,2) DEFAULT 0, nick VARCHAR(20))", "CREATE TABLE pets (id INT PRIMARY KEY)", "CREATE VIEW names AS SELECT name FROM people", "CREATE INDEX people_name ON people (name)"}, `\dt`, `\dv`, `\di`, `\dt+`, `\l`, `\d people`, `\du`, `\d+ pets`, `\d people_pkey`)
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

               List of relations
 Schema |    Name     | Type  | Owner | Table  
--------+-------------+-------+-------+--------
 public | people_name | index | root  | people
 public | people_pkey | index | root  | people
 public | pets_pkey   | index | root  | pets
(3 rows)

                                 List of relations
 Schema |  Name  | Type  | Owner | Persistence | Access method | Size | Description 
--------+--------+-------+-------+-------------+---------------+------+-------------
 public | people | table | root  | permanent   | heap          |      | 
 public | pets   | table | root  | permanent   | heap          |      | 
(2 rows)

                                         List of databases
   Name    | Owner | Encoding | Collate | Ctype | ICU Locale | Locale Provider | Access privileges 
-----------+-------+----------+---------+-------+------------+-----------------+-------------------
 defaultdb | root  | UTF8     | C       | C     |            | libc            | 
 postgres  | root  | UTF8     | C       | C     |            | libc            | 
(2 rows)

                      Table "public.people"
 Column |         Type          | Collation | Nullable | Default 
--------+-----------------------+-----------+----------+---------
 id     | integer               |           | not null | 
 name   | text                  |           | not null | 
 score  | numeric(10,2)         |           |          | 0
 nick   | character varying(20) |           |          | 
Indexes:
    "people_pkey" PRIMARY KEY, btree (id)
    "people_name" btree (name)

                                   List of roles
 Role name |                         Attributes                         | Member of 
-----------+------------------------------------------------------------+-----------
 root      | Superuser, Create role, Create DB, Replication, Bypass RLS | {}

                                          Table "public.pets"
 Column |  Type   | Collation | Nullable | Default | Storage | Compression | Stats target | Description 
--------+---------+-----------+----------+---------+---------+-------------+--------------+-------------
 id     | integer |           | not null |         | plain   |             |              | 
Indexes:
    "pets_pkey" PRIMARY KEY, btree (id)
Access method: heap

      Index "public.people_pkey"
 Column |  Type   | Key? | Definition 
--------+---------+------+------------
 id     | integer | yes  | id
primary key, btree, for table "public.people"

`
	if out != want {
		t.Fatalf("psql printed:\n%s\nwant:\n%s", out, want)
	}
}

// TestPgbench runs PostgreSQL's own benchmark client: pgbench -i's whole
// default initialization (DROP, CREATE, TRUNCATE, COPY ... FREEZE, VACUUM,
// ALTER TABLE ADD PRIMARY KEY) and then its TPC-B-like transactions.
func TestPgbench(t *testing.T) {
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		t.Skip("pgbench is not installed (.ci/run installs postgresql-client)")
	}
	c, url := startSQL(t)
	ctx := context.Background()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(cctx, pgbench, "-i", "-s", "1", url).CombinedOutput(); err != nil {
		t.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	var accounts, branches int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgbench_accounts").Scan(&accounts); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgbench_branches").Scan(&branches); err != nil {
		t.Fatal(err)
	}
	if accounts != 100000 || branches != 1 {
		t.Fatalf("loaded %d accounts and %d branches, want 100000 and 1", accounts, branches)
	}
	// memkv settles conflicts optimistically (first committer wins), and
	// every TPC-B transaction updates the one branch row: a client whose
	// retry starts just after the other client's next transaction loses
	// again, so a run of losses can be long (one of 100 transactions
	// failed after 50 tries in one of four make test runs). The cluster
	// queues such writers instead (server TestSQLContendedUpdates).
	out, err := exec.CommandContext(cctx, pgbench, "-t", "50", "-c", "2", "--max-tries=1000", url).CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "number of transactions actually processed: 100/100") {
		t.Fatalf("pgbench did not process every transaction:\n%s", out)
	}
	// Every transaction adds its delta to one account, one teller and the
	// branch, and logs it in the history: the sums agree.
	var a, tl, b, h int64
	if err := c.QueryRow(ctx, `SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers),
		(SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(delta) FROM pgbench_history)`).Scan(&a, &tl, &b, &h); err != nil {
		t.Fatal(err)
	}
	if a != h || tl != h || b != h {
		t.Fatalf("balances disagree: accounts %d, tellers %d, branches %d, history %d", a, tl, b, h)
	}
}

// TestPsqlSequences runs psql 15's \ds and \d on sequences and on a table
// with SERIAL and identity columns: the output must be PostgreSQL's.
func TestPsqlSequences(t *testing.T) {
	out := psqlAfter(t, []string{
		"CREATE TABLE orders (id SERIAL PRIMARY KEY, n BIGINT GENERATED ALWAYS AS IDENTITY, note TEXT)",
		"CREATE SEQUENCE tickets AS integer INCREMENT BY 5 CACHE 3 CYCLE",
	}, `\ds`, `\d orders`, `\d orders_id_seq`, `\d orders_n_seq`, `\d tickets`)
	want := `             List of relations
 Schema |     Name      |   Type   | Owner 
--------+---------------+----------+-------
 public | orders_id_seq | sequence | root
 public | orders_n_seq  | sequence | root
 public | tickets       | sequence | root
(3 rows)

                            Table "public.orders"
 Column |  Type   | Collation | Nullable |              Default               
--------+---------+-----------+----------+------------------------------------
 id     | integer |           | not null | nextval('orders_id_seq'::regclass)
 n      | bigint  |           | not null | generated always as identity
 note   | text    |           |          | 
Indexes:
    "orders_pkey" PRIMARY KEY, btree (id)

                   Sequence "public.orders_id_seq"
  Type   | Start | Minimum |  Maximum   | Increment | Cycles? | Cache 
---------+-------+---------+------------+-----------+---------+-------
 integer |     1 |       1 | 2147483647 |         1 | no      |     1
Owned by: public.orders.id

                        Sequence "public.orders_n_seq"
  Type  | Start | Minimum |       Maximum       | Increment | Cycles? | Cache 
--------+-------+---------+---------------------+-----------+---------+-------
 bigint |     1 |       1 | 9223372036854775807 |         1 | no      |     1
Sequence for identity column: public.orders.n

                      Sequence "public.tickets"
  Type   | Start | Minimum |  Maximum   | Increment | Cycles? | Cache 
---------+-------+---------+------------+-----------+---------+-------
 integer |     1 |       1 | 2147483647 |         5 | yes     |     3

`
	if out != want {
		t.Errorf("psql printed:\n%s\nwant (PostgreSQL 15's):\n%s", out, want)
	}
}

// TestPsqlConstraints runs psql 15's \d on tables with CHECK and foreign
// key constraints: the expected text is PostgreSQL 15's own output for the
// same statements.
func TestPsqlConstraints(t *testing.T) {
	out := psqlAfter(t, []string{
		"CREATE TABLE parent (id INT PRIMARY KEY, code TEXT UNIQUE, v INT CHECK (v > 0), CONSTRAINT parent_small CHECK (v < 1000))",
		"CREATE TABLE child (id INT PRIMARY KEY, p INT REFERENCES parent ON DELETE CASCADE, code TEXT, FOREIGN KEY (code) REFERENCES parent (code) ON UPDATE CASCADE)",
	}, `\d parent`, `\d child`)
	want := `               Table "public.parent"
 Column |  Type   | Collation | Nullable | Default 
--------+---------+-----------+----------+---------
 id     | integer |           | not null | 
 code   | text    |           |          | 
 v      | integer |           |          | 
Indexes:
    "parent_pkey" PRIMARY KEY, btree (id)
    "parent_code_key" UNIQUE CONSTRAINT, btree (code)
Check constraints:
    "parent_small" CHECK (v < 1000)
    "parent_v_check" CHECK (v > 0)
Referenced by:
    TABLE "child" CONSTRAINT "child_code_fkey" FOREIGN KEY (code) REFERENCES parent(code) ON UPDATE CASCADE
    TABLE "child" CONSTRAINT "child_p_fkey" FOREIGN KEY (p) REFERENCES parent(id) ON DELETE CASCADE

               Table "public.child"
 Column |  Type   | Collation | Nullable | Default 
--------+---------+-----------+----------+---------
 id     | integer |           | not null | 
 p      | integer |           |          | 
 code   | text    |           |          | 
Indexes:
    "child_pkey" PRIMARY KEY, btree (id)
Foreign-key constraints:
    "child_code_fkey" FOREIGN KEY (code) REFERENCES parent(code) ON UPDATE CASCADE
    "child_p_fkey" FOREIGN KEY (p) REFERENCES parent(id) ON DELETE CASCADE

`
	if out != want {
		t.Errorf("psql printed:\n%s\nwant (PostgreSQL 15's):\n%s", out, want)
	}
}

// psqlAfter runs the statements of setup on a fresh node, then psql with
// one -c per command, and returns what psql printed; the test is skipped
// where psql is not installed.
func psqlAfter(t *testing.T, setup []string, commands ...string) string {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (.ci/run installs postgresql-client)")
	}
	c, url := startSQL(t)
	ctx := context.Background()
	for _, q := range setup {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	args := []string{"-X", "-d", url}
	for _, cmd := range commands {
		args = append(args, "-c", cmd)
	}
	out, err := exec.CommandContext(cctx, psql, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	return string(out)
}
