package tscache

import (
	"bytes"
	"slices"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/google/btree"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
)

// DefaultMaxBytes is the default memory bound of a Cache.
const DefaultMaxBytes = 64 << 20

// intervalOverhead approximates the bytes an interval costs beyond its two
// keys: the struct, the B-tree slot and slice headers.
const intervalOverhead = 96

// Options configure a Cache.
type Options struct {
	// MaxBytes bounds the memory the cache's intervals may use, as
	// estimated by their key lengths plus intervalOverhead each (split
	// intervals share key memory, so the estimate is approximate, within
	// a small factor). Default DefaultMaxBytes.
	MaxBytes int64
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
}

// value is what the cache knows about a span: the highest read timestamp
// and, if exactly one transaction read at it, that transaction.
type value struct {
	ts  hlc.Timestamp
	txn kv.TxnID // zero when no single transaction holds ts
}

// max returns the combination of two values over the same keys: the higher
// timestamp wins; at equal timestamps the txn survives only if both agree.
func (v value) max(o value) value {
	switch v.ts.Compare(o.ts) {
	case -1:
		return o
	case 1:
		return v
	}
	if v.txn != o.txn {
		return value{ts: v.ts}
	}
	return v
}

// interval is one entry of the tree: keys [start, end) hold val.
// Invariant: start < end; intervals in the tree do not overlap; every
// interval's ts is above the low-water mark.
type interval struct {
	start, end []byte
	val        value
}

func (iv *interval) size() int64 { return int64(len(iv.start)+len(iv.end)) + intervalOverhead }

func lessInterval(a, b *interval) bool { return bytes.Compare(a.start, b.start) < 0 }

// Cache is a timestamp cache. It is safe for concurrent use.
type Cache struct {
	opts Options

	mu struct {
		sync.RWMutex
		tree     *btree.BTreeG[*interval]
		lowWater hlc.Timestamp
		bytes    int64
		// evictions counts how often memory pressure raised the low-water
		// mark.
		evictions int64
	}
}

// New returns an empty cache with a zero low-water mark.
func New(opts Options) *Cache {
	opts.EnsureDefaults()
	c := &Cache{opts: opts}
	c.mu.tree = btree.NewG(16, lessInterval)
	return c
}

// spanEnd returns the exclusive end of the span starting at start: end
// itself, or the key right after start when end is nil (a point read).
// It panics on an inverted span: callers validate spans long before they
// reach a replica, so one here is a bug that must not silently drop a read.
func spanEnd(start, end []byte) []byte {
	if end == nil {
		return append(start[:len(start):len(start)], 0)
	}
	if bytes.Compare(start, end) >= 0 {
		panic(errors.AssertionFailedf("tscache: empty or inverted span [%q, %q)", start, end))
	}
	return end
}

// Add records a read of [start, end) (of the key start if end is nil) at ts
// by txn (zero for a non-transactional read). Reads at or below the
// low-water mark are already covered by it. The cache copies the keys.
func (c *Cache) Add(start, end []byte, ts hlc.Timestamp, txn kv.TxnID) {
	point := end == nil
	end = spanEnd(start, end)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts.LessEq(c.mu.lowWater) {
		return
	}
	v := value{ts: ts, txn: txn}
	if !point || !c.addPointLocked(start, end, v) {
		start, end := copyKeys(start, end)
		c.addLocked(start, end, v)
	}
	if c.mu.bytes > c.opts.MaxBytes {
		c.evictLocked()
	}
}

// copyKeys copies a span's keys into one allocation.
func copyKeys(start, end []byte) ([]byte, []byte) {
	buf := make([]byte, len(start)+len(end))
	n := copy(buf, start)
	copy(buf[n:], end)
	return buf[:n:n], buf[n:]
}

