package rpc

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The transaction layer's errors on the wire: the coordinator's retry
// logic (package txn) switches on their Go types, so they must come out of
// DecodeBatchError as the types the replica returned.

func tsProto(ts hlc.Timestamp) *rangepb.Timestamp {
	return &rangepb.Timestamp{WallTime: ts.WallTime, Logical: ts.Logical}
}

func tsFromProto(p *rangepb.Timestamp) hlc.Timestamp {
	if p == nil {
		return hlc.Timestamp{}
	}
	return hlc.Timestamp{WallTime: p.WallTime, Logical: p.Logical}
}

// encodeTxnError fills e's detail for a transaction error; it reports
// whether err was one.
func encodeTxnError(err error, e *rangepb.Error) bool {
	var (
		tre *kvserver.TransactionRetryError
		tae *kvserver.TransactionAbortedError
		tpe *kvserver.TransactionPushError
		tse *kvserver.TransactionStatusError
		ice *kvserver.IndeterminateCommitError
		lce *kv.LockConflictError
		lna *kv.LockNotAvailableError
		bgc *kv.BatchTimestampBeforeGCError
		unc *kv.ReadWithinUncertaintyIntervalError
		wto *kv.WriteTooOldError
		cfe *kv.ConditionFailedError
	)
	switch {
	case errors.As(err, &tre):
		e.Detail = &rangepb.Error_TxnRetry{TxnRetry: &rangepb.TransactionRetryError{Reason: tre.Reason, Txn: tre.Txn, Extra: tre.Extra}}
	case errors.As(err, &tae):
		e.Detail = &rangepb.Error_TxnAborted{TxnAborted: &rangepb.TransactionAbortedError{Txn: tae.Txn}}
	case errors.As(err, &tpe):
		e.Detail = &rangepb.Error_TxnPush{TxnPush: &rangepb.TransactionPushError{Pushee: tpe.Pushee}}
	case errors.As(err, &tse):
		e.Detail = &rangepb.Error_TxnStatus{TxnStatus: &rangepb.TransactionStatusError{Reason: tse.Reason, Txn: tse.Txn}}
	case errors.As(err, &ice):
		e.Detail = &rangepb.Error_IndeterminateCommit{IndeterminateCommit: &rangepb.IndeterminateCommitError{StagingTxn: ice.StagingTxn}}
	case errors.As(err, &lce):
		d := &rangepb.LockConflictError{}
		for _, l := range lce.Locks {
			d.Intents = append(d.Intents, &rangepb.Intent{Key: l.Key, Txn: kvserver.TxnMetaFromKV(l.Txn)})
		}
		e.Detail = &rangepb.Error_LockConflict{LockConflict: d}
	case errors.As(err, &lna):
		e.Detail = &rangepb.Error_LockNotAvailable{LockNotAvailable: &rangepb.LockNotAvailableError{
			Lock: &rangepb.Intent{Key: lna.Key, Txn: kvserver.TxnMetaFromKV(lna.Txn)}, NoWait: lna.NoWait}}
	case errors.As(err, &bgc):
		e.Detail = &rangepb.Error_BeforeGc{BeforeGc: &rangepb.BatchTimestampBeforeGCError{
			Timestamp: tsProto(bgc.Timestamp), Threshold: tsProto(bgc.Threshold)}}
	case errors.As(err, &unc):
		e.Detail = &rangepb.Error_ReadWithinUncertainty{ReadWithinUncertainty: &rangepb.ReadWithinUncertaintyIntervalError{
			Key: unc.Key, ReadTimestamp: tsProto(unc.ReadTimestamp), ValueTimestamp: tsProto(unc.ValueTimestamp),
			GlobalUncertaintyLimit: tsProto(unc.GlobalUncertaintyLimit), LocalUncertaintyLimit: tsProto(unc.LocalUncertaintyLimit),
		}}
	case errors.As(err, &wto):
		// A locking read that met a newer committed value: the
		// transaction's refresher reads again above it.
		e.Detail = &rangepb.Error_WriteTooOld{WriteTooOld: &rangepb.WriteTooOldError{
			Key: wto.Key, Timestamp: tsProto(wto.Timestamp), ActualTimestamp: tsProto(wto.ActualTimestamp)}}
	case errors.As(err, &cfe):
		// A CPut that found another value: its caller reads the value.
		d := &rangepb.ConditionFailedError{Key: cfe.Key}
		if v := cfe.ActualValue; v != nil {
			d.ActualExists, d.ActualValue, d.ActualType = true, v.RawBytes, int32(v.Type)
		}
		e.Detail = &rangepb.Error_ConditionFailed{ConditionFailed: d}
	default:
		return false
	}
	return true
}

