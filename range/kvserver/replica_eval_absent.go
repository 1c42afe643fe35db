package kvserver

import (
	"bytes"
	"slices"

	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// A bulk load writes batches of thousands of new keys (a COPY's chunk,
// committed in one Raft command), and each write looked for the key's
// lock and versions first: two Pebble seeks per key, a fifth of the node's
// CPU while loading TPC-C. When a batch's point writes go to distinct keys
// of a span that holds nothing yet (kv.MVCCSpanEmpty: two seeks for the
// batch), none of them can find anything, and they skip their reads
// (kv.MVCCWriteOptions.KnownAbsent). The batch's write latches keep the
// keys so while it evaluates; other keys of the span do not matter.

// minAbsentBatch is the fewest point writes worth a span check: below
// it, the writes' own seeks cost about as much and find what they find.
const minAbsentBatch = 16

// maxAbsentDepth bounds how often a span found not empty is halved and
// its halves checked (a batch's keys may straddle data: a CREATE INDEX's
// entries go with a descriptor write in the same range; an UPDATE's keys
// all have data). At most 2^(d+1)-1 checks of two seeks each per batch.
const maxAbsentDepth = 6

// absentSpan is [start, end), known empty when the batch began.
type absentSpan struct{ start, end []byte }

// noteAbsentSpans sets ec.absent if ba's writes qualify: at least
// minAbsentBatch point writes (Put, ConditionalPut, Increment, Delete) to
// distinct keys, the batch's other requests only reads and the
// transaction's own record (HeartbeatTxn, EndTxn). The keys, sorted, are
// checked as one span from the least to the greatest; a span not empty is
// halved, and each half checked the same way, down to maxAbsentDepth or
// minAbsentBatch keys.
func (ec *evalCtx) noteAbsentSpans(rd kv.Reader, ba *rangepb.BatchRequest) error {
	n := 0
	for _, ru := range ba.Requests {
		switch ru.Method() {
		case rangepb.Put, rangepb.ConditionalPut, rangepb.Increment, rangepb.Delete:
			n++
		case rangepb.EndTxn, rangepb.HeartbeatTxn:
		default:
			if !ru.Flags().Has(rangepb.IsReadOnly) {
				return nil
			}
		}
	}
	if n < minAbsentBatch {
		return nil
	}
	keys := make([][]byte, 0, n)
	for _, ru := range ba.Requests {
		switch ru.Method() {
		case rangepb.Put, rangepb.ConditionalPut, rangepb.Increment, rangepb.Delete:
			k, _, _ := ru.Addr()
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	for i := 1; i < len(keys); i++ {
		if bytes.Equal(keys[i-1], keys[i]) {
			return nil
		}
	}
	var check func(ks [][]byte, depth int) error
	check = func(ks [][]byte, depth int) error {
		if len(ks) < minAbsentBatch {
			return nil
		}
		last := ks[len(ks)-1]
		sp := absentSpan{start: ks[0], end: append(last[:len(last):len(last)], 0)}
		empty, err := kv.MVCCSpanEmpty(rd, sp.start, sp.end)
		if err != nil {
			return err
		}
		if empty {
			ec.absent = append(ec.absent, sp)
			return nil
		}
		if depth == maxAbsentDepth {
			return nil
		}
		mid := len(ks) / 2
		if err := check(ks[:mid], depth+1); err != nil {
			return err
		}
		return check(ks[mid:], depth+1)
	}
	return check(keys, 0)
}

// knownAbsent reports whether key lies in one of the batch's empty spans
// (in key order, as check found them).
func (ec *evalCtx) knownAbsent(key []byte) bool {
	i, _ := slices.BinarySearchFunc(ec.absent, key, func(sp absentSpan, k []byte) int {
		if bytes.Compare(sp.end, k) <= 0 {
			return -1
		}
		if bytes.Compare(k, sp.start) < 0 {
			return 1
		}
		return 0
	})
	return i < len(ec.absent) && bytes.Compare(ec.absent[i].start, key) <= 0 && bytes.Compare(key, ec.absent[i].end) < 0
}
