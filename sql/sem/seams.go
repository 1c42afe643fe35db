package sem

import (
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
)

// Catalog is what evaluation needs of the catalog: the object a cast to
// one of the object identifier types (regclass, regtype, regnamespace,
// regrole, regproc, regprocedure) names. Package sql implements it, once
// per statement; the builtins it registers that read the catalog
// (pg_get_indexdef and friends) reach the rest of its implementation
// through it.
type Catalog interface {
	// Reg is d (a name or an OID) cast to the object identifier type t
	// (IsRegType): the object's OID, carrying the name it prints as.
	Reg(e *EvalCtx, d tree.Datum, t *types.T) (tree.Datum, error)
}

// IsRegType reports whether t is one of PostgreSQL's object identifier
// alias types, whose values are OIDs read and printed as names.
func IsRegType(t *types.T) bool {
	switch t.Oid() {
	case oid.T_regclass, oid.T_regtype, oid.T_regnamespace, oid.T_regrole, oid.T_regproc, oid.T_regprocedure:
		return true
	}
	return false
}

// Sequences are the sequences the sequence functions (nextval, currval,
// setval, lastval) use; a sequence is named by text or by regclass.
// Package sql implements them: a sequence's values are reserved in the
// session and written in transactions of their own.
type Sequences interface {
	Nextval(e *EvalCtx, seq tree.Datum) (int64, error)
	Currval(e *EvalCtx, seq tree.Datum) (int64, error)
	Setval(e *EvalCtx, seq tree.Datum, v int64, called bool) error
	// Lastval is currval of the sequence nextval last used in the
	// session (55000 if none).
	Lastval(e *EvalCtx) (int64, error)
}

// Session is the session a statement runs in, as the functions of the
// session see it (current_user, current_setting, set_config,
// current_schema; builtins_session.go, builtins_system.go). Package sql
// implements it.
type Session interface {
	// User is the role the session's statements run as (current_user:
	// SET ROLE's, else the session's user).
	User() string
	// SessionUser is the user the session logged in as (session_user).
	SessionUser() string
	// BackendPID is the process ID the session gave its client for
	// CancelRequest.
	BackendPID() uint32
	// QueryStart is when the query string (or the extended protocol's
	// execution) now running arrived, the same in each of its attempts.
	QueryStart() time.Time
	// Setting is the current value of a setting (SHOW name).
	Setting(name string) (string, error)
	// SetConfig is SET name = value (SET LOCAL when local); it returns
	// the setting's new value.
	SetConfig(name, value string, local bool) (string, error)
	// Database is the session's database; false when it resolves no
	// names (no database).
	Database() (string, bool)
	// SearchPath is the schemas unqualified names resolve in, in order.
	SearchPath() []string
	// Notify is pg_notify: NOTIFY channel, payload in the statement's
	// transaction.
	Notify(e *EvalCtx, channel, payload string) error
	// Signal cancels the running statement of the session with process
	// ID pid, on whatever node it is, or ends that session (terminate):
	// pg_cancel_backend, pg_terminate_backend. False, with a warning, if
	// no session has the pid.
	Signal(e *EvalCtx, pid uint32, terminate bool) (bool, error)
}

// AdvisoryLocks are the session's advisory locks (pg_advisory_lock and its
// family, builtins_advisory.go). A lock is named by key in space 1 (one
// bigint) or 2 (two ints, as the high and low halves of key). Package sql
// implements them over sql/advisory, for the whole cluster.
type AdvisoryLocks interface {
	// AdvisoryLock takes the lock, shared or exclusive, for the session or
	// (xact) its transaction. With wait it waits for it; without, it
	// reports whether it took it.
	AdvisoryLock(e *EvalCtx, space uint8, key int64, shared, xact, wait bool) (bool, error)
	// AdvisoryUnlock releases one session-level hold of the lock; false,
	// with a warning, if the session holds none.
	AdvisoryUnlock(e *EvalCtx, space uint8, key int64, shared bool) (bool, error)
	// AdvisoryUnlockAll releases every session-level advisory lock the
	// session holds.
	AdvisoryUnlockAll(e *EvalCtx) error
}
