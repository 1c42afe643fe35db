package kvserver_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
	"go.etcd.io/raft/v3/raftpb"
)

// TestReplicaRaftInteraction runs the datadriven files in
// testdata/interaction, in the style of etcd raft's interaction tests, but
// against real stores: every tick, campaign and message delivery happens
// only when a command says so, and the output traces the Raft messages
// replicas exchange. Commands:
//
//	init nodes=N                 range 1 (all keys) with a voter on each of N stores
//	campaign node=N              the replica on node N starts an election
//	tick node=N [n=K]            tick node N's replica K times
//	deliver                      deliver the queued messages once, printing them
//	stabilize                    deliver until no message is queued and every request finished
//	put node=N k=K v=V           send a write to node N (finishes during stabilize)
//	get node=N k=K               send a read to node N (finishes during stabilize)
//	partition node=N | heal      drop every message to or from node N
//	advance-clock d=DURATION     move the shared physical clock
//	status                       Raft and lease state of every replica
//
// Rewrite expectations with -rewrite.
func TestReplicaRaftInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata/interaction", func(t *testing.T, path string) {
		var h *itHarness
		defer func() {
			if h != nil {
				h.stop()
			}
		}()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "init" {
				var n int
				d.ScanArgs(t, "nodes", &n)
				h = newITHarness(t, n)
				return "ok"
			}
			return h.run(t, d)
		})
	})
}

type itMessage struct {
	from, to kvserver.NodeID
	msg      *rangepb.RaftMessage
}

type itRequest struct {
	desc string
	node int
	done chan string
	// result is set once done delivered it.
	result *string
}

type itHarness struct {
	manual   *hlc.ManualClock
	stoppers []*stop.Stopper
	engines  []kv.Engine
	stores   []*kvserver.Store

	mu          sync.Mutex
	queue       []itMessage
	partitioned map[kvserver.NodeID]bool
	requests    []*itRequest
}

type itTransport struct {
	h    *itHarness
	from kvserver.NodeID
}

func (t itTransport) Send(to kvserver.NodeID, b *rangepb.RaftMessageBatch) {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	for _, m := range b.Messages {
		t.h.queue = append(t.h.queue, itMessage{from: t.from, to: to, msg: m})
	}
}

func (t itTransport) SendSnapshot(ctx context.Context, to kvserver.NodeID, snap *kvserver.Snapshot) error {
	return t.h.stores[to-1].HandleSnapshot(ctx, snap)
}

func (t itTransport) SendBatch(ctx context.Context, to kvserver.NodeID, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	return t.h.stores[to-1].Send(ctx, ba)
}

