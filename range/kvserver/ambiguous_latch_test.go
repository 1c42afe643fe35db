package kvserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

// TestAmbiguousWriteKeepsLatches: a write whose caller stops waiting for
// its command (an ambiguous answer) keeps its latches until the command
// applies, so nothing that touches its keys is evaluated without it. The
// leaseholder is cut off, so the write's command cannot commit; a read of
// its key then waits (it used to be served at once, and a resolution
// evaluated like it, applied later by a reproposal, cleared the lock
// record of an intent written in between: TestBankSerializable's lost
// transfer). Healed, the command applies and the read sees it.
func TestAmbiguousWriteKeepsLatches(t *testing.T) {
	c := kvtest.NewClusterWithRanges(t, kvtest.Options{Nodes: 3}, 1)
	ctx := testCtx(t)
	key := kvtest.RangeKey(2, "k")
	if err := c.Put(ctx, 2, key, []byte("before")); err != nil {
		t.Fatal(err)
	}
	lh := c.Leaseholder(2)
	r, err := c.Nodes[lh-1].Store.GetReplica(2)
	if err != nil {
		t.Fatal(err)
	}
	c.Transport.Isolate(kvserver.NodeID(lh), []kvserver.NodeID{1, 2, 3})
	send := func(timeout time.Duration, ru *rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return r.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: 2}, Requests: []*rangepb.RequestUnion{ru}})
	}
	var amb *kvserver.AmbiguousResultError
	if _, err := send(100*time.Millisecond, putReq(string(key), "after")); !errors.As(err, &amb) {
		t.Fatalf("a write that cannot commit answered %v, want an ambiguous result", err)
	}
	if br, err := send(200*time.Millisecond, getReq(string(key))); err == nil {
		t.Fatalf("a read of the key was served (%q) while the ambiguous write's command was pending", br.Responses[0].GetGet().GetValue())
	}
	c.Transport.Heal()
	br, err := send(30*time.Second, getReq(string(key)))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(br.Responses[0].GetGet().GetValue()); got != "after" {
		t.Fatalf("after healing, the key holds %q, want the write's %q", got, "after")
	}
}
