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
	s.numberLocked(ba.Requests)
	return s.wrapped.SendLocked(ctx, ba)
}

// numberLocked gives reqs' writes the next sequence numbers, in order;
// writes numbered already (held back when the transaction wrote them:
// coordinator.sendHoldable) keep theirs. A held write is numbered when it
// is written, not when it is sent, so that a snapshot of the
// transaction's writes (Txn.Snapshot) counts it where it belongs. The
// header of a batch carrying held writes still names the last sequence
// given: held writes were given theirs before any write sent after them.
func (s *txnSeqNumAllocator) numberLocked(reqs []*rangepb.RequestUnion) {
	for _, ru := range reqs {
		if _, _, write := writeSpan(ru); write && writeSequence(ru) == 0 {
			s.seq++
			setSequence(ru, s.seq)
		}
	}
}

// seqLocked is the sequence of the transaction's last write.
func (s *txnSeqNumAllocator) seqLocked() int32 { return s.seq }

// setSequence numbers a write explicitly: a batch cut into parts for
// several ranges, sent in parallel, keeps the numbers given here (which
// the pipeliner's in-flight writes and a STAGING record name).
func setSequence(ru *rangepb.RequestUnion, seq int32) {
	if w, ok := ru.Inner().(rangepb.SequencedRequest); ok {
		w.SetSequence(seq)
	}
}

// writeSequence returns a write's sequence (0 for other requests).
func writeSequence(ru *rangepb.RequestUnion) int32 {
	if w, ok := ru.Inner().(rangepb.SequencedRequest); ok {
		return w.GetSequence()
	}
	return 0
}

// writeSpan returns the span a request writes intents in.
func writeSpan(ru *rangepb.RequestUnion) (key, end []byte, write bool) {
	if !ru.Flags().Has(rangepb.WritesUserKeys) {
		return nil, nil, false
	}
	key, end, _ = ru.Addr()
	return key, end, true
}

// readSpan returns the span a request's result depends on: plain reads,
// and the writes that read the current value (their outcome depends on
// it, so a pushed timestamp must re-validate them too).
func readSpan(ru *rangepb.RequestUnion) (key, end []byte, read bool) {
	if !ru.Flags().Has(rangepb.NeedsRefresh) {
		return nil, nil, false
	}
	key, end, _ = ru.Addr()
	return key, end, true
}
