package kvserver_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

// TestReplicaConsistencyRandomized runs writes on a 5-node cluster while a
// nemesis partitions nodes, drops, duplicates and delays messages, restarts
// nodes and moves replicas. Afterwards every replica's checksum matches and
// every acknowledged write is readable. The seed is printed; rerun a
// failure with the same seed by setting it in the test.
func TestReplicaConsistencyRandomized(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	// Half the seeds run with node liveness and epoch-based leases (the
	// liveness range, on all five nodes, keeps expiration-based ones).
	epochLeases := rng.IntN(2) == 0
	t.Logf("epoch leases: %v", epochLeases)
	c := kvtest.NewCluster(t, kvtest.Options{Nodes: 5, Seed: seed, EpochLeases: epochLeases})
	ctx := testCtx(t)
	if _, err := c.AddVoters(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	done := make(chan struct{})
	// Time runs at ten times real speed, so leases of dead leaseholders
	// expire within a second.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				c.Manual.Increment(int64(50 * time.Millisecond))
			}
		}
	}()
	var mu sync.Mutex
	acked := map[string]string{}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				k, v := fmt.Sprintf("w%d-%05d", w, i), fmt.Sprintf("v%d", i)
				wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := c.Put(wctx, 1, []byte(k), []byte(v))
				cancel()
				if err == nil {
					mu.Lock()
					acked[k] = v
					mu.Unlock()
				}
			}
		}()
	}

	// members are the replicas in the leaseholder's descriptor.
	members := func() map[int]bool {
		m := map[int]bool{}
		lh := c.Leaseholder(1)
		if lh == 0 || !c.Nodes[lh-1].Alive() {
			return m
		}
		if r, err := c.Nodes[lh-1].Store.GetReplica(1); err == nil {
			for _, rd := range r.Desc().GetReplicas() {
				m[int(rd.NodeId)] = true
			}
		}
		return m
	}
	all := []kvserver.NodeID{1, 2, 3, 4, 5}
	for step := range 25 {
		switch rng.IntN(4) {
		case 0: // partition one node for a while
			n := kvserver.NodeID(1 + rng.IntN(5))
			t.Logf("step %d: partition n%d", step, n)
			c.Transport.Isolate(n, all)
			waitFor(time.Duration(50+rng.IntN(100)) * time.Millisecond)
			c.Transport.Heal()
		case 1: // lossy, duplicating, reordering network
			t.Logf("step %d: faulty network", step)
			for _, a := range all {
				for _, b := range all {
					c.Transport.SetFaults(a, b, kvserver.Faults{DropProb: 0.1, DupProb: 0.05, MaxDelay: 3 * time.Millisecond})
				}
			}
			waitFor(time.Duration(50+rng.IntN(100)) * time.Millisecond)
			for _, a := range all {
				for _, b := range all {
					c.Transport.SetFaults(a, b, kvserver.Faults{})
				}
			}
		case 2: // restart a node
			n := 1 + rng.IntN(5)
			t.Logf("step %d: restart n%d", step, n)
			c.StopNode(n)
			waitFor(time.Duration(20+rng.IntN(80)) * time.Millisecond)
			c.RestartNode(n)
		case 3: // move a replica: add a non-member, remove another member
			m := members()
			var out, in []int
			for n := 1; n <= 5; n++ {
				if m[n] {
					in = append(in, n)
				} else {
					out = append(out, n)
				}
			}
			if len(out) == 0 || len(in) == 0 {
				continue
			}
			add := out[rng.IntN(len(out))]
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := c.AddVoters(cctx, 1, add)
			t.Logf("step %d: add n%d: %v", step, add, err)
			if err == nil {
				lh := c.Leaseholder(1)
				for _, rm := range in {
					if rm != lh && rm != add {
						_, err = c.RemoveVoters(cctx, 1, rm)
						t.Logf("step %d: remove n%d: %v", step, rm, err)
						break
					}
				}
			}
			cancel()
		}
	}
	close(done)
	wg.Wait()

	if err := c.CheckConsistency(ctx, 1); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	for k, v := range acked {
		got, found, err := c.Get(ctx, 1, []byte(k))
		if err != nil || !found || string(got) != v {
			t.Fatalf("seed %d: acknowledged write %s=%s lost: %q %v %v", seed, k, v, got, found, err)
		}
	}
	if lh := c.Leaseholder(1); epochLeases && lh != 0 {
		if r, err := c.Nodes[lh-1].Store.GetReplica(1); err == nil && r.Lease().GetEpoch() == 0 {
			t.Fatalf("seed %d: range 1 has an expiration-based lease with epoch leases on: %v", seed, r.Lease())
		}
	}
	t.Logf("%d acknowledged writes verified", len(acked))
}
