package txn

import (
	"bytes"
	"context"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// txnPipeliner pipelines the transaction's writes (CockroachDB's
// txnPipeliner; the "Transaction pipelining" post): a batch of reads and
// point writes goes with async_consensus, so the range answers once the
// writes are evaluated and proposed, not applied — one round of consensus
// saved per write. Until proven, those writes are in flight: their keys
// and sequence numbers are kept here, and
//
//   - a later request that touches an in-flight key first proves the
//     write with a QueryIntent in the same batch, ahead of it (the range
//     holds the write's latches until it applies, so the QueryIntent
//     waits for that and then finds the intent, or fails the batch with a
//     retry error if the proposal failed);
//   - a commit proves them all: with parallel commits, the QueryIntents go
//     in the committing batch and the writes join the EndTxn's in-flight
//     set (the committer adds the batch's own); without, the QueryIntents
//     go ahead of the EndTxn, which the senders send after them.
//
// A rollback proves nothing: resolution waits for the writes' latches too.
type txnPipeliner struct {
	wrapped lockedSender
	// disabled sends every write synchronously (Options.DisablePipelining).
	disabled bool
	// sender reads the record when a write turns out missing.
	sender   Sender
	inFlight []*rangepb.SequencedWrite
}

func (p *txnPipeliner) setWrapped(w lockedSender) { p.wrapped = w }

// A restart's writes replace the last epoch's, which its QueryIntents
// (asking for the new epoch) would never find.
func (p *txnPipeliner) epochBumpedLocked() { p.inFlight = nil }
func (p *txnPipeliner) closeLocked()       {}

// overlaps reports whether the point k lies in [key, end) (end empty:
// is key).
func overlaps(k, key, end []byte) bool {
	if len(end) == 0 {
		return bytes.Equal(k, key)
	}
	return bytes.Compare(key, k) <= 0 && bytes.Compare(k, end) < 0
}

// requestKeys returns the keys a request of the transaction touches.
func requestKeys(ru *rangepb.RequestUnion) (key, end []byte, ok bool) {
	if key, end, ok = readSpan(ru); ok {
		return key, end, true
	}
	if key, end, ok = writeSpan(ru); ok {
		return key, end, true
	}
	return lockingReadSpan(ru)
}

func (p *txnPipeliner) SendLocked(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	var et *rangepb.EndTxnRequest
	if n := len(ba.Requests); n > 0 {
		et = ba.Requests[n-1].GetEndTxn()
	}
	var prove []*rangepb.SequencedWrite
	keep := p.inFlight[:0:0]
	for _, w := range p.inFlight {
		touched := et != nil && et.Commit
		for _, ru := range ba.Requests {
			if touched {
				break
			}
			if key, end, ok := requestKeys(ru); ok && overlaps(w.Key, key, end) {
				touched = true
			}
		}
		if touched {
			prove = append(prove, w)
		} else {
			keep = append(keep, w)
		}
	}
	if et != nil && et.Commit {
		// The committer decides whether these join a STAGING record.
		et.InFlightWrites = append([]*rangepb.SequencedWrite(nil), prove...)
	}
	if len(prove) > 0 {
		reqs := make([]*rangepb.RequestUnion, 0, len(prove)+len(ba.Requests))
		for _, w := range prove {
			m := proto.Clone(ba.Header.Txn.Meta).(*rangepb.TxnMeta)
			m.Sequence = w.Sequence
			reqs = append(reqs, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_QueryIntent{QueryIntent: &rangepb.QueryIntentRequest{
				Key: w.Key, Txn: m, ErrorIfMissing: true,
			}}})
		}
		ba = &rangepb.BatchRequest{Header: ba.Header, Requests: append(reqs, ba.Requests...)}
	}
	async := !p.disabled && et == nil && pipelinable(ba.Requests) && p.fits(ba.Requests)
	if async {
		ba = withDeletedKeys(ba)
	}
	ba.Header.AsyncConsensus = async
	br, err := p.wrapped.SendLocked(ctx, ba)
	if err != nil {
		// Whether the writes (or the proofs) got anywhere is unknown: they
		// all stay in flight.
		br, err = p.whyMissing(ctx, ba, err)
		if err != nil {
			return nil, err
		}
	}
	p.inFlight = keep
	if async {
		for i, ru := range ba.Requests {
			if key, end, write := writeSpan(ru); write && len(end) == 0 {
				p.inFlight = append(p.inFlight, &rangepb.SequencedWrite{Key: key, Sequence: writeSequence(ru)})
			}
			// A DeleteRange's writes are the keys it deleted (none listed
			// if the range applied it before answering: canPipeline).
			for _, k := range br.Responses[i].GetDeleteRange().GetKeys() {
				p.inFlight = append(p.inFlight, &rangepb.SequencedWrite{Key: k, Sequence: writeSequence(ru)})
			}
		}
	}
	if len(prove) > 0 {
		br.Responses = br.Responses[len(prove):]
	}
	return br, nil
}

