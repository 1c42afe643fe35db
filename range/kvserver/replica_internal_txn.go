package kvserver

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

// Internal transactions: the ones a leaseholder runs itself to change the
// range layout (a split, a merge) together with the meta2 records that
// describe it, as CockroachDB's AdminSplit and AdminMerge do.
//
// The transaction is anchored at the range's start key, so its record
// lives in the range it changes. It creates its record (HeartbeatTxn),
// writes its intents elsewhere (meta2, through StoreConfig.TxnSender),
// then commits with an EndTxn evaluated here that carries a commit
// trigger: the trigger's latches are taken with the EndTxn's, and its
// effect (a SplitTrigger, a MergeTrigger) goes into the same Raft command
// as the record turning COMMITTED. Either both apply or neither: a trigger
// the replicas refuse at apply (the descriptor changed meanwhile) refuses
// the whole command, the record stays PENDING, and the transaction is
// rolled back, its meta2 intents with it. Readers of meta2 that meet an
// intent wait for the transaction like any other reader.
//
// The transaction runs at the highest priority: a user transaction that
// meets its intents (SHOW RANGES reading meta2) waits rather than aborting
// it. It reads nothing, so a write timestamp pushed by meta2 readers needs
// no refresh: the EndTxn commits at the pushed timestamp.

// wholeRangeLatches are write latches over every key of desc: user keys
// (and with them their lock records) and the range-local keys anchored in
// it (transaction records).
func wholeRangeLatches(desc *rangepb.RangeDescriptor) []spanlatch.LatchSpan {
	rl := rangeLocalSpan(desc.StartKey, descEndKey(desc))
	return []spanlatch.LatchSpan{
		{Span: spanlatch.Span{Key: desc.StartKey, EndKey: descEndKey(desc)}, Access: spanlatch.Write},
		{Span: spanlatch.Span{Key: rl.Key, EndKey: rl.EndKey}, Access: spanlatch.Write},
	}
}

// internalTxn is an internal transaction in progress.
type internalTxn struct {
	r      *Replica
	txn    *rangepb.Transaction
	anchor []byte
	// written are the keys of its intents outside the range.
	written []*rangepb.Span
}

// beginInternalTxn creates the record of a new internal transaction
// anchored at the range's start key.
func (r *Replica) beginInternalTxn(ctx context.Context, name string, desc *rangepb.RangeDescriptor) (*internalTxn, error) {
	if r.store.cfg.TxnSender == nil {
		return nil, errors.Newf("r%d: %s needs StoreConfig.TxnSender (meta2 is written transactionally)", r.rangeID, name)
	}
	now := r.store.clock.Now()
	id := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, rand.Uint64()), rand.Uint64())
	anchor := append([]byte(nil), desc.StartKey...)
	t := &internalTxn{r: r, anchor: anchor, txn: &rangepb.Transaction{
		Meta: &rangepb.TxnMeta{
			Id: id, Key: anchor, WriteTimestamp: tsToProto(now), MinTimestamp: tsToProto(now), Priority: math.MaxInt32,
		},
		Name: name, ReadTimestamp: tsToProto(now), GlobalUncertaintyLimit: tsToProto(now), LastHeartbeat: tsToProto(now),
	}}
	br, err := r.Send(ctx, &rangepb.BatchRequest{
		Header: &rangepb.BatchHeader{RangeId: int64(r.rangeID), Txn: t.txn},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_HeartbeatTxn{
			HeartbeatTxn: &rangepb.HeartbeatTxnRequest{Key: anchor, Now: tsToProto(now)},
		}}},
	})
	if err != nil {
		return nil, errors.Wrapf(err, "r%d: creating the record of the %s transaction", r.rangeID, name)
	}
	t.update(br)
	return t, nil
}

func (t *internalTxn) update(br *rangepb.BatchResponse) {
	if br.GetTxn().GetMeta() != nil {
		t.txn = br.Txn
	}
}

