package rangepb

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestNarrowKeepsTheRequest: a span request narrowed to a range keeps
// every field but its span (a transactional DeleteRange its sequence
// number, which the DistSender once dropped), leaves the original alone,
// and a request not addressed by a span is refused.
func TestNarrowKeepsTheRequest(t *testing.T) {
	orig := MakeRequestUnion(&DeleteRangeRequest{Span: &Span{Key: []byte("a"), EndKey: []byte("z")}, Sequence: 7, ReturnKeys: true})
	keep := proto.Clone(orig)
	sub, err := Narrow(orig, []byte("c"), []byte("d"))
	if err != nil {
		t.Fatal(err)
	}
	want := MakeRequestUnion(&DeleteRangeRequest{Span: &Span{Key: []byte("c"), EndKey: []byte("d")}, Sequence: 7, ReturnKeys: true})
	if !proto.Equal(sub, want) {
		t.Fatalf("narrowed: %v, want %v", sub, want)
	}
	if !proto.Equal(orig, keep) {
		t.Fatalf("the original changed: %v", orig)
	}
	ri := MakeRequestUnion(&ResolveIntentRangeRequest{Span: &Span{Key: []byte("a"), EndKey: []byte("z")}, Txn: &TxnMeta{Id: []byte("t")},
		Status: TransactionStatus_COMMITTED, Poison: true})
	if sub, err := Narrow(ri, []byte("b"), []byte("c")); err != nil || !sub.GetResolveIntentRange().Poison ||
		string(sub.GetResolveIntentRange().Txn.Id) != "t" || string(sub.GetResolveIntentRange().Span.Key) != "b" {
		t.Fatalf("narrowed resolution: %v (%v)", sub, err)
	}
	if _, err := Narrow(MakeRequestUnion(&GetRequest{Key: []byte("a")}), []byte("a"), []byte("b")); err == nil {
		t.Fatal("a Get was narrowed")
	}
}

// TestCombine: the answers of a span request's parts add up.
func TestCombine(t *testing.T) {
	part := func(n int64, keys ...string) *ResponseUnion {
		r := &DeleteRangeResponse{Deleted: n}
		for _, k := range keys {
			r.Keys = append(r.Keys, []byte(k))
		}
		return &ResponseUnion{Value: &ResponseUnion_DeleteRange{DeleteRange: r}}
	}
	var acc *ResponseUnion
	for _, p := range []*ResponseUnion{part(2, "a", "b"), part(0), part(1, "x")} {
		var err error
		if acc, err = Combine(acc, p); err != nil {
			t.Fatal(err)
		}
	}
	if dr := acc.GetDeleteRange(); dr.Deleted != 3 || len(dr.Keys) != 3 || string(dr.Keys[2]) != "x" {
		t.Fatalf("combined: %v", dr)
	}
	ri := func(n int64) *ResponseUnion {
		return &ResponseUnion{Value: &ResponseUnion_ResolveIntentRange{ResolveIntentRange: &ResolveIntentRangeResponse{Resolved: n}}}
	}
	acc, _ = Combine(ri(4), ri(5))
	if acc.GetResolveIntentRange().Resolved != 9 {
		t.Fatalf("combined resolutions: %v", acc)
	}
	if _, err := Combine(&ResponseUnion{Value: &ResponseUnion_Get{Get: &GetResponse{}}}, ri(1)); err == nil {
		t.Fatal("two Gets combined")
	}
}
