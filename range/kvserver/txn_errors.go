package kvserver

import (
	"github.com/meridiandb/meridian/range/rangepb"
)

// The transaction layer's typed errors, as the ranges return them. The
// coordinator (package txn) switches on their types: a retry error
// restarts the transaction (a new epoch at a higher timestamp), an aborted
// error starts it over as a new one, a status error is final.

// The errors are rangepb's messages (rangepb/errors.go); these names stay
// for the range layer's own code.
type (
	TransactionRetryError    = rangepb.TransactionRetryError
	TransactionAbortedError  = rangepb.TransactionAbortedError
	TransactionPushError     = rangepb.TransactionPushError
	TransactionStatusError   = rangepb.TransactionStatusError
	IndeterminateCommitError = rangepb.IndeterminateCommitError
)
