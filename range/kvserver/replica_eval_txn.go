package kvserver

import (
	"bytes"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvconv"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// Evaluation of the transaction requests, after CockroachDB's batcheval
// (cmd_end_transaction.go, cmd_heartbeat_txn.go, cmd_push_txn.go,
// cmd_resolve_intent.go, cmd_query_txn.go, cmd_refresh.go), simplified:
//
//   - A transaction's record lives at TxnRecordKey(anchor, id) in the
//     anchor's range. The coordinator creates it PENDING with its first
//     HeartbeatTxn, sent in the batch of its first write (to the anchor
//     key): every intent is written after the record exists, so a push
//     that finds no record writes an ABORTED one, which no later
//     heartbeat or commit can get past.
//   - EndTxn commits or aborts the record and resolves the intents of the
//     lock spans inside the record's range in the same Raft command; the
//     rest are resolved after the command applies, asynchronously through
//     StoreConfig.TxnSender (resolution is idempotent).
//   - One-phase commit: a batch that is a whole transaction on one range
//     — the HeartbeatTxn of its first write, its writes, then a committing
//     EndTxn whose lock spans are all keys the batch writes, with no
//     record yet — commits in that one Raft command: the writes are
//     written as committed values (or, when the batch writes a key twice
//     or a span, as intents that the EndTxn resolves in the same write
//     batch), and no record is written (the HeartbeatTxn writes none), so
//     nothing of the transaction is left but its committed values (see
//     isOnePhaseCommit). The same batch split over ranges runs as usual:
//     the record is created with the first part, the EndTxn goes last.
//   - Records are removed by the GC queue once final and older than the
//     range's GC threshold; a transaction that began at or below the
//     threshold may not create its record (cmd_gc.go).
//   - Parallel commits: STAGING records, implicit commit and recovery
//     (replica_eval_staging.go).

// DefaultTxnLivenessThreshold is how long a PENDING transaction may go
// without a heartbeat before a push aborts it.
const DefaultTxnLivenessThreshold = 5 * time.Second

func (r *Replica) txnLivenessThreshold() time.Duration {
	if d := r.store.cfg.TxnLivenessThreshold; d > 0 {
		return d
	}
	return DefaultTxnLivenessThreshold
}

// evalCtx is what evaluating one batch needs beyond the engine: the
// replica, the batch's transaction (a copy, which evaluation updates:
// a pushed write timestamp, a status) and the work left for after the
// command applies.
type evalCtx struct {
	r    *Replica
	desc *rangepb.RangeDescriptor
	// now is the leaseholder's clock when the batch was evaluated.
	now hlc.Timestamp
	// historical: a non-transactional read at a timestamp of the past
	// (no uncertainty: the caller chose it).
	historical bool
	// txn is the header's transaction, nil for a non-transactional batch.
	txn *rangepb.Transaction
	// readSeq is the header's read sequence (readTxn); 0: none, -1:
	// before the transaction's first write.
	readSeq int32
	// afterApply are resolutions of intents outside this range, for after
	// the command applied.
	afterApply []kv.LockUpdate
	// onePhase: the batch is a whole transaction on this range (see
	// isOnePhaseCommit); its EndTxn commits without a record.
	// committedWrites: its writes are written as committed values, with
	// nothing for the EndTxn to resolve.
	onePhase, committedWrites bool
	// resolver resolves the intents of the batch's consecutive
	// ResolveIntent requests (the intent resolver's batches) through one
	// iterator; any other request ends it (see kv.IntentResolver).
	resolver *kv.IntentResolver
	// inBatch are the keys this batch wrote or proved (QueryIntent) so
	// far: an EndTxn after them need not list them as in flight.
	inBatch map[string]bool
	// gcThreshold is a GC threshold a GC request raised (cmd_gc.go).
	gcThreshold *rangepb.Timestamp
	// abortSpanDone are the transactions whose abort span entry this
	// batch wrote or cleared already (abort_span.go).
	abortSpanDone map[kv.TxnID]bool
	// lease is the lease the batch is evaluated under, whose start floors
	// its local uncertainty limit (replica_uncertainty.go).
	lease *rangepb.Lease
	// writeClock is localClock's reading, once taken.
	writeClock hlc.Timestamp
	// absent are spans the batch's point writes go to that held nothing
	// when it began, in key order (replica_eval_absent.go).
	absent []absentSpan
}

// endResolver releases the batch's intent resolver, before a request that
// may write what it would read stale, and after the batch.
func (ec *evalCtx) endResolver() {
	if ec.resolver != nil {
		ec.resolver.Close()
		ec.resolver = nil
	}
}

// isOnePhaseCommit reports whether ba is a whole transaction that can
// commit in one Raft command on the range desc: it ends with a committing
// EndTxn, and every lock span of the EndTxn (every span the transaction
// ever sent a write to: the coordinator lists them before it sends them)
// is one that a request before it in this batch writes, inside desc.
// Then every intent the transaction may have is written by this batch,
// and no record is needed: nobody else ever saw the transaction. (A
// transaction that wrote before — a batch that failed, perhaps after
// leaving intents — has lock spans this batch does not write, and gets a
// record as usual.)
//
// committed says how: the batch's writes are all point writes to
// distinct keys, which are then written as committed values at once
// (kv.MVCCWriteOptions.Committed), with no lock record to write and
// remove; otherwise (a key written twice needs its intent's history, a
// ranged write its intents found) they are written as intents and the
// EndTxn resolves them in the same command, which bounds their number
// (maxSyncResolveSpans).
func isOnePhaseCommit(ba *rangepb.BatchRequest, desc *rangepb.RangeDescriptor) (ok, committed bool) {
	n := len(ba.Requests)
	if n < 2 || ba.Header.GetTxn().GetMeta() == nil {
		return false, false
	}
	et := ba.Requests[n-1].GetEndTxn()
	if et == nil || !et.Commit || len(et.LockSpans) == 0 {
		return false, false
	}
	for _, ru := range ba.Requests[:n-1] {
		if hb := ru.GetHeartbeatTxn(); ru.GetEndTxn() != nil || (hb != nil && !bytes.Equal(hb.Key, et.Key)) {
			return false, false
		}
	}
	type span struct{ key, end string }
	written := make(map[span]bool, n-1)
	committed = true
	for _, ru := range ba.Requests[:n-1] {
		if key, end, _, write := spanOf(ru); write {
			s := span{string(key), string(end)}
			if len(end) > 0 || written[s] {
				committed = false
			}
			written[s] = true
		}
	}
	if !committed && len(et.LockSpans) > maxSyncResolveSpans {
		return false, false
	}
	for _, s := range et.LockSpans {
		if !written[span{string(s.Key), string(s.EndKey)}] || checkInRange(desc, s.Key, s.EndKey) != nil {
			return false, false
		}
	}
	return true, committed
}

// readTxn is the batch's transaction as its plain reads (Get, Scan) take
// it: seeing its own writes up to the header's read sequence, when one is
// set (a SQL statement's snapshot).
//
// Sequence numbers: the header carries the sequence of the transaction's
// last write before the batch; the batch's writes take the next ones in
// order, and each read sees the writes before it.
func (ec *evalCtx) readTxn() *kv.Txn {
	t := ec.txnNow()
	if t != nil && ec.readSeq != 0 && ec.readSeq < t.Sequence {
		t.Sequence = max(ec.readSeq, 0) // -1: before the first write
	}
	return t
}

// txnNow is the batch's transaction at the sequence its evaluation has
// reached.
func (ec *evalCtx) txnNow() *kv.Txn {
	if ec.txn == nil {
		return nil
	}
	return &kv.Txn{TxnMeta: metaToKV(ec.txn.Meta), ReadTimestamp: tsFromProto(ec.txn.ReadTimestamp),
		IgnoredSeqNums: seqRangesToKV(ec.txn.IgnoredSeqNums)}
}

func seqRangesToKV(rs []*rangepb.SeqNumRange) []kv.SeqNumRange {
	if len(rs) == 0 {
		return nil
	}
	out := make([]kv.SeqNumRange, len(rs))
	for i, r := range rs {
		out[i] = kv.SeqNumRange{Start: r.Start, End: r.End}
	}
	return out
}

func seqRangesFromKV(rs []kv.SeqNumRange) []*rangepb.SeqNumRange {
	if len(rs) == 0 {
		return nil
	}
	out := make([]*rangepb.SeqNumRange, len(rs))
	for i, r := range rs {
		out[i] = &rangepb.SeqNumRange{Start: r.Start, End: r.End}
	}
	return out
}

// writeTxn is the transaction for the batch's next write: at seq, the
// sequence the coordinator gave it, or (0) the one after the last.
// writeOpts are the MVCC options of a write at sequence seq (0: the next).
// writeOpts are the options of a write at key (nil for a span) with the
// request's sequence number.
func (ec *evalCtx) writeOpts(key []byte, seq int32) kv.MVCCWriteOptions {
	return kv.MVCCWriteOptions{Txn: ec.writeTxn(seq), Committed: ec.committedWrites, LocalTimestamp: ec.localClock(),
		KnownAbsent: key != nil && ec.knownAbsent(key)}
}

func (ec *evalCtx) writeTxn(seq int32) *kv.Txn {
	if ec.txn == nil {
		return nil
	}
	if seq > 0 {
		ec.txn.Meta.Sequence = seq
	} else {
		ec.txn.Meta.Sequence++
	}
	return ec.txnNow()
}

// readTs is where the batch reads.
func (ec *evalCtx) readTs(batchTs hlc.Timestamp) hlc.Timestamp {
	if ec.txn == nil {
		return batchTs
	}
	return tsFromProto(ec.txn.ReadTimestamp)
}

func metaToKV(m *rangepb.TxnMeta) kv.TxnMeta { return kvconv.TxnMetaToKV(m) }

func metaFromKV(m kv.TxnMeta) *rangepb.TxnMeta { return kvconv.TxnMetaFromKV(m) }

func statusToKV(s rangepb.TransactionStatus) kv.TxnStatus {
	switch s {
	case rangepb.TransactionStatus_COMMITTED:
		return kv.COMMITTED
	case rangepb.TransactionStatus_ABORTED:
		return kv.ABORTED
	}
	return kv.PENDING
}

func txnID(m *rangepb.TxnMeta) kv.TxnID {
	var id kv.TxnID
	copy(id[:], m.GetId())
	return id
}

func isFinal(s rangepb.TransactionStatus) bool {
	return s == rangepb.TransactionStatus_COMMITTED || s == rangepb.TransactionStatus_ABORTED
}

// RequestSpan returns the keys a request is addressed by: [key, end), or
// key alone when end is nil; ok is false for requests addressed by range
// ID only (replica changes, lease requests, consistency checks). Clients
// route by it.
func RequestSpan(ru *rangepb.RequestUnion) (key, end []byte, ok bool) { return ru.Addr() }

// clipSpan returns the part of s inside desc.
func clipSpan(s *rangepb.Span, desc *rangepb.RangeDescriptor) (*rangepb.Span, bool) {
	if len(s.GetEndKey()) == 0 {
		return s, checkInRange(desc, s.GetKey(), nil) == nil
	}
	k, e := s.Key, s.EndKey
	if bytes.Compare(k, desc.StartKey) < 0 {
		k = desc.StartKey
	}
	if len(desc.EndKey) > 0 && bytes.Compare(e, desc.EndKey) > 0 {
		e = desc.EndKey
	}
	if bytes.Compare(k, e) >= 0 {
		return nil, false
	}
	return &rangepb.Span{Key: k, EndKey: e}, true
}

// outsideSpans returns the parts of s outside desc.
func outsideSpans(s *rangepb.Span, desc *rangepb.RangeDescriptor) []*rangepb.Span {
	if len(s.GetEndKey()) == 0 {
		if checkInRange(desc, s.GetKey(), nil) == nil {
			return nil
		}
		return []*rangepb.Span{s}
	}
	var out []*rangepb.Span
	if bytes.Compare(s.Key, desc.StartKey) < 0 {
		e := s.EndKey
		if bytes.Compare(e, desc.StartKey) > 0 {
			e = desc.StartKey
		}
		out = append(out, &rangepb.Span{Key: s.Key, EndKey: e})
	}
	if len(desc.EndKey) > 0 && bytes.Compare(s.EndKey, desc.EndKey) > 0 {
		k := s.Key
		if bytes.Compare(k, desc.EndKey) < 0 {
			k = desc.EndKey
		}
		out = append(out, &rangepb.Span{Key: k, EndKey: s.EndKey})
	}
	return out
}

func readRecord(rd kv.Reader, key []byte) (*rangepb.TxnRecord, error) {
	v, err := kv.MVCCGetUnversioned(rd, key)
	if err != nil || v == nil {
		return nil, err
	}
	rec := &rangepb.TxnRecord{}
	if err := proto.Unmarshal(v.RawBytes, rec); err != nil {
		return nil, errors.Wrapf(err, "decoding txn record %q", key)
	}
	return rec, nil
}

func writeRecord(rw kv.ReadWriter, ms *kv.MVCCStats, key []byte, rec *rangepb.TxnRecord) error {
	b, err := proto.Marshal(rec)
	if err != nil {
		return err
	}
	return kv.MVCCPutUnversioned(rw, ms, key, kv.MakeBytesValue(b))
}

// recordTxn returns the transaction the record describes, on top of base
// (the requester's view, for the fields a record does not keep).
func recordTxn(rec *rangepb.TxnRecord, base *rangepb.Transaction) *rangepb.Transaction {
	t := &rangepb.Transaction{}
	if base != nil {
		t = proto.Clone(base).(*rangepb.Transaction)
	}
	t.Meta = proto.Clone(rec.Meta).(*rangepb.TxnMeta)
	if base.GetMeta() != nil {
		// The record keeps the epoch and sequence of its last update; the
		// requester's are newer or equal.
		t.Meta.Sequence = base.Meta.Sequence
		if base.Meta.Epoch > t.Meta.Epoch {
			t.Meta.Epoch = base.Meta.Epoch
		}
		ts := tsFromProto(t.Meta.WriteTimestamp)
		ts.Forward(tsFromProto(base.Meta.WriteTimestamp))
		t.Meta.WriteTimestamp = tsToProto(ts)
	}
	t.Status = rec.Status
	t.LastHeartbeat = rec.LastHeartbeat
	t.LockSpans = rec.LockSpans
	t.InFlightWrites = rec.InFlightWrites
	if base == nil || len(rec.IgnoredSeqNums) > 0 {
		t.IgnoredSeqNums = rec.IgnoredSeqNums
	}
	return t
}

// freshWriteOpts are the write options of a transactional write that
// depends on the current value (CPut, Increment): it fails when a value
// newer than the transaction's read timestamp exists, since it would act
// on a value the transaction's snapshot does not hold (a CPut would fail
// its condition for no fault of the caller). readNotFresh turns that
// failure into a TransactionRetryError carrying a write timestamp above
// the value; the coordinator refreshes its reads there and sends the
// write again, or restarts. (Checked by the write itself: a separate read
// first cost a bulk load's every row two more seeks.)
func (ec *evalCtx) freshWriteOpts(key []byte, seq int32) kv.MVCCWriteOptions {
	o := ec.writeOpts(key, seq)
	o.FreshRead = true
	return o
}

// readNotFresh is err, with a kv.ReadNotFreshError made the transaction's
// retry (see freshWriteOpts).
func (ec *evalCtx) readNotFresh(err error) error {
	var nf *kv.ReadNotFreshError
	if !errors.As(err, &nf) || ec.txn == nil {
		return err
	}
	txn := proto.Clone(ec.txn).(*rangepb.Transaction)
	ts := tsFromProto(txn.Meta.WriteTimestamp)
	ts.Forward(nf.ActualTimestamp)
	txn.Meta.WriteTimestamp = tsToProto(ts)
	return &TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_SERIALIZABLE, Txn: txn,
		Extra: "a value newer than the read timestamp: " + nf.Error()}
}