// addPointLocked is addLocked for the read of one key, [start, end) with
// end the key right after start, when no interval overlaps it other than
// one that is exactly it: every point select records such a read, and two
// lookups in the tree do where addLocked makes five (7% of the node's CPU
// under pgbench -S with 4 clients, 2026-12-06). It reports false, having
// done nothing, when addLocked must split intervals.
func (c *Cache) addPointLocked(start, end []byte, v value) bool {
	pivot := &interval{start: start}
	var prev, next *interval
	c.mu.tree.DescendLessOrEqual(pivot, func(iv *interval) bool {
		prev = iv
		return false
	})
	if prev != nil && bytes.Compare(prev.end, start) > 0 {
		if !bytes.Equal(prev.start, start) || !bytes.Equal(prev.end, end) {
			return false // a wider interval covers the key
		}
		// The key's own interval: raise it in place (its start, the
		// tree's order, stays). An equal neighbour stays unmerged, which
		// costs memory, not correctness.
		prev.val = prev.val.max(v)
		return true
	}
	// Nothing covers the key, and no interval starts inside [start, end):
	// no key lies between start and the key right after it.
	c.mu.tree.AscendGreaterOrEqual(pivot, func(iv *interval) bool {
		next = iv
		return false
	})
	iv := &interval{val: v}
	iv.start, iv.end = copyKeys(start, end)
	if prev != nil && bytes.Equal(prev.end, start) && prev.val == v {
		c.deleteLocked(prev)
		iv.start = prev.start
	}
	if next != nil && bytes.Equal(next.start, end) && next.val == v {
		c.deleteLocked(next)
		iv.end = next.end
	}
	c.insertLocked(iv)
	return true
}

// overlappingLocked returns the intervals that share a key with
// [start, end), in key order.
func (c *Cache) overlappingLocked(start, end []byte) []*interval {
	var out []*interval
	pivot := &interval{start: start}
	// The interval starting at or before start may reach into the span.
	c.mu.tree.DescendLessOrEqual(pivot, func(iv *interval) bool {
		if bytes.Compare(iv.end, start) > 0 {
			out = append(out, iv)
		}
		return false
	})
	c.mu.tree.AscendGreaterOrEqual(pivot, func(iv *interval) bool {
		if bytes.Compare(iv.start, end) >= 0 {
			return false
		}
		if len(out) == 0 || out[len(out)-1] != iv {
			out = append(out, iv)
		}
		return true
	})
	return out
}

func (c *Cache) addLocked(start, end []byte, v value) {
	ovs := c.overlappingLocked(start, end)
	pieces := make([]*interval, 0, 2*len(ovs)+1)
	if len(ovs) > 0 && bytes.Compare(ovs[0].start, start) < 0 {
		pieces = append(pieces, &interval{start: ovs[0].start, end: start, val: ovs[0].val})
	}
	cursor := start
	for _, ov := range ovs {
		lo, hi := ov.start, ov.end
		if bytes.Compare(lo, start) < 0 {
			lo = start
		}
		if bytes.Compare(hi, end) > 0 {
			hi = end
		}
		if bytes.Compare(cursor, lo) < 0 {
			pieces = append(pieces, &interval{start: cursor, end: lo, val: v})
		}
		pieces = append(pieces, &interval{start: lo, end: hi, val: ov.val.max(v)})
		cursor = hi
	}
	if bytes.Compare(cursor, end) < 0 {
		pieces = append(pieces, &interval{start: cursor, end: end, val: v})
	}
	if n := len(ovs); n > 0 && bytes.Compare(ovs[n-1].end, end) > 0 {
		pieces = append(pieces, &interval{start: end, end: ovs[n-1].end, val: ovs[n-1].val})
	}
	for _, ov := range ovs {
		c.deleteLocked(ov)
	}

	// Merge equal neighbours, including the intervals just outside the
	// span, so that repeated reads of adjacent keys by one transaction
	// cost one interval.
	if prev := c.prevLocked(pieces[0].start); prev != nil && bytes.Equal(prev.end, pieces[0].start) && prev.val == pieces[0].val {
		c.deleteLocked(prev)
		pieces[0] = &interval{start: prev.start, end: pieces[0].end, val: prev.val}
	}
	last := pieces[len(pieces)-1]
	if next := c.nextLocked(last.end); next != nil && bytes.Equal(next.start, last.end) && next.val == last.val {
		c.deleteLocked(next)
		pieces[len(pieces)-1] = &interval{start: last.start, end: next.end, val: last.val}
	}
	merged := pieces[:1]
	for _, p := range pieces[1:] {
		if m := merged[len(merged)-1]; bytes.Equal(m.end, p.start) && m.val == p.val {
			merged[len(merged)-1] = &interval{start: m.start, end: p.end, val: m.val}
			continue
		}
		merged = append(merged, p)
	}
	for _, p := range merged {
		c.insertLocked(p)
	}
}

