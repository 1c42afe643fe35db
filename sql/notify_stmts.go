package sql

import (
	"context"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/notify"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// LISTEN, UNLISTEN and NOTIFY (and pg_notify), which the grammar does not
// take: recognised here, carried by sql/notify. A notification is written
// in the notifying transaction, so listeners see it only if it commits;
// LISTEN and UNLISTEN take effect when their transaction commits, as in
// PostgreSQL.

// UseNotifications makes the sessions LISTEN through hub (one per node,
// run by its owner). Without it, LISTEN and NOTIFY answer 0A000. Call it
// before the first session.
func (ex *Executor) UseNotifications(hub *notify.Hub) { ex.notify = hub }

// notifyStmt is LISTEN channel, UNLISTEN channel | *, or NOTIFY channel
// [, 'payload'].
type notifyStmt struct {
	tag     string // LISTEN, UNLISTEN or NOTIFY
	channel string // "*": every channel (UNLISTEN)
	payload string
}

var _ tree.Statement = (*notifyStmt)(nil)

func (s *notifyStmt) String() string { return tree.AsString(s) }
func (s *notifyStmt) Format(ctx *tree.FmtCtx) {
	ctx.WriteString(s.tag + " ")
	ctx.FormatNameP(&s.channel)
	if s.tag == "NOTIFY" && s.payload != "" {
		ctx.WriteString(", ")
		ctx.WriteString(tree.NewDString(s.payload).String())
	}
}
func (s *notifyStmt) StatementReturnType() tree.StatementReturnType { return tree.Ack }
func (s *notifyStmt) StatementType() tree.StatementType             { return tree.TypeDML }
func (s *notifyStmt) StatementTag() string                          { return s.tag }

var notifyRE = regexp.MustCompile(`(?is)^\s*(listen|unlisten|notify)\s+("(?:[^"]|"")+"|[a-z_\x80-\xff][a-z0-9_$\x80-\xff]*|\*)\s*(?:,\s*'((?:[^']|'')*)'\s*)?;?\s*$`)

// parseNotify parses a query string holding LISTEN, UNLISTEN or NOTIFY
// statements, and the others with grammar; false if it holds none of
// them.
func parseNotify(query string, grammar func(string) (statements.Statements, error)) (statements.Statements, bool, error) {
	pieces := splitStatements(query)
	found := false
	for _, p := range pieces {
		if notifyRE.MatchString(p) {
			found = true
		}
	}
	if !found {
		return nil, false, nil
	}
	var out statements.Statements
	for _, p := range pieces {
		m := notifyRE.FindStringSubmatch(p)
		if m == nil {
			stmts, err := grammar(p)
			if err != nil {
				return nil, true, err
			}
			out = append(out, stmts...)
			continue
		}
		st := &notifyStmt{tag: strings.ToUpper(m[1]), channel: m[2], payload: strings.ReplaceAll(m[3], "''", "'")}
		switch {
		case st.channel == "*" && st.tag != "UNLISTEN":
			return nil, true, pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near \"*\"")
		case st.channel[0] == '"':
			st.channel = strings.ReplaceAll(st.channel[1:len(st.channel)-1], `""`, `"`)
		case st.channel != "*":
			st.channel = strings.ToLower(st.channel)
		}
		if m[3] != "" && st.tag != "NOTIFY" {
			return nil, true, pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near \",\"")
		}
		out = append(out, statements.Statement[tree.Statement]{AST: st, SQL: p})
	}
	return out, true, nil
}

// sessionListener is how the hub reaches a session: through its
// connection, from the hub's goroutine.
type sessionListener struct {
	deliver func(pgwire.Notification)
}

func (l *sessionListener) Deliver(n notify.Notification) {
	l.deliver(pgwire.Notification{PID: n.PID, Channel: n.Channel, Payload: n.Payload})
}

// notifyState is a session's part of LISTEN/NOTIFY.
type notifyState struct {
	listener *sessionListener
	// listening are the channels the session listens on, in its
	// database (listeningDB); pending the LISTEN/UNLISTENs of the open
	// transaction, applied when it commits.
	listening   map[string]bool
	listeningDB uint32
	pending     []*notifyStmt
	// txn is the transaction the notifications below belong to: nonce
	// names it in the queue, seq counts its notifications, sent holds
	// them (a channel and payload sent twice in a transaction is
	// delivered once, as in PostgreSQL).
	txn   kvapi.Txn
	nonce uint64
	seq   int
	sent  map[[2]string]bool
}