// put writes key=value as an intent, wherever key lives.
func (t *internalTxn) put(ctx context.Context, reqs ...*rangepb.PutRequest) error {
	ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: t.txn}}
	for _, p := range reqs {
		ba.Requests = append(ba.Requests, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: p}})
		// Listed before they are sent: a failed batch may still have left
		// intents, which the rollback must find.
		t.written = append(t.written, &rangepb.Span{Key: p.Key})
	}
	br, err := t.r.store.cfg.TxnSender.Send(ctx, ba)
	if err != nil {
		return err
	}
	t.update(br)
	return nil
}

// write sends reqs, writes, as the transaction's, wherever their keys live.
func (t *internalTxn) write(ctx context.Context, reqs ...*rangepb.RequestUnion) error {
	ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: t.txn}, Requests: reqs}
	for _, ru := range reqs {
		key, _, _ := RequestSpan(ru)
		t.written = append(t.written, &rangepb.Span{Key: key})
	}
	br, err := t.r.store.cfg.TxnSender.Send(ctx, ba)
	if err != nil {
		return err
	}
	t.update(br)
	return nil
}

// commit commits the transaction here, with trig evaluated into the same
// command, and then resolves its intents elsewhere (best effort: readers
// that meet one find the record committed and resolve it themselves).
func (t *internalTxn) commit(ctx context.Context, trig commitTrigger) error {
	r := t.r
	txn := t.txn
	// Nothing was read: the commit may go where the writes were pushed.
	txn.ReadTimestamp = txn.Meta.WriteTimestamp
	desc := r.Desc()
	br, err := r.sendWithConcurrency(ctx, &rangepb.BatchRequest{
		Header: &rangepb.BatchHeader{RangeId: int64(r.rangeID), Txn: txn},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_EndTxn{EndTxn: &rangepb.EndTxnRequest{
			Key: t.anchor, Commit: true, LockSpans: t.written,
		}}}},
	}, desc, trig)
	if err != nil {
		return err
	}
	t.update(br)
	t.resolve(ctx, rangepb.TransactionStatus_COMMITTED)
	return nil
}

// rollback aborts the transaction and removes its intents. Best effort: a
// transaction left PENDING is aborted by the first reader that meets one
// of its intents once its heartbeat has expired. A rollback after an
// ambiguous commit that did apply changes nothing (the record is final).
func (t *internalTxn) rollback(ctx context.Context) {
	ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{Txn: t.txn},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_EndTxn{EndTxn: &rangepb.EndTxnRequest{
			Key: t.anchor, Commit: false, LockSpans: t.written,
		}}}}}
	if br, err := t.r.store.cfg.TxnSender.Send(ctx, ba); err == nil {
		t.update(br)
		t.resolve(ctx, rangepb.TransactionStatus_ABORTED)
	}
}

// resolve resolves the transaction's intents outside the range with status.
func (t *internalTxn) resolve(ctx context.Context, status rangepb.TransactionStatus) {
	if len(t.written) == 0 {
		return
	}
	ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}}
	for _, s := range t.written {
		ba.Requests = append(ba.Requests, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ResolveIntent{
			ResolveIntent: &rangepb.ResolveIntentRequest{Key: s.Key, Txn: t.txn.Meta, Status: status},
		}})
	}
	_, _ = t.r.store.cfg.TxnSender.Send(ctx, ba)
}

// isInternalTxnRetry reports whether an internal transaction failed for a
// reason a new attempt may not meet: it was aborted by a push, or its
// descriptor changed under it.
func isInternalTxnRetry(err error) bool {
	return errors.HasType(err, (*TransactionAbortedError)(nil)) ||
		errors.HasType(err, (*TransactionRetryError)(nil)) ||
		errors.HasType(err, (*TransactionPushError)(nil)) ||
		errors.Is(err, errDescChanged) || errors.Is(err, errFrozen)
}

// errDescChanged: the range's descriptor changed between the start of an
// internal transaction and its commit.
var errDescChanged = errors.New("the range descriptor changed while the transaction ran")