// prevLocked returns the interval with the greatest start below key.
func (c *Cache) prevLocked(key []byte) *interval {
	var out *interval
	c.mu.tree.DescendLessOrEqual(&interval{start: key}, func(iv *interval) bool {
		if bytes.Equal(iv.start, key) {
			return true
		}
		out = iv
		return false
	})
	return out
}

// nextLocked returns the interval starting at key, if any.
func (c *Cache) nextLocked(key []byte) *interval {
	iv, _ := c.mu.tree.Get(&interval{start: key})
	return iv
}

func (c *Cache) insertLocked(iv *interval) {
	c.mu.tree.ReplaceOrInsert(iv)
	c.mu.bytes += iv.size()
}

func (c *Cache) deleteLocked(iv *interval) {
	c.mu.tree.Delete(iv)
	c.mu.bytes -= iv.size()
}

// GetMax returns the highest timestamp at which any key of [start, end) (or
// the key start, if end is nil) was read, never below the low-water mark,
// and the transaction that read there if it is the only one that did (zero
// otherwise; the low-water mark belongs to no transaction).
func (c *Cache) GetMax(start, end []byte) (hlc.Timestamp, kv.TxnID) {
	point := end == nil
	if !point {
		spanEnd(start, end) // validate
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	v := value{ts: c.mu.lowWater}
	pivot := &interval{start: start}
	c.mu.tree.DescendLessOrEqual(pivot, func(iv *interval) bool {
		if bytes.Compare(iv.end, start) > 0 {
			v = v.max(iv.val)
		}
		return false
	})
	if point {
		// Only the interval starting at or before the key can hold it:
		// the next one starts after it.
		return v.ts, v.txn
	}
	c.mu.tree.AscendGreaterOrEqual(pivot, func(iv *interval) bool {
		if bytes.Compare(iv.start, end) >= 0 {
			return false
		}
		// The interval starting exactly at start was seen above; max is
		// idempotent, so seeing it twice is harmless.
		v = v.max(iv.val)
		return true
	})
	return v.ts, v.txn
}

// SetLowWater raises the low-water mark to ts (it never lowers it) and
// forgets the reads it now covers. A new leaseholder calls it with its
// lease's start: the reads the previous leaseholder served are unknown
// here, and none of them was above that.
func (c *Cache) SetLowWater(ts hlc.Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLowWaterLocked(ts)
}

func (c *Cache) setLowWaterLocked(ts hlc.Timestamp) {
	if !c.mu.lowWater.Forward(ts) {
		return
	}
	var drop []*interval
	c.mu.tree.Ascend(func(iv *interval) bool {
		if iv.val.ts.LessEq(c.mu.lowWater) {
			drop = append(drop, iv)
		}
		return true
	})
	for _, iv := range drop {
		c.deleteLocked(iv)
	}
}

// evictLocked raises the low-water mark until the intervals left fit in
// three quarters of MaxBytes: the intervals with the lowest timestamps go
// first, so the mark rises as little as possible.
func (c *Cache) evictLocked() {
	type entry struct {
		ts   hlc.Timestamp
		size int64
	}
	entries := make([]entry, 0, c.mu.tree.Len())
	c.mu.tree.Ascend(func(iv *interval) bool {
		entries = append(entries, entry{iv.val.ts, iv.size()})
		return true
	})
	slices.SortFunc(entries, func(a, b entry) int { return a.ts.Compare(b.ts) })
	target := c.opts.MaxBytes * 3 / 4
	remaining := c.mu.bytes
	var mark hlc.Timestamp
	// Intervals that share a timestamp go together: the mark cannot keep
	// some of them above it.
	for i := 0; i < len(entries) && remaining > target; {
		mark = entries[i].ts
		for ; i < len(entries) && entries[i].ts == mark; i++ {
			remaining -= entries[i].size
		}
	}
	c.mu.evictions++
	c.setLowWaterLocked(mark)
}

// LowWater returns the low-water mark.
func (c *Cache) LowWater() hlc.Timestamp {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.lowWater
}

// Stats describes the cache's memory use.
type Stats struct {
	// Intervals is the number of intervals held; Bytes their estimated size.
	Intervals int
	Bytes     int64
	// Evictions counts the times memory pressure raised the low-water mark.
	Evictions int64
}

// Stats returns the cache's current memory use.
func (c *Cache) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Stats{Intervals: c.mu.tree.Len(), Bytes: c.mu.bytes, Evictions: c.mu.evictions}
}