// evalRefresh checks a read span of the batch's transaction from from up to
// its (new) read timestamp.
func evalRefresh(ec *evalCtx, rd kv.Reader, key, end []byte, from *rangepb.Timestamp) error {
	to := tsFromProto(ec.txn.ReadTimestamp)
	err := kv.MVCCRefresh(rd, key, end, tsFromProto(from), to, txnID(ec.txn.Meta))
	var rce *kv.RefreshConflictError
	if errors.As(err, &rce) {
		return &TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_REFRESH_FAILED, Txn: ec.txn, Extra: rce.Error()}
	}
	return err
}

func evalEndTxn(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, req *rangepb.EndTxnRequest) (*rangepb.EndTxnResponse, error) {
	key := TxnRecordKey(req.Key, txnID(ec.txn.Meta))
	rec, err := readRecord(rw, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		if req.Commit && len(req.LockSpans) == 0 {
			return nil, &TransactionStatusError{Reason: "no transaction record: unknown transaction (or one that never wrote)", Txn: ec.txn}
		}
		if req.Commit {
			if err := refuseRecordCreation(ec); err != nil {
				return nil, err
			}
		}
		if req.Commit && ec.onePhase {
			return evalOnePhaseCommit(ec, rw, ms, req)
		}
		// The first write's batch (which creates the record) failed, but
		// writes were attempted, and some may have left intents (on other
		// ranges). Nobody aborted the transaction: a push that finds no
		// record leaves an ABORTED one, and records are removed only long
		// after (refuseRecordCreation, above). So the record can be
		// created here, final; a rollback leaves an ABORTED record so that
		// nothing of the transaction is written later.
		m := proto.Clone(ec.txn.Meta).(*rangepb.TxnMeta)
		m.Key = req.Key
		rec = &rangepb.TxnRecord{Meta: m, Status: rangepb.TransactionStatus_PENDING, LastHeartbeat: tsToProto(ec.now)}
	}
	switch rec.Status {
	case rangepb.TransactionStatus_ABORTED:
		if req.Commit {
			return nil, &TransactionAbortedError{Txn: recordTxn(rec, ec.txn)}
		}
		// Rolling back an aborted transaction cleans up its intents again:
		// harmless, as resolution is idempotent.
		ec.txn = recordTxn(rec, ec.txn)
		return &rangepb.EndTxnResponse{Txn: ec.txn}, resolveLockSpans(ec, rw, ms, req.LockSpans, rec)
	case rangepb.TransactionStatus_STAGING:
		if !req.Commit && rec.Meta.Epoch >= ec.txn.Meta.Epoch {
			// It may have committed: recovery decides, not a rollback.
			return nil, stagingPushError(rec)
		}
		restartStaged(rec, ec.txn.Meta.Epoch)
	case rangepb.TransactionStatus_COMMITTED:
		if req.Commit && rec.Meta.Epoch == ec.txn.Meta.Epoch {
			// A replay of this very commit: its first attempt applied but
			// its answer was lost (the leaseholder died), and the client
			// sent it again elsewhere. Only the coordinator commits, so
			// the transaction committed: say so, rather than fail a commit
			// that happened.
			ec.txn = recordTxn(rec, ec.txn)
			return &rangepb.EndTxnResponse{Txn: ec.txn}, nil
		}
		return nil, &TransactionStatusError{Reason: "already committed", Txn: recordTxn(rec, ec.txn)}
	}
	if rec.Meta.Epoch > ec.txn.Meta.Epoch {
		return nil, &TransactionStatusError{
			Reason: errors.Newf("stale epoch %d: the record is at epoch %d", ec.txn.Meta.Epoch, rec.Meta.Epoch).Error(), Txn: ec.txn}
	}
	txn := recordTxn(rec, ec.txn)
	if req.Commit {
		// The commit timestamp is the write timestamp, pushed by others as
		// the record says. Serializable only if the reads hold there: the
		// read timestamp must have caught up (by a refresh).
		if tsFromProto(txn.ReadTimestamp).Less(tsFromProto(txn.Meta.WriteTimestamp)) {
			return nil, &TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_SERIALIZABLE, Txn: txn,
				Extra: "the write timestamp " + tsFromProto(txn.Meta.WriteTimestamp).String() + " is above the read timestamp " + tsFromProto(txn.ReadTimestamp).String()}
		}
		if inFlight := ec.stillInFlight(req.InFlightWrites); len(inFlight) > 0 {
			return stageTxn(ec, rw, ms, key, rec, txn, req, inFlight)
		}
		txn.Status = rangepb.TransactionStatus_COMMITTED
	} else {
		txn.Status = rangepb.TransactionStatus_ABORTED
	}
	txn.InFlightWrites = nil
	txn.LockSpans = req.LockSpans
	// The final record keeps no lock spans: nothing reads them (the
	// EndTxn resolves the intents, here or after it applies, and whoever
	// meets a leftover intent needs only the status), while every push and
	// heartbeat reads the whole record: a bulk load's hundred thousand
	// spans made each reader meeting one of its intents decode megabytes.
	rec = &rangepb.TxnRecord{Meta: txn.Meta, Status: txn.Status, LastHeartbeat: rec.LastHeartbeat, IgnoredSeqNums: txn.IgnoredSeqNums}
	ec.txn = txn
	pending := len(ec.afterApply)
	if err := resolveLockSpans(ec, rw, ms, req.LockSpans, rec); err != nil {
		return nil, err
	}
	if err := writeFinalRecord(rw, ms, req.Key, key, rec, ec.afterApply[pending:]); err != nil {
		return nil, err
	}
	return &rangepb.EndTxnResponse{Txn: txn}, nil
}

