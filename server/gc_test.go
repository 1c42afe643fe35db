package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
)

// TestSQLGCTTL: a table whose zone sets gc.ttlseconds = 1 loses its old
// versions a second after they were overwritten, on a three-node cluster:
// a read AS OF SYSTEM TIME before the overwrites is then refused with
// SQLSTATE 72000 (PostgreSQL's "snapshot too old"), while reads of the
// present see every row, and another table (RANGE default's four hours)
// keeps its history.
func TestSQLGCTTL(t *testing.T) {
	nodes := sqlClusterWith(t, func(cfg *Config) {
		cfg.Store.Queues = &kvserver.QueueSettings{EnableSplits: true, LoadSplitQPS: -1,
			EnableGC: true, GCMinBytes: 1, Interval: 50 * time.Millisecond}
	})
	c := sqlConnect(t, nodes[0])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, tbl := range []string{"short", "long"} {
		exec("CREATE TABLE " + tbl + " (k INT PRIMARY KEY, v INT)")
		exec("INSERT INTO " + tbl + " SELECT i, 0 FROM generate_series(1, 20) AS g(i)")
	}
	exec("ALTER TABLE short CONFIGURE ZONE USING gc.ttlseconds = 1")
	before := hlc.PhysicalNow().UnixNano()
	for range 3 {
		exec("UPDATE short SET v = v + 1")
		exec("UPDATE long SET v = v + 1")
	}
	sum := func(q string) (int, error) {
		var n int
		err := c.QueryRow(ctx, q).Scan(&n)
		return n, err
	}
	waitFor(t, 45*time.Second, func() error {
		_, err := sum(fmt.Sprintf("SELECT sum(v) FROM short AS OF SYSTEM TIME '%d'", before))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "72000" {
			return errors.Newf("a read of short from before the updates: %v, want SQLSTATE 72000", err)
		}
		return nil
	})
	if n, err := sum("SELECT sum(v) FROM short"); err != nil || n != 60 {
		t.Fatalf("short now: %d, %v; want 60", n, err)
	}
	if n, err := sum(fmt.Sprintf("SELECT sum(v) FROM long AS OF SYSTEM TIME '%d'", before)); err != nil || n != 0 {
		t.Fatalf("long as it was: %d, %v; want 0", n, err)
	}
	if n, err := sum("SELECT sum(v) FROM long"); err != nil || n != 60 {
		t.Fatalf("long now: %d, %v; want 60", n, err)
	}
	// The threshold can pass the read's time before it passes the last
	// update: the queue removes the rest on its later runs.
	waitFor(t, 45*time.Second, func() error {
		var removed int64
		for _, n := range nodes {
			removed += n.store.GCStats().VersionsRemoved
		}
		if removed < 3*20 {
			return errors.Newf("the GC queues removed %d versions, want at least %d", removed, 3*20)
		}
		return nil
	})
}
