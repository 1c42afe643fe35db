package sql

import (
	"context"
	"math/rand/v2"

	"github.com/meridiandb/meridian/sql/advisory"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// What sem's advisory lock functions ask of the session: the locks are
// the cluster's (sql/advisory); the session counts what it holds, to
// release its transaction's at the transaction's end and all of them when
// it closes.
var _ sem.AdvisoryLocks = (*session)(nil)

// advisoryLocks are a session's advisory locks.
type advisoryLocks struct {
	// id names the session in the cluster; zero until its first lock.
	id advisory.Session
	// held counts the session's holds of each lock, per scope and mode.
	held map[advisory.Lock]*[2][2]int
}

// UseAdvisoryLocks makes the sessions take advisory locks from m, as
// sessions of node, whose current liveness epoch self returns (false
// before the node's first heartbeat): a lock's record names it, and holds
// nothing once that epoch has ended. Without it they use one manager over
// the executor's database, as node 0. Call it before the first session.
func (ex *Executor) UseAdvisoryLocks(m *advisory.Manager, node int32, self func() (int64, bool)) {
	ex.advisory, ex.advisoryNode, ex.advisoryEpoch = m, node, self
}

// advisorySession names the session to the advisory locks, at its node's
// current epoch.
func (s *session) advisorySession() (advisory.Session, error) {
	ex := s.ex
	if s.advisory.id.ID == 0 {
		// The process ID in the high half (pg_locks shows it), a random
		// low half: unique even after the node hands the pid out again.
		s.advisory.id = advisory.Session{Node: ex.advisoryNode, ID: uint64(s.pid)<<32 | uint64(rand.Uint32()|1)}
		s.advisory.held = map[advisory.Lock]*[2][2]int{}
	}
	if ex.advisoryEpoch != nil {
		epoch, ok := ex.advisoryEpoch()
		if !ok {
			return advisory.Session{}, pgerror.New(pgerror.CodeCannotConnectNow,
				"advisory locks are not available until this node has joined the cluster's liveness; try again")
		}
		s.advisory.id.Epoch = epoch
	}
	return s.advisory.id, nil
}

func (s *session) advisoryLock(space uint8, key int64) advisory.Lock {
	l := advisory.Lock{Space: space, Key: key}
	if s.names != nil {
		l.DB = s.names.db.ID
	}
	return l
}

func modeOf(shared bool) advisory.Mode {
	if shared {
		return advisory.Shared
	}
	return advisory.Exclusive
}

// AdvisoryLock implements sem.AdvisoryLocks.
func (s *session) AdvisoryLock(e *sem.EvalCtx, space uint8, key int64, shared, xact, wait bool) (bool, error) {
	if s.txnReadOnly && s.blockAsOf != nil {
		return false, pgerror.New(pgerror.CodeFeatureNotSupported, "advisory locks cannot be taken in an AS OF SYSTEM TIME transaction")
	}
	id, err := s.advisorySession()
	if err != nil {
		return false, err
	}
	l := s.advisoryLock(space, key)
	scope := advisory.SessionScope
	if xact {
		scope = advisory.XactScope
	}
	mode := modeOf(shared)
	took, err := s.ex.advisory.Acquire(e.Ctx, id, l, mode, scope, wait, s.duration("lock_timeout"))
	if err != nil || !took {
		return false, err
	}
	if !xact {
		s.sessionEffects++
	}
	n := s.advisory.held[l]
	if n == nil {
		n = &[2][2]int{}
		s.advisory.held[l] = n
	}
	n[scope][mode]++
	return true, nil
}

// AdvisoryUnlock implements sem.AdvisoryLocks.
func (s *session) AdvisoryUnlock(e *sem.EvalCtx, space uint8, key int64, shared bool) (bool, error) {
	l := s.advisoryLock(space, key)
	mode := modeOf(shared)
	n := s.advisory.held[l]
	if n == nil || n[advisory.SessionScope][mode] == 0 {
		s.warnings = append(s.warnings, notice{pgerror.SeverityWarning, pgerror.CodeWarning,
			"you don't own a lock of type " + mode.String(), ""})
		return false, nil
	}
	had, err := s.ex.advisory.Release(e.Ctx, s.advisory.id, l, mode, advisory.SessionScope)
	if err != nil {
		return false, err
	}
	s.sessionEffects++
	s.forget(l, advisory.SessionScope, mode, false)
	return had, nil
}

// AdvisoryUnlockAll implements sem.AdvisoryLocks.
func (s *session) AdvisoryUnlockAll(e *sem.EvalCtx) error {
	s.sessionEffects++
	return s.releaseAll(e.Ctx, advisory.SessionScope)
}

// forget takes one hold (all of the scope's, with all) off the session's
// count of l.
func (s *session) forget(l advisory.Lock, scope advisory.Scope, mode advisory.Mode, all bool) {
	n := s.advisory.held[l]
	if all {
		n[scope] = [2]int{}
	} else {
		n[scope][mode]--
	}
	if *n == ([2][2]int{}) {
		delete(s.advisory.held, l)
	}
}

// releaseAll releases every lock the session holds in scope.
func (s *session) releaseAll(ctx context.Context, scope advisory.Scope) error {
	for l, n := range s.advisory.held {
		if n[scope] == ([2]int{}) {
			continue
		}
		if err := s.ex.advisory.ReleaseAll(ctx, s.advisory.id, l, scope); err != nil {
			return err
		}
		s.forget(l, scope, 0, true)
	}
	return nil
}

// endXactAdvisoryLocks releases the transaction-level advisory locks once
// the session is outside a transaction: its transaction ended.
func (s *session) endXactAdvisoryLocks(ctx context.Context) {
	if s.txn != nil || len(s.advisory.held) == 0 {
		return
	}
	_ = s.releaseAll(context.WithoutCancel(ctx), advisory.XactScope)
}

// releaseAdvisoryLocks releases every advisory lock of a closing session.
func (s *session) releaseAdvisoryLocks(ctx context.Context) {
	_ = s.releaseAll(ctx, advisory.XactScope)
	_ = s.releaseAll(ctx, advisory.SessionScope)
}