// writeFinalRecord writes a final record at key (anchored at anchor) and,
// for a commit that left intents to resolve after its command, their spans
// at TxnLockSpansKey: the GC queue resolves them before it removes the
// record (cmd_gc.go; nothing else reads them).
func writeFinalRecord(rw kv.ReadWriter, ms *kv.MVCCStats, anchor, key []byte, rec *rangepb.TxnRecord, left []kv.LockUpdate) error {
	rec.IntentsKnown = true
	if rec.Status == rangepb.TransactionStatus_COMMITTED && len(left) > 0 {
		ls := &rangepb.TxnLockSpans{}
		for _, u := range left {
			ls.Spans = append(ls.Spans, &rangepb.Span{Key: u.Span.Key, EndKey: u.Span.EndKey})
		}
		b, err := proto.Marshal(ls)
		if err != nil {
			return err
		}
		if err := kv.MVCCPutUnversioned(rw, ms, TxnLockSpansKey(anchor, txnID(rec.Meta)), kv.MakeBytesValue(b)); err != nil {
			return err
		}
	}
	return writeRecord(rw, ms, key, rec)
}

// evalOnePhaseCommit commits a transaction whose whole set of writes is in
// this batch (ec.onePhase): its intents, just written, are resolved here,
// and no record is written.
func evalOnePhaseCommit(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, req *rangepb.EndTxnRequest) (*rangepb.EndTxnResponse, error) {
	txn := proto.Clone(ec.txn).(*rangepb.Transaction)
	txn.Meta.Key = req.Key
	if tsFromProto(txn.ReadTimestamp).Less(tsFromProto(txn.Meta.WriteTimestamp)) {
		return nil, &TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_SERIALIZABLE, Txn: txn,
			Extra: "the write timestamp " + tsFromProto(txn.Meta.WriteTimestamp).String() + " is above the read timestamp " + tsFromProto(txn.ReadTimestamp).String()}
	}
	txn.Status = rangepb.TransactionStatus_COMMITTED
	txn.LockSpans = req.LockSpans
	ec.txn = txn
	if ec.committedWrites {
		// Written as committed: nothing to resolve.
		return &rangepb.EndTxnResponse{Txn: txn}, nil
	}
	rec := &rangepb.TxnRecord{Meta: txn.Meta, Status: txn.Status, IgnoredSeqNums: txn.IgnoredSeqNums}
	return &rangepb.EndTxnResponse{Txn: txn}, resolveLockSpans(ec, rw, ms, req.LockSpans, rec)
}