func newITHarness(t *testing.T, n int) *itHarness {
	h := &itHarness{manual: hlc.NewManualClock(1_000_000 * int64(time.Second)), partitioned: map[kvserver.NodeID]bool{}}
	desc := &rangepb.RangeDescriptor{RangeId: 1, StartKey: kv.KeyMin, EndKey: kv.KeyMax, NextReplicaId: int32(n + 1)}
	for i := 1; i <= n; i++ {
		desc.Replicas = append(desc.Replicas, &rangepb.ReplicaDescriptor{NodeId: int32(i), StoreId: int32(i), ReplicaId: int32(i)})
	}
	for i := 1; i <= n; i++ {
		eng, err := kv.Open("", kv.Options{InMemory: true, CacheSize: 1 << 20, MemTableSize: 1 << 20, Logger: kv.QuietLogger{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := kvserver.Bootstrap(eng, desc); err != nil {
			t.Fatal(err)
		}
		st := stop.NewStopper()
		s := kvserver.NewStore(kvserver.StoreConfig{
			NodeID: kvserver.NodeID(i), ClusterID: kvtest.ClusterID,
			Clock:     hlc.NewClock(h.manual.UnixNano, 0),
			Transport: itTransport{h: h, from: kvserver.NodeID(i)},
			// Ticks happen only when a command asks.
			RaftTickInterval: time.Hour,
		}, eng, st)
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		h.stoppers, h.engines, h.stores = append(h.stoppers, st), append(h.engines, eng), append(h.stores, s)
	}
	return h
}

func (h *itHarness) stop() {
	for i := range h.stores {
		h.stoppers[i].Stop()
		_ = h.engines[i].Close()
	}
}

// settle waits until no store has Raft work left.
func (h *itHarness) settle(t *testing.T) {
	deadline := hlc.PhysicalNow().Add(10 * time.Second)
	for {
		idle := true
		for _, s := range h.stores {
			idle = idle && s.SchedulerIdle()
		}
		if idle {
			return
		}
		if hlc.PhysicalNow().After(deadline) {
			t.Fatal("raft scheduler did not go idle")
		}
		waitFor(100 * time.Microsecond)
	}
}

func (h *itHarness) replica(t *testing.T, d *datadriven.TestData) (*kvserver.Replica, int) {
	var n int
	d.ScanArgs(t, "node", &n)
	r, err := h.stores[n-1].GetReplica(1)
	if err != nil {
		t.Fatal(err)
	}
	return r, n
}

func (h *itHarness) run(t *testing.T, d *datadriven.TestData) string {
	var out strings.Builder
	switch d.Cmd {
	case "campaign":
		r, _ := h.replica(t, d)
		r.Campaign()
		h.settle(t)
	case "tick":
		_, n := h.replica(t, d)
		k := 1
		if d.HasArg("n") {
			d.ScanArgs(t, "n", &k)
		}
		for range k {
			h.stores[n-1].TickRange(1)
			h.settle(t)
			h.stores[n-1].FlushHeartbeats()
		}
	case "deliver":
		h.deliver(t, &out)
	case "stabilize":
		deadline := hlc.PhysicalNow().Add(10 * time.Second)
		for {
			delivered := h.deliver(t, &out)
			h.waitRequestsBlocked(t)
			for _, s := range h.stores {
				s.FlushHeartbeats() // responses to delivered heartbeats
			}
			h.collect(&out)
			h.mu.Lock()
			busy := len(h.queue) > 0 || len(h.requests) > 0
			h.mu.Unlock()
			if !busy {
				break
			}
			if !delivered {
				// A request is between Raft rounds (evaluating, or about to
				// propose): give it a moment.
				waitFor(time.Millisecond)
			}
			if hlc.PhysicalNow().After(deadline) {
				t.Fatalf("did not stabilize; so far:\n%s", out.String())
			}
		}
	case "put", "get":
		_, n := h.replica(t, d)
		var k, v string
		d.ScanArgs(t, "k", &k)
		req := &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte(k)}}}
		desc := fmt.Sprintf("get %s on n%d", k, n)
		if d.Cmd == "put" {
			d.ScanArgs(t, "v", &v)
			req = &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
			desc = fmt.Sprintf("put %s=%s on n%d", k, v, n)
		}
		r := &itRequest{desc: desc, node: n, done: make(chan string, 1)}
		h.mu.Lock()
		h.requests = append(h.requests, r)
		h.mu.Unlock()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := h.stores[n-1].Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{RangeId: 1}, Requests: []*rangepb.RequestUnion{req}})
			switch {
			case err != nil:
				r.done <- "error: " + err.Error()
			case resp.Responses[0].GetGet() != nil:
				g := resp.Responses[0].GetGet()
				r.done <- fmt.Sprintf("found=%v value=%q", g.Found, g.Value)
			default:
				r.done <- "ok"
			}
		}()
		h.waitRequestsBlocked(t)
		h.settle(t)
	case "partition":
		var n int
		d.ScanArgs(t, "node", &n)
		h.mu.Lock()
		h.partitioned[kvserver.NodeID(n)] = true
		h.mu.Unlock()
	case "heal":
		h.mu.Lock()
		h.partitioned = map[kvserver.NodeID]bool{}
		h.mu.Unlock()
	case "advance-clock":
		var s string
		d.ScanArgs(t, "d", &s)
		dur, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		h.manual.Increment(int64(dur))
	case "status":
		for i, s := range h.stores {
			r, err := s.GetReplica(1)
			if err != nil {
				fmt.Fprintf(&out, "n%d: %v\n", i+1, err)
				continue
			}
			st := r.RaftStatus()
			lease := "none"
			if l := r.Lease(); l != nil {
				lease = fmt.Sprintf("n%d seq=%d", l.Replica.NodeId, l.Sequence)
			}
			fmt.Fprintf(&out, "n%d: %s term=%d lead=%d commit=%d applied=%d lease=%s\n",
				i+1, st.RaftState, st.Term, st.Lead, st.Commit, r.AppliedIndex(), lease)
		}
	default:
		t.Fatalf("unknown command %q", d.Cmd)
	}
	return out.String()
}

