package txn

import (
	"bytes"

	"github.com/google/btree"
	"github.com/meridiandb/meridian/range/rangepb"
)

// maxHeldBytes bounds the writes a transaction holds back (keys and
// values): the batch that carries them becomes one Raft command per
// range, which must stay small enough to evaluate and apply well within a
// request's timeout. A bulk load's chunk (a COPY of 10,000 rows of
// TPC-C's stock, ~3.5 MB) fits, and commits in one Raft command with no
// intents when it lies in one range (one-phase commit, written as
// committed values: kvserver isOnePhaseCommit). Past the bound the writes
// go on as pipelined intents.
const maxHeldBytes = 8 << 20

// heldWrites are the writes a transaction holds back (BufferWrites), in
// order, with their keys indexed: a read asks whether it touches one of
// them, and a bulk load holds tens of thousands.
type heldWrites struct {
	reqs  []*rangepb.RequestUnion
	bytes int
	// keys are the held point writes' keys; spans the ranged writes'
	// (none today: only point writes are held).
	keys  *btree.BTreeG[string]
	spans []*rangepb.Span
}

func (h *heldWrites) len() int { return len(h.reqs) }

// fits reports whether reqs may join the held writes within the bound.
func (h *heldWrites) fits(reqs []*rangepb.RequestUnion) bool {
	n := h.bytes
	for _, ru := range reqs {
		n += heldSize(ru)
	}
	return n <= maxHeldBytes
}

// add holds reqs back, after those held already.
func (h *heldWrites) add(reqs []*rangepb.RequestUnion) {
	if h.keys == nil {
		h.keys = btree.NewG(16, func(a, b string) bool { return a < b })
	}
	for _, ru := range reqs {
		h.reqs = append(h.reqs, ru)
		h.bytes += heldSize(ru)
		key, end, _ := writeSpan(ru)
		if len(end) > 0 {
			h.spans = append(h.spans, &rangepb.Span{Key: key, EndKey: end})
		} else {
			h.keys.ReplaceOrInsert(string(key))
		}
	}
}

// take returns the held writes, in order, and holds none from then on.
func (h *heldWrites) take() []*rangepb.RequestUnion {
	reqs := h.reqs
	h.clear()
	return reqs
}

// clear drops the held writes.
func (h *heldWrites) clear() {
	*h = heldWrites{}
}

// first is the first held write's key.
func (h *heldWrites) first() []byte {
	key, _, _ := writeSpan(h.reqs[0])
	return key
}

// touches reports whether a held write writes a key in [key, end) (end
// empty: the key alone).
func (h *heldWrites) touches(key, end []byte) bool {
	for _, s := range h.spans {
		if spansOverlap(s.Key, s.EndKey, key, end) {
			return true
		}
	}
	if h.keys == nil {
		return false
	}
	if len(end) == 0 {
		return h.keys.Has(string(key))
	}
	found := false
	h.keys.AscendGreaterOrEqual(string(key), func(k string) bool {
		found = k < string(end)
		return false
	})
	return found
}

// spansOverlap reports whether [a, aEnd) and [b, bEnd) share a key (an
// empty end: the start key alone).
func spansOverlap(a, aEnd, b, bEnd []byte) bool {
	if len(aEnd) == 0 {
		aEnd = append(a[:len(a):len(a)], 0)
	}
	if len(bEnd) == 0 {
		bEnd = append(b[:len(b):len(b)], 0)
	}
	return bytes.Compare(a, bEnd) < 0 && bytes.Compare(b, aEnd) < 0
}

// heldSize is what a held write counts against maxHeldBytes: its key and
// value, and a little for the request around them.
func heldSize(ru *rangepb.RequestUnion) int {
	const overhead = 16
	switch r := ru.GetValue().(type) {
	case *rangepb.RequestUnion_Put:
		return overhead + len(r.Put.Key) + len(r.Put.Value)
	case *rangepb.RequestUnion_ConditionalPut:
		return overhead + len(r.ConditionalPut.Key) + len(r.ConditionalPut.Value) + len(r.ConditionalPut.ExpValue)
	}
	key, end, _ := writeSpan(ru)
	return overhead + len(key) + len(end)
}