// maxSyncResolveSpans bounds the lock spans an EndTxn resolves in its own
// Raft command: a transaction that wrote thousands of keys (a large COPY)
// would otherwise make one command big and slow enough to time out. The
// rest are resolved after the commit applies, as intents on other ranges
// are; until then a reader that meets one finds the record final and
// resolves it itself.
const maxSyncResolveSpans = 128

// resolveLockSpans resolves the intents of rec's transaction in spans: the
// part inside this range now, in the same command (up to
// maxSyncResolveSpans); the rest after apply.
func resolveLockSpans(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, spans []*rangepb.Span, rec *rangepb.TxnRecord) error {
	up := kv.LockUpdate{Txn: metaToKV(rec.Meta), Status: statusToKV(rec.Status), IgnoredSeqNums: seqRangesToKV(rec.IgnoredSeqNums),
		KeepMarker: ec.r.hotLocks.keep}
	if rec.Status == rangepb.TransactionStatus_ABORTED {
		// The transaction's own cleanup: whatever a pusher noted here about
		// it is no longer needed (abort_span.go).
		if err := updateAbortSpan(ec, rw, rec.Meta, rec.Status, false, true); err != nil {
			return err
		}
	}
	resolved := 0
	// Point intents one after another through one iterator; a span's
	// resolution writes what that iterator would read stale, so it ends it.
	var points *kv.IntentResolver
	defer func() {
		if points != nil {
			points.Close()
		}
	}()
	for _, s := range spans {
		if in, ok := clipSpan(s, ec.desc); ok && resolved >= maxSyncResolveSpans {
			u := up
			u.Span = kv.Span{Key: in.Key, EndKey: in.EndKey}
			ec.afterApply = append(ec.afterApply, u)
		} else if ok {
			resolved++
			u := up
			u.Span = kv.Span{Key: in.Key, EndKey: in.EndKey}
			var err error
			if len(in.EndKey) == 0 {
				if points == nil {
					points = kv.NewIntentResolver(rw)
				}
				_, err = points.Resolve(ms, u)
			} else {
				if points != nil {
					points.Close()
					points = nil
				}
				_, _, err = kv.MVCCResolveIntentRange(rw, ms, u, 0)
			}
			if err != nil {
				return err
			}
		}
		for _, out := range outsideSpans(s, ec.desc) {
			u := up
			u.Span = kv.Span{Key: out.Key, EndKey: out.EndKey}
			ec.afterApply = append(ec.afterApply, u)
		}
	}
	return nil
}

