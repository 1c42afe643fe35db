package txnkv

import (
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/txn"
)

// TestSQLError checks the SQLSTATEs the transaction layer's errors get.
func TestSQLError(t *testing.T) {
	if sqlError(nil) != nil {
		t.Fatal("nil error became an error")
	}
	if c := pgerror.CodeOf(sqlError(&txn.RetryableError{Aborted: true})); c != pgerror.CodeSerializationFailure {
		t.Errorf("retryable error: code %s", c)
	}
	if c := pgerror.CodeOf(sqlError(&kvserver.AmbiguousResultError{Reason: "lost"})); c != pgerror.CodeStatementCompletionUnknown {
		t.Errorf("ambiguous result: code %s", c)
	}
	other := errors.New("disk on fire")
	if sqlError(other) != other {
		t.Error("another error was changed")
	}
}
