package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/server/serverpb"
)

// inserter inserts rows with increasing keys through one node until
// stopped, reconnecting after errors, and records what was acknowledged,
// what may have been written (an error after the statement was sent) and
// the longest time between two acknowledged inserts.
type inserter struct {
	url   string
	base  int
	mu    sync.Mutex
	acked []int
	// maybe are keys whose insert failed after it was sent.
	maybe   []int
	last    time.Time
	maxGap  time.Duration
	errs    int
	lastErr error
	// history is the first errors seen, for the log.
	history []string
	// anomalies are statements that failed with a definite error (not
	// 40003, not a lost connection) but had committed: their retry found
	// the row.
	anomalies []string
}

func (w *inserter) run(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	var prevErr error // the error of the last attempt at key k, if any
	for k := w.base; ctx.Err() == nil; {
		if conn == nil {
			c, err := pgx.Connect(ctx, w.url)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				w.failed(err)
				continue
			}
			conn = c
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := conn.Exec(sctx, "INSERT INTO load VALUES ($1, $1)", k)
		cancel()
		if ctx.Err() != nil {
			return // stopped: the last attempt's outcome does not matter
		}
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" && prevErr != nil {
				w.mu.Lock()
				w.anomalies = append(w.anomalies, fmt.Sprintf("key %d: an attempt failed with %v, yet the row was written", k, prevErr))
				w.mu.Unlock()
				prevErr = nil
				k++
				continue
			}
			prevErr = err
			if !errors.As(err, &pe) || pe.Code == "40003" {
				w.mu.Lock()
				w.maybe = append(w.maybe, k)
				w.mu.Unlock()
				k++
				prevErr = nil
			}
			if !errors.As(err, &pe) {
				_ = conn.Close(context.Background())
				conn = nil
			}
			w.failed(err)
			continue
		}
		prevErr = nil
		now := hlc.PhysicalNow()
		w.mu.Lock()
		w.acked = append(w.acked, k)
		if !w.last.IsZero() && now.Sub(w.last) > w.maxGap {
			w.maxGap = now.Sub(w.last)
		}
		w.last = now
		w.mu.Unlock()
		k++
	}
}

func (w *inserter) failed(err error) {
	w.mu.Lock()
	w.errs++
	w.lastErr = err
	if len(w.history) < 5 {
		w.history = append(w.history, err.Error())
	}
	w.mu.Unlock()
	t := time.NewTimer(20 * time.Millisecond)
	<-t.C
}

func (w *inserter) ackedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// leaseholderIndex returns the index of the node holding the most leases.
func leaseholderIndex(t *testing.T, c *procCluster) int {
	rows, err := c.nodeLS(0)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Leases > rows[j].Leases })
	for i, n := range c.nodes {
		if strings.HasSuffix(rows[0].Address, n.listen[strings.LastIndex(n.listen, ":"):]) {
			return i
		}
	}
	t.Fatalf("no node at %s", rows[0].Address)
	return -1
}

// checkConsistency runs a consistency check of every range through node i.
func (c *procCluster) checkConsistency(t *testing.T, i int) {
	t.Helper()
	admin, closeFn, err := server.DialAdmin(c.nodes[i].listen, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	waitUntil(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := admin.CheckConsistency(ctx, &serverpb.CheckConsistencyRequest{})
		if err != nil {
			return err
		}
		for _, r := range resp.Ranges {
			if r.Error != "" || r.Replicas != int32(len(c.nodes)) {
				return errors.Newf("r%d: %d replicas checked: %s", r.RangeId, r.Replicas, r.Error)
			}
		}
		return nil
	})
}