func evalHeartbeatTxn(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, req *rangepb.HeartbeatTxnRequest) (*rangepb.HeartbeatTxnResponse, error) {
	key := TxnRecordKey(req.Key, txnID(ec.txn.Meta))
	rec, err := readRecord(rw, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		if err := refuseRecordCreation(ec); err != nil {
			return nil, err
		}
		m := proto.Clone(ec.txn.Meta).(*rangepb.TxnMeta)
		m.Key = req.Key
		rec = &rangepb.TxnRecord{Meta: m, Status: rangepb.TransactionStatus_PENDING}
		if ec.onePhase {
			// The batch commits the transaction in one phase: no record.
			rec.LastHeartbeat = tsToProto(ec.now)
			ec.txn = recordTxn(rec, ec.txn)
			return &rangepb.HeartbeatTxnResponse{Txn: ec.txn}, nil
		}
	}
	switch rec.Status {
	case rangepb.TransactionStatus_ABORTED:
		return nil, &TransactionAbortedError{Txn: recordTxn(rec, ec.txn)}
	case rangepb.TransactionStatus_COMMITTED:
		// Nothing to keep alive; the coordinator learns the outcome.
		return &rangepb.HeartbeatTxnResponse{Txn: recordTxn(rec, ec.txn)}, nil
	}
	restartStaged(rec, ec.txn.Meta.Epoch)
	if ec.txn.Meta.Epoch > rec.Meta.Epoch {
		rec.Meta.Epoch = ec.txn.Meta.Epoch
	}
	if ec.txn.Meta.Priority > rec.Meta.Priority {
		rec.Meta.Priority = ec.txn.Meta.Priority
	}
	hb := tsFromProto(rec.LastHeartbeat)
	hb.Forward(ec.now)
	rec.LastHeartbeat = tsToProto(hb)
	if err := writeRecord(rw, ms, key, rec); err != nil {
		return nil, err
	}
	ec.txn = recordTxn(rec, ec.txn)
	return &rangepb.HeartbeatTxnResponse{Txn: ec.txn}, nil
}

