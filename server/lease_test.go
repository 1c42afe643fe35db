package server

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func sqlCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestDescriptorLeases: on a three-node cluster, statements take table
// descriptors from leases (no descriptor read in the steady state), and a
// schema change through any node is seen by every node the moment it
// returns — also while other nodes write the table, whose rows then all
// follow the new schema.
func TestDescriptorLeases(t *testing.T) {
	nodes := sqlCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conns := []*pgx.Conn{sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1]), sqlConnect(t, nodes[2])}
	exec := func(i int, q string, args ...any) {
		t.Helper()
		if _, err := conns[i].Exec(ctx, q, args...); err != nil {
			t.Fatalf("n%d: %s: %v", i+1, q, err)
		}
	}
	exec(0, "CREATE TABLE t (k INT PRIMARY KEY, v INT NOT NULL)")
	exec(0, "INSERT INTO t SELECT i, i FROM generate_series(1, 10) AS g(i)")

	// The steady state: every point select on a node is a lease hit.
	m := nodes[1].leases.Load()
	for range 2 {
		exec(1, "SELECT v FROM t WHERE k = 1")
	}
	hits, acq := m.Hits.Load(), m.Acquisitions.Load()
	const selects = 50
	for i := range selects {
		var v int
		if err := conns[1].QueryRow(ctx, "SELECT v FROM t WHERE k = $1", 1+i%10).Scan(&v); err != nil || v != 1+i%10 {
			t.Fatalf("select: %d, %v", v, err)
		}
	}
	if h, a := m.Hits.Load()-hits, m.Acquisitions.Load()-acq; h < selects || a != 0 {
		t.Fatalf("%d selects: %d lease hits, %d acquisitions; want every select a hit", selects, h, a)
	}

	// A column added through n3 is there on n1 and n2 at once.
	exec(0, "SELECT * FROM t")
	exec(2, "ALTER TABLE t ADD COLUMN c INT NOT NULL DEFAULT 7")
	for i := range 2 {
		var n int
		if err := conns[i].QueryRow(ctx, "SELECT count(*) FROM t WHERE c = 7").Scan(&n); err != nil || n != 10 {
			t.Fatalf("n%d right after ADD COLUMN: %d rows with c = 7, %v", i+1, n, err)
		}
	}

	// Writers on n1 and n2 while n3 adds a column: no row is written in
	// the old shape after the change (it would read back NULL).
	var stop atomic.Bool
	var wg sync.WaitGroup
	var acked sync.Map
	errs := make(chan error, 2)
	for w := range 2 {
		c := sqlConnect(t, nodes[w])
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; !stop.Load(); k++ {
				key := 1000 + w*100000 + k
				_, err := c.Exec(ctx, "INSERT INTO t (k, v) VALUES ($1, 0)", key)
				switch {
				case err == nil:
					acked.Store(key, true)
				case sqlCode(err) == "40001":
				default:
					errs <- errors.Wrapf(err, "writer on n%d", w+1)
					return
				}
			}
		}()
	}
	// Let both writers get going, through their leases, first.
	waitFor(t, time.Minute, func() error {
		n := 0
		acked.Range(func(any, any) bool { n++; return n < 20 })
		if n < 20 {
			return errors.New("writers have not started")
		}
		return nil
	})
	exec(2, "ALTER TABLE t ADD COLUMN d INT NOT NULL DEFAULT 5")
	// Writes go on under the new version for a while.
	before := 0
	acked.Range(func(any, any) bool { before++; return true })
	waitFor(t, time.Minute, func() error {
		n := 0
		acked.Range(func(any, any) bool { n++; return true })
		if n < before+20 {
			return errors.New("no writes after the schema change")
		}
		return nil
	})
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var nulls, total int
	if err := conns[0].QueryRow(ctx, "SELECT (SELECT count(*) FROM t WHERE d IS NULL), (SELECT count(*) FROM t)").Scan(&nulls, &total); err != nil {
		t.Fatal(err)
	}
	want := 10
	acked.Range(func(any, any) bool { want++; return true })
	if nulls != 0 || total != want {
		t.Fatalf("after ADD COLUMN d under concurrent inserts: %d rows with d NULL (written in the old shape), %d rows, want %d", nulls, total, want)
	}
	t.Logf("%d inserts acknowledged around the schema change", want-10)

	// A transaction that used the old version and writes after the change
	// fails, or its row follows the new version.
	tx, err := conns[0].Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT * FROM t WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	exec(2, "ALTER TABLE t ADD COLUMN e INT DEFAULT 1")
	_, err = tx.Exec(ctx, "INSERT INTO t (k, v) VALUES (999, 0)")
	if err == nil {
		err = tx.Commit(ctx)
	} else {
		_ = tx.Rollback(ctx)
	}
	switch {
	case sqlCode(err) == "40001":
	case err != nil:
		t.Fatalf("old-version transaction: %v", err)
	default:
		var e *int
		if err := conns[1].QueryRow(ctx, "SELECT e FROM t WHERE k = 999").Scan(&e); err != nil || e == nil || *e != 1 {
			t.Fatalf("row written by an old-version transaction: e = %v, %v", e, err)
		}
	}

	// Renames and drops are seen at once too.
	exec(0, "CREATE TABLE u (k INT PRIMARY KEY)")
	for i := range 3 {
		exec(i, "SELECT * FROM u")
	}
	exec(1, "ALTER TABLE u RENAME TO w")
	if _, err := conns[0].Exec(ctx, "SELECT * FROM u"); sqlCode(err) != "42P01" {
		t.Fatalf("n1 reads u after its rename on n2: %v, want 42P01", err)
	}
	exec(2, "SELECT * FROM w")
	exec(2, "DROP TABLE w")
	for i := range 2 {
		if _, err := conns[i].Exec(ctx, "SELECT * FROM w"); sqlCode(err) != "42P01" {
			t.Fatalf("n%d reads w after its drop on n3: %v, want 42P01", i+1, err)
		}
	}
}

