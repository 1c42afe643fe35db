package kvclient

import (
	"bytes"
	"sort"
	"sync"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/rangepb"
)

// RangeCache holds range descriptors by end key: what a DistSender learned
// from meta2 lookups and from RangeKeyMismatch errors. Entries may be stale;
// a request sent with one finds out (RangeKeyMismatch) and the entry is
// replaced. Cached descriptors never overlap: of two overlapping ones the
// one of the higher generation is the newer (a key's range only changes by
// splits, merges and replica changes, each raising the generation), and it
// evicts the other. Safe for concurrent use.
type RangeCache struct {
	mu struct {
		sync.Mutex
		// descs are sorted by end key, non-overlapping.
		descs []*rangepb.RangeDescriptor
	}
}

// NewRangeCache returns an empty cache.
func NewRangeCache() *RangeCache { return &RangeCache{} }

func endKey(d *rangepb.RangeDescriptor) []byte {
	if len(d.EndKey) == 0 {
		return kvpb.KeyMax
	}
	return d.EndKey
}

// Lookup returns the cached descriptor of the range containing key, or nil.
func (c *RangeCache) Lookup(key []byte) *rangepb.RangeDescriptor {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.mu.descs
	i := sort.Search(len(d), func(i int) bool { return bytes.Compare(endKey(d[i]), key) > 0 })
	if i < len(d) && bytes.Compare(d[i].StartKey, key) <= 0 {
		return d[i]
	}
	return nil
}

// LookupReverse returns the cached descriptor of the range containing the
// keys just below key (start < key <= end), which a reverse scan ending at
// key reads first, or nil.
func (c *RangeCache) LookupReverse(key []byte) *rangepb.RangeDescriptor {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.mu.descs
	i := sort.Search(len(d), func(i int) bool { return bytes.Compare(endKey(d[i]), key) >= 0 })
	if i < len(d) && bytes.Compare(d[i].StartKey, key) < 0 {
		return d[i]
	}
	return nil
}

// Insert adds descriptors, evicting the older ones they overlap; a
// descriptor older than one it overlaps is dropped.
func (c *RangeCache) Insert(descs ...*rangepb.RangeDescriptor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nd := range descs {
		if nd == nil {
			continue
		}
		d := c.mu.descs
		// The overlapping entries are d[lo:hi]: those ending after nd's
		// start and starting before its end.
		lo := sort.Search(len(d), func(i int) bool { return bytes.Compare(endKey(d[i]), nd.StartKey) > 0 })
		hi := lo
		stale := false
		for hi < len(d) && bytes.Compare(d[hi].StartKey, endKey(nd)) < 0 {
			if d[hi].Generation > nd.Generation {
				stale = true
			}
			hi++
		}
		if stale {
			continue
		}
		out := make([]*rangepb.RangeDescriptor, 0, len(d)-(hi-lo)+1)
		out = append(append(append(out, d[:lo]...), nd), d[hi:]...)
		c.mu.descs = out
	}
}

// Evict drops desc if it is still cached.
func (c *RangeCache) Evict(desc *rangepb.RangeDescriptor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.mu.descs
	for i, x := range d {
		if x.RangeId == desc.RangeId && x.Generation == desc.Generation {
			c.mu.descs = append(d[:i:i], d[i+1:]...)
			return
		}
	}
}

// Len returns the number of cached descriptors.
func (c *RangeCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mu.descs)
}
