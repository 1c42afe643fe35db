package advisory

import (
	"context"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

const (
	// pollMin and pollMax bound the interval at which a waiter looks at
	// the lock again (doubling from the first to the second): a release
	// on another node wakes nobody here.
	pollMin = time.Millisecond
	pollMax = 50 * time.Millisecond
	// deadlockTimeout is how long a session waits before it looks for a
	// deadlock (PostgreSQL's deadlock_timeout default).
	deadlockTimeout = time.Second
	// maxCycle bounds the sessions a deadlock search follows.
	maxCycle = 64
)

// Acquire takes l for s in mode and scope. With wait, it waits until no
// other session holds l in a conflicting mode: at most lockTimeout (if
// positive; then 55P03) or until ctx ends (a cancel or statement_timeout,
// whose error the caller turns into 57014), or until it finds itself in a
// deadlock and is the one to give way (40P01). Without wait, it tries
// once and reports whether it took the lock.
func (m *Manager) Acquire(ctx context.Context, s Session, l Lock, mode Mode, scope Scope, wait bool, lockTimeout time.Duration) (bool, error) {
	took, err := m.tryTake(ctx, s, l, mode, scope)
	if took || err != nil || !wait {
		return took, err
	}
	var timeout <-chan time.Time
	if lockTimeout > 0 {
		t := time.NewTimer(lockTimeout)
		defer t.Stop()
		timeout = t.C
	}
	if err := m.run(ctx, func(txn kvapi.Txn) error { return txn.Put(ctx, waitKey(s), encodeWait(l, mode)) }); err != nil {
		return false, err
	}
	defer func() {
		_ = m.run(context.WithoutCancel(ctx), func(txn kvapi.Txn) error { return txn.Del(ctx, waitKey(s)) })
	}()
	dl := time.NewTimer(deadlockTimeout)
	defer dl.Stop()
	lookForDeadlocks := false
	poll := pollMin
	for {
		released := m.releasedCh()
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-timeout:
			t.Stop()
			return false, pgerror.New(pgerror.CodeLockNotAvailable, "canceling statement due to lock timeout")
		case <-dl.C:
			lookForDeadlocks = true
		case <-released:
		case <-t.C:
		}
		t.Stop()
		if took, err := m.tryTake(ctx, s, l, mode, scope); took || err != nil {
			return took, err
		}
		if lookForDeadlocks {
			if err := m.deadlock(ctx, s, l, mode); err != nil {
				return false, err
			}
		}
		poll = min(2*poll, pollMax)
	}
}

// deadlock looks, in one snapshot, for a cycle of waits through s: s waits
// for l, which sessions hold, each of which may wait for a lock others
// hold, and so on. If one comes back to s, the session in the cycle with
// the highest ID gives way: a 40P01 error if that is s.
func (m *Manager) deadlock(ctx context.Context, s Session, l Lock, mode Mode) error {
	var cycle []Session
	err := m.run(ctx, func(txn kvapi.Txn) error {
		cycle = nil
		type step struct {
			who  Session
			path []Session
		}
		seen := map[Session]bool{}
		queue := []step{{who: s, path: []Session{s}}}
		for len(queue) > 0 && len(seen) < maxCycle {
			st := queue[0]
			queue = queue[1:]
			wl, wm := l, mode
			if st.who != s {
				v, err := txn.Get(ctx, waitKey(st.who))
				if err != nil {
					return err
				}
				if v == nil {
					continue // not waiting
				}
				if wl, wm, err = decodeWait(v); err != nil {
					continue
				}
			}
			hs, err := m.blockers(ctx, txn, st.who, wl, wm)
			if err != nil {
				return err
			}
			for _, h := range hs {
				if h.Node == s.Node && h.ID == s.ID {
					cycle = st.path
					return nil
				}
				if !seen[h] {
					seen[h] = true
					queue = append(queue, step{who: h, path: append(st.path[:len(st.path):len(st.path)], h)})
				}
			}
		}
		return nil
	})
	if err != nil || cycle == nil {
		return err
	}
	for _, c := range cycle {
		if c.ID > s.ID {
			return nil // that one gives way
		}
	}
	return pgerror.WithDetail(pgerror.New(pgerror.CodeDeadlockDetected, "deadlock detected"),
		fmt.Sprintf("Process waits for %s on advisory lock [%d,%d,%d]; blocked by %d other session(s) waiting in a cycle.",
			mode, l.DB, l.Key, l.Space, len(cycle)-1))
}
