package kvserver_test

import (
	"fmt"
	"testing"

	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

// TestReplaceDeadReplica: a node holding a replica dies for good; a new
// replica is added on a fourth node and the dead one removed, all while the
// range serves; the new replica holds every write.
func TestReplaceDeadReplica(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 4})
	ctx := testCtx(t)
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := c.Put(ctx, 1, []byte(fmt.Sprintf("k%03d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	dead := 1 + c.Leaseholder(1)%3 // a follower
	c.StopNode(dead)
	if _, err := c.AddVoters(ctx, 1, 4); err != nil {
		t.Fatal(err)
	}
	desc, err := c.RemoveVoters(ctx, 1, dead)
	if err != nil {
		t.Fatal(err)
	}
	for _, rd := range desc.Replicas {
		if int(rd.NodeId) == dead {
			t.Fatalf("dead n%d still in %v", dead, desc)
		}
	}
	for i := 50; i < 60; i++ {
		if err := c.Put(ctx, 1, []byte(fmt.Sprintf("k%03d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	// Two of the three replicas now survive the loss of the third.
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
}
