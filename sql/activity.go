package sql

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
	"github.com/meridiandb/meridian/sql/vtable"
)

// The cluster's sessions as pg_stat_activity shows them, and
// pg_cancel_backend / pg_terminate_backend: each executor keeps its
// sessions and what each is doing; ClusterSessions (the server) reaches
// every node's.

// ClusterSessions is every node's sessions: the server implements it over
// the live nodes. Without it an executor sees its own sessions only.
type ClusterSessions interface {
	// List returns the sessions of every live node.
	List(ctx context.Context) ([]vtable.Activity, error)
	// Signal cancels the running statement of the session with process
	// ID pid, wherever it is, or ends the session (terminate), on behalf
	// of role requester (superuser: whether it is one). found is false if
	// no session has the pid; denied says why a found one was not
	// signalled.
	Signal(ctx context.Context, pid uint32, terminate bool, requester string, superuser bool) (found bool, denied string, err error)
}

// UseClusterSessions makes pg_stat_activity and the signal functions
// reach every node's sessions through cs. Call it before the first
// session.
func (ex *Executor) UseClusterSessions(cs ClusterSessions) { ex.cluster = cs }

// sessionRegistry is an executor's live sessions by process ID.
type sessionRegistry struct {
	mu       sync.Mutex
	sessions map[uint32]*session
}

func (r *sessionRegistry) add(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions == nil {
		r.sessions = map[uint32]*session{}
	}
	r.sessions[s.pid] = s
}

func (r *sessionRegistry) remove(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions[s.pid] == s {
		delete(r.sessions, s.pid)
	}
}

func (r *sessionRegistry) get(pid uint32) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[pid]
}

func (r *sessionRegistry) all() []*session {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*session, 0, len(r.sessions))
	for _, s := range r.sessions {
		out = append(out, s)
	}
	return out
}

// activity is what a session is doing, read by other sessions'
// pg_stat_activity (mu).
type activity struct {
	mu  sync.Mutex
	row vtable.Activity
	// tempSchema is the session's temporary schema, once it has one
	// (DropOrphanTempSchemas leaves it alone).
	tempSchema string
	abort      func() // cancels the running statement (pgwire's Cancel)
	end        func() // ends the session (pgwire's Terminate)
}

// startActivity fills in what pg_stat_activity shows of a new session.
func (s *session) startActivity(args pgwire.SessionArgs) {
	a := &s.activity
	a.row = vtable.Activity{PID: s.pid, User: s.user, ApplicationName: args.Params["application_name"],
		BackendStart: hlc.PhysicalNow(), State: "idle"}
	a.row.Changed = a.row.BackendStart
	if s.names != nil {
		a.row.Database = s.names.db.Name
	}
	if host, port, err := net.SplitHostPort(addrString(args.RemoteAddr)); err == nil {
		p, _ := strconv.Atoi(port)
		a.row.ClientAddr, a.row.ClientPort = host, int32(p)
	}
	a.abort, a.end = args.Cancel, args.Terminate
	if s.pid != 0 { // not the executor's own (DropOrphanTempSchemas)
		s.ex.registry.add(s)
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// beginStatement records that the session runs query: active from now,
// in a transaction from now if it was not in one.
func (s *session) beginStatement(query string) {
	a := &s.activity
	now := hlc.PhysicalNow()
	app := s.settings["application_name"]
	a.mu.Lock()
	a.row.State, a.row.Query, a.row.QueryStart, a.row.Changed = "active", query, now, now
	if a.row.XactStart.IsZero() {
		a.row.XactStart = now
	}
	if app != "" {
		a.row.ApplicationName = app
	}
	a.mu.Unlock()
}

// endStatement records the session idle again, in or out of its
// transaction.
func (s *session) endStatement() {
	a := &s.activity
	now := hlc.PhysicalNow()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.row.Changed = now
	switch s.status {
	case pgwire.TxnIdle:
		a.row.State, a.row.XactStart = "idle", time.Time{}
	case pgwire.TxnFailed:
		a.row.State = "idle in transaction (aborted)"
	default:
		a.row.State = "idle in transaction"
	}
}

// LocalSessions returns this executor's sessions as pg_stat_activity
// shows them.
func (ex *Executor) LocalSessions() []vtable.Activity {
	ss := ex.registry.all()
	out := make([]vtable.Activity, 0, len(ss))
	for _, s := range ss {
		s.activity.mu.Lock()
		out = append(out, s.activity.row)
		s.activity.mu.Unlock()
	}
	return out
}

// SignalLocal cancels the running statement of this executor's session
// pid, or ends it (terminate), on behalf of requester: a superuser may
// signal any session, another role its own (PostgreSQL also lets members
// of the session's role and of pg_signal_backend; not here yet).
func (ex *Executor) SignalLocal(pid uint32, terminate bool, requester string, superuser bool) (found bool, denied string) {
	s := ex.registry.get(pid)
	if s == nil {
		return false, ""
	}
	a := &s.activity
	a.mu.Lock()
	user, abort, end := a.row.User, a.abort, a.end
	a.mu.Unlock()
	if !superuser && user != requester {
		if terminate {
			return true, "must be a member of the role whose process is being terminated or member of pg_signal_backend"
		}
		return true, "must be a member of the role whose query is being canceled or member of pg_signal_backend"
	}
	f := abort
	if terminate {
		f = end
	}
	if f != nil {
		f()
	}
	return true, ""
}

// sessionsNow lists the sessions for pg_stat_activity: the cluster's, or
// this executor's.
func (ex *Executor) sessionsNow(ctx context.Context) ([]vtable.Activity, error) {
	if ex.cluster != nil {
		return ex.cluster.List(ctx)
	}
	return ex.LocalSessions(), nil
}

// Signal implements sem.Session: pg_cancel_backend, pg_terminate_backend.
func (s *session) Signal(e *sem.EvalCtx, pid uint32, terminate bool) (bool, error) {
	me, err := s.sessionRole(e.Ctx, e.Txn)
	if err != nil {
		return false, err
	}
	super := me == nil || me.Superuser
	requester := s.currentRole()
	var found bool
	var denied string
	if s.ex.cluster != nil {
		found, denied, err = s.ex.cluster.Signal(e.Ctx, pid, terminate, requester, super)
		if err != nil {
			return false, err
		}
	} else {
		found, denied = s.ex.SignalLocal(pid, terminate, requester, super)
	}
	switch {
	case !found:
		s.warnings = append(s.warnings, notice{pgerror.SeverityWarning, pgerror.CodeWarning,
			"PID " + strconv.FormatUint(uint64(pid), 10) + " is not a PostgreSQL server process", ""})
		return false, nil
	case denied != "":
		return false, pgerror.New(codeInsufficientPrivilege, denied)
	}
	return true, nil
}
