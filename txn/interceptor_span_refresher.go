package txn

import (
	"context"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// maxRefreshes bounds the refresh-and-resend rounds of one batch.
const maxRefreshes = 3

// txnSpanRefresher keeps a transaction serializable when its timestamp
// moves. A transaction reads at its read timestamp and commits at its
// write timestamp; others can push the write timestamp up (the timestamp
// cache, a newer committed value, a push of its record). Committing above
// its reads is only serializable if nothing it read changed in between:
// the refresher keeps the spans it read and, before committing (or when a
// range refuses the commit, or a read is uncertain), re-validates them up
// to the new timestamp (Refresh/RefreshRange) and moves the read timestamp
// there. If something changed, the transaction must restart.
type txnSpanRefresher struct {
	wrapped   lockedSender
	readSpans []*rangepb.Span
}

func (r *txnSpanRefresher) setWrapped(w lockedSender) { r.wrapped = w }

// A restart reads everything again at the new timestamp.
func (r *txnSpanRefresher) epochBumpedLocked() { r.readSpans = nil }
func (r *txnSpanRefresher) closeLocked()       {}

// hasCommit reports whether the batch commits (a rollback needs no
// refresh).
func hasCommit(ba *rangepb.BatchRequest) bool {
	for _, ru := range ba.Requests {
		if et := ru.GetEndTxn(); et != nil && et.Commit {
			return true
		}
	}
	return false
}

func (r *txnSpanRefresher) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	txn := ba.Header.Txn
	if wts := tsFromProto(txn.Meta.WriteTimestamp); hasCommit(ba) && tsFromProto(txn.ReadTimestamp).Less(wts) {
		// Known to be pushed: refresh before the commit rather than have
		// it refused.
		if err := r.refreshLocked(ctx, txn, wts); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		br, err := r.wrapped.SendLocked(ctx, ba)
		if err == nil {
			for _, ru := range ba.Requests {
				if key, end, ok := readSpan(ru); ok {
					r.readSpans = append(r.readSpans, &rangepb.Span{Key: key, EndKey: end})
				}
			}
			return br, nil
		}
		to, ok := refreshTarget(err)
		if !ok || attempt >= maxRefreshes {
			return nil, err
		}
		if rerr := r.refreshLocked(ctx, txn, to); rerr != nil {
			return nil, rerr
		}
	}
}

// refreshTarget returns the timestamp err asks the reads to move to.
func refreshTarget(err error) (hlc.Timestamp, bool) {
	var tre *rangepb.TransactionRetryError
	var unc *kvpb.ReadWithinUncertaintyIntervalError
	var wto *kvpb.WriteTooOldError
	switch {
	case errors.As(err, &tre) && tre.Reason == rangepb.TransactionRetryReason_RETRY_SERIALIZABLE:
		return tsFromProto(tre.Txn.GetMeta().GetWriteTimestamp()), true
	case errors.As(err, &unc):
		return unc.ValueTimestamp, true
	case errors.As(err, &wto):
		// A locking read met a newer committed value: read again above it.
		return wto.ActualTimestamp, true
	}
	return hlc.Timestamp{}, false
}

// refreshLocked moves txn's reads up to to: it checks every read span for
// writes in (read timestamp, to], then sets txn's read (and, if below,
// write) timestamp to to. It returns a TransactionRetryError if a span
// changed.
func (r *txnSpanRefresher) refreshLocked(ctx context.Context, txn *rangepb.Transaction, to hlc.Timestamp) error {
	from := tsFromProto(txn.ReadTimestamp)
	if to.LessEq(from) {
		return nil
	}
	if len(r.readSpans) > 0 {
		rt := proto.Clone(txn).(*rangepb.Transaction)
		rt.ReadTimestamp = tsToProto(to)
		ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: rt}}
		for _, s := range r.readSpans {
			if len(s.EndKey) == 0 {
				ba.Requests = append(ba.Requests, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Refresh{Refresh: &rangepb.RefreshRequest{
					Key: s.Key, RefreshFrom: tsToProto(from)}}})
			} else {
				ba.Requests = append(ba.Requests, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_RefreshRange{RefreshRange: &rangepb.RefreshRangeRequest{
					Span: s, RefreshFrom: tsToProto(from)}}})
			}
		}
		if _, err := r.wrapped.SendLocked(ctx, ba); err != nil {
			// The ranges where the refresh succeeded have recorded these
			// reads at to, as this transaction's. Its next epoch starts
			// there (the error carries to as the transaction's timestamp):
			// a range does not push a transaction's writes above its own
			// reads, so an epoch below to would write under another
			// transaction's read in (its timestamp, to] unpushed, the
			// other's entry hidden behind this one's in the timestamp cache.
			pushed := proto.Clone(txn).(*rangepb.Transaction)
			if wts := tsFromProto(txn.Meta.WriteTimestamp); wts.Less(to) {
				pushed.Meta.WriteTimestamp = tsToProto(to)
			}
			reason, extra := rangepb.TransactionRetryReason_RETRY_REFRESH_FAILED, err.Error()
			var tre *rangepb.TransactionRetryError
			if errors.As(err, &tre) {
				reason, extra = tre.Reason, tre.Extra
			}
			return &rangepb.TransactionRetryError{Reason: reason, Txn: pushed, Extra: extra}
		}
	}
	txn.ReadTimestamp = tsToProto(to)
	if wts := tsFromProto(txn.Meta.WriteTimestamp); wts.Less(to) {
		txn.Meta.WriteTimestamp = tsToProto(to)
	}
	return nil
}
