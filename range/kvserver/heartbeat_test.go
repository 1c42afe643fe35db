package kvserver_test

import (
	"testing"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

// TestHeartbeatsCoalesced keeps 200 ranges awake on 3 nodes and counts, at
// the transport, Raft messages against the batches that carry them: the
// heartbeats of every range between two nodes travel in one batch per
// tick, not one per range.
func TestHeartbeatsCoalesced(t *testing.T) {
	const ranges = 200
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{
		Nodes: 3, InMemory: true, StoreConfig: kvserver.StoreConfig{DisableQuiescence: true},
	}, ranges)
	// Wait for every range to have a leader.
	deadline := hlc.PhysicalNow().Add(time.Minute)
	for {
		led := map[kvserver.RangeID]bool{}
		for _, n := range c.Nodes {
			for _, r := range n.Store.Replicas() {
				if st := r.RaftStatus(); st != nil && st.Lead != 0 {
					led[r.RangeID()] = true
				}
			}
		}
		if len(led) == ranges {
			break
		}
		if hlc.PhysicalNow().After(deadline) {
			t.Fatalf("only %d of %d ranges have a leader", len(led), ranges)
		}
		waitFor(10 * time.Millisecond)
	}
	msgs0, batches0 := c.Transport.TotalMessagesSent(), c.Transport.BatchesSent()
	waitFor(500 * time.Millisecond) // steady state: heartbeats only
	msgs, batches := c.Transport.TotalMessagesSent()-msgs0, c.Transport.BatchesSent()-batches0
	t.Logf("%d raft messages in %d batches over 500ms (%.0f per batch)", msgs, batches, float64(msgs)/float64(max(batches, 1)))
	if msgs < 10*ranges {
		t.Fatalf("only %d messages: ranges are not heartbeating", msgs)
	}
	if batches*20 > msgs {
		t.Fatalf("%d messages took %d batches: heartbeats are not coalesced", msgs, batches)
	}
}
