package txn

import (
	"strings"
	"testing"
)

// TestListAppendChecker runs the list-append checker on hand-made
// histories: it must pass a serializable one and name each anomaly.
func TestListAppendChecker(t *testing.T) {
	r := func(k int, l ...int) laOp { return laOp{key: k, read: l} }
	a := func(k, v int) laOp { return laOp{append: true, key: k, val: v} }
	tx := func(ops ...laOp) *laTxn { return &laTxn{ops: ops} }
	unknown := func(ops ...laOp) *laTxn { return &laTxn{ops: ops, status: laUnknown} }
	for _, tc := range []struct {
		name string
		h    []*laTxn
		want string // "" passes
	}{
		{"serial", []*laTxn{
			tx(a(1, 1), a(2, 1)),
			tx(r(1, 1), a(1, 2), r(1, 1, 2)),
			tx(r(1, 1, 2), r(2, 1)),
		}, ""},
		{"unknown outcome, not seen", []*laTxn{
			tx(a(1, 1)), unknown(a(1, 2)), tx(r(1, 1)),
		}, ""},
		{"unknown outcome, seen", []*laTxn{
			tx(a(1, 1)), unknown(a(1, 2)), tx(r(1, 1, 2)),
		}, ""},
		{"G0", []*laTxn{
			tx(a(1, 1), a(2, 2)),
			tx(a(1, 2), a(2, 1)),
			tx(r(1, 1, 2), r(2, 1, 2)),
		}, "G0"},
		{"G1c", []*laTxn{
			tx(a(1, 1), r(2, 1)),
			tx(a(2, 1), r(1, 1)),
			tx(r(1, 1), r(2, 1)),
		}, "G1c"},
		{"G-single", []*laTxn{
			// Read skew: the second sees the first's append to 1, not
			// its append to 2.
			tx(a(1, 1), a(2, 1)),
			tx(r(1, 1), r(2)),
			tx(r(1, 1), r(2, 1)),
		}, "G-single"},
		{"G2 write skew", []*laTxn{
			tx(r(1), r(2), a(1, 1)),
			tx(r(1), r(2), a(2, 1)),
			tx(r(1, 1), r(2, 1)),
		}, "G2"},
		{"aborted read", []*laTxn{tx(a(1, 1)), {ops: []laOp{a(1, 2)}, status: laAborted}, tx(r(1, 1, 2))}, "G1a"},
		{"garbage read", []*laTxn{tx(a(1, 1)), tx(r(1, 1, 7))}, "garbage"},
		{"lost write", []*laTxn{tx(a(1, 1)), tx(a(1, 2)), tx(r(1, 2))}, "lost write"},
		{"incompatible orders", []*laTxn{tx(a(1, 1)), tx(a(1, 2)), tx(r(1, 1, 2)), tx(r(1, 2))}, "incompatible"},
		{"own writes", []*laTxn{tx(a(1, 1), r(1))}, "internal"},
		{"duplicate", []*laTxn{tx(a(1, 1)), tx(a(1, 2)), tx(r(1, 1, 2, 1))}, "duplicated"},
		{"non-repeatable", []*laTxn{tx(a(1, 1)), tx(r(1), r(1, 1))}, "non-repeatable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkListAppend(tc.h)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
