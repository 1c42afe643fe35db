package server

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/vtable"
)

// sqlAdmin is the node's side of the SQL admin statements (SHOW RANGES,
// SPLIT AT, RELOCATE): sql.ClusterAdmin over the range layer.
type sqlAdmin struct{ n *Node }

var _ sql.ClusterAdmin = sqlAdmin{}

// Ranges lists the ranges overlapping [start, end) from meta2, with each
// replica's locality and the leaseholder that a replica's applied state
// names (this node's own replicas first, then an Admin call to a node
// holding one).
func (a sqlAdmin) Ranges(ctx context.Context, start, end []byte) ([]sql.RangeInfo, error) {
	n := a.n
	descs, err := n.RangeDescriptors(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(descs, func(i, j int) bool { return bytes.Compare(descs[i].StartKey, descs[j].StartKey) < 0 })
	var out []sql.RangeInfo
	leases := map[int64]int32{}
	remote := map[int32][]int64{} // node → ranges to ask it about
	for _, d := range descs {
		if len(d.EndKey) > 0 && bytes.Compare(d.EndKey, start) <= 0 || len(end) > 0 && bytes.Compare(d.StartKey, end) >= 0 {
			continue
		}
		ri := sql.RangeInfo{RangeID: d.RangeId, StartKey: d.StartKey, EndKey: d.EndKey, Localities: map[int32]string{}}
		for _, rd := range d.Replicas {
			ri.Replicas = append(ri.Replicas, rd.NodeId)
			if rd.Type == rangepb.ReplicaType_VOTER_FULL || rd.Type == rangepb.ReplicaType_VOTER_INCOMING {
				ri.Voters = append(ri.Voters, rd.NodeId)
			}
			if desc, ok := n.dir.get(kvserver.NodeID(rd.NodeId)); ok {
				ri.Localities[rd.NodeId] = localityString(desc.Locality)
			}
		}
		if r, err := n.store.GetReplica(kvserver.RangeID(d.RangeId)); err == nil {
			leases[d.RangeId] = r.Lease().GetReplica().GetNodeId()
		} else if len(d.Replicas) > 0 {
			remote[d.Replicas[0].NodeId] = append(remote[d.Replicas[0].NodeId], d.RangeId)
		}
		out = append(out, ri)
	}
	for node, ids := range remote {
		desc, ok := n.dir.get(kvserver.NodeID(node))
		if !ok {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, closeFn, err := DialAdmin(desc.Address, n.cfg.RPCClientTLS)
		if err == nil {
			var resp *serverpb.RangeLeasesResponse
			if resp, err = c.RangeLeases(actx, &serverpb.RangeLeasesRequest{RangeIds: ids}); err == nil {
				for id, lh := range resp.Leaseholders {
					leases[id] = lh
				}
			}
			closeFn()
		}
		cancel()
	}
	for i := range out {
		out[i].Leaseholder = leases[out[i].RangeID]
	}
	return out, nil
}

// Split splits the range holding key at key; a range that starts there
// already is fine.
func (a sqlAdmin) Split(ctx context.Context, key []byte, expiration hlc.Timestamp) error {
	if d, err := a.n.dist.RangeFor(ctx, key); err == nil && bytes.Equal(d.StartKey, key) {
		return nil
	}
	// Sticky until the expiration, or for good: the merge queue never
	// undoes a split a user asked for before then (UNSPLIT does).
	sticky := &rangepb.Timestamp{WallTime: math.MaxInt64, Logical: math.MaxInt32}
	if !expiration.IsEmpty() {
		sticky = &rangepb.Timestamp{WallTime: expiration.WallTime, Logical: expiration.Logical}
	}
	resp, err := a.n.dist.AdminSplitSticky(ctx, key, sticky)
	if err != nil {
		return err
	}
	// The split transaction wrote both halves' meta2 records; the wait
	// makes sure this node's reads of meta2 see them before the client's
	// next statement (SHOW RANGES, routing).
	return waitUntil(ctx, "the split's meta2 records", func() (bool, error) {
		descs, err := a.n.RangeDescriptors(ctx)
		if err != nil {
			return false, err
		}
		found := 0
		for _, d := range descs {
			for _, half := range []*rangepb.RangeDescriptor{resp.Left, resp.Right} {
				if d.RangeId == half.GetRangeId() && d.Generation >= half.GetGeneration() {
					found++
				}
			}
		}
		return found == 2, nil
	})
}

// Unsplit merges the range starting at key into the range before it.
func (a sqlAdmin) Unsplit(ctx context.Context, key []byte) error {
	descs, err := a.n.RangeDescriptors(ctx)
	if err != nil {
		return err
	}
	for _, d := range descs {
		if len(d.EndKey) == 0 || !bytes.Equal(d.EndKey, key) {
			continue
		}
		_, err := a.n.dist.AdminMerge(ctx, d.StartKey)
		var cme *kvserver.CannotMergeError
		if errors.As(err, &cme) {
			return pgerror.Newf("0A000", "UNSPLIT: %v: moving replicas to merge ranges is not supported yet", cme)
		}
		return err
	}
	return nil // no range starts at key
}

// TransferLease moves range id's lease to the replica on node to.
func (a sqlAdmin) TransferLease(ctx context.Context, id int64, to int32) error {
	descs, err := a.n.RangeDescriptors(ctx)
	if err != nil {
		return err
	}
	for _, d := range descs {
		if d.RangeId != id {
			continue
		}
		for _, rd := range d.Replicas {
			if rd.NodeId == to {
				_, err := a.n.ranges.Send(ctx, kvserver.RangeID(id), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_TransferLease{
					TransferLease: &rangepb.TransferLeaseRequest{Target: rd}}})
				return err
			}
		}
		return errors.Newf("range %d has no replica on node %d to take its lease", id, to)
	}
	return errors.Newf("there is no range %d", id)
}

// RelocateVoter moves range id's voter on node from to node to: the new
// one is added (learner, snapshot, promotion) before the old one goes, so
// the range never drops below its replication, and both changes go in one
// request, which the leaseholder makes without a replicate queue's change
// in between (that would see one voter too many and remove one of its
// own choosing). A lease on from first moves to another voter (to the new
// one when from's is the range's only voter).
func (a sqlAdmin) RelocateVoter(ctx context.Context, id int64, from, to int32) error {
	n := a.n
	change := func(cs ...*rangepb.ReplicaChange) error {
		_, err := n.ranges.Send(ctx, kvserver.RangeID(id), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ChangeReplicas{
			ChangeReplicas: &rangepb.ChangeReplicasRequest{Changes: cs}}})
		return err
	}
	if _, ok := n.dir.get(kvserver.NodeID(to)); !ok {
		return errors.Newf("there is no node %d", to)
	}
	ri, err := a.rangeByID(ctx, id)
	if err != nil {
		return err
	}
	add := &rangepb.ReplicaChange{Type: rangepb.ChangeType_ADD_VOTER, NodeId: to, StoreId: to}
	remove := &rangepb.ReplicaChange{Type: rangepb.ChangeType_REMOVE_VOTER, NodeId: from, StoreId: from}
	if slices.Contains(ri.Voters, to) {
		return errors.Newf("range %d already has a voter on node %d", id, to)
	}
	if !slices.Contains(ri.Voters, from) {
		return errors.Newf("range %d has no voter on node %d", id, from)
	}
	if ri.Leaseholder == from {
		heir := int32(0)
		for _, v := range ri.Voters {
			if v != from {
				heir = v
				break
			}
		}
		if heir == 0 {
			if err := change(add); err != nil {
				return errors.Wrapf(err, "adding a voter on node %d", to)
			}
			heir, add = to, nil
		}
		if err := a.moveLease(ctx, id, from, heir); err != nil {
			return err
		}
	}
	if add == nil {
		return errors.Wrapf(change(remove), "removing the voter on node %d", from)
	}
	return errors.Wrapf(change(add, remove), "moving the voter on node %d to node %d", from, to)
}