// execNotify runs LISTEN, UNLISTEN and NOTIFY.
func (s *session) execNotify(ctx context.Context, txn kvapi.Txn, stmt tree.Statement) (*result, bool, error) {
	st, ok := stmt.(*notifyStmt)
	if !ok {
		return nil, false, nil
	}
	if s.ex.notify == nil {
		return nil, true, pgerror.Unsupported("%s is not supported on this server (it needs a cluster node)", st.tag)
	}
	res := &result{tag: st.tag}
	if st.tag == "NOTIFY" {
		return res, true, s.notify(ctx, txn, st.channel, st.payload)
	}
	if s.inTxn() {
		s.notifications.pending = append(s.notifications.pending, st)
		return res, true, nil
	}
	s.applyListen(st)
	return res, true, nil
}

// Notify implements sem.Session: pg_notify.
func (s *session) Notify(e *sem.EvalCtx, channel, payload string) error {
	if s.ex.notify == nil {
		return pgerror.Unsupported("pg_notify is not supported on this server (it needs a cluster node)")
	}
	if e.Txn == nil {
		return pgerror.Unsupported("pg_notify outside a statement")
	}
	return s.notify(e.Ctx, e.Txn, channel, payload)
}

// maxPayload is PostgreSQL's limit on a notification's payload.
const maxPayload = 7999

// notify queues a notification in txn.
func (s *session) notify(ctx context.Context, txn kvapi.Txn, channel, payload string) error {
	switch {
	case channel == "":
		return pgerror.New(pgerror.CodeInvalidParameterValue, "channel name cannot be empty")
	case len(channel) > 63:
		return pgerror.New(pgerror.CodeInvalidParameterValue, "channel name too long")
	case len(payload) > maxPayload:
		return pgerror.New(pgerror.CodeInvalidParameterValue, "payload string too long")
	case s.txnReadOnly:
		return pgerror.New(codeReadOnlySQLTransaction, "cannot execute NOTIFY in a read-only transaction")
	}
	n := &s.notifications
	if n.txn != txn {
		n.txn, n.nonce, n.seq, n.sent = txn, rand.Uint64(), 0, map[[2]string]bool{}
	}
	if n.sent[[2]string{channel, payload}] {
		return nil
	}
	n.sent[[2]string{channel, payload}] = true
	n.seq++
	var db uint32
	if s.names != nil {
		db = s.names.db.ID
	}
	return txn.Put(ctx, notify.Key(n.nonce, n.seq), notify.Encode(notify.Notification{DB: db, Channel: channel, Payload: payload, PID: s.pid}))
}

// applyListen carries out a LISTEN or UNLISTEN.
func (s *session) applyListen(st *notifyStmt) {
	n := &s.notifications
	if n.listener == nil {
		deliver := s.deliver
		if deliver == nil {
			deliver = func(pgwire.Notification) {} // a session without a client
		}
		n.listener = &sessionListener{deliver: deliver}
		n.listening = map[string]bool{}
	}
	var db uint32
	if s.names != nil {
		db = s.names.db.ID
	}
	if len(n.listening) > 0 && n.listeningDB != db {
		s.unlistenAll()
	}
	n.listeningDB = db
	switch {
	case st.tag == "LISTEN" && !n.listening[st.channel]:
		n.listening[st.channel] = true
		s.ex.notify.Listen(db, st.channel, n.listener)
	case st.tag == "UNLISTEN" && st.channel == "*":
		s.unlistenAll()
	case st.tag == "UNLISTEN" && n.listening[st.channel]:
		delete(n.listening, st.channel)
		s.ex.notify.Unlisten(db, st.channel, n.listener)
	}
}

// unlistenAll stops every LISTEN of the session.
func (s *session) unlistenAll() {
	n := &s.notifications
	for ch := range n.listening {
		s.ex.notify.Unlisten(n.listeningDB, ch, n.listener)
	}
	clear(n.listening)
}

// endTxnListens applies the transaction's LISTEN/UNLISTENs at its commit
// and drops them at its rollback.
func (s *session) endTxnListens(commit bool) {
	n := &s.notifications
	pending := n.pending
	n.pending = nil
	if commit {
		for _, st := range pending {
			s.applyListen(st)
		}
	}
}

// pg_listening_channels() is the channels the session listens on (its
// committed LISTENs), in name order.
var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"pg_listening_channels": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: srfFn{ofSession: func(s *session, _ tree.Datums) (srfIter, error) {
			var out []tree.Datum
			for _, ch := range slices.Sorted(maps.Keys(s.notifications.listening)) {
				out = append(out, tree.NewDString(ch))
			}
			return sliceIter(out), nil
		}},
	}},
})