// TestClusterKillNodeUnderLoad: three processes, every range on all three;
// the node holding most leases is killed with SIGKILL during inserts
// through the other two: inserts resume (the gap is printed), no
// acknowledged row is lost; restarted, the node rejoins with its ID,
// catches up, and the replicas of every range are identical.
func TestClusterKillNodeUnderLoad(t *testing.T) {
	c := newProcCluster(t, 3, "--liveness-duration", "3s")
	c.startAll()
	c.waitFullyReplicated(0, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c.createLoadTable(ctx, t)
	victim := leaseholderIndex(t, c)
	var workers []*inserter
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		if i == victim {
			continue
		}
		w := &inserter{url: n.url(), base: len(workers) * 1_000_000}
		workers = append(workers, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(loadCtx)
		}()
	}
	acked := func() int {
		s := 0
		for _, w := range workers {
			s += w.ackedCount()
		}
		return s
	}
	waitUntil(t, time.Minute, func() error {
		if acked() < 200 {
			return errors.Newf("%d rows inserted", acked())
		}
		return nil
	})
	before := acked()
	killedAt := hlc.PhysicalNow()
	c.nodes[victim].kill()
	t.Logf("killed n%d (the most leases) after %d inserts", victim+1, before)
	waitUntil(t, time.Minute, func() error {
		if acked() < before+200 {
			return errors.Newf("%d rows inserted since the kill", acked()-before)
		}
		return nil
	})
	resumed := hlc.PhysicalNow().Sub(killedAt)
	stopLoad()
	wg.Wait()
	var gap time.Duration
	for _, w := range workers {
		gap = max(gap, w.maxGap)
		t.Logf("inserter via %s: %d acknowledged, %d errors (first: %q), longest gap %s", w.url, len(w.acked), w.errs, w.history, w.maxGap)
		for _, a := range w.anomalies {
			t.Errorf("a definite error for a write that happened: %s", a)
		}
	}
	t.Logf("GAP: inserts resumed; longest gap between acknowledged inserts %s (200 more rows %s after the kill)", gap.Round(time.Millisecond), resumed.Round(time.Millisecond))

	c.start(victim)
	c.nodes[victim].waitReady(t)
	c.waitFullyReplicated(victim, 3)
	rows, err := c.nodeLS(victim)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("after the restart the cluster has %d members, want 3 (the node keeps its ID): %+v", len(rows), rows)
	}
	c.checkConsistency(t, victim)

	// Every acknowledged row is there, read through the restarted node.
	check, err := pgx.Connect(ctx, c.nodes[victim].url())
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close(ctx)
	present := map[int]bool{}
	res, err := check.Query(ctx, "SELECT k FROM load")
	if err != nil {
		t.Fatal(err)
	}
	for res.Next() {
		var k int
		if err := res.Scan(&k); err != nil {
			t.Fatal(err)
		}
		present[k] = true
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		for _, k := range w.acked {
			if !present[k] {
				t.Fatalf("acknowledged row %d is missing", k)
			}
		}
	}
	t.Logf("all %d acknowledged rows present (%d rows in all)", acked(), len(present))
}

// TestClusterDrain: SIGTERM drains a node: statements running through it
// finish, its leases move to the others, its clients see at most a clean
// connection close, and it exits 0.
func TestClusterDrain(t *testing.T) {
	c := newProcCluster(t, 3, "--liveness-duration", "3s")
	c.startAll()
	c.waitFullyReplicated(0, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c.createLoadTable(ctx, t)
	target := leaseholderIndex(t, c)
	// Clients of the drained node: each runs inserts until its connection
	// closes; any SQL error fails the test.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []int
	var sqlErrs []error
	for w := range 4 {
		conn, err := pgx.Connect(ctx, c.nodes[target].url())
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close(context.Background())
			for k := w * 1_000_000; ; k++ {
				_, err := conn.Exec(ctx, "INSERT INTO load VALUES ($1, $1)", k)
				var pe *pgconn.PgError
				switch {
				case err == nil:
					mu.Lock()
					acked = append(acked, k)
					mu.Unlock()
				case errors.As(err, &pe):
					mu.Lock()
					sqlErrs = append(sqlErrs, err)
					mu.Unlock()
					return
				default:
					return // the connection closed
				}
			}
		}()
	}
	waitUntil(t, time.Minute, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 100 {
			return errors.Newf("%d inserted", len(acked))
		}
		return nil
	})
	if err := c.nodes[target].cmd.Process.Signal(os.Signal(sigterm)); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[target].exited(time.Minute); err != nil {
		t.Fatalf("the drained node: %v", err)
	}
	wg.Wait()
	out := c.nodes[target].out.String()
	if !strings.Contains(out, "Drained:") || !strings.Contains(out, "leases left: 0") {
		t.Fatalf("the drain did not move every lease:\n%s", tail(out, 20))
	}
	for _, err := range sqlErrs {
		t.Errorf("a client of the drained node saw an error: %v", err)
	}
	// The other nodes serve at once: their leases are valid, nobody waits
	// for the drained node's leases to expire.
	other := (target + 1) % 3
	conn, err := pgx.Connect(ctx, c.nodes[other].url())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM load").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < len(acked) {
		t.Fatalf("%d rows, %d acknowledged", n, len(acked))
	}
	t.Logf("%d inserts acknowledged through the drained node; %s", len(acked), drainedLine(out))
}

func drainedLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Drained:") {
			return l
		}
	}
	return ""
}

// TestClusterDecommission: four nodes, three replicas per range; a node
// holding replicas is decommissioned while inserts go on through the
// others: its replicas move away, it ends DECOMMISSIONED with none, and no
// insert fails.
func TestClusterDecommission(t *testing.T) {
	c := newProcCluster(t, 4, "--liveness-duration", "3s")
	c.startAll()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c.createLoadTable(ctx, t)
	// Wait until the ranges have three replicas each (on three of four).
	var rows []nodeRow
	waitUntil(t, 2*time.Minute, func() error {
		var err error
		if rows, err = c.nodeLS(0); err != nil {
			return err
		}
		total, leases := int32(0), int32(0)
		for _, r := range rows {
			total += r.Ranges
			leases += r.Leases
		}
		if len(rows) != 4 || leases == 0 || total != 3*leases {
			return errors.Newf("replicas %d, leases %d: %+v", total, leases, rows)
		}
		return nil
	})
	victimID := int32(0)
	for _, r := range rows {
		if r.ID != 1 && r.Ranges > 0 {
			victimID = r.ID
		}
	}
	if victimID == 0 {
		t.Fatalf("no node but n1 holds replicas: %+v", rows)
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	w := &inserter{url: c.nodes[0].url()}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.run(loadCtx)
	}()
	out, err := runCLI(t, "node", "decommission", itoa(victimID), "--insecure", "--host", c.nodes[0].listen, "--timeout", "3m")
	stopLoad()
	wg.Wait()
	if err != nil {
		t.Fatalf("decommission: %v\n%s", err, out)
	}
	t.Logf("meridian node decommission %d:\n%s", victimID, out)
	if w.errs > 0 || len(w.acked) == 0 {
		t.Fatalf("inserts during the decommission: %d acknowledged, %d failed (last: %v)", len(w.acked), w.errs, w.lastErr)
	}
	// The command returns once no range descriptor names the node; the
	// node's own store drops its removed replicas just after (replica GC),
	// which is what node ls counts.
	waitUntil(t, time.Minute, func() error {
		rows, err := c.nodeLS(0)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.ID == victimID && (r.Membership != "DECOMMISSIONED" || r.Ranges != 0) {
				return errors.Newf("after the decommission: %+v", r)
			}
		}
		return nil
	})
	t.Logf("%d inserts during the decommission, none failed", len(w.acked))
}

const sigterm = syscall.SIGTERM

func itoa(i int32) string { return strconv.Itoa(int(i)) }

// createLoadTable creates the table the inserters write, through node 1.
func (c *procCluster) createLoadTable(ctx context.Context, t *testing.T) {
	t.Helper()
	setup, err := pgx.Connect(ctx, c.nodes[0].url())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = setup.Close(ctx) }()
	if _, err := setup.Exec(ctx, "CREATE TABLE load (k INT PRIMARY KEY, v INT)"); err != nil {
		t.Fatal(err)
	}
}
