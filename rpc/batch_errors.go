package rpc

import (
	"context"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The range layer's typed errors are rangepb's messages: they cross the
// wire as a rangepb.Error's detail, as they are (the lease to try next, the
// descriptor to refresh a cache with), with the text as the message. On
// the other side the detail is the error again, so that a sender's retry
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
		nlhe  *rangepb.NotLeaseHolderError
		rnf   *rangepb.RangeNotFoundError
		rkm   *rangepb.RangeKeyMismatchError
		ambig *rangepb.AmbiguousResultError
		isk   *rangepb.InvalidSplitKeyError
		cme   *rangepb.CannotMergeError
	)
	switch {
	case errors.As(err, &nlhe):
		e.Detail = &rangepb.Error_NotLeaseHolder{NotLeaseHolder: nlhe}
	case errors.As(err, &rnf):
		e.Detail = &rangepb.Error_RangeNotFound{RangeNotFound: rnf}
	case errors.As(err, &rkm):
		e.Detail = &rangepb.Error_RangeKeyMismatch{RangeKeyMismatch: rkm}
	case errors.As(err, &ambig):
		e.Detail = &rangepb.Error_AmbiguousResult{AmbiguousResult: ambig}
	case errors.As(err, &isk):
		e.Detail = &rangepb.Error_InvalidSplitKey{InvalidSplitKey: isk}
	case errors.As(err, &cme):
		e.Detail = &rangepb.Error_CannotMerge{CannotMerge: cme}
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
		return d.NotLeaseHolder
	case *rangepb.Error_RangeNotFound:
		return d.RangeNotFound
	case *rangepb.Error_RangeKeyMismatch:
		return d.RangeKeyMismatch
	case *rangepb.Error_AmbiguousResult:
		return d.AmbiguousResult
	case *rangepb.Error_InvalidSplitKey:
		return d.InvalidSplitKey
	case *rangepb.Error_CannotMerge:
		return d.CannotMerge
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