// deliver hands every queued message to its store, in a fixed order, and
// prints each; it reports whether there were any.
func (h *itHarness) deliver(t *testing.T, out *strings.Builder) bool {
	h.mu.Lock()
	q := h.queue
	h.queue = nil
	h.mu.Unlock()
	sort.SliceStable(q, func(i, j int) bool {
		if q[i].from != q[j].from {
			return q[i].from < q[j].from
		}
		return q[i].to < q[j].to
	})
	for _, m := range q {
		var msg raftpb.Message
		if err := msg.Unmarshal(m.msg.Message); err != nil {
			t.Fatal(err)
		}
		line := describeMsg(m.from, m.to, msg)
		h.mu.Lock()
		cut := h.partitioned[m.from] || h.partitioned[m.to]
		h.mu.Unlock()
		if cut {
			fmt.Fprintf(out, "%s (dropped)\n", line)
			continue
		}
		fmt.Fprintln(out, line)
		err := h.stores[m.to-1].HandleRaftBatch(context.Background(), &rangepb.RaftMessageBatch{
			ClusterId: kvtest.ClusterID, FromNodeId: int32(m.from), ToNodeId: int32(m.to), Messages: []*rangepb.RaftMessage{m.msg},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	h.settle(t)
	return len(q) > 0
}

// waitRequestsBlocked waits until every request in flight has finished or
// waits on a Raft proposal of its replica: only then is the next round of
// messages determined, which keeps the trace the same run after run.
func (h *itHarness) waitRequestsBlocked(t *testing.T) {
	deadline := hlc.PhysicalNow().Add(10 * time.Second)
	for {
		blocked := true
		h.mu.Lock()
		for _, r := range h.requests {
			if r.result == nil {
				select {
				case res := <-r.done:
					r.result = &res
				default:
				}
			}
			if r.result != nil {
				continue
			}
			if rep, err := h.stores[r.node-1].GetReplica(1); err != nil || rep.PendingProposals() == 0 {
				blocked = false
			}
		}
		h.mu.Unlock()
		if blocked {
			h.settle(t)
			return
		}
		if hlc.PhysicalNow().After(deadline) {
			t.Fatal("a request neither finished nor waited on a proposal")
		}
		waitFor(100 * time.Microsecond)
	}
}

// collect prints the requests that finished.
func (h *itHarness) collect(out *strings.Builder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	kept := h.requests[:0]
	for _, r := range h.requests {
		if r.result != nil {
			fmt.Fprintf(out, "%s: %s\n", r.desc, *r.result)
		} else {
			kept = append(kept, r)
		}
	}
	h.requests = kept
}

func describeMsg(from, to kvserver.NodeID, m raftpb.Message) string {
	s := fmt.Sprintf("n%d->n%d %s term=%d", from, to, m.Type, m.Term)
	switch m.Type {
	case raftpb.MsgApp:
		s += fmt.Sprintf(" index=%d logterm=%d commit=%d entries=%d", m.Index, m.LogTerm, m.Commit, len(m.Entries))
	case raftpb.MsgAppResp:
		s += fmt.Sprintf(" index=%d", m.Index)
		if m.Reject {
			s += " reject"
		}
	case raftpb.MsgVote, raftpb.MsgPreVote:
		s += fmt.Sprintf(" index=%d logterm=%d", m.Index, m.LogTerm)
	case raftpb.MsgVoteResp, raftpb.MsgPreVoteResp:
		if m.Reject {
			s += " reject"
		}
	case raftpb.MsgHeartbeat:
		s += fmt.Sprintf(" commit=%d", m.Commit)
	}
	return s
}
