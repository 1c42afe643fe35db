package sql

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
)

// statsTTL is how long a node plans with statistics it read before it
// reads them again: another node's ANALYZE reaches its plans within it.
// This node's own ANALYZE replaces them at once.
const statsTTL = 10 * time.Second

// statsCache holds the table statistics (catalog.TableStatistics) the
// node's planners use, read in their own transactions rather than the
// statements': a plan is only as good as they are, never wrong for them,
// so they may be a little stale, and a statement does not pay a read for
// them (nor conflict on them) each time.
type statsCache struct {
	db  kvapi.DB
	now func() time.Time

	mu      sync.Mutex
	entries map[uint32]statsEntry
	// generation counts changes of the statistics the node plans with:
	// a cached plan is built again once it moved (plan_cache.go).
	generation atomic.Uint64
}

type statsEntry struct {
	stats *catalog.TableStatistics // nil: never analyzed
	read  time.Time
}

func newStatsCache(db kvapi.DB, now func() time.Time) *statsCache {
	return &statsCache{db: db, now: now, entries: map[uint32]statsEntry{}}
}

// get returns table's statistics, nil if it has none (or they cannot be
// read now: the plan does without).
func (c *statsCache) get(ctx context.Context, table uint32) *catalog.TableStatistics {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[table]
	c.mu.Unlock()
	if ok && now.Sub(e.read) < statsTTL {
		return e.stats
	}
	var s *catalog.TableStatistics
	err := kvapi.RunTxn(ctx, c.db, 3, 10*time.Millisecond, func(txn kvapi.Txn) error {
		var err error
		s, err = catalog.GetStatistics(ctx, txn, table)
		return err
	})
	if err != nil {
		return e.stats
	}
	c.mu.Lock()
	if old, ok := c.entries[table]; ok && !sameStats(old.stats, s) {
		c.generation.Add(1)
	}
	c.entries[table] = statsEntry{stats: s, read: now}
	c.mu.Unlock()
	return s
}

func sameStats(a, b *catalog.TableStatistics) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.CreatedNanos == b.CreatedNanos
}

// forget drops table's entry: the next plan reads its statistics anew.
func (c *statsCache) forget(table uint32) {
	c.mu.Lock()
	delete(c.entries, table)
	c.mu.Unlock()
	c.generation.Add(1)
}