// TestForeignKeyDescriptorsLeased: a statement that checks a foreign key
// takes the other table's descriptor from a lease too (it used to read it
// from KV in every statement), and a change to that table through another
// node is seen at once.
func TestForeignKeyDescriptorsLeased(t *testing.T) {
	nodes := sqlCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c0, c1 := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1])
	for _, q := range []string{
		"CREATE TABLE fkl_parent (id INT PRIMARY KEY)",
		"CREATE TABLE fkl_child (id INT PRIMARY KEY, p INT REFERENCES fkl_parent (id))",
		"INSERT INTO fkl_parent SELECT i FROM generate_series(1, 10) AS g(i)",
	} {
		if _, err := c0.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	m := nodes[1].leases.Load()
	insert := func(id, p int) error {
		_, err := c1.Exec(ctx, "INSERT INTO fkl_child VALUES ($1, $2)", id, p)
		return err
	}
	for i := range 2 {
		if err := insert(100+i, 1); err != nil {
			t.Fatal(err)
		}
	}
	hits, acq := m.Hits.Load(), m.Acquisitions.Load()
	const inserts = 20
	for i := range inserts {
		if err := insert(i, 1+i%10); err != nil {
			t.Fatal(err)
		}
	}
	if h, a := m.Hits.Load()-hits, m.Acquisitions.Load()-acq; h < 2*inserts || a != 0 {
		t.Fatalf("%d inserts: %d lease hits, %d acquisitions; want two hits (child, parent) per insert", inserts, h, a)
	}
	if err := insert(1000, 99); sqlCode(err) != "23503" {
		t.Fatalf("insert without a parent row: %v", err)
	}
	// The foreign key dropped through n1 no longer holds on n2.
	if _, err := c0.Exec(ctx, "ALTER TABLE fkl_child DROP CONSTRAINT fkl_child_p_fkey"); err != nil {
		t.Fatal(err)
	}
	if err := insert(1000, 99); err != nil {
		t.Fatalf("insert after the foreign key was dropped: %v", err)
	}
}