// pusherWins decides a push between two live transactions: the higher
// priority wins; between equal priorities the older transaction (lower
// MinTimestamp, then lower ID) wins: wound-wait, as in Spanner. The order
// is total and a losing pusher waits for its pushee (in the lock queue of
// the key, see replica_concurrency.go, whose manager follows the same
// order). A winning pusher of equal priority waits too, for the store's
// TxnWoundAfter, before it pushes: cycles of waits form meanwhile, and
// the deadlock detection breaks them (the wound is the bound for those it
// misses).
func pusherWins(pusher *rangepb.Transaction, pushee *rangepb.TxnMeta) bool {
	if pusher.GetMeta() == nil {
		return false
	}
	p, q := pusher.Meta.Priority, pushee.GetPriority()
	if p != q {
		return p > q
	}
	pt, qt := tsFromProto(pusher.Meta.MinTimestamp), tsFromProto(pushee.GetMinTimestamp())
	if pt != qt {
		return pt.Less(qt)
	}
	return bytes.Compare(pusher.Meta.Id, pushee.GetId()) < 0
}

func evalPushTxn(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, req *rangepb.PushTxnRequest) (*rangepb.PushTxnResponse, error) {
	if req.Pushee == nil {
		return nil, errors.New("PushTxn without a pushee")
	}
	if ec.txn != nil && bytes.Equal(ec.txn.Meta.Id, req.Pushee.Id) {
		return nil, errors.New("PushTxn: a transaction cannot push itself")
	}
	key := TxnRecordKey(req.Key, txnID(req.Pushee))
	rec, err := readRecord(rw, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		// No record: the pushee never got to its first write (or this is a
		// stray intent). Abort it for good (see the file comment).
		rec = &rangepb.TxnRecord{Meta: req.Pushee, Status: rangepb.TransactionStatus_ABORTED}
		if err := writeRecord(rw, ms, key, rec); err != nil {
			return nil, err
		}
		return &rangepb.PushTxnResponse{PusheeTxn: recordTxn(rec, nil)}, nil
	}
	if isFinal(rec.Status) {
		return &rangepb.PushTxnResponse{PusheeTxn: recordTxn(rec, nil)}, nil
	}
	// An intent of a later epoch than a STAGING record's: the staged epoch
	// never committed (its coordinator restarted), the record is pending.
	restartStaged(rec, req.Pushee.Epoch)
	// The intent may know a newer epoch or priority than the record.
	if req.Pushee.Epoch > rec.Meta.Epoch {
		rec.Meta.Epoch = req.Pushee.Epoch
	}
	if req.Pushee.Priority > rec.Meta.Priority {
		rec.Meta.Priority = req.Pushee.Priority
	}
	hb := tsFromProto(rec.LastHeartbeat)
	expired := hb.Add(int64(ec.r.txnLivenessThreshold()), 0).Less(ec.now)
	wins := req.Force || pusherWins(ec.txn, rec.Meta)
	pushTo := tsFromProto(req.PushTo)
	if rec.Status == rangepb.TransactionStatus_STAGING {
		// Neither its timestamp nor its status may change while it may
		// have committed (replica_eval_staging.go).
		switch {
		case req.PushType == rangepb.PushTxnType_PUSH_TIMESTAMP && !tsFromProto(rec.Meta.WriteTimestamp).Less(pushTo):
			return &rangepb.PushTxnResponse{PusheeTxn: recordTxn(rec, nil)}, nil
		case expired || wins:
			return nil, stagingPushError(rec)
		}
		return nil, &TransactionPushError{Pushee: recordTxn(rec, nil)}
	}
	switch {
	case expired || (wins && req.PushType == rangepb.PushTxnType_PUSH_ABORT):
		rec.Status = rangepb.TransactionStatus_ABORTED
	case req.PushType == rangepb.PushTxnType_PUSH_TIMESTAMP && !tsFromProto(rec.Meta.WriteTimestamp).Less(pushTo):
		return &rangepb.PushTxnResponse{PusheeTxn: recordTxn(rec, nil)}, nil
	case req.PushType == rangepb.PushTxnType_PUSH_TIMESTAMP && wins:
		rec.Meta.WriteTimestamp = tsToProto(pushTo)
	default:
		return nil, &TransactionPushError{Pushee: recordTxn(rec, nil)}
	}
	if err := writeRecord(rw, ms, key, rec); err != nil {
		return nil, err
	}
	return &rangepb.PushTxnResponse{PusheeTxn: recordTxn(rec, nil)}, nil
}
