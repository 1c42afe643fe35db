package kvserver_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

// TestRestartedReplicaCatchesUpBySnapshot: a replica down while the log
// moved on and was truncated comes back and catches up from a snapshot.
func TestRestartedReplicaCatchesUpBySnapshot(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 3, StoreConfig: kvserver.StoreConfig{RaftLogTruncationThreshold: 50}})
	ctx := testCtx(t)
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	lh := c.Leaseholder(1)
	down := 1 + lh%3
	c.StopNode(down)
	for i := range 300 {
		if err := c.Put(ctx, 1, []byte(fmt.Sprintf("k%04d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	c.RestartNode(down)
	r, err := c.Nodes[down-1].Store.GetReplica(1)
	if err != nil {
		t.Fatal(err)
	}
	leader, _ := c.Nodes[lh-1].Store.GetReplica(1)
	for r.AppliedIndex() < leader.AppliedIndex() {
		if ctx.Err() != nil {
			t.Fatalf("n%d stuck at applied index %d, leaseholder at %d; raft: %+v", down, r.AppliedIndex(), leader.AppliedIndex(), r.RaftStatus())
		}
		waitFor(5 * time.Millisecond)
	}
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
}
