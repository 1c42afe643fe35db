package rpc

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// TestTxnErrorsRoundTrip: the transaction errors cross the wire as the same
// Go types, with the fields the coordinator acts on.
func TestTxnErrorsRoundTrip(t *testing.T) {
	txn := &rangepb.Transaction{Meta: &rangepb.TxnMeta{Id: make([]byte, 16), Epoch: 3}}
	meta := kv.TxnMeta{ID: kv.TxnID{7}, Key: []byte("anchor"), Epoch: 2}
	for _, err := range []error{
		&rangepb.TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_SERIALIZABLE, Txn: txn, Extra: "x"},
		&rangepb.TransactionAbortedError{Txn: txn},
		&rangepb.TransactionPushError{Pushee: txn},
		&rangepb.TransactionStatusError{Reason: "stale epoch", Txn: txn},
		errors.Wrap(&kv.LockConflictError{Locks: []kv.Lock{{Key: []byte("k"), Txn: meta}}}, "pushing txn"),
		&kv.ReadWithinUncertaintyIntervalError{Key: []byte("k"), ValueTimestamp: hlc.Timestamp{WallTime: 5}},
		&kv.WriteTooOldError{Key: []byte("k"), Timestamp: hlc.Timestamp{WallTime: 5}, ActualTimestamp: hlc.Timestamp{WallTime: 6, Logical: 1}},
		&kv.LockNotAvailableError{Lock: kv.Lock{Key: []byte("k"), Txn: meta}, NoWait: true},
		&kv.LockNotAvailableError{Lock: kv.Lock{Key: []byte("k"), Txn: meta}},
		&kv.BatchTimestampBeforeGCError{Timestamp: hlc.Timestamp{WallTime: 5}, Threshold: hlc.Timestamp{WallTime: 9, Logical: 2}},
		&kv.ConditionFailedError{Key: []byte("k")},
		&kv.ConditionFailedError{Key: []byte("k"), ActualValue: &kv.Value{Type: kv.ValueTypeBytes, RawBytes: []byte("v")}},
	} {
		got := DecodeBatchError(EncodeBatchError(err))
		if got.Error() != err.Error() {
			t.Errorf("%T: message %q, want %q", err, got.Error(), err.Error())
		}
		switch want := errors.UnwrapAll(err).(type) {
		case *rangepb.TransactionRetryError:
			var e *rangepb.TransactionRetryError
			if !errors.As(got, &e) || e.Reason != want.Reason || e.Txn.Meta.Epoch != 3 {
				t.Errorf("retry: %v", got)
			}
		case *rangepb.TransactionAbortedError:
			var e *rangepb.TransactionAbortedError
			if !errors.As(got, &e) {
				t.Errorf("aborted: %v", got)
			}
		case *rangepb.TransactionPushError:
			var e *rangepb.TransactionPushError
			if !errors.As(got, &e) {
				t.Errorf("push: %v", got)
			}
		case *kv.ConditionFailedError:
			var e *kv.ConditionFailedError
			if !errors.As(got, &e) || (e.ActualValue == nil) != (want.ActualValue == nil) {
				t.Errorf("condition failed: %v", got)
			}
		case *kv.LockNotAvailableError:
			var e *kv.LockNotAvailableError
			if !errors.As(got, &e) || e.NoWait != want.NoWait || e.Txn.ID != meta.ID || string(e.Key) != "k" {
				t.Errorf("lock not available: %v", got)
			}
		case *kv.BatchTimestampBeforeGCError:
			var e *kv.BatchTimestampBeforeGCError
			if !errors.As(got, &e) || *e != *want {
				t.Errorf("before GC: %v", got)
			}
		case *kv.WriteTooOldError:
			var e *kv.WriteTooOldError
			if !errors.As(got, &e) || e.ActualTimestamp != want.ActualTimestamp {
				t.Errorf("write too old: %v", got)
			}
		case *rangepb.TransactionStatusError:
			var e *rangepb.TransactionStatusError
			if !errors.As(got, &e) || e.Reason != want.Reason {
				t.Errorf("status: %v", got)
			}
		case *kv.LockConflictError:
			var e *kv.LockConflictError
			if !errors.As(got, &e) || e.Locks[0].Txn.ID != meta.ID || string(e.Locks[0].Txn.Key) != "anchor" {
				t.Errorf("lock conflict: %v", got)
			}
		case *kv.ReadWithinUncertaintyIntervalError:
			var e *kv.ReadWithinUncertaintyIntervalError
			if !errors.As(got, &e) || e.ValueTimestamp != want.ValueTimestamp {
				t.Errorf("uncertainty: %v", got)
			}
		}
	}
}

// TestBatchErrorNotUTF8: an error whose text quotes a key that is not
// UTF-8 still crosses the wire (proto refuses such strings), as its type.
func TestBatchErrorNotUTF8(t *testing.T) {
	for _, err := range []error{
		errors.Newf("conflict at %s", []byte("\xf8bank/001")),
		&rangepb.TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_SERIALIZABLE,
			Txn: &rangepb.Transaction{Meta: &rangepb.TxnMeta{Id: make([]byte, 16)}, Name: "\xff"}, Extra: "key \xf8"},
		&rangepb.AmbiguousResultError{Reason: "at \xf8"},
	} {
		e := EncodeBatchError(err)
		if _, merr := proto.Marshal(e); merr != nil {
			t.Fatalf("%T: %v", err, merr)
		}
		got := DecodeBatchError(e)
		if fmt.Sprintf("%T", errors.UnwrapAll(got)) != fmt.Sprintf("%T", errors.UnwrapAll(err)) {
			t.Errorf("%T came back as %T: %v", err, got, got)
		}
	}
}
