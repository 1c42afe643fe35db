package rangepb

import (
	"github.com/cockroachdb/errors"
	"google.golang.org/protobuf/proto"
)

// A request addressed by a span may cover several ranges; the DistSender
// sends each range its part (Narrow) and puts the answers back together
// (Combine), as CockroachDB's DistSender truncates a batch to each range
// and combines the responses (pkg/kv/kvpb: combinable). Scans are the
// exception: their limits and resume keys make the DistSender walk the
// ranges itself.

// spanRequest is a request whose span can be narrowed.
type spanRequest interface {
	Request
	// withSpan returns a copy of the request over sp, every other field
	// kept (a transactional write's sequence number above all).
	withSpan(sp *Span) Request
}

func (r *ScanRequest) withSpan(sp *Span) Request {
	c := proto.Clone(r).(*ScanRequest)
	c.Span = sp
	return c
}

func (r *DeleteRangeRequest) withSpan(sp *Span) Request {
	c := proto.Clone(r).(*DeleteRangeRequest)
	c.Span = sp
	return c
}

func (r *ResolveIntentRangeRequest) withSpan(sp *Span) Request {
	c := proto.Clone(r).(*ResolveIntentRangeRequest)
	c.Span = sp
	return c
}

func (r *RefreshRangeRequest) withSpan(sp *Span) Request {
	c := proto.Clone(r).(*RefreshRangeRequest)
	c.Span = sp
	return c
}

// Narrow returns a copy of the span request ru over [key, end).
func Narrow(ru *RequestUnion, key, end []byte) (*RequestUnion, error) {
	r, ok := ru.Inner().(spanRequest)
	if !ok {
		return nil, errors.AssertionFailedf("%s is not addressed by a span", ru.Method())
	}
	return MakeRequestUnion(r.withSpan(&Span{Key: key, EndKey: end})), nil
}

// combinable is the response of a span request, which absorbs the
// response of the same request on the next range.
type combinable interface {
	combine(next *ResponseUnion)
}

func (u *ResponseUnion_DeleteRange) combine(next *ResponseUnion) {
	n := next.GetDeleteRange()
	u.DeleteRange.Deleted += n.GetDeleted()
	u.DeleteRange.Keys = append(u.DeleteRange.Keys, n.GetKeys()...)
}

func (u *ResponseUnion_ResolveIntentRange) combine(next *ResponseUnion) {
	u.ResolveIntentRange.Resolved += next.GetResolveIntentRange().GetResolved()
}

func (u *ResponseUnion_RefreshRange) combine(*ResponseUnion) {}

// Combine returns the response of a span request over the ranges of acc
// and then next: next itself if acc is nil (the first range).
func Combine(acc, next *ResponseUnion) (*ResponseUnion, error) {
	if acc == nil {
		return next, nil
	}
	c, ok := acc.Value.(combinable)
	if !ok {
		return nil, errors.AssertionFailedf("%T does not combine", acc.Value)
	}
	c.combine(next)
	return acc, nil
}
