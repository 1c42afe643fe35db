package txn

import (
	"context"
	"testing"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

// testCluster is an in-process cluster (real Pebble stores, three nodes)
// with ranges 2 and 3, and a DB over it.
type testCluster struct {
	*kvtest.Cluster
	db *DB
}

func newTestCluster(t *testing.T, opts Options) *testCluster {
	t.Helper()
	return newTestClusterWith(t, opts, kvtest.Options{Nodes: 3})
}

func newTestClusterWith(t testing.TB, opts Options, copts kvtest.Options) *testCluster {
	t.Helper()
	return newTestClusterRanges(t, opts, copts, 2)
}

// newTestClusterRanges is newTestClusterWith over ranges 2..ranges+1 (key
// addresses them as key(0..ranges-1, …)).
func newTestClusterRanges(t testing.TB, opts Options, copts kvtest.Options, ranges int) *testCluster {
	t.Helper()
	c := kvtest.NewClusterWithRanges(t, copts, ranges)
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = 50 * time.Millisecond
	}
	// The cluster's manual clock follows real time, as a real clock would:
	// a frozen one leaves commit timestamps pushed into the future (to
	// readers' uncertainty limits, until observed timestamps exist) ahead
	// of every clock for good. Tests still jump it (heartbeat expiry).
	c.FollowRealTime()
	clock := hlc.NewClock(c.Manual.UnixNano, 0)
	return &testCluster{Cluster: c, db: NewDB(c.KeySender(), clock, c.Stopper, opts)}
}

// key returns a key in range 2+r (ranges 2 and 3 in newTestCluster).
func key(r int, s string) []byte {
	return kvtest.RangeKey(kvserver.RangeID(2+r), s)
}

// waitFor waits for cond, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := hlc.PhysicalNow().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if hlc.PhysicalNow().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// testCtx bounds a test against hangs. It is no speed limit: the bank
// tests take 2-18 s on a loaded 2-core machine (20 s was once too short
// there in make test).
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
