package kvserver

import "go.etcd.io/raft/v3/raftpb"

// entryCache keeps the tail of a replica's Raft log in memory: Raft reads
// recent entries back to send them to followers and looks up their terms
// on every append, and serving those from the engine (an iterator per
// read) dominated the profile of a busy range. It holds a contiguous run
// of entries ending at the last index, bounded in count and bytes.
// Guarded by Replica.mu.
type entryCache struct {
	ents  []raftpb.Entry // ents[i].Index == first + i
	bytes int
}

const (
	entryCacheMaxEntries = 1024
	entryCacheMaxBytes   = 4 << 20
)

// first is the index of the oldest cached entry (0 when empty).
func (c *entryCache) first() uint64 {
	if len(c.ents) == 0 {
		return 0
	}
	return c.ents[0].Index
}

// add caches newly persisted entries, which replace any cached entries at
// or after their first index (a new leader overwriting an uncommitted tail).
func (c *entryCache) add(ents []raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	if len(c.ents) > 0 {
		start := ents[0].Index
		switch {
		case start < c.first() || start > c.ents[len(c.ents)-1].Index+1:
			c.clear() // not contiguous: start over
		default:
			for _, e := range c.ents[start-c.first():] {
				c.bytes -= e.Size()
			}
			c.ents = c.ents[:start-c.first()]
		}
	}
	for _, e := range ents {
		c.bytes += e.Size()
	}
	c.ents = append(c.ents, ents...)
	drop := 0
	for len(c.ents)-drop > entryCacheMaxEntries || (c.bytes > entryCacheMaxBytes && len(c.ents)-drop > 1) {
		c.bytes -= c.ents[drop].Size()
		drop++
	}
	if drop > 0 {
		// Reslice rather than copy: the next append that outgrows the array
		// moves only the live tail. Clear the dropped entries so their data
		// can be freed.
		clear(c.ents[:drop])
		c.ents = c.ents[drop:]
	}
}

// truncate drops the entries at or below index.
func (c *entryCache) truncate(index uint64) {
	if len(c.ents) == 0 || index < c.first() {
		return
	}
	n := min(int(index-c.first()+1), len(c.ents))
	for _, e := range c.ents[:n] {
		c.bytes -= e.Size()
	}
	clear(c.ents[:n])
	c.ents = c.ents[n:]
}

func (c *entryCache) clear() { c.ents, c.bytes = nil, 0 }

// get returns the entries [lo, hi), limited to maxSize bytes (but at least
// one), if all of them are cached.
func (c *entryCache) get(lo, hi, maxSize uint64) ([]raftpb.Entry, bool) {
	if len(c.ents) == 0 || lo < c.first() || hi > c.ents[len(c.ents)-1].Index+1 || lo >= hi {
		return nil, false
	}
	src := c.ents[lo-c.first() : hi-c.first()]
	n, size := 0, uint64(0)
	for _, e := range src {
		size += uint64(e.Size())
		if maxSize > 0 && size > maxSize && n > 0 {
			break
		}
		n++
	}
	return append([]raftpb.Entry(nil), src[:n]...), true
}

// term returns the term of entry i if cached.
func (c *entryCache) term(i uint64) (uint64, bool) {
	if len(c.ents) == 0 || i < c.first() || i > c.ents[len(c.ents)-1].Index {
		return 0, false
	}
	return c.ents[i-c.first()].Term, true
}
