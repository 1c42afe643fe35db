package server

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// TestUpreplicateAfterNodeDeath: four nodes, three replicas per range; a
// node dies; once it has been dead for the store-dead time its replicas
// are rebuilt on the node that had none, and the dead one's are removed:
// every range ends with three voters on live nodes.
func TestUpreplicateAfterNodeDeath(t *testing.T) {
	c := newTestClusterWith(t, 4, false, func(cfg *Config) { cfg.TimeUntilStoreDead = 2 * time.Second })
	dead := c.node(1).ID()
	c.stop(1)
	waitFor(t, time.Minute, func() error {
		descs := map[kvserver.RangeID]*rangepb.RangeDescriptor{}
		for _, i := range []int{0, 2, 3} {
			for _, r := range c.node(i).Store().Replicas() {
				if d := r.Desc(); d != nil {
					if cur, ok := descs[r.RangeID()]; !ok || d.Generation > cur.Generation {
						descs[r.RangeID()] = d
					}
				}
			}
		}
		for id, d := range descs {
			voters := 0
			for _, rd := range d.Replicas {
				if kvserver.NodeID(rd.NodeId) == dead {
					return errors.Newf("r%d still has a replica on the dead node n%d", id, dead)
				}
				if rd.Type == rangepb.ReplicaType_VOTER_FULL {
					voters++
				}
			}
			if voters != 3 {
				return errors.Newf("r%d has %d voters", id, voters)
			}
		}
		return nil
	})
	// Meta2, which routes requests and counts a node's replicas for
	// decommissioning, lists the replicas the ranges have now.
	waitFor(t, time.Minute, func() error {
		newest := map[kvserver.RangeID]*rangepb.RangeDescriptor{}
		for _, i := range []int{0, 2, 3} {
			for _, r := range c.node(i).Store().Replicas() {
				if d := r.Desc(); d != nil {
					if cur, ok := newest[r.RangeID()]; !ok || d.Generation > cur.Generation {
						newest[r.RangeID()] = d
					}
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		meta, err := c.node(0).RangeDescriptors(ctx)
		if err != nil {
			return err
		}
		for _, m := range meta {
			d := newest[kvserver.RangeID(m.RangeId)]
			if !proto.Equal(m, d) {
				return errors.Newf("meta2 has r%d at generation %d with %v; the range is at generation %d with %v",
					m.RangeId, m.Generation, m.Replicas, d.GetGeneration(), d.GetReplicas())
			}
		}
		return nil
	})
}

// TestWholeClusterRestart: every node stops; restarted (in any order, each
// knowing only its join addresses), they find each other again and serve.
func TestWholeClusterRestart(t *testing.T) {
	c := newTestCluster(t, 3, false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.node(0).DB().Put(ctx, []byte("restart/key"), []byte("before")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		c.stop(i)
	}
	for _, i := range []int{2, 0, 1} {
		c.start(i)
	}
	waitFor(t, time.Minute, func() error {
		for i := range 3 {
			v, found, err := c.node(i).DB().Get(ctx, []byte("restart/key"))
			if err != nil || !found || string(v) != "before" {
				return errors.Newf("n%d reads %q (found %v): %v", i+1, v, found, err)
			}
		}
		return nil
	})
	c.waitReplicated(3)
}
