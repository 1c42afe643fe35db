package server

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/liveness"
	"github.com/meridiandb/meridian/range/rangepb"
)

// testCluster is nodes started in this process the way separate processes
// start: node 1 bootstraps, the others join through it; nothing is told a
// node list or an address function. Timings are shortened for tests.
type testCluster struct {
	t   testing.TB
	dir string
	sql bool
	// tune adjusts node index i's configuration.
	tune  func(i int, cfg *Config)
	mu    sync.Mutex
	nodes []*Node // by index; nil while stopped
	addrs []string
}

// testConfig is the tuning every test node gets.
func testConfig() Config {
	return Config{
		Store:               kvserver.StoreConfig{RaftTickInterval: 20 * time.Millisecond, LeaseDuration: 2 * time.Second},
		Liveness:            liveness.Config{LivenessDuration: 2 * time.Second, TickInterval: 20 * time.Millisecond, HeartbeatTimeout: time.Second},
		ReplicateInterval:   50 * time.Millisecond,
		ZoneRefreshInterval: 100 * time.Millisecond,
		// Balancing moves leases about, which tests of other things do
		// not expect; the tests of balancing turn it on.
		DisableRebalancing:       true,
		DirectoryRefreshInterval: 200 * time.Millisecond,
		JoinTimeout:              20 * time.Second,
	}
}

// newTestCluster starts n nodes and waits until every range has a voter
// on every node (n ≤ 3) or three (n > 3).
func newTestCluster(t testing.TB, n int, withSQL bool) *testCluster {
	t.Helper()
	return newTestClusterWith(t, n, withSQL, nil)
}

// newTestClusterWith is newTestCluster with tune applied to every node's
// configuration.
func newTestClusterWith(t testing.TB, n int, withSQL bool, tune func(*Config)) *testCluster {
	t.Helper()
	var perNode func(int, *Config)
	if tune != nil {
		perNode = func(_ int, cfg *Config) { tune(cfg) }
	}
	return newTestClusterPerNode(t, n, withSQL, perNode)
}

// newTestClusterPerNode is newTestCluster with tune applied to each
// node's configuration (by its index: localities differ).
func newTestClusterPerNode(t testing.TB, n int, withSQL bool, tune func(i int, cfg *Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, dir: t.TempDir(), sql: withSQL, tune: tune, nodes: make([]*Node, n), addrs: make([]string, n)}
	t.Cleanup(c.stopAll)
	for i := range n {
		c.start(i)
	}
	c.waitReplicated(min(n, 3))
	return c
}

func (c *testCluster) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range c.nodes {
		if n != nil {
			n.Stop()
			c.nodes[i] = nil
		}
	}
}

// start starts (or restarts, on its store and old address) node index i.
func (c *testCluster) start(i int) *Node {
	c.t.Helper()
	addr := c.addrs[i]
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := testConfig()
	cfg.StoreDir, cfg.Listener = filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)), ln
	// As an operator would: every node joins through the others it knows
	// of; the first one bootstraps the cluster (only when its store is
	// new: a restart of it finds the others through them).
	cfg.Bootstrap = i == 0
	for j, a := range c.addrs {
		if j != i && a != "" {
			cfg.Join = append(cfg.Join, a)
		}
	}
	if c.sql {
		if cfg.SQLListener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			c.t.Fatal(err)
		}
	}
	if c.tune != nil {
		c.tune(i, &cfg)
	}
	n, err := Start(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.nodes[i], c.addrs[i] = n, n.Addr()
	c.mu.Unlock()
	return n
}

// stop stops node index i.
func (c *testCluster) stop(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	n.Stop()
}

func (c *testCluster) node(i int) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// waitReplicated waits until every range has want voters and every
// running node holds a replica of each range it should.
func (c *testCluster) waitReplicated(want int) {
	c.t.Helper()
	waitFor(c.t, 60*time.Second, func() error {
		// The newest descriptor of each range any node holds.
		descs := map[kvserver.RangeID]*rangepb.RangeDescriptor{}
		leased := map[kvserver.RangeID]bool{}
		for _, n := range c.nodes {
			if n == nil {
				continue
			}
			for _, r := range n.Store().Replicas() {
				d := r.Desc()
				if d == nil {
					continue // not initialized yet (waits for a snapshot)
				}
				if cur, ok := descs[r.RangeID()]; !ok || d.Generation > cur.Generation {
					descs[r.RangeID()] = d
				}
				leased[r.RangeID()] = leased[r.RangeID()] || r.OwnsValidLease()
			}
		}
		for id, d := range descs {
			voters := 0
			for _, rd := range d.Replicas {
				if rd.Type != rangepb.ReplicaType_VOTER_FULL {
					return errors.Newf("r%d has a %s replica on n%d", id, rd.Type, rd.NodeId)
				}
				voters++
			}
			if voters != want {
				return errors.Newf("r%d has %d voters, want %d", id, voters, want)
			}
			if !leased[id] {
				return errors.Newf("r%d has no valid lease", id)
			}
		}
		return nil
	})
}

// waitFor polls cond until it holds, failing the test after timeout with
// cond's last error.
func waitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("condition not met within %s: %v", timeout, err)
		case <-tick.C:
		}
	}
}

// addNode starts one more node, joining through the others.
func (c *testCluster) addNode() *Node {
	c.t.Helper()
	c.mu.Lock()
	c.nodes, c.addrs = append(c.nodes, nil), append(c.addrs, "")
	i := len(c.nodes) - 1
	c.mu.Unlock()
	return c.start(i)
}
