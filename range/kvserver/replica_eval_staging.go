package kvserver

import (
	"bytes"

	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// Parallel commits (CockroachDB's RFC 20180324_parallel_commit), the
// record side:
//
//   - A committing EndTxn that lists in-flight writes stages the record
//     (STAGING, with the writes, the lock spans, at the commit timestamp)
//     and resolves nothing. Writes the same batch wrote or proved on this
//     range (QueryIntent) are in its Raft command: they are dropped from
//     the list, and with none left the EndTxn commits outright.
//   - The transaction is committed as soon as the record and every listed
//     write are durable at or below the record's timestamp: implicitly,
//     with nothing written to say so. The coordinator then makes it
//     explicit (an EndTxn without in-flight writes: COMMITTED) and the
//     intents are resolved.
//   - Nobody may push a STAGING transaction: a push it would have won (or
//     of an expired one) fails with an IndeterminateCommitError, and the
//     pusher recovers the transaction (replicaPusher.recover): QueryIntent
//     on every in-flight write, which also raises the timestamp cache there
//     so that a write still on its way lands above the record's timestamp
//     and cannot count; then RecoverTxn commits (all found) or aborts.
//   - The coordinator never rolls back a STAGING record of its epoch (it
//     may have committed): such an EndTxn fails with an
//     IndeterminateCommitError and recovery decides.

// inBatch notes a key this batch wrote or proved (QueryIntent found its
// intent), for the EndTxn after it.
func (ec *evalCtx) noteInBatch(key []byte) {
	if ec.inBatch == nil {
		ec.inBatch = map[string]bool{}
	}
	ec.inBatch[string(key)] = true
}

// stillInFlight returns the writes of ws that this batch did not write or
// prove.
func (ec *evalCtx) stillInFlight(ws []*rangepb.SequencedWrite) []*rangepb.SequencedWrite {
	var out []*rangepb.SequencedWrite
	for _, w := range ws {
		if !ec.inBatch[string(w.Key)] || checkInRange(ec.desc, w.Key, nil) != nil {
			out = append(out, w)
		}
	}
	return out
}

// stageTxn writes txn's record STAGING (see the file comment) and returns
// the EndTxn's answer: txn STAGING, listing inFlight.
func stageTxn(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, key []byte, prev *rangepb.TxnRecord,
	txn *rangepb.Transaction, req *rangepb.EndTxnRequest, inFlight []*rangepb.SequencedWrite) (*rangepb.EndTxnResponse, error) {
	txn.Status = rangepb.TransactionStatus_STAGING
	txn.LockSpans = req.LockSpans
	txn.InFlightWrites = inFlight
	hb := tsFromProto(prev.LastHeartbeat)
	hb.Forward(ec.now)
	rec := &rangepb.TxnRecord{Meta: txn.Meta, Status: txn.Status, LastHeartbeat: tsToProto(hb), LockSpans: req.LockSpans,
		InFlightWrites: inFlight, IgnoredSeqNums: txn.IgnoredSeqNums}
	if err := writeRecord(rw, ms, key, rec); err != nil {
		return nil, err
	}
	txn.LastHeartbeat = rec.LastHeartbeat
	ec.txn = txn
	return &rangepb.EndTxnResponse{Txn: txn}, nil
}

// evalQueryIntent answers whether req.Txn's write at req.Key is there (see
// QueryIntentRequest) and, when it is not, keeps it from ever landing at
// or below req.Txn.WriteTimestamp.
func evalQueryIntent(ec *evalCtx, rd kv.Reader, req *rangepb.QueryIntentRequest) (*rangepb.QueryIntentResponse, error) {
	lock, err := kv.MVCCGetLock(rd, req.Key)
	if err != nil {
		return nil, err
	}
	ts := tsFromProto(req.Txn.GetWriteTimestamp())
	out := &rangepb.QueryIntentResponse{}
	if lock != nil && lock.Txn.ID == txnID(req.Txn) && lock.Txn.Epoch == req.Txn.GetEpoch() && lock.HasSequence(req.Txn.GetSequence()) {
		// The coordinator proving its own write takes it at any
		// timestamp (a push moved it up: its commit goes there too); a
		// recovery counts it only at or below the staged timestamp.
		out.Found = req.ErrorIfMissing || lock.Txn.WriteTimestamp.LessEq(ts)
		out.Timestamp = tsToProto(lock.Txn.WriteTimestamp)
	}
	if !out.Found {
		if ts.IsEmpty() {
			ts = ec.now
		}
		// Prevent it: as if a read at ts had been served here by someone
		// else, the write is pushed above ts if it arrives now.
		ec.r.tsCache().Add(req.Key, nil, ts, kv.TxnID{})
		if req.ErrorIfMissing {
			t := ec.txn
			if t == nil {
				t = &rangepb.Transaction{Meta: req.Txn}
			}
			return nil, &TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_ASYNC_WRITE_FAILURE, Txn: t,
				Extra: "the pipelined write at " + string(req.Key) + " is missing"}
		}
		return out, nil
	}
	ec.noteInBatch(req.Key)
	if ec.txn != nil && bytes.Equal(ec.txn.Meta.Id, req.Txn.GetId()) {
		wts := tsFromProto(ec.txn.Meta.WriteTimestamp)
		if wts.Forward(lock.Txn.WriteTimestamp) {
			ec.txn.Meta.WriteTimestamp = tsToProto(wts)
		}
	}
	return out, nil
}