// decodeTxnError is the inverse of encodeTxnError; ok is false for other
// details. The message, which may carry context the detail lacks (why a
// push failed), wraps the typed error.
func decodeTxnError(e *rangepb.Error) (err error, ok bool) {
	switch d := e.Detail.(type) {
	case *rangepb.Error_TxnRetry:
		err = &kvserver.TransactionRetryError{Reason: d.TxnRetry.Reason, Txn: d.TxnRetry.Txn, Extra: d.TxnRetry.Extra}
	case *rangepb.Error_TxnAborted:
		err = &kvserver.TransactionAbortedError{Txn: d.TxnAborted.Txn}
	case *rangepb.Error_TxnPush:
		err = &kvserver.TransactionPushError{Pushee: d.TxnPush.Pushee}
	case *rangepb.Error_TxnStatus:
		err = &kvserver.TransactionStatusError{Reason: d.TxnStatus.Reason, Txn: d.TxnStatus.Txn}
	case *rangepb.Error_IndeterminateCommit:
		err = &kvserver.IndeterminateCommitError{StagingTxn: d.IndeterminateCommit.StagingTxn}
	case *rangepb.Error_LockConflict:
		lce := &kv.LockConflictError{}
		for _, in := range d.LockConflict.Intents {
			lce.Locks = append(lce.Locks, kv.Lock{Key: in.Key, Txn: kvserver.TxnMetaToKV(in.Txn)})
		}
		if msg := e.Message; msg != lce.Error() {
			return errors.WithMessage(lce, trimSuffix(msg, ": "+lce.Error())), true
		}
		return lce, true
	case *rangepb.Error_LockNotAvailable:
		l := d.LockNotAvailable
		err = &kv.LockNotAvailableError{Lock: kv.Lock{Key: l.GetLock().GetKey(), Txn: kvserver.TxnMetaToKV(l.GetLock().GetTxn())}, NoWait: l.NoWait}
	case *rangepb.Error_BeforeGc:
		err = &kv.BatchTimestampBeforeGCError{Timestamp: tsFromProto(d.BeforeGc.Timestamp), Threshold: tsFromProto(d.BeforeGc.Threshold)}
	case *rangepb.Error_ReadWithinUncertainty:
		u := d.ReadWithinUncertainty
		err = &kv.ReadWithinUncertaintyIntervalError{
			Key: u.Key, ReadTimestamp: tsFromProto(u.ReadTimestamp), ValueTimestamp: tsFromProto(u.ValueTimestamp),
			GlobalUncertaintyLimit: tsFromProto(u.GlobalUncertaintyLimit), LocalUncertaintyLimit: tsFromProto(u.LocalUncertaintyLimit),
		}
	case *rangepb.Error_WriteTooOld:
		w := d.WriteTooOld
		err = &kv.WriteTooOldError{Key: w.Key, Timestamp: tsFromProto(w.Timestamp), ActualTimestamp: tsFromProto(w.ActualTimestamp)}
	case *rangepb.Error_ConditionFailed:
		c := &kv.ConditionFailedError{Key: d.ConditionFailed.Key}
		if d.ConditionFailed.ActualExists {
			c.ActualValue = &kv.Value{Type: kv.ValueType(d.ConditionFailed.ActualType), RawBytes: d.ConditionFailed.ActualValue}
		}
		err = c
	default:
		return nil, false
	}
	return err, true
}

func trimSuffix(s, suffix string) string {
	if len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)]
	}
	return s
}
