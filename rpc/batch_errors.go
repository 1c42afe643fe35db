package rpc

import (
	"context"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The range layer's typed errors cross the wire as a rangepb.Error: the
// detail carries the fields the sender acts on (the lease to try next, the
// descriptor to refresh its cache with), the message the text. On the
// other side they become the same Go types again, so that a sender's retry
// logic works with errors.As whether the replica was local or remote.

// EncodeBatchError turns an error a Node returned for a batch into its wire
// form.
func EncodeBatchError(err error) *rangepb.Error {
	e := encodeBatchError(err)
	validUTF8(e.ProtoReflect())
	return e
}

// validUTF8 replaces the bytes of the string fields of m (and of the
// messages in it) that are not UTF-8, which proto refuses to marshal: an
// error's text often quotes a key, and keys are arbitrary bytes. Without
// it, such an error became "grpc: error while marshaling: string field
// contains invalid UTF-8" on the caller's side, with its type lost (seen
// in TestBankSerializable: a transfer failed for good instead of retrying).
func validUTF8(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind {
				for i, l := 0, v.List(); i < l.Len(); i++ {
					validUTF8(l.Get(i).Message())
				}
			}
		case fd.Kind() == protoreflect.StringKind:
			if s := v.String(); !utf8.ValidString(s) {
				m.Set(fd, protoreflect.ValueOfString(strings.ToValidUTF8(s, "\uFFFD")))
			}
		case fd.Kind() == protoreflect.MessageKind:
			validUTF8(v.Message())
		}
		return true
	})
}

func encodeBatchError(err error) *rangepb.Error {
	e := &rangepb.Error{Message: err.Error()}
	if encodeTxnError(err, e) {
		return e
	}
	var (
		nlhe  *kvserver.NotLeaseHolderError
		rnf   *kvserver.RangeNotFoundError
		rkm   *kvserver.RangeKeyMismatchError
		ambig *kvserver.AmbiguousResultError
		isk   *kvserver.InvalidSplitKeyError
		cme   *kvserver.CannotMergeError
	)
	switch {
	case errors.As(err, &nlhe):
		// The detail has no field for the reason, and the Go error builds
		// its text from the reason and the lease: the message carries the
		// reason alone.
		e.Message = nlhe.Reason
		e.Detail = &rangepb.Error_NotLeaseHolder{NotLeaseHolder: &rangepb.NotLeaseHolderError{
			Lease: nlhe.Lease, RangeId: int64(nlhe.RangeID),
		}}
	case errors.As(err, &rnf):
		e.Detail = &rangepb.Error_RangeNotFound{RangeNotFound: &rangepb.RangeNotFoundError{
			RangeId: int64(rnf.RangeID), StoreId: int32(rnf.NodeID),
		}}
	case errors.As(err, &rkm):
		e.Detail = &rangepb.Error_RangeKeyMismatch{RangeKeyMismatch: &rangepb.RangeKeyMismatchError{
			Key: rkm.Key, Desc: rkm.Desc, Ranges: rkm.Ranges,
		}}
	case errors.As(err, &ambig):
		e.Detail = &rangepb.Error_AmbiguousResult{AmbiguousResult: &rangepb.AmbiguousResultError{
			Reason: ambig.Reason,
		}}
	case errors.As(err, &isk):
		e.Detail = &rangepb.Error_InvalidSplitKey{InvalidSplitKey: &rangepb.InvalidSplitKeyError{
			Key: isk.Key, Reason: isk.Reason, Desc: isk.Desc,
		}}
	case errors.As(err, &cme):
		e.Detail = &rangepb.Error_CannotMerge{CannotMerge: &rangepb.CannotMergeError{RangeId: int64(cme.RangeID), Reason: cme.Reason}}
	}
	return e
}

// DecodeBatchError turns the wire form of a batch's error back into the Go
// error: a typed one where the detail names it, otherwise an error with
// the remote's message.
func DecodeBatchError(e *rangepb.Error) error {
	if err, ok := decodeTxnError(e); ok {
		return err
	}
	switch d := e.Detail.(type) {
	case *rangepb.Error_NotLeaseHolder:
		return &kvserver.NotLeaseHolderError{
			RangeID: kvserver.RangeID(d.NotLeaseHolder.RangeId), Lease: d.NotLeaseHolder.Lease, Reason: e.Message,
		}
	case *rangepb.Error_RangeNotFound:
		return &kvserver.RangeNotFoundError{
			RangeID: kvserver.RangeID(d.RangeNotFound.RangeId), NodeID: kvserver.NodeID(d.RangeNotFound.StoreId),
		}
	case *rangepb.Error_RangeKeyMismatch:
		return &kvserver.RangeKeyMismatchError{Key: d.RangeKeyMismatch.Key, Desc: d.RangeKeyMismatch.Desc, Ranges: d.RangeKeyMismatch.Ranges}
	case *rangepb.Error_AmbiguousResult:
		return &kvserver.AmbiguousResultError{Reason: d.AmbiguousResult.Reason}
	case *rangepb.Error_InvalidSplitKey:
		return &kvserver.InvalidSplitKeyError{Key: d.InvalidSplitKey.Key, Reason: d.InvalidSplitKey.Reason, Desc: d.InvalidSplitKey.Desc}
	case *rangepb.Error_CannotMerge:
		return &kvserver.CannotMergeError{RangeID: kvserver.RangeID(d.CannotMerge.RangeId), Reason: d.CannotMerge.Reason}
	}
	return errors.Newf("%s", e.Message)
}

// SendBatch sends ba through client and returns the response, or the
// batch's error as a Go error (see DecodeBatchError), or the RPC's error.
func SendBatch(ctx context.Context, client rangepb.InternalClient, ba *rangepb.BatchRequest, opts ...grpc.CallOption) (*rangepb.BatchResponse, error) {
	resp, err := client.Batch(ctx, ba, opts...)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, DecodeBatchError(resp.Error)
	}
	return resp, nil
}
