package kvserver

import (
	"testing"

	"github.com/meridiandb/meridian/range/rangepb"
)

// TestCheckCommandLeaseRequests: the apply-time rule for lease requests,
// the same on every replica: a lease of another holder may replace an
// expiration-based lease only after its expiration, and an epoch-based one
// only with the holder's liveness record shown past the lease's epoch.
func TestCheckCommandLeaseRequests(t *testing.T) {
	ts := func(w int64) *rangepb.Timestamp { return &rangepb.Timestamp{WallTime: w} }
	rep := func(n int32) *rangepb.ReplicaDescriptor {
		return &rangepb.ReplicaDescriptor{NodeId: n, StoreId: n, ReplicaId: n}
	}
	expLease := &rangepb.Lease{Start: ts(0), Expiration: ts(100), Replica: rep(1), Sequence: 4}
	epochLease := &rangepb.Lease{Start: ts(0), Epoch: 3, Replica: rep(1), Sequence: 4}
	lv := func(node int32, epoch int64) *rangepb.Liveness {
		return &rangepb.Liveness{NodeId: node, Epoch: epoch, Expiration: ts(90)}
	}
	for _, tc := range []struct {
		name    string
		cur     *rangepb.Lease
		nl      *rangepb.Lease
		prevSeq int64
		proof   *rangepb.Liveness
		ok      bool
	}{
		{"first lease", nil, &rangepb.Lease{Start: ts(1), Epoch: 1, Replica: rep(2), Sequence: 1}, 0, nil, true},
		{"stale sequence", expLease, &rangepb.Lease{Start: ts(200), Expiration: ts(300), Replica: rep(2), Sequence: 5}, 3, nil, false},
		{"overlaps expiration", expLease, &rangepb.Lease{Start: ts(100), Expiration: ts(300), Replica: rep(2), Sequence: 5}, 4, nil, false},
		{"after expiration", expLease, &rangepb.Lease{Start: ts(101), Epoch: 2, Replica: rep(2), Sequence: 5}, 4, nil, true},
		{"epoch without proof", epochLease, &rangepb.Lease{Start: ts(500), Epoch: 7, Replica: rep(2), Sequence: 5}, 4, nil, false},
		{"epoch not moved on", epochLease, &rangepb.Lease{Start: ts(500), Epoch: 7, Replica: rep(2), Sequence: 5}, 4, lv(1, 3), false},
		{"proof of another node", epochLease, &rangepb.Lease{Start: ts(500), Epoch: 7, Replica: rep(2), Sequence: 5}, 4, lv(2, 9), false},
		{"epoch incremented", epochLease, &rangepb.Lease{Start: ts(500), Epoch: 7, Replica: rep(2), Sequence: 5}, 4, lv(1, 4), true},
		{"expiration lease after epoch incremented", epochLease, &rangepb.Lease{Start: ts(500), Expiration: ts(600), Replica: rep(2), Sequence: 5}, 4, lv(1, 4), true},
		{"holder's own new epoch", epochLease, &rangepb.Lease{Start: ts(500), Epoch: 4, Replica: rep(1), Sequence: 5}, 4, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &rangepb.RaftCommand{IsLeaseRequest: true, Result: &rangepb.ReplicatedResult{
				NewLease: tc.nl, PrevLeaseSequence: tc.prevSeq, PrevHolderLiveness: tc.proof,
			}}
			err, _ := checkCommand(cmd, tc.cur, &rangepb.RangeAppliedState{})
			if (err == nil) != tc.ok {
				t.Fatalf("accepted=%v, want %v (err %v)", err == nil, tc.ok, err)
			}
		})
	}
}
