package kvserver

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
	"go.etcd.io/raft/v3/raftpb"
)

// Faults are the misbehaviours MemTransport inflicts on messages between
// one pair of nodes.
type Faults struct {
	// DropProb is the probability a message is lost.
	DropProb float64
	// DupProb is the probability a message is delivered twice.
	DupProb float64
	// MaxDelay delays each message by a uniform random time up to it, which
	// also reorders messages.
	MaxDelay time.Duration
	// Delay is added to every message: a network whose round trips show
	// (BenchmarkTxnCommit counts rounds of consensus with it). Messages
	// keep their order unless MaxDelay is set too.
	Delay time.Duration
}

// MessageFilter decides whether a message from → to for a range is
// delivered; it returns false to drop it.
type MessageFilter func(from, to NodeID, rangeID RangeID, msg raftpb.Message) bool

// MemTransport connects the stores of an in-process test cluster. It can
// partition nodes, drop, delay, duplicate and reorder messages per node pair,
// and filter them per range. It is safe for concurrent use.
type MemTransport struct {
	stopper *stop.Stopper

	mu struct {
		sync.Mutex
		rng         *rand.Rand
		handlers    map[NodeID]*memEndpoint
		partitioned map[[2]NodeID]bool
		faults      map[[2]NodeID]Faults
		filter      MessageFilter
		// sent counts the Raft messages delivered per range.
		sent map[RangeID]int
		// batches counts the batches sent.
		batches int
	}
}

type memEndpoint struct {
	handler MessageHandler
	inbox   chan memDelivery
	// mu is held while delivering; closed, set by Unlisten under it,
	// guarantees that no delivery runs or starts after Unlisten returns.
	mu     sync.Mutex
	closed bool
}

// deliver hands b to the handler unless the endpoint is closed.
func (ep *memEndpoint) deliver(ctx context.Context, b *rangepb.RaftMessageBatch) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if !ep.closed {
		_ = ep.handler.HandleRaftBatch(ctx, b)
	}
}

type memDelivery struct {
	at    time.Time
	batch *rangepb.RaftMessageBatch
}

// NewMemTransport returns a transport whose delivery goroutines run under
// stopper, drawing faults from a generator seeded with seed.
func NewMemTransport(stopper *stop.Stopper, seed uint64) *MemTransport {
	t := &MemTransport{stopper: stopper}
	t.mu.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t.mu.handlers = map[NodeID]*memEndpoint{}
	t.mu.partitioned = map[[2]NodeID]bool{}
	t.mu.faults = map[[2]NodeID]Faults{}
	t.mu.sent = map[RangeID]int{}
	return t
}

// Listen registers node's handler and starts delivering to it.
func (t *MemTransport) Listen(node NodeID, h MessageHandler) error {
	ep := &memEndpoint{handler: h, inbox: make(chan memDelivery, 4096)}
	t.mu.Lock()
	t.mu.handlers[node] = ep
	t.mu.Unlock()
	return t.stopper.RunAsyncTask("mem-transport-deliver", func(ctx context.Context) {
		t.deliverLoop(ctx, ep)
	})
}

// Unlisten removes node: messages to it are dropped, as to a dead node.
// Once it returns, the node's handler is never called again.
func (t *MemTransport) Unlisten(node NodeID) {
	t.mu.Lock()
	ep := t.mu.handlers[node]
	delete(t.mu.handlers, node)
	t.mu.Unlock()
	if ep != nil {
		ep.mu.Lock()
		ep.closed = true
		ep.mu.Unlock()
	}
}

// For returns the Transport that node uses to send.
func (t *MemTransport) For(node NodeID) Transport { return memSender{t: t, from: node} }

// Partition cuts the link between a and b in both directions.
func (t *MemTransport) Partition(a, b NodeID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mu.partitioned[[2]NodeID{a, b}] = true
	t.mu.partitioned[[2]NodeID{b, a}] = true
}

// Isolate partitions node from every other node in nodes.
func (t *MemTransport) Isolate(node NodeID, nodes []NodeID) {
	for _, n := range nodes {
		if n != node {
			t.Partition(node, n)
		}
	}
}

// Reachable reports whether from can reach to: to is listening and no
// partition cuts the link. Test clusters route their in-process KV requests
// by it, so that a partition cuts requests as it cuts Raft messages.
func (t *MemTransport) Reachable(from, to NodeID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.mu.handlers[to]
	return ok && !t.mu.partitioned[[2]NodeID{from, to}]
}

// Heal removes every partition.
func (t *MemTransport) Heal() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mu.partitioned = map[[2]NodeID]bool{}
}

