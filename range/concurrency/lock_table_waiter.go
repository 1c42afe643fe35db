package concurrency

import (
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
)

// waitOnLocks waits, without latches, while the lock table says g must
// wait, pushing the transaction it waits on. It returns nil once g waits
// nowhere and should scan the lock table again.
//
// The loop re-reads the state after every wake-up rather than trusting
// what woke it: the lock table and the txn wait queue both signal g's one
// channel, a stale signal only costs one more look, and a state that
// changed while g was pushing is never missed.
func (m *Manager) waitOnLocks(ctx context.Context, g *Guard) (err error) {
	// pub is g's edge published in the cluster's wait-for graph, withdrawn
	// when the wait ends (even by the lock timeout: hence the outer ctx).
	var pub remoteEdge
	defer m.withdraw(ctx, g, &pub)
	if d := g.req.LockTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errLockTimeout)
		defer cancel()
	}
	// prev is the state last reported, so that a wake-up that changed
	// nothing reports nothing.
	var prev waitState
	defer func() {
		// A wait cut short by the lock timeout (in a push, a block) is
		// reported as such, naming the lock it waited for.
		if err != nil && g.req.LockTimeout > 0 && errors.Is(context.Cause(ctx), errLockTimeout) {
			var lna *kvpb.LockNotAvailableError
			if !errors.As(err, &lna) {
				err = notAvailable(prev, false)
			}
		}
	}()
	// since is when g began to wait in its current state (see
	// Config.WoundAfter).
	var since hlc.Timestamp
	notedClaimDone, pushReported := false, false
	for {
		g.sig.drain()
		seen := g.sig.sent.Load()
		if g.aborted.Load() {
			// Its transaction was aborted (a push, a deadlock): it must not
			// keep its places, claims above all, from the others.
			return &TxnAbortedError{Txn: *g.req.Txn, Reason: "aborted while waiting"}
		}
		st := m.lt.state(g)
		if st.kind == doneWaiting {
			return nil
		}
		changed := !st.equal(prev)
		prev = st
		if errors.Is(context.Cause(ctx), errLockTimeout) {
			return notAvailable(st, false)
		}
		if changed {
			pushReported = false
			since = m.now()
		}
		if !st.hasTxn {
			// A non-transactional claimant evaluates once and leaves; there
			// is no record to push.
			if changed {
				m.event(g, "waiting on %q claimed by a non-transactional request", st.key)
			}
			if _, err := m.block(ctx, g, seen, 0); err != nil {
				return err
			}
			continue
		}
		switch {
		case !changed:
		case st.held:
			m.event(g, "waiting on %q held by txn %s", st.key, st.txn.ID.Short())
		default:
			m.event(g, "waiting on %q claimed by txn %s", st.key, st.txn.ID.Short())
		}
		// Writers need the intent gone; readers only need it above them.
		typ, pushTo := PushAbort, hlc.Timestamp{}
		if !st.write {
			typ, pushTo = PushTimestamp, g.req.Timestamp.Next()
		}
		pushedEnough := func(rec TxnRecord) bool {
			return rec.finalized() || (typ == PushTimestamp && pushTo.LessEq(rec.Meta.WriteTimestamp))
		}
		if !st.distinguished {
			// Another request pushes this holder; wait in line, unless this
			// one may push at once (a higher priority need not wait behind
			// a lower one).
			rec, err := m.queryTxn(ctx, st.txn)
			if err != nil {
				return errors.Wrapf(err, "querying txn %s", st.txn.ID.Short())
			}
			if rec.finalized() || m.canPush(g, rec, since) == "" {
				if g.req.NoWait && !rec.finalized() {
					return notAvailable(st, true)
				}
				if _, err := m.waitForPushee(ctx, g, rec, typ, seen, false, &pub); err != nil {
					return err
				}
				continue
			}
		}
		rec, err := m.queryTxn(ctx, st.txn)
		if err != nil {
			return errors.Wrapf(err, "querying txn %s", st.txn.ID.Short())
		}
		if !pushedEnough(rec) {
			if why := m.canPush(g, rec, since); why != "" {
				m.event(g, "pushing txn %s (%s): %s", st.txn.ID.Short(), typ, why)
				if rec, err = m.cfg.Pusher.PushTxn(ctx, g.req.Txn, st.txn, typ, pushTo, false); err != nil {
					return errors.Wrapf(err, "pushing txn %s", st.txn.ID.Short())
				}
				m.txnUpdated(rec)
			}
		}
		if pushedEnough(rec) {
			if !st.held {
				// The claimant's transaction is done but its request is
				// still in the queue; it leaves soon (its own pushes fail
				// once it is aborted).
				if !notedClaimDone || changed {
					m.event(g, "txn %s is %s; waiting for its request to leave %q", rec.Meta.ID.Short(), rec.Status, st.key)
					notedClaimDone = true
				}
				if _, err := m.block(ctx, g, seen, 0); err != nil {
					return err
				}
				continue
			}
			up := LockUpdate{Span: Span{Key: st.key}, Txn: rec.Meta, Status: rec.Status, IgnoredSeqNums: rec.IgnoredSeqNums}
			m.event(g, "resolving %q: txn %s %s at %s", st.key, rec.Meta.ID.Short(), rec.Status, rec.Meta.WriteTimestamp)
			if err := m.cfg.Pusher.ResolveIntent(ctx, up); err != nil {
				return errors.Wrapf(err, "resolving the intent on %q", st.key)
			}
			m.lt.update(up)
			continue
		}
		if g.req.NoWait {
			return notAvailable(st, true)
		}
		reported, err := m.waitForPushee(ctx, g, rec, typ, seen, !pushReported, &pub)
		pushReported = pushReported || reported
		if err != nil {
			return err
		}
	}
}

