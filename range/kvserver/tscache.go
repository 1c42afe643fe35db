package kvserver

import (
	"bytes"
	"sync"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
)

// tsCache is the timestamp cache a leaseholder keeps (DESIGN.md §5): the
// highest timestamp each key span was read at, so that a later write below
// it is pushed above it, and a low-water mark below which every key counts
// as read (set at the start of each lease: reads served under earlier
// leases, here or elsewhere, are not known).
//
// The interface is exactly the part of range/tscache.Cache the replica
// uses: newTSCache swaps in that one (an interval B-tree with bounded
// memory) in one line.
type tsCache interface {
	// Add records a read of [start, end) (the key start if end is nil) at
	// ts by txn (zero: not transactional).
	Add(start, end []byte, ts hlc.Timestamp, txn kv.TxnID)
	// GetMax returns the highest read timestamp over [start, end) and the
	// transaction that read there, if exactly one did.
	GetMax(start, end []byte) (hlc.Timestamp, kv.TxnID)
	// SetLowWater raises the low-water mark.
	SetLowWater(ts hlc.Timestamp)
}

func newTSCache() tsCache { return newSimpleTSCache(simpleTSCacheMaxEntries) }

// simpleTSCacheMaxEntries bounds the simple cache: past it, the low-water
// mark rises to the newest read and the entries go (correct, as a read
// below the low-water mark counts as a read of every key, but coarse).
const simpleTSCacheMaxEntries = 4096

// simpleTSCache keeps one entry per distinct span read, and answers
// GetMax by looking at all of them: fine for the small key sets tests and
// v1 workloads read. It is safe for concurrent use.
type simpleTSCache struct {
	max int
	mu  struct {
		sync.Mutex
		lowWater hlc.Timestamp
		entries  map[string]*tsEntry
	}
}

type tsEntry struct {
	start, end []byte
	ts         hlc.Timestamp
	txn        kv.TxnID
	// shared: more than one transaction read at ts, so none owns it.
	shared bool
}

func newSimpleTSCache(max int) *simpleTSCache {
	c := &simpleTSCache{max: max}
	c.mu.entries = map[string]*tsEntry{}
	return c
}

func spanEndKey(start, end []byte) []byte {
	if len(end) == 0 {
		return append(start[:len(start):len(start)], 0)
	}
	return end
}

func (c *simpleTSCache) Add(start, end []byte, ts hlc.Timestamp, txn kv.TxnID) {
	end = spanEndKey(start, end)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts.LessEq(c.mu.lowWater) {
		return
	}
	k := string(start) + "\x00\x00" + string(end)
	e, ok := c.mu.entries[k]
	switch {
	case !ok:
		if len(c.mu.entries) >= c.max {
			for _, e := range c.mu.entries {
				c.mu.lowWater.Forward(e.ts)
			}
			c.mu.lowWater.Forward(ts)
			clear(c.mu.entries)
			return
		}
		c.mu.entries[k] = &tsEntry{start: bytes.Clone(start), end: bytes.Clone(end), ts: ts, txn: txn}
	case e.ts.Less(ts):
		e.ts, e.txn, e.shared = ts, txn, false
	case e.ts == ts && e.txn != txn:
		e.shared = true
	}
}

func (c *simpleTSCache) GetMax(start, end []byte) (hlc.Timestamp, kv.TxnID) {
	end = spanEndKey(start, end)
	c.mu.Lock()
	defer c.mu.Unlock()
	max, txn, shared := c.mu.lowWater, kv.TxnID{}, true
	for _, e := range c.mu.entries {
		if bytes.Compare(e.start, end) >= 0 || bytes.Compare(start, e.end) >= 0 {
			continue
		}
		switch {
		case max.Less(e.ts):
			max, txn, shared = e.ts, e.txn, e.shared
		case max == e.ts && (e.shared || e.txn != txn):
			shared = true
		}
	}
	if shared {
		return max, kv.TxnID{}
	}
	return max, txn
}

func (c *simpleTSCache) SetLowWater(ts hlc.Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.lowWater.Forward(ts)
}
