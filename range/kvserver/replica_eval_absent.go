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

// minAbsentBatch is the fewest point writes worth the span check: below
// it, the writes' own seeks cost about as much and find what they find.
const minAbsentBatch = 16

// absentSpan is [start, end), known empty when the batch began.
type absentSpan struct{ start, end []byte }

// noteAbsentSpan sets ec.absent if ba's writes qualify: at least
// minAbsentBatch point writes (Put, ConditionalPut, Increment, Delete) to
// distinct keys, the batch's other requests only reads and the
// transaction's own record (HeartbeatTxn, EndTxn), and nothing in the
// span from the least key to the greatest.
func (ec *evalCtx) noteAbsentSpan(rd kv.Reader, ba *rangepb.BatchRequest) error {
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
	last := keys[len(keys)-1]
	sp := absentSpan{start: keys[0], end: append(last[:len(last):len(last)], 0)}
	empty, err := kv.MVCCSpanEmpty(rd, sp.start, sp.end)
	if err != nil || !empty {
		return err
	}
	ec.absent = &sp
	return nil
}

// knownAbsent reports whether key lies in the batch's empty span.
func (ec *evalCtx) knownAbsent(key []byte) bool {
	a := ec.absent
	return a != nil && bytes.Compare(a.start, key) <= 0 && bytes.Compare(key, a.end) < 0
}