// SetFaults sets the faults of messages from → to.
func (t *MemTransport) SetFaults(from, to NodeID, f Faults) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mu.faults[[2]NodeID{from, to}] = f
}

// SetFilter installs (or, with nil, removes) a per-message filter.
func (t *MemTransport) SetFilter(f MessageFilter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mu.filter = f
}

// MessagesSent returns how many Raft messages were delivered for rangeID.
func (t *MemTransport) MessagesSent(rangeID RangeID) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mu.sent[rangeID]
}

// BatchesSent returns how many message batches were sent.
func (t *MemTransport) BatchesSent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mu.batches
}

// TotalMessagesSent returns how many Raft messages were delivered.
func (t *MemTransport) TotalMessagesSent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.mu.sent {
		n += c
	}
	return n
}

type memSender struct {
	t    *MemTransport
	from NodeID
}

func (s memSender) Send(to NodeID, batch *rangepb.RaftMessageBatch) {
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	ep, ok := t.mu.handlers[to]
	if !ok || t.mu.partitioned[[2]NodeID{s.from, to}] {
		return
	}
	f := t.mu.faults[[2]NodeID{s.from, to}]
	if t.mu.filter != nil || f.DropProb > 0 {
		kept := batch.Messages[:0:0]
		for _, m := range batch.Messages {
			if f.DropProb > 0 && t.mu.rng.Float64() < f.DropProb {
				continue
			}
			if t.mu.filter != nil {
				var msg raftpb.Message
				if err := msg.Unmarshal(m.Message); err == nil &&
					!t.mu.filter(s.from, to, RangeID(m.RangeId), msg) {
					continue
				}
			}
			kept = append(kept, m)
		}
		if len(kept) == 0 {
			return
		}
		batch = &rangepb.RaftMessageBatch{
			ClusterId: batch.ClusterId, FromNodeId: batch.FromNodeId, ToNodeId: batch.ToNodeId, Messages: kept,
		}
	}
	copies := 1
	if f.DupProb > 0 && t.mu.rng.Float64() < f.DupProb {
		copies = 2
	}
	for range copies {
		t.mu.batches++
		d := memDelivery{batch: batch}
		if f.MaxDelay > 0 || f.Delay > 0 {
			delay := f.Delay
			if f.MaxDelay > 0 {
				delay += time.Duration(t.mu.rng.Int64N(int64(f.MaxDelay)))
			}
			d.at = hlc.PhysicalNow().Add(delay)
		}
		for _, m := range batch.Messages {
			t.mu.sent[RangeID(m.RangeId)]++
		}
		select {
		case ep.inbox <- d:
		default: // a full inbox drops, like a congested network
		}
	}
}

func (s memSender) SendSnapshot(ctx context.Context, to NodeID, snap *Snapshot) error {
	t := s.t
	t.mu.Lock()
	ep, ok := t.mu.handlers[to]
	cut := t.mu.partitioned[[2]NodeID{s.from, to}]
	t.mu.Unlock()
	if !ok || cut {
		return errors.Newf("node %d unreachable from node %d", to, s.from)
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.closed {
		return errors.Newf("node %d unreachable from node %d", to, s.from)
	}
	return ep.handler.HandleSnapshot(ctx, snap)
}

// SendBatch hands ba to node to's handler, unless the link is cut.
func (s memSender) SendBatch(ctx context.Context, to NodeID, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	t := s.t
	t.mu.Lock()
	ep, ok := t.mu.handlers[to]
	cut := t.mu.partitioned[[2]NodeID{s.from, to}]
	t.mu.Unlock()
	if !ok || cut {
		return nil, errors.Newf("node %d unreachable from node %d", to, s.from)
	}
	// Not under ep.mu: a batch may wait long, and the store's own stopper
	// keeps it off a closed engine.
	return ep.handler.Send(ctx, ba)
}

// deliverLoop hands batches to ep's handler, holding back delayed ones until
// their time; a later batch with a shorter delay overtakes an earlier one.
func (t *MemTransport) deliverLoop(ctx context.Context, ep *memEndpoint) {
	var pending []memDelivery
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := hlc.PhysicalNow()
		next := time.Duration(-1)
		kept := pending[:0]
		for _, d := range pending {
			if !d.at.After(now) {
				ep.deliver(ctx, d.batch)
				continue
			}
			if wait := d.at.Sub(now); next < 0 || wait < next {
				next = wait
			}
			kept = append(kept, d)
		}
		pending = kept
		if next >= 0 {
			timer.Reset(next)
		}
		select {
		case <-ctx.Done():
			return
		case d := <-ep.inbox:
			if d.at.IsZero() {
				ep.deliver(ctx, d.batch)
			} else {
				pending = append(pending, d)
			}
		case <-timer.C:
		}
	}
}
