package sql

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/stop"
)

// Automatic statistics. Each node counts the rows its statements write
// to each table; once a table's count passes autoStatsMinRows plus
// autoStatsFraction of the rows its statistics last counted
// (CockroachDB's defaults: 500 and a fifth), the node collects the
// table's statistics again in the background, unless the cluster setting
// sql.stats.automatic_collection.enabled is false. A node counts only its
// own statements' writes: on a cluster, whichever node sees enough of
// them refreshes the table.
//
// As in CockroachDB, one loop per node collects, one table at a time,
// reading the table as it was a while ago (asOf, by default
// DefaultAutoStatsAsOf): at a timestamp the writers have left behind, its
// reads wait for no intent and push no writer. So a table is collected
// asOf after it fell due, and the rows counted since stay counted. A collection reads the
// whole table, and a bulk load passes the threshold again and again: the
// loop starts the next collection only once autoStatsIdle times the last
// one's duration has passed, so that collecting takes at most a tenth of
// the node's time.
const (
	autoStatsMinRows  = 500
	autoStatsFraction = 0.2
	autoStatsIdle     = 9
	// autoStatsSetting turns the refresh off cluster-wide.
	autoStatsSetting = "sql.stats.automatic_collection.enabled"
	// DefaultAutoStatsAsOf is how far in the past a background collection
	// reads.
	DefaultAutoStatsAsOf = 30 * time.Second
)

type autoStats struct {
	ex   *Executor
	asOf time.Duration
	wake chan struct{}

	mu      sync.Mutex
	changed map[uint32]int64
	// due are the tables whose count passed the minimum, for the loop to
	// weigh against their row counts; retry those whose collection
	// failed, with when to try again.
	due   map[uint32]dueTable
	retry map[uint32]time.Time
}

// dueTable is when a table's count passed the minimum and what it was
// then: a collection that reads as of then or later sees those rows, and
// takes them off the count when it is done.
type dueTable struct {
	since time.Time
	count int64
	// threshold is the changed rows the loop last found the table needs
	// (0: not weighed yet); writes wake the loop only when they cross it.
	threshold int64
}

// StartAutoStats makes the executor refresh the statistics of tables
// whose rows changed enough, reading them as of asOf ago, in a task of
// st. Without it (the SQL layer's own tests) statistics change only by
// ANALYZE.
func (ex *Executor) StartAutoStats(st *stop.Stopper, asOf time.Duration) error {
	a := &autoStats{ex: ex, asOf: asOf, wake: make(chan struct{}, 1),
		changed: map[uint32]int64{}, due: map[uint32]dueTable{}, retry: map[uint32]time.Time{}}
	ex.autoStats = a
	return st.RunAsyncTask("auto-stats", a.loop)
}

// noteWrites counts a statement's written rows per table and wakes the
// loop when one has had the minimum (it then weighs them against their
// row counts).
func (a *autoStats) noteWrites(written map[uint32]int) {
	if a == nil || len(written) == 0 {
		return
	}
	now := a.ex.now()
	a.mu.Lock()
	wake := false
	for table, n := range written {
		before := a.changed[table]
		a.changed[table] += int64(n)
		if a.changed[table] < autoStatsMinRows {
			continue
		}
		// Wake the loop when a table falls due, or crosses the threshold
		// it was found below; not at every write after (each wake-up was
		// ~2.5% of a one-row INSERT's CPU).
		d, ok := a.due[table]
		if !ok {
			a.due[table] = dueTable{since: now, count: a.changed[table]}
			wake = true
		} else if d.threshold > 0 && before < d.threshold && a.changed[table] >= d.threshold {
			wake = true
		}
	}
	a.mu.Unlock()
	if wake {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
}

// loop collects the statistics of the tables that are due, one at a
// time, until ctx ends.
func (a *autoStats) loop(ctx context.Context) {
	var notBefore time.Time // the idle time after the last collection
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		table, at, ok := a.next(ctx)
		if ok && at.Before(notBefore) {
			at = notBefore
		}
		wait := time.Hour
		if ok {
			wait = at.Sub(a.ex.now())
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-a.wake:
				continue
			case <-timer.C:
				continue // weigh again: the table may have been dropped
			}
		}
		start := a.ex.now()
		found, err := a.refresh(ctx, table)
		end := a.ex.now()
		notBefore = end.Add(autoStatsIdle * end.Sub(start))
		a.mu.Lock()
		switch {
		case err != nil && ctx.Err() != nil:
			a.mu.Unlock()
			return
		case err != nil || !found:
			// Failed, or too young to read as of asOf ago: again later.
			a.retry[table] = end.Add(a.asOf)
		default:
			// The rows counted when the table fell due are in the
			// statistics; those since may not be.
			a.changed[table] -= a.due[table].count
			delete(a.due, table)
			delete(a.retry, table)
			if a.changed[table] >= autoStatsMinRows {
				a.due[table] = dueTable{since: end, count: a.changed[table]}
			} else if a.changed[table] <= 0 {
				delete(a.changed, table)
			}
		}
		a.mu.Unlock()
	}
}

