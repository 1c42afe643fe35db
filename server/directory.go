package server

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/server/serverpb"
	"google.golang.org/protobuf/proto"
)

// NodeDescKey is where node id's descriptor lives.
func NodeDescKey(id kvserver.NodeID) []byte {
	return binary.BigEndian.AppendUint32(append([]byte{}, kv.NodeDescPrefix...), uint32(id))
}

// nodeDescSpan is the span of every node descriptor.
func nodeDescSpan() (start, end []byte) {
	end = append([]byte{}, kv.NodeDescPrefix...)
	end[len(end)-1]++
	return append([]byte{}, kv.NodeDescPrefix...), end
}

// directory is a node's view of the cluster's members: every node's
// descriptor, by which addresses are resolved. The descriptors stored in
// the cluster (/System/nodes/) are the truth; the directory learns them
// from periodic scans, from the answers of the nodes it joins through, and
// from the nodes that join through it, so that a node is reachable as soon
// as another node knows it joined. Of two descriptors of one node the one
// of the later start wins (a node may come back on another address). Safe
// for concurrent use.
type directory struct {
	mu struct {
		sync.RWMutex
		nodes map[kvserver.NodeID]*serverpb.NodeDescriptor
	}
	// missed is signalled when a lookup finds no descriptor, to refresh
	// from the cluster without waiting for the next period.
	missed chan struct{}
}

func newDirectory() *directory {
	d := &directory{missed: make(chan struct{}, 1)}
	d.mu.nodes = map[kvserver.NodeID]*serverpb.NodeDescriptor{}
	return d
}

// update records desc unless a descriptor of a later start is known; it
// reports whether desc was taken.
func (d *directory) update(desc *serverpb.NodeDescriptor) bool {
	if desc == nil || desc.NodeId <= 0 || desc.Address == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id := kvserver.NodeID(desc.NodeId)
	if cur, ok := d.mu.nodes[id]; ok && cur.StartedAt > desc.StartedAt {
		return false
	}
	d.mu.nodes[id] = proto.Clone(desc).(*serverpb.NodeDescriptor)
	return true
}

// get returns node id's descriptor.
func (d *directory) get(id kvserver.NodeID) (*serverpb.NodeDescriptor, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	desc, ok := d.mu.nodes[id]
	return desc, ok
}

// resolve returns node id's gRPC address.
func (d *directory) resolve(id kvserver.NodeID) (string, error) {
	if desc, ok := d.get(id); ok {
		return desc.Address, nil
	}
	select {
	case d.missed <- struct{}{}:
	default:
	}
	return "", errors.Newf("node %d is not known (yet) to this node's directory", id)
}

// nodeIDs returns the known nodes, in ID order, leaving out the
// decommissioned ones.
func (d *directory) nodeIDs() []kvserver.NodeID {
	d.mu.RLock()
	ids := make([]kvserver.NodeID, 0, len(d.mu.nodes))
	for id, desc := range d.mu.nodes {
		if desc.Membership != serverpb.Membership_DECOMMISSIONED {
			ids = append(ids, id)
		}
	}
	d.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// all returns every known descriptor, in ID order.
func (d *directory) all() []*serverpb.NodeDescriptor {
	d.mu.RLock()
	out := make([]*serverpb.NodeDescriptor, 0, len(d.mu.nodes))
	for _, desc := range d.mu.nodes {
		out = append(out, desc)
	}
	d.mu.RUnlock()
	slices.SortFunc(out, func(a, b *serverpb.NodeDescriptor) int { return int(a.NodeId - b.NodeId) })
	return out
}

// kvScanner reads a span of the cluster's keys.
type kvScanner interface {
	scan(ctx context.Context, start, end []byte) ([][]byte, error)
}

// refresh reads every descriptor from the cluster.
func (d *directory) refresh(ctx context.Context, s kvScanner) error {
	start, end := nodeDescSpan()
	values, err := s.scan(ctx, start, end)
	if err != nil {
		return errors.Wrap(err, "reading the node descriptors")
	}
	for _, raw := range values {
		desc := &serverpb.NodeDescriptor{}
		if err := proto.Unmarshal(raw, desc); err != nil {
			return errors.Wrap(err, "decoding a node descriptor")
		}
		d.update(desc)
	}
	return nil
}
