package rangepb

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestEveryRequestHasAMethod: every field of RequestUnion holds a Request
// with a Method of its own, which MakeRequestUnion puts back in that
// field; a request added to the union without its methods fails here.
func TestEveryRequestHasAMethod(t *testing.T) {
	fields := (&RequestUnion{}).ProtoReflect().Descriptor().Oneofs().ByName("value").Fields()
	seen := map[Method]protoreflect.Name{}
	for i := range fields.Len() {
		fd := fields.Get(i)
		msg := (&RequestUnion{}).ProtoReflect().NewField(fd).Message().Interface()
		req, ok := msg.(Request)
		if !ok {
			t.Errorf("%s (%T) is not a Request", fd.Name(), msg)
			continue
		}
		m := req.Method()
		if m < 0 || m >= NumMethods {
			t.Errorf("%s: method %d out of range", fd.Name(), m)
		}
		if prev, dup := seen[m]; dup {
			t.Errorf("%s and %s share method %s", prev, fd.Name(), m)
		}
		seen[m] = fd.Name()
		ru := MakeRequestUnion(req)
		if got := ru.ProtoReflect().WhichOneof(ru.ProtoReflect().Descriptor().Oneofs().ByName("value")); got == nil || got.Name() != fd.Name() {
			t.Errorf("%s: MakeRequestUnion put it in %v", fd.Name(), got)
		}
		if ru.Inner() != req || ru.Method() != m {
			t.Errorf("%s: Inner/Method do not give it back", fd.Name())
		}
		// A transaction numbers its writes.
		if _, ok := req.(SequencedRequest); ok != m.Flags().Has(WritesUserKeys) {
			t.Errorf("%s: a SequencedRequest %v, writes user keys %v", fd.Name(), ok, m.Flags().Has(WritesUserKeys))
		}
	}
	if len(seen) != int(NumMethods) {
		t.Errorf("%d union fields for %d methods", len(seen), NumMethods)
	}
	if (&RequestUnion{}).Method() != -1 || (&RequestUnion{}).Flags() != 0 {
		t.Error("an empty union has a method")
	}
}