// waitForPushee waits in the txn wait queue until the pushee's record
// changes from seen (what the caller decided on), g's state changes, or it
// is time to look at the pushee's heartbeat again; it breaks a deadlock
// that its edge closes, in this store's queue or, once it has waited
// DeadlockProbeDelay, through the published edges of other nodes (pub:
// wait_graph.go). It returns nil to have the caller look again.
func (m *Manager) waitForPushee(
	ctx context.Context, g *Guard, seenRec TxnRecord, typ PushType, seen uint64, report bool, pub *remoteEdge,
) (reported bool, _ error) {
	pushee := seenRec.Meta
	w := &pushWaiter{pusher: g.req.Txn, pushee: pushee, sig: &g.sig, current: func() bool {
		st := m.lt.state(g)
		return st.kind != doneWaiting && st.hasTxn && st.txn.ID == pushee.ID
	}}
	// Register before looking at the records once more: an update from
	// now on signals g, and one before is seen below. Looking first would
	// leave a window where an update is missed until the next recheck.
	m.twq.register(w)
	if err := m.recheckBeforeWait(ctx, g, seenRec); err != nil || g.sig.sent.Load() != seen {
		if m.twq.unregister(w) && err == nil {
			err = m.abortedError(g, pushee)
		}
		return false, err
	}
	if report {
		m.event(g, "push of txn %s (%s) waits", pushee.ID.Short(), typ)
	}
	if cycle := m.twq.findCycle(w); cycle != nil {
		victim := deadlockVictim(cycle)
		m.event(g, "deadlock %s -> %s: aborting txn %s", cycleNames(cycle), cycle[0].ID.Short(), victim.ID.Short())
		m.countDeadlock(false)
		if err := m.abortVictim(ctx, g, victim); err != nil {
			m.twq.unregister(w)
			return report, errors.Wrapf(err, "aborting deadlocked txn %s", victim.ID.Short())
		}
	}
	err := m.blockAndProbe(ctx, g, seen, pushee, pub)
	if m.twq.unregister(w) {
		return report, m.abortedError(g, pushee)
	}
	return report, err
}

// blockAndProbe blocks g until it is signalled or the recheck interval
// passes. If g's waits are published (probes), it first waits at most
// DeadlockProbeDelay, and probes the published wait-for graph if that
// passes; once published, it probes again (publishing anew) whenever a
// recheck interval passes with g still waiting.
func (m *Manager) blockAndProbe(ctx context.Context, g *Guard, seen uint64, pushee kvpb.TxnMeta, pub *remoteEdge) error {
	if !m.probes(g) {
		_, err := m.block(ctx, g, seen, 0)
		return err
	}
	var limit time.Duration
	if !pub.published || pub.pushee.ID != pushee.ID {
		limit = m.cfg.DeadlockProbeDelay
	}
	timedOut, err := m.block(ctx, g, seen, limit)
	if err != nil || !timedOut {
		return err
	}
	if err := m.probeRemote(ctx, g, pushee, pub); err != nil {
		return errors.Wrapf(err, "breaking a deadlock")
	}
	return nil
}

