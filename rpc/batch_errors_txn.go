package rpc

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/kvconv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The transaction layer's errors on the wire: the coordinator's retry
// logic (package txn) switches on their Go types, so they must come out of
// DecodeBatchError as the types the replica returned.

func tsProto(ts hlc.Timestamp) *rangepb.Timestamp { return rangepb.TimestampOf(ts) }

func tsFromProto(p *rangepb.Timestamp) hlc.Timestamp { return p.HLC() }

// encodeTxnError fills e's detail for a transaction error; it reports
// whether err was one.
func encodeTxnError(err error, e *rangepb.Error) bool {
	var (
		tre *rangepb.TransactionRetryError
		tae *rangepb.TransactionAbortedError
		tpe *rangepb.TransactionPushError
		tse *rangepb.TransactionStatusError
		ice *rangepb.IndeterminateCommitError
		lce *kvpb.LockConflictError
		lna *kvpb.LockNotAvailableError
		bgc *kvpb.BatchTimestampBeforeGCError
		unc *kvpb.ReadWithinUncertaintyIntervalError
		wto *kvpb.WriteTooOldError
		cfe *kvpb.ConditionFailedError
	)
	switch {
	case errors.As(err, &tre):
		e.Detail = &rangepb.Error_TxnRetry{TxnRetry: tre}
	case errors.As(err, &tae):
		e.Detail = &rangepb.Error_TxnAborted{TxnAborted: tae}
	case errors.As(err, &tpe):
		e.Detail = &rangepb.Error_TxnPush{TxnPush: tpe}
	case errors.As(err, &tse):
		e.Detail = &rangepb.Error_TxnStatus{TxnStatus: tse}
	case errors.As(err, &ice):
		e.Detail = &rangepb.Error_IndeterminateCommit{IndeterminateCommit: ice}
	case errors.As(err, &lce):
		d := &rangepb.LockConflictError{}
		for _, l := range lce.Locks {
			d.Intents = append(d.Intents, &rangepb.Intent{Key: l.Key, Txn: kvconv.TxnMetaFromKV(l.Txn)})
		}
		e.Detail = &rangepb.Error_LockConflict{LockConflict: d}
	case errors.As(err, &lna):
		e.Detail = &rangepb.Error_LockNotAvailable{LockNotAvailable: &rangepb.LockNotAvailableError{
			Lock: &rangepb.Intent{Key: lna.Key, Txn: kvconv.TxnMetaFromKV(lna.Txn)}, NoWait: lna.NoWait}}
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
		err = d.TxnRetry
	case *rangepb.Error_TxnAborted:
		err = d.TxnAborted
	case *rangepb.Error_TxnPush:
		err = d.TxnPush
	case *rangepb.Error_TxnStatus:
		err = d.TxnStatus
	case *rangepb.Error_IndeterminateCommit:
		err = d.IndeterminateCommit
	case *rangepb.Error_LockConflict:
		lce := &kvpb.LockConflictError{}
		for _, in := range d.LockConflict.Intents {
			lce.Locks = append(lce.Locks, kvpb.Lock{Key: in.Key, Txn: kvconv.TxnMetaToKV(in.Txn)})
		}
		if msg := e.Message; msg != lce.Error() {
			return errors.WithMessage(lce, trimSuffix(msg, ": "+lce.Error())), true
		}
		return lce, true
	case *rangepb.Error_LockNotAvailable:
		l := d.LockNotAvailable
		err = &kvpb.LockNotAvailableError{Lock: kvpb.Lock{Key: l.GetLock().GetKey(), Txn: kvconv.TxnMetaToKV(l.GetLock().GetTxn())}, NoWait: l.NoWait}
	case *rangepb.Error_BeforeGc:
		err = &kvpb.BatchTimestampBeforeGCError{Timestamp: tsFromProto(d.BeforeGc.Timestamp), Threshold: tsFromProto(d.BeforeGc.Threshold)}
	case *rangepb.Error_ReadWithinUncertainty:
		u := d.ReadWithinUncertainty
		err = &kvpb.ReadWithinUncertaintyIntervalError{
			Key: u.Key, ReadTimestamp: tsFromProto(u.ReadTimestamp), ValueTimestamp: tsFromProto(u.ValueTimestamp),
			GlobalUncertaintyLimit: tsFromProto(u.GlobalUncertaintyLimit), LocalUncertaintyLimit: tsFromProto(u.LocalUncertaintyLimit),
		}
	case *rangepb.Error_WriteTooOld:
		w := d.WriteTooOld
		err = &kvpb.WriteTooOldError{Key: w.Key, Timestamp: tsFromProto(w.Timestamp), ActualTimestamp: tsFromProto(w.ActualTimestamp)}
	case *rangepb.Error_ConditionFailed:
		c := &kvpb.ConditionFailedError{Key: d.ConditionFailed.Key}
		if d.ConditionFailed.ActualExists {
			c.ActualValue = &kvpb.Value{Type: kvpb.ValueType(d.ConditionFailed.ActualType), RawBytes: d.ConditionFailed.ActualValue}
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