// evalRecoverTxn finishes a STAGING transaction as its recovery found it
// (see RecoverTxnRequest). Its intents are resolved after the command
// applies (the request holds no latches over them).
func evalRecoverTxn(ec *evalCtx, rw kv.ReadWriter, ms *kv.MVCCStats, req *rangepb.RecoverTxnRequest) (*rangepb.RecoverTxnResponse, error) {
	key := TxnRecordKey(req.Key, txnID(req.Txn))
	rec, err := readRecord(rw, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		// A STAGING record is never removed: the recovery read one that
		// was never there.
		return nil, &TransactionStatusError{Reason: "RecoverTxn: no transaction record", Txn: &rangepb.Transaction{Meta: req.Txn}}
	}
	same := rec.Status == rangepb.TransactionStatus_STAGING && rec.Meta.Epoch == req.Txn.GetEpoch() &&
		tsFromProto(rec.Meta.WriteTimestamp) == tsFromProto(req.Txn.GetWriteTimestamp())
	if !same {
		// Finished meanwhile, or staged again (a later epoch or
		// timestamp, which this recovery's finds say nothing about).
		return &rangepb.RecoverTxnResponse{RecoveredTxn: recordTxn(rec, nil)}, nil
	}
	rec.Status = rangepb.TransactionStatus_ABORTED
	if req.ImplicitlyCommitted {
		rec.Status = rangepb.TransactionStatus_COMMITTED
	}
	spans := rec.LockSpans
	rec.LockSpans, rec.InFlightWrites = nil, nil
	up := kv.LockUpdate{Txn: metaToKV(rec.Meta), Status: statusToKV(rec.Status), IgnoredSeqNums: seqRangesToKV(rec.IgnoredSeqNums)}
	pending := len(ec.afterApply)
	for _, s := range spans {
		u := up
		u.Span = kv.Span{Key: s.Key, EndKey: s.EndKey}
		ec.afterApply = append(ec.afterApply, u)
	}
	if err := writeFinalRecord(rw, ms, req.Key, key, rec, ec.afterApply[pending:]); err != nil {
		return nil, err
	}
	return &rangepb.RecoverTxnResponse{RecoveredTxn: recordTxn(rec, nil)}, nil
}

// restartStaged turns a STAGING record met by a later epoch of its
// transaction (a heartbeat after a restart) back into PENDING: the staged
// epoch never committed (the coordinator restarts only after a definite
// failure of its commit batch), and the next commit stages anew.
func restartStaged(rec *rangepb.TxnRecord, epoch int32) {
	if rec.Status == rangepb.TransactionStatus_STAGING && epoch > rec.Meta.Epoch {
		rec.Status = rangepb.TransactionStatus_PENDING
		rec.LockSpans, rec.InFlightWrites = nil, nil
	}
}

// stagingPushError is what a push that would succeed gets from a STAGING
// record: the pusher must recover the transaction first.
func stagingPushError(rec *rangepb.TxnRecord) error {
	return &IndeterminateCommitError{StagingTxn: recordTxn(proto.Clone(rec).(*rangepb.TxnRecord), nil)}
}
