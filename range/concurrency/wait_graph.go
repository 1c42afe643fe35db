package concurrency

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
)

// A store's TxnWaitQueue sees the waits of its own replicas only. A cycle
// of waits through several nodes (T1 waits on n1 for T2's lock, T2 on n2
// for T1's) is found through the wait-for graph's edges published where
// every node can read them: at the leaseholder of each waiter's record,
// as in CockroachDB, whose pushers learn their dependents from their own
// record's txn wait queue (pkg/kv/kvserver/txnwait; life_of_a_deadlock.md).
//
// Here the edges go the other way, which needs no propagation: a request
// that has waited DeadlockProbeDelay for a pushee publishes the edge
// waiter -> pushee at its own record, then follows the published edges
// from the pushee, one record at a time (WaitGraph.WaitsFor); reaching
// its own transaction again closes a cycle. Of the edges of a cycle, the
// last one published finds it: every other was published before it, and
// so before its walk read them. It breaks the cycle at once by aborting
// itself or its pushee (the lower of the two in deadlockVictim's order):
// either way its own wait ends, and with it the cycle. Two walkers that
// publish at the same moment may each find the cycle and abort one
// transaction each; a retry too many, never a wait that lasts.
//
// An edge stays published until its wait ends (withdrawn then), and for a
// bounded time only (PublishedWaitsTTL) in case its node never withdraws
// it; a waiter still waiting publishes again at each recheck. A lease that
// moves forgets the edges of its records; the next recheck publishes
// them anew, and the wound-after bound (Config.WoundAfter) remains for
// whatever the walks miss.

// WaitGraph reaches the published edges of the cluster's wait-for graph.
// The transaction layer implements it with WaitsFor requests addressed to
// the transactions' records.
type WaitGraph interface {
	// Publish adds the edge waiter -> pushee at waiter's record, or
	// removes it (withdraw).
	Publish(ctx context.Context, waiter, pushee kvpb.TxnMeta, withdraw bool) error
	// WaitsFor returns the transactions txn's requests wait for, as
	// published at its record.
	WaitsFor(ctx context.Context, txn kvpb.TxnMeta) ([]kvpb.TxnMeta, error)
}

// DefaultDeadlockProbeDelay is how long a request waits for a pushee
// before it publishes its edge and looks for a cycle through other nodes:
// most waits end sooner (a holder commits in a few milliseconds), and they
// should not pay the round trips.
const DefaultDeadlockProbeDelay = 20 * time.Millisecond

// maxProbeQueries bounds the records one walk reads: a cycle longer than
// that is left to the wound-after bound.
const maxProbeQueries = 64

// PublishedWaitsTTL is how long a published edge lasts without being
// published again.
const PublishedWaitsTTL = 5 * time.Second

// PublishedWaits holds the published edges of the transactions whose
// records a node's leases cover: the node's part of the cluster's
// wait-for graph. It is safe for concurrent use.
type PublishedWaits struct {
	mu    sync.Mutex
	edges map[kvpb.TxnID][]publishedEdge
	// swept is when expired edges were last dropped from every list (a
	// waiter that never comes back, its lease moved or its node gone,
	// would leave its list forever).
	swept int64
}

type publishedEdge struct {
	pushee  kvpb.TxnMeta
	expires int64 // wall time
}

// NewPublishedWaits returns an empty set of edges.
func NewPublishedWaits() *PublishedWaits {
	return &PublishedWaits{edges: map[kvpb.TxnID][]publishedEdge{}}
}

// Update adds (or, withdraw, removes) the edge waiter -> pushee, if pushee
// is set, and returns waiter's edges that have not expired at now.
func (p *PublishedWaits) Update(waiter kvpb.TxnID, pushee *kvpb.TxnMeta, withdraw bool, now hlc.Timestamp) []kvpb.TxnMeta {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.WallTime-p.swept > int64(PublishedWaitsTTL) {
		p.swept = now.WallTime
		for id, es := range p.edges {
			if latest(es) <= now.WallTime {
				delete(p.edges, id)
			}
		}
	}
	es := p.edges[waiter][:0:0]
	for _, e := range p.edges[waiter] {
		if e.expires <= now.WallTime || (pushee != nil && e.pushee.ID == pushee.ID) {
			continue
		}
		es = append(es, e)
	}
	if pushee != nil && !withdraw {
		es = append(es, publishedEdge{pushee: *pushee, expires: now.WallTime + int64(PublishedWaitsTTL)})
	}
	if len(es) == 0 {
		delete(p.edges, waiter)
		return nil
	}
	p.edges[waiter] = es
	out := make([]kvpb.TxnMeta, len(es))
	for i, e := range es {
		out[i] = e.pushee
	}
	return out
}

