package txn

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/rangepb"
)

// RetryableError is the transaction layer's serialization failure (SQLSTATE
// 40001 at the SQL edge): the transaction cannot commit as it is and must
// run again. DB.Txn does that; a caller driving a Txn by hand calls
// DB.Txn's logic itself or gives up.
type RetryableError struct {
	// Aborted: the transaction is gone (its record is ABORTED); it runs
	// again as a new transaction. Otherwise it restarts: same transaction,
	// next epoch, at Timestamp or above.
	Aborted   bool
	Timestamp hlc.Timestamp
	cause     error
}

func (e *RetryableError) Error() string {
	if e.Aborted {
		return "restart transaction (aborted): " + e.cause.Error()
	}
	return "restart transaction: " + e.cause.Error()
}

func (e *RetryableError) Unwrap() error { return e.cause }

// IsRetryable reports whether err asks for the transaction to run again.
func IsRetryable(err error) bool {
	var re *RetryableError
	return errors.As(err, &re)
}

// ErrTxnFinalized marks an operation on a transaction that has committed or
// rolled back.
var ErrTxnFinalized = errors.New("txn: transaction already finalized")

// toRetryable turns the errors that mean "run the transaction again" into
// a RetryableError; other errors are returned as they are.
func toRetryable(err error, cur *rangepb.Transaction) error {
	var (
		tre  *rangepb.TransactionRetryError
		tae  *rangepb.TransactionAbortedError
		unc  *kvpb.ReadWithinUncertaintyIntervalError
		wto  *kvpb.WriteTooOldError
		lce  *kvpb.LockConflictError
		tpe  *rangepb.TransactionPushError
		prev *RetryableError
	)
	ts := tsFromProto(cur.GetMeta().GetWriteTimestamp())
	switch {
	case errors.As(err, &prev):
		return err
	case errors.As(err, &tae):
		return &RetryableError{Aborted: true, cause: err}
	case errors.As(err, &tre):
		ts.Forward(tsFromProto(tre.Txn.GetMeta().GetWriteTimestamp()))
	case errors.As(err, &unc):
		ts.Forward(unc.ValueTimestamp)
	case errors.As(err, &wto):
		ts.Forward(wto.ActualTimestamp)
	case errors.As(err, &lce), errors.As(err, &tpe):
	default:
		return err
	}
	return &RetryableError{Timestamp: ts, cause: err}
}

// ErrHistoricalWrite: a transaction reading in the past
// (DB.NewHistoricalTxn) was asked to write.
var ErrHistoricalWrite = errors.New("a transaction reading AS OF SYSTEM TIME cannot write")
