package kvserver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSingleReplicaWriteRead(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 1})
	ctx := testCtx(t)
	for i := range 20 {
		if err := c.Put(ctx, 1, []byte(fmt.Sprintf("k%02d", i)), []byte(fmt.Sprintf("v%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	v, found, err := c.Get(ctx, 1, []byte("k07"))
	if err != nil || !found || string(v) != "v7" {
		t.Fatalf("get k07: %q %v %v", v, found, err)
	}
	// Restart: everything acknowledged is still there.
	c.StopNode(1)
	c.RestartNode(1)
	v, found, err = c.Get(ctx, 1, []byte("k19"))
	if err != nil || !found || string(v) != "v19" {
		t.Fatalf("get k19 after restart: %q %v %v", v, found, err)
	}
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

func TestReplicationOneThreeFiveThree(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 5})
	ctx := testCtx(t)
	write := func(prefix string, n int) {
		t.Helper()
		for i := range n {
			if err := c.Put(ctx, 1, []byte(fmt.Sprintf("%s%03d", prefix, i)), []byte(prefix)); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("a", 10)
	desc, err := c.AddVoters(ctx, 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Replicas) != 3 {
		t.Fatalf("want 3 replicas: %v", desc)
	}
	write("b", 10)
	if _, err := c.AddVoters(ctx, 1, 4, 5); err != nil {
		t.Fatal(err)
	}
	write("c", 10)
	lh := c.Leaseholder(1)
	var remove []int
	for n := 5; n >= 1 && len(remove) < 2; n-- {
		if n != lh {
			remove = append(remove, n)
		}
	}
	desc, err = c.RemoveVoters(ctx, 1, remove...)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Replicas) != 3 {
		t.Fatalf("want 3 replicas after removal: %v", desc)
	}
	write("d", 10)
	for _, k := range []string{"a000", "b009", "c005", "d009"} {
		v, found, err := c.Get(ctx, 1, []byte(k))
		if err != nil || !found || string(v) != k[:1] {
			t.Fatalf("get %s: %q %v %v", k, v, found, err)
		}
	}
	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_ = kvserver.RangeID(1)
}

// TestChangeReplicasExpectedGeneration: a replica change decided on an
// older descriptor (a replicate queue's, say, made before an admin's move)
// is refused, and changes nothing; one decided on the current one runs.
func TestChangeReplicasExpectedGeneration(t *testing.T) {
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 3})
	ctx := testCtx(t)
	stale, err := c.AddVoters(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := c.AddVoters(ctx, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	change := func(gen int64) error {
		_, err := c.Send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ChangeReplicas{
			ChangeReplicas: &rangepb.ChangeReplicasRequest{ExpGeneration: gen, Changes: []*rangepb.ReplicaChange{
				{Type: rangepb.ChangeType_REMOVE_VOTER, NodeId: 2, StoreId: 2}}}}})
		return err
	}
	if err := change(stale.Generation); err == nil || !strings.Contains(err.Error(), "decide again") {
		t.Fatalf("a change decided at generation %d (now %d): %v, want refused", stale.Generation, cur.Generation, err)
	}
	// The refused change left the generation as it was.
	if err := change(cur.Generation); err != nil {
		t.Fatalf("a change decided at the current generation, after a refused one: %v", err)
	}
}