// latest returns when the last of es expires.
func latest(es []publishedEdge) int64 {
	var t int64
	for _, e := range es {
		t = max(t, e.expires)
	}
	return t
}

// remoteEdge is a waiting request's published edge, if any.
type remoteEdge struct {
	pushee    kvpb.TxnMeta
	published bool
}

// probes reports whether g's waits are published: its manager reaches the
// wait-for graph, and its transaction has a record's anchor to publish at
// (one without has written nothing and locked nothing, so no cycle runs
// through it).
func (m *Manager) probes(g *Guard) bool {
	return m.cfg.WaitGraph != nil && g.req.Txn != nil && len(g.req.Txn.Key) > 0
}

// probeRemote publishes g's edge to pushee (replacing the one it had
// published, if another) and walks the published edges from pushee; if
// they lead back to g's transaction, it breaks the cycle. A failure to
// reach a record only leaves the cycle to the next probe, or the wound.
func (m *Manager) probeRemote(ctx context.Context, g *Guard, pushee kvpb.TxnMeta, pub *remoteEdge) error {
	self := *g.req.Txn
	if pub.published && pub.pushee.ID != pushee.ID {
		m.withdraw(ctx, g, pub)
	}
	if err := m.cfg.WaitGraph.Publish(ctx, self, pushee, false); err != nil {
		m.event(g, "publishing the wait for txn %s: %v", pushee.ID.Short(), err)
		return nil
	}
	pub.pushee, pub.published = pushee, true
	cycle := m.walkPublished(ctx, g, self, pushee)
	if cycle == nil {
		return nil
	}
	victim := deadlockVictim(cycle[:2])
	m.event(g, "deadlock through other nodes %s -> %s: aborting txn %s", cycleNames(cycle), cycle[0].ID.Short(), victim.ID.Short())
	m.countDeadlock(true)
	return m.abortVictim(ctx, g, victim)
}

// withdraw removes g's published edge, if any. The wait is over whether
// or not it succeeds (an edge left behind expires).
func (m *Manager) withdraw(ctx context.Context, g *Guard, pub *remoteEdge) {
	if !pub.published {
		return
	}
	pub.published = false
	if err := m.cfg.WaitGraph.Publish(ctx, *g.req.Txn, pub.pushee, true); err != nil {
		m.event(g, "withdrawing the wait for txn %s: %v", pub.pushee.ID.Short(), err)
	}
}

// walkPublished follows the published edges from pushee, breadth first,
// and returns the cycle back to self (self, pushee, ..., the transaction
// that waits for self), or nil.
func (m *Manager) walkPublished(ctx context.Context, g *Guard, self, pushee kvpb.TxnMeta) []kvpb.TxnMeta {
	type visit struct {
		txn    kvpb.TxnMeta
		parent int
	}
	visits := []visit{{txn: pushee, parent: -1}}
	seen := map[kvpb.TxnID]bool{pushee.ID: true}
	for i := 0; i < len(visits) && i < maxProbeQueries; i++ {
		if len(visits[i].txn.Key) == 0 {
			continue
		}
		outs, err := m.cfg.WaitGraph.WaitsFor(ctx, visits[i].txn)
		if err != nil {
			m.event(g, "reading the waits of txn %s: %v", visits[i].txn.ID.Short(), err)
			return nil
		}
		for _, o := range outs {
			if o.ID == self.ID {
				var back []kvpb.TxnMeta
				for j := i; j >= 0; j = visits[j].parent {
					back = append(back, visits[j].txn)
				}
				cycle := []kvpb.TxnMeta{self}
				for j := len(back) - 1; j >= 0; j-- {
					cycle = append(cycle, back[j])
				}
				return cycle
			}
			if !seen[o.ID] {
				seen[o.ID] = true
				visits = append(visits, visit{txn: o, parent: i})
			}
		}
	}
	return nil
}

// abortVictim aborts victim, a transaction of a cycle through g's wait:
// g's own (its waits then fail) or the one it waits for (it then resolves
// its lock and goes on).
func (m *Manager) abortVictim(ctx context.Context, g *Guard, victim kvpb.TxnMeta) error {
	vrec, err := m.cfg.Pusher.PushTxn(ctx, g.req.Txn, victim, PushAbort, hlc.Timestamp{}, true)
	if err != nil {
		return err
	}
	if vrec.Status == kvpb.PENDING {
		// The victim has no record to abort yet (it has not written:
		// a claimant): its requests here, which the cycle runs
		// through, fail as aborted all the same, and it restarts.
		vrec.Status = kvpb.ABORTED
	}
	m.txnUpdated(vrec)
	return nil
}

func cycleNames(cycle []kvpb.TxnMeta) string {
	var b bytes.Buffer
	for i, t := range cycle {
		if i > 0 {
			b.WriteString(" -> ")
		}
		b.WriteString(t.ID.Short())
	}
	return b.String()
}
