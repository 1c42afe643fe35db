package txn

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

// benchDelay is added to every Raft message between nodes, so that rounds
// of consensus show in the timings (a round: the leader's append and the
// followers' answers, ~2 × benchDelay). The client reaches the leaseholder
// in-process, with no delay.
const benchDelay = 10 * time.Millisecond

// newBenchCluster is a three-node cluster whose transport delays every
// message by benchDelay, with its leases taken.
func newBenchCluster(b *testing.B, opts Options) *testCluster {
	tc := newTestClusterWith(b, opts, kvtest.Options{Nodes: 3})
	for i := range tc.Nodes {
		for j := range tc.Nodes {
			if i != j {
				tc.Transport.SetFaults(kvserver.NodeID(i+1), kvserver.NodeID(j+1), kvserver.Faults{Delay: benchDelay})
			}
		}
	}
	ctx := context.Background()
	for r := 0; r < 2; r++ {
		if err := tc.db.Put(ctx, key(r, "warm"), []byte("x")); err != nil {
			b.Fatal(err)
		}
	}
	return tc
}

// BenchmarkTxnCommit: one key written on each of 1 or 2 ranges, then
// commit, the writes held back to go with the commit (as SQL sends them).
// One range commits in one phase; two commit in parallel (the STAGING
// record beside the writes): both one round of consensus. With parallel
// commits off, the writes go first and the commit after: two rounds.
func BenchmarkTxnCommit(b *testing.B) {
	for _, c := range []struct {
		name     string
		ranges   int
		parallel bool
	}{{"ranges=1", 1, true}, {"ranges=2", 2, true}, {"ranges=2/parallel-commits=off", 2, false}} {
		b.Run(c.name, func(b *testing.B) {
			tc := newBenchCluster(b, Options{BufferWrites: true, DisableParallelCommits: !c.parallel})
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					for r := 0; r < c.ranges; r++ {
						if err := txn.Put(ctx, key(r, fmt.Sprintf("k%d", i)), []byte("v")); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTxnPipelined: writes sequential writes (each sent when made,
// to one range), then commit. Pipelined, each write is answered once
// proposed, and the commit proves them all in its one round: writes=10
// costs about what writes=1 does. Without pipelining each write waits for
// its round of consensus.
func BenchmarkTxnPipelined(b *testing.B) {
	for _, c := range []struct {
		writes    int
		pipelined bool
	}{{1, true}, {10, true}, {10, false}} {
		name := fmt.Sprintf("writes=%d", c.writes)
		if !c.pipelined {
			name += "/pipelining=off"
		}
		b.Run(name, func(b *testing.B) {
			tc := newBenchCluster(b, Options{DisablePipelining: !c.pipelined})
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
					for w := 0; w < c.writes; w++ {
						if err := txn.Put(ctx, key(0, fmt.Sprintf("k%d-%d", i, w)), []byte("v")); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