// recheckBeforeWait returns an error if g's own transaction is already
// aborted (it must not wait: it would hold up the others), and signals g
// if the pushee's record moved on since the caller looked.
func (m *Manager) recheckBeforeWait(ctx context.Context, g *Guard, seenRec TxnRecord) error {
	if m.cfg.NoRecheckBeforeWait {
		return nil
	}
	if g.req.Txn != nil {
		own, err := m.cfg.Pusher.QueryTxn(ctx, *g.req.Txn)
		if err != nil {
			return errors.Wrapf(err, "querying own txn %s", g.req.Txn.ID.Short())
		}
		if own.Status == kvpb.ABORTED {
			return &TxnAbortedError{Txn: *g.req.Txn, Reason: "found aborted before waiting"}
		}
	}
	rec, err := m.queryTxn(ctx, seenRec.Meta)
	if err != nil {
		return errors.Wrapf(err, "querying txn %s", seenRec.Meta.ID.Short())
	}
	if rec.Status != seenRec.Status || rec.Meta.WriteTimestamp != seenRec.Meta.WriteTimestamp ||
		rec.LastActive != seenRec.LastActive {
		g.sig.notify()
	}
	return nil
}

// queryTxn reads txn's record. An abort found there is passed on to the
// lock table at once: the transaction may have been aborted through
// another range's manager, and its requests queued here (a claimant among
// them, which the others wait behind) learn it from nobody else.
func (m *Manager) queryTxn(ctx context.Context, txn kvpb.TxnMeta) (TxnRecord, error) {
	rec, err := m.cfg.Pusher.QueryTxn(ctx, txn)
	if err == nil && rec.Status == kvpb.ABORTED {
		m.txnUpdated(rec)
	}
	return rec, err
}

func (m *Manager) abortedError(g *Guard, pushee kvpb.TxnMeta) error {
	return &TxnAbortedError{Txn: *g.req.Txn, Reason: "aborted while pushing txn " + pushee.ID.Short()}
}

// canPush says why the pusher may push rec's transaction now, or "" if it
// must wait: the pushee has not heartbeated within the liveness threshold,
// the pusher's priority is higher, or the pusher has waited WoundAfter
// (since: the start of its wait) and comes first in PushWins' order.
func (m *Manager) canPush(g *Guard, rec TxnRecord, since hlc.Timestamp) string {
	now := m.now()
	if rec.LastActive.WallTime+int64(m.cfg.TxnLivenessThreshold) < now.WallTime {
		return "pushee expired"
	}
	if g.req.Txn == nil || g.req.NoWait {
		// A request that may not wait takes the lock only from a holder
		// that is gone; it never aborts a live one.
		return ""
	}
	wins := m.cfg.PushWins
	if wins == nil {
		if g.req.Txn.Priority > rec.Meta.Priority {
			return "pusher has higher priority"
		}
		return ""
	}
	waited := time.Duration(now.WallTime - since.WallTime)
	if g.req.Txn.Priority <= rec.Meta.Priority && waited < m.cfg.WoundAfter {
		return ""
	}
	if wins(*g.req.Txn, rec.Meta) {
		if g.req.Txn.Priority > rec.Meta.Priority {
			return "pusher has higher priority"
		}
		return "pusher wins"
	}
	return ""
}

// block waits for g's signal, at most the recheck interval (or
// WoundAfter, or limit, if shorter), and reports whether that time passed.
func (m *Manager) block(ctx context.Context, g *Guard, seen uint64, limit time.Duration) (timedOut bool, _ error) {
	if f := m.cfg.Knobs.BeforeBlock; f != nil {
		f(g, seen)
	}
	// Every wait is bounded by the recheck interval: a heartbeat that
	// expires signals nobody, and a bounded wait is cheap insurance
	// against a wake-up this package failed to send.
	// A waiter that may wound after WoundAfter looks again by then.
	wait := m.cfg.PushRecheckInterval
	if w := m.cfg.WoundAfter; w > 0 && w < wait && m.cfg.PushWins != nil {
		wait = w
	}
	probe := limit > 0 && limit < wait
	if probe {
		wait = limit
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-g.sig.ch:
		return false, nil
	case <-t.C:
		if probe {
			m.event(g, "deadlock probe delay passed")
		} else {
			m.event(g, "recheck interval passed")
		}
		return true, nil
	case <-ctx.Done():
		return false, errors.Wrap(ctx.Err(), "waiting for a lock")
	}
}

// errLockTimeout is the cause of a wait's context ended by the request's
// LockTimeout.
var errLockTimeout = errors.New("lock timeout")

// notAvailable is the error of a request that may not wait (noWait), or
// not any longer, for the lock st waits on.
func notAvailable(st waitState, noWait bool) error {
	return &kvpb.LockNotAvailableError{Lock: kvpb.Lock{Key: st.key, Txn: st.txn}, NoWait: noWait}
}