// moveLease moves range id's lease from node from to node to, and waits
// until a replica's applied state says it moved.
func (a sqlAdmin) moveLease(ctx context.Context, id int64, from, to int32) error {
	transferred := false
	return waitUntil(ctx, fmt.Sprintf("the lease to leave node %d", from), func() (bool, error) {
		ri, err := a.rangeByID(ctx, id)
		if err != nil || ri.Leaseholder != from {
			return err == nil, err
		}
		if !transferred {
			if err := a.TransferLease(ctx, id, to); err != nil {
				return false, errors.Wrapf(err, "moving the lease off node %d", from)
			}
			transferred = true
		}
		return false, nil
	})
}

// waitUntil polls done, backing off from 1 ms to 100 ms, until it
// reports true, fails, or ctx ends.
func waitUntil(ctx context.Context, what string, done func() (bool, error)) error {
	backoff := time.Millisecond
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Wrapf(ctx.Err(), "waiting for %s", what)
		case <-t.C:
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

func (a sqlAdmin) rangeByID(ctx context.Context, id int64) (sql.RangeInfo, error) {
	all, err := a.Ranges(ctx, nil, nil)
	if err != nil {
		return sql.RangeInfo{}, err
	}
	for _, r := range all {
		if r.RangeID == id {
			return r, nil
		}
	}
	return sql.RangeInfo{}, errors.Newf("there is no range %d", id)
}

// localityString prints tiers as --locality takes them: region=a,zone=b.
func localityString(tiers []*serverpb.Tier) string {
	parts := make([]string, len(tiers))
	for i, t := range tiers {
		parts[i] = t.Key + "=" + t.Value
	}
	return strings.Join(parts, ",")
}

// RangeLeases implements the Admin service's call (see sqlAdmin.Ranges).
func (s *adminServer) RangeLeases(ctx context.Context, req *serverpb.RangeLeasesRequest) (*serverpb.RangeLeasesResponse, error) {
	resp := &serverpb.RangeLeasesResponse{Leaseholders: map[int64]int32{}}
	if !s.n.isStarted() {
		return resp, nil
	}
	for _, id := range req.RangeIds {
		if r, err := s.n.store.GetReplica(kvserver.RangeID(id)); err == nil {
			resp.Leaseholders[id] = r.Lease().GetReplica().GetNodeId()
		}
	}
	return resp, nil
}

// Nodes implements sql.ClusterAdmin: every node the directory knows, with
// its liveness and counts (what meridian node ls shows).
func (a sqlAdmin) Nodes(ctx context.Context) ([]vtable.NodeRow, error) {
	sts := a.n.clusterStatus(ctx)
	out := make([]vtable.NodeRow, 0, len(sts))
	for _, st := range sts {
		d := st.Desc
		row := vtable.NodeRow{ID: d.NodeId, Address: d.Address, SQLAddress: d.SqlAddress, Locality: localityString(d.Locality),
			ServerVersion: d.BuildVersion, Live: st.Live, Draining: st.Draining,
			Decommissioned: d.Membership == serverpb.Membership_DECOMMISSIONED, Ranges: st.Ranges, Leases: st.Leases}
		if d.StartedAt != 0 {
			row.StartedAt = time.Unix(0, d.StartedAt).UTC()
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
