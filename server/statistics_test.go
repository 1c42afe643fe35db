package server

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
)

// TestAutoStatistics: rows written through one node make that node
// collect the table's statistics in the background once there are enough
// of them (500 plus a fifth of the rows counted last time), and every
// node sees them. (sql's TestAutoStatsSetting covers the setting.)
func TestAutoStatistics(t *testing.T) {
	nodes := sqlClusterWith(t, func(cfg *Config) { cfg.AutoStatsAsOf = 100 * time.Millisecond })
	ctx := context.Background()
	a, b := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1])
	exec := func(q string) {
		t.Helper()
		if _, err := a.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE autostats (k INT PRIMARY KEY, v INT)")
	exec("INSERT INTO autostats SELECT i, i % 7 FROM generate_series(1, 300) AS i")
	exec("INSERT INTO autostats SELECT i, i % 7 FROM generate_series(301, 600) AS i")
	// v's row of SHOW STATISTICS, through the other node.
	stats := func() (name string, rows, distinct int64, err error) {
		res, err := b.Query(ctx, "SHOW STATISTICS FOR TABLE autostats")
		if err != nil {
			return "", 0, 0, err
		}
		defer res.Close()
		for res.Next() {
			var cols []string
			var created time.Time
			var nulls, size int64
			var n string
			var r, d int64
			if err := res.Scan(&n, &cols, &created, &r, &d, &nulls, &size); err != nil {
				return "", 0, 0, err
			}
			if len(cols) == 1 && cols[0] == "v" {
				name, rows, distinct = n, r, d
			}
		}
		return name, rows, distinct, res.Err()
	}
	var rows0 int64
	waitFor(t, 30*time.Second, func() error {
		name, rows, distinct, err := stats()
		if err != nil {
			return err
		}
		if name != "__auto__" || rows < 500 || distinct != 7 {
			return errors.Newf("statistics %s: %d rows, %d distinct", name, rows, distinct)
		}
		rows0 = rows
		return nil
	})
	var reltuples int64
	if err := b.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE relname = 'autostats'").Scan(&reltuples); err != nil || reltuples != rows0 {
		t.Fatalf("pg_class.reltuples %d (%v), statistics %d rows", reltuples, err, rows0)
	}

	// More writes, a fifth of the rows and 500 more, refresh them again.
	exec("INSERT INTO autostats SELECT i, i % 7 FROM generate_series(601, 1300) AS i")
	waitFor(t, 30*time.Second, func() error {
		if _, rows, _, err := stats(); err != nil || rows != 1300 {
			return errors.Newf("statistics of %d rows (%v), want 1300", rows, err)
		}
		return nil
	})
}
