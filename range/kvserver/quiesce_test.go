package kvserver_test

import (
	"fmt"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

// TestIdleRangesQuiesce starts 3 nodes with 10,000 ranges, writes to a
// few of them, and waits for every range to quiesce. From then on no Raft
// message flows (counted at the transport) and the ranges cost almost no
// CPU, which the test reports.
func TestIdleRangesQuiesce(t *testing.T) {
	ranges := 10_000
	if testing.Short() {
		ranges = 1000
	}
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 3, InMemory: true}, ranges)
	ctx := testCtx(t)
	for i := range 20 {
		id := kvserver.RangeID(2 + i*ranges/20)
		if err := c.Put(ctx, id, kvtest.RangeKey(id, "k"), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := hlc.PhysicalNow().Add(2 * time.Minute)
	for {
		awake := 0
		for _, n := range c.Nodes {
			for _, r := range n.Store.Replicas() {
				if !r.IsQuiescent() {
					awake++
				}
			}
		}
		if awake == 0 {
			break
		}
		if hlc.PhysicalNow().After(deadline) {
			t.Fatalf("%d replicas still awake", awake)
		}
		waitFor(20 * time.Millisecond)
	}

	// Let the quiescing handshake finish: followers answer the last
	// (quiesce) heartbeat with their next coalesced flush.
	waitFor(50 * time.Millisecond)

	const window = time.Second
	before := messageCounts(c, ranges)
	cpu0 := cpuTime()
	start := hlc.PhysicalNow()
	waitFor(window) // lint:sleep-ok: nothing should happen; let ticks pass and watch
	elapsed := hlc.PhysicalNow().Sub(start)
	cpu := cpuTime() - cpu0
	after := messageCounts(c, ranges)
	var moved []string
	for id, n := range after {
		if n != before[id] {
			moved = append(moved, fmt.Sprintf("r%d:%d", id, n-before[id]))
		}
	}
	sort.Strings(moved)
	if len(moved) > 0 {
		t.Fatalf("%d quiesced ranges exchanged raft messages: %v", len(moved), moved[:min(len(moved), 20)])
	}
	t.Logf("%d quiesced ranges on 3 nodes: %.2f%% of one core over %s", ranges, 100*cpu.Seconds()/elapsed.Seconds(), elapsed.Round(time.Millisecond))
}

func messageCounts(c *kvtest.Cluster, ranges int) map[kvserver.RangeID]int {
	out := make(map[kvserver.RangeID]int, ranges)
	for i := range ranges {
		id := kvserver.RangeID(i + 2)
		out[id] = c.Transport.MessagesSent(id)
	}
	return out
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
