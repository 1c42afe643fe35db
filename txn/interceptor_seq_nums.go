package txn

import (
	"context"

	"github.com/meridiandb/meridian/range/rangepb"
)

// txnSeqNumAllocator numbers the transaction's writes, so that a read sees
// exactly the writes before it and a replayed write is recognised. The
// header carries the sequence of the last write before the batch; the
// range gives the batch's writes the next ones, in order. Sequence numbers
// keep growing across epochs (intents of older epochs are replaced
// whatever their sequence).
type txnSeqNumAllocator struct {
	wrapped lockedSender
	seq     int32
}

func (s *txnSeqNumAllocator) setWrapped(w lockedSender) { s.wrapped = w }
func (s *txnSeqNumAllocator) epochBumpedLocked()        {}
func (s *txnSeqNumAllocator) closeLocked()              {}

func (s *txnSeqNumAllocator) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	ba.Header.Txn.Meta.Sequence = s.seq
	for _, ru := range ba.Requests {
		if _, _, write := writeSpan(ru); write {
			s.seq++
			setSequence(ru, s.seq)
		}
	}
	return s.wrapped.SendLocked(ctx, ba)
}

// setSequence numbers a write explicitly: a batch cut into parts for
// several ranges, sent in parallel, keeps the numbers given here (which
// the pipeliner's in-flight writes and a STAGING record name).
func setSequence(ru *rangepb.RequestUnion, seq int32) {
	switch req := ru.Value.(type) {
	case *rangepb.RequestUnion_Put:
		req.Put.Sequence = seq
	case *rangepb.RequestUnion_ConditionalPut:
		req.ConditionalPut.Sequence = seq
	case *rangepb.RequestUnion_Increment:
		req.Increment.Sequence = seq
	case *rangepb.RequestUnion_Delete:
		req.Delete.Sequence = seq
	case *rangepb.RequestUnion_DeleteRange:
		req.DeleteRange.Sequence = seq
	}
}

// writeSequence returns a write's sequence (0 for other requests).
func writeSequence(ru *rangepb.RequestUnion) int32 {
	switch req := ru.Value.(type) {
	case *rangepb.RequestUnion_Put:
		return req.Put.Sequence
	case *rangepb.RequestUnion_ConditionalPut:
		return req.ConditionalPut.Sequence
	case *rangepb.RequestUnion_Increment:
		return req.Increment.Sequence
	case *rangepb.RequestUnion_Delete:
		return req.Delete.Sequence
	case *rangepb.RequestUnion_DeleteRange:
		return req.DeleteRange.Sequence
	}
	return 0
}

// writeSpan returns the span a request writes intents in.
func writeSpan(ru *rangepb.RequestUnion) (key, end []byte, write bool) {
	switch req := ru.Value.(type) {
	case *rangepb.RequestUnion_Put:
		return req.Put.Key, nil, true
	case *rangepb.RequestUnion_ConditionalPut:
		return req.ConditionalPut.Key, nil, true
	case *rangepb.RequestUnion_Increment:
		return req.Increment.Key, nil, true
	case *rangepb.RequestUnion_Delete:
		return req.Delete.Key, nil, true
	case *rangepb.RequestUnion_DeleteRange:
		return req.DeleteRange.Span.GetKey(), req.DeleteRange.Span.GetEndKey(), true
	}
	return nil, nil, false
}

// readSpan returns the span a request's result depends on: plain reads,
// and the writes that read the current value (their outcome depends on
// it, so a pushed timestamp must re-validate them too).
func readSpan(ru *rangepb.RequestUnion) (key, end []byte, read bool) {
	switch req := ru.Value.(type) {
	case *rangepb.RequestUnion_Get:
		return req.Get.Key, nil, true
	case *rangepb.RequestUnion_Scan:
		return req.Scan.Span.GetKey(), req.Scan.Span.GetEndKey(), true
	case *rangepb.RequestUnion_ConditionalPut:
		return req.ConditionalPut.Key, nil, true
	case *rangepb.RequestUnion_Increment:
		return req.Increment.Key, nil, true
	case *rangepb.RequestUnion_Delete:
		return req.Delete.Key, nil, true
	case *rangepb.RequestUnion_DeleteRange:
		return req.DeleteRange.Span.GetKey(), req.DeleteRange.Span.GetEndKey(), true
	}
	return nil, nil, false
}