// next returns the due table to collect first (the one with the most
// changed rows past its threshold) and when; ok is false if none is due.
func (a *autoStats) next(ctx context.Context) (table uint32, at time.Time, ok bool) {
	a.mu.Lock()
	candidates := make(map[uint32]int64, len(a.due))
	for t := range a.due {
		candidates[t] = a.changed[t]
	}
	a.mu.Unlock()
	// It may start asOf after it fell due (a read as of asOf ago then
	// sees the rows counted), or at its retry time.
	defer func() {
		if !ok {
			return
		}
		a.mu.Lock()
		d := a.due[table]
		at = d.since.Add(a.asOf)
		if r := a.retry[table]; r.After(at) {
			at = r
		}
		a.mu.Unlock()
	}()
	best := -1.0
	for t, changed := range candidates {
		var rows int64
		if s := a.ex.stats.get(ctx, t); s != nil {
			rows = s.RowCount
		}
		threshold := autoStatsMinRows + autoStatsFraction*float64(rows)
		if float64(changed) < threshold {
			a.mu.Lock()
			if d, ok := a.due[t]; ok {
				d.threshold = int64(math.Ceil(threshold))
				a.due[t] = d
			}
			a.mu.Unlock()
			continue
		}
		if r := float64(changed) / threshold; r > best {
			best, table, ok = r, t, true
		}
	}
	return table, at, ok
}

// refresh collects table's statistics, reading it as of asOf ago where
// the store keeps history (sql/memkv does not: then in the present), and
// stores them; it reports false if the table did not exist yet at that
// time. A dropped table, or the setting off, is done with.
func (a *autoStats) refresh(ctx context.Context, table uint32) (bool, error) {
	ex := a.ex
	defer ex.stats.forget(table)
	on, exists := true, false
	if err := kvapi.RunTxn(ctx, ex.db, 3, 100*time.Millisecond, func(txn kvapi.Txn) error {
		settings, err := catalog.ListSettings(ctx, txn)
		if err != nil {
			return err
		}
		if v, err := strconv.ParseBool(settings[autoStatsSetting]); err == nil {
			on = v
		}
		d, err := catalog.GetTableByID(ctx, txn, table)
		exists = d != nil && d.HasRows() && !d.Unpopulated
		return err
	}); err != nil || !on || !exists {
		return true, err
	}
	var s *catalog.TableStatistics
	collect := func(txn kvapi.Txn) error {
		d, err := catalog.GetTableByID(ctx, txn, table)
		if err != nil || d == nil || !d.HasRows() || d.Unpopulated {
			return err
		}
		r := &runner{ctx: ctx, txn: txn, mem: ex.mem.NewAccount()}
		defer r.mem.Close()
		s, err = collectStatistics(r, d, ex.now().UnixNano())
		return err
	}
	var err error
	if hdb, ok := ex.db.(kvapi.HistoricalDB); ok {
		var txn kvapi.Txn
		ts := hlc.Timestamp{WallTime: ex.now().Add(-a.asOf).UnixNano()}
		if txn, err = hdb.NewHistoricalTxn(ctx, ts); err == nil {
			err = collect(txn)
			_ = txn.Rollback(ctx)
		}
		if pgerror.CodeOf(err) == pgerror.CodeSnapshotTooOld {
			// The table's zone keeps less history than asOf
			// (gc.ttlseconds): read the present.
			err = kvapi.RunTxn(ctx, ex.db, 3, 100*time.Millisecond, collect)
		}
	} else {
		err = kvapi.RunTxn(ctx, ex.db, 3, 100*time.Millisecond, collect)
	}
	if err != nil || s == nil {
		return false, err
	}
	s.Name = autoStatsName
	return true, kvapi.RunTxn(ctx, ex.db, 3, 100*time.Millisecond, func(txn kvapi.Txn) error {
		if d, err := catalog.GetTableByID(ctx, txn, table); err != nil || d == nil {
			return err // dropped meanwhile
		}
		return catalog.PutStatistics(ctx, txn, table, s)
	})
}