// Bounds of pipelining, as CockroachDB's (kv.transaction.
// write_pipelining.max_batch_size and its in-flight byte budget): a bulk
// write gains nothing from skipping a round of consensus per batch of
// hundreds of rows, while every write kept in flight costs a look at each
// later request and a QueryIntent at the commit. Unbounded, pgbench -i's
// COPY and ADD PRIMARY KEY (100,000 and 200,000 writes in one
// transaction) went from 8 s to over 200 s.
const (
	maxPipelinedBatchWrites = 128
	maxInFlightWrites       = 1024
)

// fits reports whether a batch's writes stay within the pipelining bounds
// (a DeleteRange counted as the most keys a range pipelines).
func (p *txnPipeliner) fits(reqs []*rangepb.RequestUnion) bool {
	n, deleted := 0, 0
	for _, ru := range reqs {
		if _, end, write := writeSpan(ru); write && len(end) == 0 {
			n++
		} else if write {
			deleted += rangepb.MaxPipelinedDeleteRangeKeys
		}
	}
	return n <= maxPipelinedBatchWrites && len(p.inFlight)+n+deleted <= maxInFlightWrites
}

// withDeletedKeys returns ba with its DeleteRanges asking for the keys
// they delete, which a pipelined DeleteRange must list (its writes in
// flight). The caller's requests are not changed.
func withDeletedKeys(ba *rangepb.BatchRequest) *rangepb.BatchRequest {
	var reqs []*rangepb.RequestUnion
	for i, ru := range ba.Requests {
		dr := ru.GetDeleteRange()
		if dr == nil || dr.ReturnKeys {
			continue
		}
		if reqs == nil {
			reqs = append([]*rangepb.RequestUnion(nil), ba.Requests...)
		}
		c := proto.Clone(dr).(*rangepb.DeleteRangeRequest)
		c.ReturnKeys = true
		reqs[i] = rangepb.MakeRequestUnion(c)
	}
	if reqs == nil {
		return ba
	}
	return &rangepb.BatchRequest{Header: ba.Header, Requests: reqs}
}

// pipelinable reports whether a batch's writes can be pipelined: it has
// point writes or DeleteRanges (sent listing the keys they delete:
// withDeletedKeys) and nothing else but reads and the first write's
// HeartbeatTxn (what the ranges accept with async_consensus).
func pipelinable(reqs []*rangepb.RequestUnion) bool {
	writes := false
	for _, ru := range reqs {
		f := ru.Flags()
		if !f.Has(rangepb.Pipelinable) {
			return false
		}
		writes = writes || f.Has(rangepb.WritesUserKeys)
	}
	return writes
}

// whyMissing explains a pipelined write found missing (err), from its
// record:
//
//   - ABORTED: another transaction aborted this one and removed its
//     intents; the transaction starts over (aborted) rather than restart
//     an epoch it cannot commit in.
//   - COMMITTED at this epoch, answering a commit: the commit's parallel
//     batch staged the record and a pusher recovered it — every write was
//     there, so it committed — and resolved the intents before this
//     batch's QueryIntent looked. The commit succeeded: it is answered so.
func (p *txnPipeliner) whyMissing(ctx context.Context, ba *rangepb.BatchRequest, err error) (*rangepb.BatchResponse, error) {
	txn := ba.Header.Txn
	var tre *rangepb.TransactionRetryError
	if !errors.As(err, &tre) || tre.Reason != rangepb.TransactionRetryReason_RETRY_ASYNC_WRITE_FAILURE ||
		len(txn.GetMeta().GetKey()) == 0 || p.sender == nil {
		return nil, err
	}
	br, qerr := p.sender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{{
		Value: &rangepb.RequestUnion_QueryTxn{QueryTxn: &rangepb.QueryTxnRequest{Key: txn.Meta.Key, Txn: txn.Meta}}}}})
	if qerr != nil {
		return nil, err
	}
	rec := br.Responses[0].GetQueryTxn().GetQueriedTxn()
	switch rec.GetStatus() {
	case rangepb.TransactionStatus_ABORTED:
		return nil, &rangepb.TransactionAbortedError{Txn: rec}
	case rangepb.TransactionStatus_COMMITTED:
		n := len(ba.Requests)
		if et := ba.Requests[n-1].GetEndTxn(); et != nil && et.Commit && rec.Meta.GetEpoch() == txn.Meta.Epoch {
			out := &rangepb.BatchResponse{Txn: rec, Responses: make([]*rangepb.ResponseUnion, n)}
			for i := range out.Responses {
				out.Responses[i] = &rangepb.ResponseUnion{}
			}
			out.Responses[n-1] = &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_EndTxn{EndTxn: &rangepb.EndTxnResponse{Txn: rec}}}
			return out, nil
		}
	}
	return nil, err
}
