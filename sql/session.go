// Package sql is Meridian's SQL layer: sessions that parse statements
// (with the cockroachdb-parser's PostgreSQL grammar), plan them onto the
// sorted key-value store, and run them inside serializable transactions.
//
// The pipeline's lower stages are packages of their own, each importing
// only those below it:
//
//	sql/kvapi     what SQL needs from the transaction layer (DB, Txn)
//	sql/pgerror   errors with SQLSTATEs
//	sql/mon       the node's SQL memory budget, which statements charge
//	              for the rows they hold (sorts, hash tables, results)
//	sql/parsecache  parse templates: a query that differs from an earlier
//	              one only in its literals is not parsed again
//	sql/sem       expressions: parsing, implicit casts, evaluation, casts,
//	              operators, builtin functions; PostgreSQL's type metadata
//	sql/catalog   descriptors, names, their storage
//	sql/rowenc    rows and index entries as keys and values
//	sql/vtable    pg_catalog and information_schema, declared per table
//	sql/pgformat  values in PostgreSQL's text and binary wire formats
//
// sql/txnkv gives it the cluster's transactions (the one package here that
// imports package txn), sql/memkv in-memory ones for tests.
//
// This package holds the rest: session.go (sessions, transactions,
// statement dispatch, the pgwire.Executor); build*.go with join.go,
// window.go, setop.go, series.go and recursive.go (binding names, type
// checking, index choice in build_scan.go, and plan building, in one pass
// of the builder); ddl.go, alter.go, constraint.go and sequence.go (schema
// changes, run by the schemaChanger, and constraint enforcement); plan.go,
// plan_write.go and plan_virtual.go (the nodes that run, pulling one row
// at a time); explain.go; the builtin family that reads the catalog
// (builtins_catalog.go; expression evaluation, casts, implicit casts and
// the other families are in sql/sem, which reaches the session and the
// sequences through the seams implemented in eval_session.go and
// eval_sequences.go); copy.go (COPY FROM); and role*.go
// (CREATE/ALTER/DROP ROLE, role membership, and the Authenticator that
// checks pgwire logins against the stored roles).
//
// Queries may join tables (nested loops, or lookups by primary key), nest
// subqueries, use WITH (also RECURSIVE), set operations, aggregates and
// window functions; a scan uses the primary key or the secondary index
// whose leading columns its filter fixes most. What is not supported says
// so with SQLSTATE 0A000.
package sql

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/cockroachdb/errors"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/advisory"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/lease"
	"github.com/meridiandb/meridian/sql/mon"
	"github.com/meridiandb/meridian/sql/notify"
	"github.com/meridiandb/meridian/sql/parsecache"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// Executor runs the SQL sessions of a node's clients over db. It
// implements pgwire.Executor.
type Executor struct {
	db  kvapi.DB
	now func() time.Time
	// leases serve table descriptors without reading them (nil: every
	// statement reads them in its transaction).
	leases *lease.Manager
	// admin runs the statements that show and move ranges (nil: they
	// answer 0A000).
	admin ClusterAdmin
	// mem is the node's SQL memory budget, which every statement's
	// buffered rows are charged to (nil: unlimited and untracked).
	mem *mon.BytesMonitor
	// bootstrapped: the built-in databases are known to exist.
	bootstrapped atomic.Bool
	// advisory are the advisory locks, taken as sessions of advisoryNode
	// at the liveness epoch advisoryEpoch returns (advisory_locks.go).
	advisory      *advisory.Manager
	advisoryNode  int32
	advisoryEpoch func() (int64, bool)
	// notify delivers NOTIFY to the node's listening sessions (nil:
	// LISTEN and NOTIFY answer 0A000).
	notify *notify.Hub
	// registry are the executor's sessions, cluster reaches every
	// node's (activity.go).
	registry sessionRegistry
	cluster  ClusterSessions
	// stats are the table statistics the planners estimate with;
	// autoStats refreshes them (nil: only ANALYZE does).
	stats     *statsCache
	autoStats *autoStats
	// PlanCacheHits counts executions of prepared statements that ran a
	// kept plan (plan_cache.go).
	PlanCacheHits atomic.Int64
	// SpilledRuns counts the sorted runs sorts wrote to disk
	// (sort_spill.go).
	SpilledRuns atomic.Int64
	// tempDir is where statements spill what outgrows mem (empty:
	// nowhere).
	tempDir string
}

// maxImplicitRetries bounds the retries of a statement outside a
// transaction block whose transaction hit a retryable error.
const maxImplicitRetries = 20

// NewExecutor returns an executor over db; now is the clock statements
// read (now(), unique_rowid()).
func NewExecutor(db kvapi.DB, now func() time.Time) *Executor {
	return &Executor{db: db, now: now, advisory: advisory.NewManager(db, nil), stats: newStatsCache(db, now)}
}

// UseLeases makes the sessions take table descriptors from m's leases.
// Call it before the first session.
func (ex *Executor) UseLeases(m *lease.Manager) { ex.leases = m }

// UseMemoryMonitor makes statements charge the rows they hold in memory
// (sorts, hash tables, buffered results) to m, the node's SQL memory
// budget: a statement that would take it past its limit fails with
// SQLSTATE 53200. Nil (the default) is unlimited. Call it before the
// first session.
func (ex *Executor) UseMemoryMonitor(m *mon.BytesMonitor) { ex.mem = m }

// newTxn starts a transaction for a session: with leases, if the
// executor has them.
func (ex *Executor) newTxn(ctx context.Context) (kvapi.Txn, error) {
	txn, err := ex.db.NewTxn(ctx)
	if err != nil || ex.leases == nil {
		return txn, err
	}
	return ex.leases.Wrap(txn), nil
}

var _ pgwire.Executor = (*Executor)(nil)

// NewSession implements pgwire.Executor.
func (ex *Executor) NewSession(ctx context.Context, args pgwire.SessionArgs) (pgwire.Session, error) {
	s := &session{ex: ex, user: args.User, pid: args.ProcessID, serverVersion: args.ServerVersion, status: pgwire.TxnIdle,
		settings: map[string]string{}, undoOnRollback: map[string]savedSetting{}, undoOnCommit: map[string]savedSetting{},
		connCtx: ctx, deliver: args.Notify, deallocate: args.Deallocate}
	if err := s.applyStartupParams(args.Params, args.Warn); err != nil {
		return nil, err
	}
	if err := s.openDatabase(ctx, args.Database); err != nil {
		return nil, err
	}
	s.startActivity(args)
	return s, nil
}

// session is one client's SQL state.
type session struct {
	// loc is the time zone of the TimeZone setting locName, parsed once
	// (session.location).
	loc     *time.Location
	locName string
	// dateStyle is the DateStyle setting dateStyleName, parsed once
	// (session.dateStyle).
	dateStyle     pgdate.DateStyle
	dateStyleName string
	ex            *Executor
	user          string
	// settingRole: SET ROLE, which checked the role, is setting it (no
	// other way may; see check).
	settingRole bool
	// names resolves relation names: the session's database and search
	// path (see names.go).
	names         *names
	pid           uint32
	serverVersion string    // as pgwire reports it; empty: fixedSettings's
	txn           kvapi.Txn // the open transaction block, if any
	status        pgwire.TxnStatus
	// settings are the values the session gave settings (SET), by name;
	// a setting not here has its default (settingDefs). undoOnRollback
	// holds, for each setting the transaction changed, its value before;
	// undoOnCommit the same for those SET LOCAL changed since the last
	// SET (see set).
	settings       map[string]string
	undoOnRollback map[string]savedSetting
	undoOnCommit   map[string]savedSetting
	// settingsGen counts changes to settings: a cached plan was built
	// under one generation of them (plan_cache.go).
	settingsGen uint64
	// executing is the prepared statement a portal is running (nil: a
	// statement of the simple protocol), whose plan may be cached.
	executing *prepared
	// sequences are the session's sequence values (currval, CACHE), by
	// sequence ID; lastSequence is the one nextval last used (lastval).
	sequences    map[uint32]*seqState
	lastSequence uint32
	// sqlPrepared are the statements of SQL-level PREPARE, by name.
	sqlPrepared map[string]*prepared
	// parses are the session's parse templates (see parse).
	parses *parsecache.Cache
	// connCtx is the connection's context, done when the node stops.
	connCtx context.Context
	// savepoints are the open block's SAVEPOINTs, oldest first;
	// stmtsInBlock counts the statements the block ran; released: RELEASE
	// SAVEPOINT cockroach_restart committed the block's transaction, and
	// only COMMIT or ROLLBACK may follow.
	savepoints   []savepoint
	stmtsInBlock int
	released     bool
	// txnReadOnly: the open block may not write (READ ONLY, or AS OF
	// SYSTEM TIME); blockAsOf is the block's AS OF SYSTEM TIME, if any.
	txnReadOnly bool
	blockAsOf   *hlc.Timestamp
	// stmtAsOf is the AS OF SYSTEM TIME of the statement running outside a
	// transaction, which its own transaction reads at.
	stmtAsOf *hlc.Timestamp
	// implicit: txn is not a block BEGIN opened but the implicit
	// transaction of a multi-statement query string or of the
	// extended-protocol messages up to a Sync, as PostgreSQL has them: its
	// statements commit together at the end (status stays TxnIdle), an
	// error rolls them all back.
	implicit bool
	// pipelined: the statement running belongs to an implicit
	// transaction that outlives it (set while a multi-statement query
	// string or an Execute runs); otherwise a statement outside a block
	// commits on its own.
	pipelined bool
	// commitsAfter is the transaction attempt runs a lone statement in
	// and commits right after it: the statement (run takes it) may leave
	// checks to that commit, and onCommitErr, which it sets, reads the
	// commit's error for them (insert_deferred.go).
	commitsAfter kvapi.Txn
	onCommitErr  func(error) error
	// sessionEffects counts what statements did to the session outside
	// any transaction (session advisory locks taken or released): a
	// query string that did any is not run again (batch_retry.go).
	sessionEffects int
	// advisory are the advisory locks the session holds
	// (advisory_locks.go); warnings are notices its functions raised,
	// sent with the statement's result.
	advisory advisoryLocks
	warnings []notice
	// changedParams are reported settings that the end of a transaction
	// changed (settings.go), for the client's ParameterStatus.
	changedParams [][2]string
	// lexWarnings are the warnings of the lexer's last parse (of string
	// literals: string_literals.go), for the client.
	lexWarnings []pgwire.Notice
	// notifications are the session's LISTENs and the NOTIFYs of its
	// transaction (notify_stmts.go); deliver hands a notification to its
	// connection.
	notifications notifyState
	deliver       func(pgwire.Notification)
	// activity is what pg_stat_activity shows of the session.
	activity activity
	// deallocate closes the connection's protocol-level prepared
	// statements (pgwire's SessionArgs.Deallocate).
	deallocate func(name string) bool
}

func (s *session) TxnStatus() pgwire.TxnStatus { return s.status }

func (s *session) Close() {
	s.ex.registry.remove(s)
	if s.txn != nil {
		// Best effort, and bounded: a connection closing while its node
		// stops must not wait for a cluster that is going away (the
		// node's stop waits for this connection). Intents left behind are
		// cleaned up by whoever meets them, once the record expires.
		ctx, cancel := context.WithTimeout(context.Background(), closeRollbackTimeout)
		_ = s.txn.Rollback(ctx)
		cancel()
		s.txn, s.implicit = nil, false
	}
	// The session's temporary relations go with it (bounded the same way),
	// unless the node is stopping: then the schema stays behind, as after
	// a crash.
	if s.connCtx == nil || s.connCtx.Err() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeRollbackTimeout)
		_ = s.dropTempSchema(ctx)
		cancel()
	}
	if s.notifications.listener != nil {
		s.unlistenAll()
	}
	// Its advisory locks too; those left behind (a node stopping) hold
	// nothing once the node's liveness epoch ends.
	ctx, cancel := context.WithTimeout(context.Background(), closeRollbackTimeout)
	s.releaseAdvisoryLocks(ctx)
	cancel()
}

// closeRollbackTimeout bounds a rollback that nobody waits for: of a
// closing session's open transaction, or of a statement's failed attempt.
const closeRollbackTimeout = 5 * time.Second

// result is a statement's outcome: its rows (if it returns any) and tag.
type result struct {
	cols []resultColumn
	rows []tree.Datums
	tag  string
	// paramStatus are settings the client must be told of (after SET).
	paramStatus [][2]string
	// notices are warnings for the client, sent before the rows.
	notices []notice
	// mem holds rows' share of the memory budget until they are sent
	// (nil: nothing charged).
	mem *mon.Account
}

// notice is a warning or notice a statement sends the client.
type notice struct {
	sev    pgerror.Severity
	code   pgerror.Code
	msg    string
	detail string
}

// wire is n as pgwire sends it.
func (n notice) wire() pgwire.Notice {
	return pgwire.Notice{Severity: n.sev, Code: n.code, Message: n.msg, Detail: n.detail}
}

// close returns the result's memory to the budget; the rows are not to be
// used after it.
func (res *result) close() {
	if res != nil {
		res.mem.Close()
	}
}

// recoverInternal turns a panic while running a client's statement into
// an internal error for that client (XX000), so that a bug in one
// statement's code path never takes down the node.
func recoverInternal(err *error) {
	if r := recover(); r != nil {
		// The stack goes to the node's log (stderr), for the bug report.
		fmt.Fprintf(os.Stderr, "internal error running a statement: %v\n%s", r, debug.Stack())
		*err = pgerror.WithCode(errors.AssertionFailedf("internal error: %v", r), pgerror.CodeInternalError)
	}
}

func (s *session) ExecSimple(ctx context.Context, query string, w pgwire.ResultWriter) (err error) {
	s.beginStatement(query)
	defer s.endStatement()
	// An error (a panic included, which recoverInternal below turns into
	// one first) rolls back the query string's implicit transaction.
	var stmts statements.Statements
	defer func() {
		if len(stmts) == 1 && positionedStmt(stmts[0].AST) {
			err = withQueryPosition(query, err)
		}
		if err != nil && s.implicit {
			_ = s.endImplicit(ctx, false)
		}
		if err != nil && s.txn == nil {
			s.endTxnSettings(false)
		}
	}()
	defer recoverInternal(&err)
	stmts, err = s.parse(query)
	// The lexer's warnings come first, as PostgreSQL sends them while it
	// parses, an error of the parse's after them.
	s.sendLexWarnings(w.Notice)
	if err != nil {
		return sem.WithParserCode(err)
	}
	if len(stmts) == 0 {
		w.EmptyQuery()
		return nil
	}
	// The statements of a query string run in one implicit transaction,
	// committed after the last (a BEGIN among them turns it into a block;
	// a lone statement commits on its own, retried if need be).
	s.pipelined = len(stmts) > 1 || s.implicit
	defer func() { s.pipelined = false }()
	if err := s.execStmtsRetrying(ctx, stmts, w); err != nil {
		return err
	}
	if s.txn == nil {
		s.endTxnSettings(true)
	}
	return nil
}

// execStmts runs a query string's statements, each one's result written
// to w, up to the first error.
func (s *session) execStmts(ctx context.Context, stmts statements.Statements, w pgwire.ResultWriter) (err error) {
	for _, st := range stmts {
		if _, prep := st.AST.(*tree.Prepare); st.NumPlaceholders > 0 && !prep {
			return pgerror.Newf("08P01", "there is no parameter $%d", 1)
		}
		var res *result
		if r, ok, perr := s.execSQLPrepare(ctx, st); ok {
			res, err = r, perr
		} else if cf, ok := st.AST.(*tree.CopyFrom); ok {
			if s.status == pgwire.TxnFailed {
				return pgerror.New(pgerror.CodeInFailedSQLTransaction,
					"current transaction is aborted, commands ignored until end of transaction block")
			}
			if err = s.checkReadOnly(cf); err == nil {
				cctx, done := s.statementContext(ctx)
				res, err = s.copyFrom(cctx, cf, w, nil)
				err = done(err)
			}
		} else if ct, ok := st.AST.(*tree.CopyTo); ok {
			res, err = s.copyTo(ctx, ct, w, nil)
		} else if cf, ok := st.AST.(*copyFileStmt); ok {
			res, err = s.copyFile(ctx, cf, w)
		} else {
			res, err = s.execStmt(ctx, st.AST, 0, nil, nil)
		}
		if err != nil {
			return err
		}
		err = writeResult(w, res, nil, true, s.outStyle())
		res.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// parseSQL parses statements with PostgreSQL's meaning of INT (INT4;
// CockroachDB's grammar defaults to INT8).
func parseSQL(query string) (statements.Statements, error) {
	return parseRewritten(query, standardLexing(), parseGrammar)
}

// parseGrammar is the grammar's parse, INT meaning INT4.
func parseGrammar(query string) (statements.Statements, error) {
	return parser.ParseWithInt(query, types.Int4)
}

// parse reads a simple query's statements; the grammar's part goes
// through the session's parse templates (sql/parsecache), which spare it
// a query that differs from an earlier one only in its literals. The
// lexer's warnings are kept in s.lexWarnings for the client.
func (s *session) parse(query string) (statements.Statements, error) {
	if s.parses == nil {
		s.parses = parsecache.New(parseCacheShapes)
	}
	lex := s.literalLexing(query)
	stmts, err := parseRewritten(query, lex, func(q string) (statements.Statements, error) {
		return s.parses.Parse(q, parseGrammar)
	})
	s.lexWarnings = append(s.lexWarnings, lex.warnings...)
	return stmts, err
}

// literalLexing is how the session reads query's string literals: by its
// standard_conforming_strings and escape_string_warning (looked up only
// when query has a literal they could matter to).
func (s *session) literalLexing(query string) *literalLexing {
	if !mayRewrite(query) {
		return standardLexing()
	}
	scs, _ := s.setting("standard_conforming_strings")
	warn, _ := s.setting("escape_string_warning")
	return &literalLexing{standard: scs != "off", warn: warn != "off"}
}

// sendLexWarnings sends the lexer's warnings of the last parse to the
// client, as client_min_messages lets through.
func (s *session) sendLexWarnings(send func(pgwire.Notice)) {
	ws := s.lexWarnings
	s.lexWarnings = nil
	if min, _ := s.setting("client_min_messages"); min == "error" {
		return
	}
	for _, n := range ws {
		send(n)
	}
}

// parseCacheShapes is how many statement shapes a session keeps parsed.
const parseCacheShapes = 128

// parseRewritten rewrites what the grammar does not take as PostgreSQL
// means it, and parses the rest with grammar.
func parseRewritten(query string, lex *literalLexing, grammar func(string) (statements.Statements, error)) (_ statements.Statements, err error) {
	defer func() {
		// The grammar's help for a misused built-in function looks the
		// function up in CockroachDB's registry, which this binary does
		// not fill: a nil dereference (SUBSTRING(... SIMILAR ...) ends
		// there). A statement the parser cannot read is a syntax error
		// for the client, not an internal one.
		if r := recover(); r != nil {
			err = pgerror.New(pgerror.CodeSyntaxError, "syntax error: this form of the statement is not supported (the parser could not read it)")
		}
	}()
	orig := query
	// String literals first, while error positions are those of the
	// client's text.
	if mayRewrite(query) {
		var err error
		if query, err = lex.rewriteLiterals(query); err != nil {
			return nil, err
		}
	}
	// psql's \d adds COLLATE pg_catalog.default, which the grammar does
	// not take; it changes nothing here (there is one collation).
	if strings.Contains(query, "pg_catalog.default") {
		query = collateDefault.ReplaceAllString(query, "")
	}
	// The rewrites below are regular expressions, which cost a point
	// select 7% of its CPU when every statement ran them: each runs only
	// when its keyword is in the text (containsFold costs ~1% of that).
	if containsFold(query, "rollup") || containsFold(query, "cube") || containsFold(query, "grouping") {
		query = rewriteGroupingSets(query)
	}
	// PostgreSQL's ALTER COLUMN ... DROP EXPRESSION is the grammar's DROP
	// STORED.
	if containsFold(query, "expression") && dropExpression.MatchString(query) {
		query = dropExpression.ReplaceAllString(query, "${1}DROP STORED")
	}
	if containsFold(query, "vacuum") || containsFold(query, "analy") {
		if stmts, ok := parseMaintenance(query); ok {
			return stmts, nil
		}
	}
	var variadicParams []variadicParam
	if containsFold(query, "variadic") {
		var err error
		if query, variadicParams, err = rewriteVariadic(query); err != nil {
			return nil, err
		}
	}
	if containsFold(query, "parallel") {
		var err error
		if query, err = stripParallel(query); err != nil {
			return nil, err
		}
	}
	if containsFold(query, "similar") && containsFold(query, "substring") {
		query = rewriteSubstringSimilar(query)
	}
	if containsFold(query, "listen") || containsFold(query, "notify") {
		if stmts, ok, err := parseNotify(query, grammar); ok {
			return stmts, err
		}
	}
	if (containsFold(query, "role") || containsFold(query, "user") || containsFold(query, "grant") || containsFold(query, "revoke")) &&
		mayBeRoleStmt.MatchString(query) {
		return parseWithRoles(query)
	}
	// pgbench -i loads with COPY ... WITH (FREEZE ON), an option the
	// grammar does not take. FREEZE only spares PostgreSQL's vacuum work,
	// which has no counterpart here, so it is dropped.
	if t := strings.TrimSpace(query); len(t) > 4 && strings.EqualFold(t[:4], "copy") {
		query = copyFreezeAlone.ReplaceAllString(query, "")
		query = copyFreezeInList.ReplaceAllString(query, "")
	}
	// COPY ... FROM|TO 'file' or PROGRAM 'command' (copy_file.go).
	if containsFold(query, "copy") && copyStmtStart.MatchString(query) {
		if stmts, ok, err := parseCopyFile(query, grammar); ok {
			if err == nil && variadicParams != nil {
				stmts = markVariadicParams(stmts, variadicParams)
			}
			return stmts, err
		}
	}
	var arraySubs []string
	if mayHaveArrayTargets(query) {
		query, arraySubs = rewriteArrayTargets(query)
	}
	stmts, err := grammar(query)
	if err != nil {
		if m := unknownIndexMethod(err); m != "" {
			return nil, pgerror.Newf("42704", "access method %q does not exist", m)
		}
		return nil, pgSyntaxError(orig, query, err)
	}
	if arraySubs != nil {
		if stmts, err = arrayTargets(stmts, arraySubs); err != nil {
			return nil, err
		}
	}
	if variadicParams != nil {
		stmts = markVariadicParams(stmts, variadicParams)
	}
	if containsFold(query, "index") {
		stmts = markIndexMethods(stmts)
	}
	return stmts, nil
}

// containsFold reports whether s contains word (lower-case ASCII letters)
// in any case, without allocating.
func containsFold(s, word string) bool {
	n := len(word)
	for i := 0; i+n <= len(s); i++ {
		if s[i]|0x20 != word[0] {
			continue
		}
		j := 1
		for j < n && s[i+j]|0x20 == word[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

var (
	dropExpression   = regexp.MustCompile(`(?i)(\bALTER\s+(?:COLUMN\s+)?(?:"[^"]*"|\w+)\s+)DROP\s+EXPRESSION\b`)
	collateDefault   = regexp.MustCompile(`(?i)\s+COLLATE\s+pg_catalog\."?default"?`)
	copyFreezeAlone  = regexp.MustCompile(`(?i)\bWITH\s*\(\s*FREEZE(\s+(ON|TRUE|OFF|FALSE|1|0))?\s*\)`)
	copyFreezeInList = regexp.MustCompile(`(?i)(\bFREEZE(\s+(ON|TRUE|OFF|FALSE|1|0))?\s*,\s*)|(,\s*FREEZE(\s+(ON|TRUE|OFF|FALSE|1|0))?\b)`)
)

// writeResult sends a result's rows and tag; announce sends the column
// descriptions first (the simple protocol).
func writeResult(w pgwire.ResultWriter, res *result, formats []int16, announce bool, st pgformat.Style) error {
	for _, n := range res.notices {
		w.Notice(n.wire())
	}
	for _, kv := range res.paramStatus {
		w.ParameterStatus(kv[0], kv[1])
	}
	if res.cols != nil && announce {
		w.Columns(wireColumns(res.cols, formats))
	}
	for _, row := range res.rows {
		vals, err := encodeRow(row, res.cols, formats, st)
		if err != nil {
			return err
		}
		if err := w.Row(vals); err != nil {
			return err
		}
	}
	w.Complete(res.tag)
	return nil
}

func formatOf(formats []int16, i int) int16 {
	switch len(formats) {
	case 0:
		return 0
	case 1:
		return formats[0]
	}
	return formats[i]
}

// encodeRow is a row in the formats asked for; st is how the session
// writes values as text (TimeZone, DateStyle, bytea_output).
func encodeRow(row tree.Datums, cols []resultColumn, formats []int16, st pgformat.Style) ([][]byte, error) {
	vals := make([][]byte, len(row))
	for i, d := range row {
		if formatOf(formats, i) == 1 {
			v, err := pgformat.EncodeBinary(d, cols[i].typ)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		} else {
			vals[i] = pgformat.EncodeTextAs(d, cols[i].typ, st)
		}
	}
	return vals, nil
}

func wireColumns(cols []resultColumn, formats []int16) []pgwire.Column {
	out := make([]pgwire.Column, len(cols))
	for i, c := range cols {
		typ := c.typ
		if typ.Family() == types.UnknownFamily {
			typ = types.String
		}
		out[i] = pgwire.Column{
			Name: c.name, TableOID: c.tableID, TableAttr: c.attr, TypeOID: uint32(typ.Oid()),
			TypeSize: pgformat.TypeSize(typ), TypeMod: -1, Format: formatOf(formats, i),
		}
	}
	return out
}

// execStmt runs one statement, bounded by statement_timeout, in the
// transaction it belongs to (see withTxn).
func (s *session) execStmt(ctx context.Context, stmt tree.Statement, nParams int, params tree.Datums, hints []*types.T) (*result, error) {
	ctx, done := s.statementContext(ctx)
	res, err := s.execStmtTxn(ctx, stmt, nParams, params, hints)
	s.endXactAdvisoryLocks(ctx)
	warnings := s.warnings
	s.warnings = nil
	if err = done(err); err != nil {
		res.close()
		return nil, err
	}
	res.notices = s.filterNotices(append(warnings, res.notices...))
	return res, nil
}

// filterNotices drops the notices client_min_messages asks not to send.
func (s *session) filterNotices(ns []notice) []notice {
	if len(ns) == 0 {
		return ns
	}
	min, _ := s.setting("client_min_messages")
	out := ns[:0]
	for _, n := range ns {
		switch {
		case min == "error":
		case min == "warning" && n.sev == pgerror.SeverityNotice:
		default:
			out = append(out, n)
		}
	}
	return out
}

// execStmtTxn runs one statement in the session's transaction block, or
// in an implicit transaction (retried on retryable errors).
func (s *session) execStmtTxn(ctx context.Context, stmt tree.Statement, nParams int, params tree.Datums, hints []*types.T) (*result, error) {
	if s.status == pgwire.TxnFailed {
		switch stmt.(type) {
		case *tree.CommitTransaction, *tree.RollbackTransaction, *tree.RollbackToSavepoint:
		default:
			return nil, pgerror.New(pgerror.CodeInFailedSQLTransaction,
				"current transaction is aborted, commands ignored until end of transaction block")
		}
	}
	if s.released {
		switch stmt.(type) {
		case *tree.CommitTransaction, *tree.RollbackTransaction:
		default:
			return s.execSavepoint(ctx, stmt)
		}
	}
	switch st := stmt.(type) {
	case *tree.BeginTransaction:
		switch {
		case s.txn == nil:
			if err := s.beginBlock(ctx, st.Modes); err != nil {
				return nil, err
			}
			s.status = pgwire.TxnActive
		case s.implicit:
			// The statements before BEGIN in the same implicit
			// transaction become part of the block, as in PostgreSQL.
			if st.Modes.AsOf.Expr != nil {
				return nil, pgerror.Unsupported("BEGIN AS OF SYSTEM TIME after other statements of the same query or pipeline: it must start its transaction")
			}
			s.implicit, s.status = false, pgwire.TxnActive
			s.savepoints, s.stmtsInBlock = nil, 1
			s.txnReadOnly, s.blockAsOf = s.defaultReadOnly(), nil
			if err := s.applyModes(st.Modes); err != nil {
				return nil, err
			}
		default:
			return &result{tag: "BEGIN", notices: []notice{{pgerror.SeverityWarning, pgerror.CodeActiveSQLTransaction, "there is already a transaction in progress", ""}}}, nil
		}
		return &result{tag: "BEGIN"}, nil
	case *tree.SetTransaction:
		return s.setTransaction(ctx, st)
	case *tree.CommitTransaction:
		if s.implicit {
			// PostgreSQL commits the implicit transaction, with a warning.
			if err := s.endImplicit(ctx, true); err != nil {
				return nil, err
			}
			return &result{tag: "COMMIT", notices: []notice{noTxnInProgress}}, nil
		}
		txn, failed := s.txn, s.status == pgwire.TxnFailed
		s.txn, s.status = nil, pgwire.TxnIdle
		s.savepoints, s.released, s.txnReadOnly, s.blockAsOf = nil, false, false, nil
		if txn == nil {
			s.endTxnSettings(true)
			return &result{tag: "COMMIT", notices: []notice{noTxnInProgress}}, nil
		}
		if failed {
			_ = txn.Rollback(ctx)
			s.endTxnSettings(false)
			return &result{tag: "ROLLBACK"}, nil
		}
		if err := txn.Commit(ctx); err != nil {
			_ = txn.Rollback(ctx)
			s.endTxnSettings(false)
			return nil, err
		}
		s.endTxnSettings(true)
		return &result{tag: "COMMIT"}, nil
	case *tree.RollbackTransaction:
		res := &result{tag: "ROLLBACK"}
		if s.txn == nil || s.implicit {
			res.notices = []notice{noTxnInProgress}
		}
		if s.implicit {
			return res, s.endImplicit(ctx, false)
		}
		if s.txn != nil {
			_ = s.txn.Rollback(ctx)
		}
		s.txn, s.status = nil, pgwire.TxnIdle
		s.savepoints, s.released, s.txnReadOnly, s.blockAsOf = nil, false, false, nil
		s.endTxnSettings(false)
		return res, nil
	case *tree.SetVar:
		if strings.EqualFold(st.Name, "role") {
			return s.setRole(ctx, st)
		}
		return s.setVar(st)
	case *tree.ShowVar:
		name := strings.ToLower(st.Name)
		if name == "all" {
			return s.showAll(), nil
		}
		v, err := s.setting(name)
		if err != nil {
			return nil, err
		}
		col := name
		if d, ok := settingDefs[name]; ok && d.reported != "" {
			col = d.reported // PostgreSQL's spelling: TimeZone, DateStyle
		}
		return &result{cols: []resultColumn{{name: col, typ: types.String}}, rows: []tree.Datums{{tree.NewDString(v)}}, tag: "SHOW"}, nil
	case *tree.Savepoint, *tree.ReleaseSavepoint, *tree.RollbackToSavepoint:
		return s.execSavepoint(ctx, stmt)
	}
	if err := s.checkReadOnly(stmt); err != nil {
		if s.txn != nil && !s.implicit {
			s.status = pgwire.TxnFailed
		}
		return nil, err
	}
	if asOf := stmtAsOf(stmt); asOf != nil {
		ts, err := s.asOfTimestamp(asOf.Expr)
		if err == nil && s.txn != nil && (s.blockAsOf == nil || ts != *s.blockAsOf) {
			err = pgerror.Unsupported("AS OF SYSTEM TIME in a transaction: give it to the block (BEGIN AS OF SYSTEM TIME ...), or run the statement on its own")
		}
		if err != nil {
			if s.txn != nil && !s.implicit {
				s.status = pgwire.TxnFailed
			}
			return nil, err
		}
		if s.txn == nil {
			// The statement's own transaction reads at ts (attempt).
			s.stmtAsOf = &ts
			defer func() { s.stmtAsOf = nil }()
		}
	}
	var res *result
	err := s.withTxn(ctx, true, func(txn kvapi.Txn) (err error) {
		res.close() // a failed attempt's, retried
		res, err = s.run(ctx, txn, stmt, nParams, params, hints)
		return err
	})
	if err != nil {
		res.close()
		return nil, err
	}
	return res, nil
}

var noTxnInProgress = notice{pgerror.SeverityWarning, pgerror.CodeNoActiveSQLTransaction, "there is no transaction in progress", ""}

// withTxn runs fn, one statement, in the transaction it belongs to: the
// open block; the implicit transaction of the query string or pipeline it
// is part of; or a transaction of its own that commits when fn returns.
// With retry, a statement that starts a transaction runs again (in a new
// one) after a retryable error (40001): nothing of it reached the client.
// A transaction that fn ends with an error (a panic included, which the
// session turns into an error) is rolled back here: left open, it would
// hold its intents, and heartbeat them, for nobody.
func (s *session) withTxn(ctx context.Context, retry bool, fn func(kvapi.Txn) error) error {
	stmtFn := fn
	fn = func(t kvapi.Txn) error {
		if lw, ok := t.(kvapi.LockWaiter); ok {
			lw.SetLockTimeout(s.duration("lock_timeout"))
		}
		return stmtFn(t)
	}
	switch {
	case s.txn != nil && !s.implicit:
		s.stmtsInBlock++
		// Failed until the statement returns: a panic leaves the block
		// failed, to be rolled back.
		s.status = pgwire.TxnFailed
		if err := fn(s.txn); err != nil {
			return err
		}
		s.status = pgwire.TxnActive
		return nil
	case s.txn != nil:
		ok := false
		defer func() {
			if !ok {
				_ = s.endImplicit(ctx, false)
			}
		}()
		if err := fn(s.txn); err != nil {
			return err
		}
		ok = true
		return nil
	}
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		err := s.attempt(ctx, fn)
		if err == nil {
			return nil
		}
		if !retry || pgerror.CodeOf(err) != pgerror.CodeSerializationFailure || attempt >= maxImplicitRetries || ctx.Err() != nil {
			return err
		}
		if !retryBackoff(ctx, &backoff) {
			return err
		}
	}
}

// attempt runs fn in a new transaction, which it commits, or, in a
// pipeline, keeps as the session's implicit transaction.
func (s *session) attempt(ctx context.Context, fn func(kvapi.Txn) error) error {
	newTxn := s.ex.newTxn
	if s.stmtAsOf != nil {
		ts := *s.stmtAsOf
		newTxn = func(ctx context.Context) (kvapi.Txn, error) { return s.historicalTxn(ctx, ts) }
	}
	txn, err := newTxn(ctx)
	if err != nil {
		return err
	}
	kept := false
	defer func() {
		if !kept {
			// Also after a cancel or timeout: the intents must go. Bounded,
			// as a closing session's: a node that is stopping may never
			// answer, and whoever meets a leftover intent cleans it up once
			// the record expires.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeRollbackTimeout)
			_ = txn.Rollback(rctx)
			cancel()
		}
	}()
	if !s.pipelined {
		s.commitsAfter = txn
	}
	err = fn(txn)
	onCommitErr := s.onCommitErr
	s.commitsAfter, s.onCommitErr = nil, nil
	if err != nil {
		return err
	}
	if s.pipelined && s.txn == nil {
		s.txn, s.implicit = txn, true
		kept = true
		return nil
	}
	if err := txn.Commit(ctx); err != nil {
		if onCommitErr == nil {
			return err
		}
		// A failed commit ends the transaction (rolled back).
		if err := onCommitErr(err); err != nil {
			return err
		}
	}
	kept = true
	return nil
}

// endImplicit ends the implicit transaction: commits it, or rolls it
// back.
func (s *session) endImplicit(ctx context.Context, commit bool) error {
	txn := s.txn
	s.txn, s.implicit = nil, false
	defer s.endXactAdvisoryLocks(ctx)
	if !commit {
		// Also after a cancel or timeout: the intents must go.
		_ = txn.Rollback(context.WithoutCancel(ctx))
		s.endTxnSettings(false)
		return nil
	}
	if err := txn.Commit(ctx); err != nil {
		_ = txn.Rollback(ctx)
		s.endTxnSettings(false)
		return err
	}
	s.endTxnSettings(true)
	return nil
}

// Sync implements pgwire.Session.
func (s *session) Sync(ctx context.Context, abort bool) (err error) {
	defer recoverInternal(&err)
	switch {
	case s.implicit:
		return s.endImplicit(ctx, !abort)
	case s.txn == nil:
		// Settings changed since the last Sync outside a block.
		s.endTxnSettings(!abort)
	case abort:
		// Any error fails the block, as in PostgreSQL, also one the
		// protocol layer found (a Bind with too few parameters, say).
		s.status = pgwire.TxnFailed
	}
	return nil
}

// run plans and runs a data statement in txn. The memory its plan holds
// goes back to the budget when it returns, whatever happens; the
// result's rows stay charged to res.mem until the result is closed.
func (s *session) run(ctx context.Context, txn kvapi.Txn, stmt tree.Statement, nParams int, params tree.Datums, hints []*types.T) (_ *result, err error) {
	if err := s.refreshNames(ctx, txn); err != nil {
		return nil, err
	}
	b := newBuilder(ctx, txn, s.names, nParams, hints)
	b.sema.DateStyle = s.dateStyleSetting() // literals are read in its order
	b.stats = s.ex.stats
	b.priv = s.newPrivChecker(ctx, txn)
	ev := stmtEvalCtx(ctx, txn, s, params)
	r := &runner{ctx: ctx, txn: txn, eval: ev, mem: s.ex.mem.NewAccount(), readOnly: writesNothing(stmt),
		autocommit: s.commitsAfter != nil && s.commitsAfter == txn && plainInsert(stmt)}
	// Taken: statements it runs inside (DROP OWNED's) do not commit after.
	s.commitsAfter = nil
	defer r.mem.Close()
	if s.ex.tempDir != "" {
		r.spill = &spillFiles{dir: s.ex.tempDir, runs: &s.ex.SpilledRuns}
		defer r.spill.close()
	}
	ev.Subquery = func(sq *tree.Subquery, row tree.Datums, all bool) (tree.Datum, error) {
		return b.runSubquery(r, sq, row, all)
	}
	if tree.CanModifySchema(stmt) {
		// A schema change claims the descriptors it reads before it
		// reads the rows under them (sql/lease).
		lease.ClaimOnRead(txn, true)
		defer lease.ClaimOnRead(txn, false)
	}
	if err := refuseIgnoredClauses(stmt); err != nil {
		return nil, err
	}
	stmt, err = s.inTempSchema(ctx, txn, stmt)
	if err != nil {
		return nil, err
	}
	if st, ok := stmt.(*privStmt); ok {
		return s.execPrivStmt(ctx, txn, b, st)
	}
	if res, ok, err := s.execRole(ctx, txn, stmt); ok {
		return res, err
	}
	if res, ok, err := s.execOwned(ctx, txn, stmt); ok {
		return res, err
	}
	if st, ok := stmt.(*tree.AlterDefaultPrivileges); ok {
		return s.alterDefaultPrivileges(ctx, txn, b, st)
	}
	if res, ok, err := s.execNamespace(ctx, txn, b, stmt); ok {
		return res, err
	}
	if st, ok := stmt.(*tree.Discard); ok {
		return s.discard(ctx, txn, b, st)
	}
	if res, ok, err := s.execNotify(ctx, txn, stmt); ok {
		return res, err
	}
	if res, ok, err := s.execAdmin(b, r, stmt); ok {
		return res, err
	}
	if res, ok, err := (schemaChanger{b}).exec(stmt, r); ok {
		return res, err
	}
	switch st := stmt.(type) {
	case *tree.Explain:
		if st.Mode != tree.ExplainPlan {
			return nil, pgerror.Unsupported("EXPLAIN (%s) is not supported yet", st.Mode)
		}
		plan, _, err := b.buildPlan(st.Statement)
		if err == nil {
			err = b.priv.checkReqs()
		}
		if err != nil {
			return nil, err
		}
		return explainResult(explainPlan(plan, b.estimatePlan(plan), nil)), nil
	case *tree.ExplainAnalyze:
		plan, _, err := b.buildPlan(st.Statement)
		if err == nil {
			err = b.priv.checkReqs()
		}
		if err != nil {
			return nil, err
		}
		ests := b.estimatePlan(plan)
		stats := map[planNode]*nodeStats{}
		top := instrument(plan, r, stats, hlc.PhysicalNow)
		for {
			row, err := top.next(r)
			if err != nil {
				return nil, err
			}
			if row == nil {
				break
			}
		}
		lines := explainPlan(plan, ests, stats)
		lines = append(lines, fmt.Sprintf("rows written: %d", r.rowsAffected))
		return explainResult(lines), nil
	case *tree.ShowTables:
		tables, err := catalog.ListTables(ctx, txn, s.names.db.ID)
		if err != nil {
			return nil, err
		}
		res := &result{cols: []resultColumn{{name: "table_name", typ: types.String}}, tag: "SHOW"}
		for _, t := range tables {
			res.rows = append(res.rows, tree.Datums{tree.NewDString(t.Name)})
		}
		return res, nil
	}
	plan, tag, err := s.planStatement(b, stmt)
	if err != nil {
		return nil, err
	}
	// The whole result is buffered before it is sent (a portal hands it
	// out over several Executes): it is charged as it grows.
	res := &result{mem: s.ex.mem.NewAccount()}
	defer func() {
		if err != nil {
			res.close()
		}
	}()
	width := len(visibleCols(plan))
	for {
		row, err := plan.next(r)
		if err != nil {
			// A DO NOTHING's row found taken where a read in the statement
			// sent its write: nothing inserted, and nothing more to do.
			taken := false
			if err = r.deferred.keyTaken(err, func() { taken = true; r.rowsAffected-- }); err != nil {
				return nil, err
			}
			if taken {
				break
			}
		}
		if row == nil {
			break
		}
		row = row[:width]
		if err := r.checkCancel(); err != nil {
			return nil, err
		}
		if err := res.mem.Grow(ctx, rowenc.DatumsSize(row)); err != nil {
			return nil, err
		}
		res.rows = append(res.rows, row)
	}
	s.ex.autoStats.noteWrites(r.written)
	switch tag {
	case "SELECT":
		res.cols = visibleCols(plan)
		res.tag = fmt.Sprintf("SELECT %d", len(res.rows))
	default:
		if returnsRows(plan) {
			res.cols = visibleCols(plan)
		}
		n := r.rowsAffected
		if tag == "INSERT" {
			res.tag = fmt.Sprintf("INSERT 0 %d", n)
		} else {
			res.tag = fmt.Sprintf("%s %d", tag, n)
		}
	}
	if d := r.deferred; d != nil {
		s.onCommitErr = func(err error) error {
			return d.keyTaken(err, func() { res.tag = fmt.Sprintf("INSERT 0 %d", r.rowsAffected-1) })
		}
	}
	return res, nil
}

// topWith is a statement's own WITH clause.
func topWith(stmt tree.Statement) *tree.With {
	switch st := stmt.(type) {
	case *tree.Select:
		return st.With
	case *tree.ParenSelect:
		return st.Select.With
	case *tree.Insert:
		return st.With
	case *tree.Update:
		return st.With
	case *tree.Delete:
		return st.With
	}
	return nil
}

// returnsRows reports whether plan, a write, returns rows (RETURNING: a
// render over the write), under its data-modifying WITH queries too.
func returnsRows(plan planNode) bool {
	if w, ok := plan.(*withDMLNode); ok {
		plan = w.main
	}
	_, ok := plan.(*renderNode)
	return ok
}

func visibleCols(p planNode) []resultColumn {
	cols := p.columns()
	n := len(cols)
	for n > 0 && cols[n-1].hidden && cols[n-1].name == "?order?" {
		n--
	}
	return cols[:n]
}

// buildPlan plans a statement that produces rows or writes them, and
// returns its command tag's verb.
func (b *builder) buildPlan(stmt tree.Statement) (planNode, string, error) {
	b.topWith = topWith(stmt)
	switch st := stmt.(type) {
	case *tree.Select:
		p, err := b.buildSelect(st)
		return p, "SELECT", err
	case *tree.Insert:
		p, err := b.buildInsert(st)
		return p, "INSERT", err
	case *tree.Update:
		p, err := b.buildUpdate(st)
		return p, "UPDATE", err
	case *tree.Delete:
		p, err := b.buildDelete(st)
		return p, "DELETE", err
	case *tree.ParenSelect:
		p, err := b.buildSelect(st.Select)
		return p, "SELECT", err
	}
	return nil, "", pgerror.Unsupported("%s is not supported yet", stmt.StatementTag())
}

// Prepare implements pgwire.Session.
func (s *session) Prepare(ctx context.Context, query string, paramOIDs []uint32) (_ pgwire.Statement, err error) {
	defer recoverInternal(&err)
	lex := s.literalLexing(query)
	stmts, err := parseRewritten(query, lex, parseGrammar)
	if err != nil {
		return nil, sem.WithParserCode(err)
	}
	if len(stmts) > 1 {
		return nil, pgerror.New(pgerror.CodeSyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	ps := &prepared{s: s}
	if min, _ := s.setting("client_min_messages"); min != "error" {
		ps.parseNotices = lex.warnings
	}
	if len(stmts) == 0 {
		return ps, nil
	}
	ps.ast, ps.nParams, ps.sql = stmts[0].AST, stmts[0].NumPlaceholders, query
	ps.hints = make([]*types.T, ps.nParams)
	for i, o := range paramOIDs {
		if i >= ps.nParams {
			break
		}
		if o != 0 {
			t, ok := types.OidToType[oid.Oid(o)]
			if !ok && o > catalog.TypeOIDBase {
				// A user-defined type: its members are read where the
				// statement is described (resolveTypeHints).
				t, ok = types.MakeEnum(oid.Oid(o), 0), true
			}
			if !ok {
				return nil, pgerror.Unsupported("parameter $%d has unsupported type OID %d", i+1, o)
			}
			ps.hints[i] = t
		}
	}
	if err := ps.describe(ctx); err != nil {
		return nil, err
	}
	return ps, nil
}

// prepared is a prepared statement: its AST, parameter types and result
// columns, and the plan kept from an execution (plan_cache.go).
type prepared struct {
	plan    *cachedPlan
	s       *session
	sql     string         // its text, as pg_stat_activity shows it
	ast     tree.Statement // nil: an empty query
	nParams int
	hints   []*types.T
	params  []*types.T
	cols    []resultColumn
	// parseNotices are the lexer's warnings (pgwire.ParseNoticer).
	parseNotices []pgwire.Notice
}

// ParseNotices implements pgwire.ParseNoticer.
func (ps *prepared) ParseNotices() []pgwire.Notice { return ps.parseNotices }

// describe plans the statement once to learn its parameter and result
// types, in the session's transaction or a throwaway one.
func (ps *prepared) describe(ctx context.Context) error {
	ps.params = make([]*types.T, ps.nParams)
	switch ps.ast.(type) {
	case *tree.Select, *tree.Insert, *tree.Update, *tree.Delete, *tree.ParenSelect:
	default:
		for i := range ps.params {
			ps.params[i] = types.String
		}
		switch st := ps.ast.(type) {
		case *tree.ShowVar:
			ps.cols = []resultColumn{{name: strings.ToLower(st.Name), typ: types.String}}
		case *tree.ShowTables:
			ps.cols = []resultColumn{{name: "table_name", typ: types.String}}
		case *tree.Explain, *tree.ExplainAnalyze:
			ps.cols = []resultColumn{{name: "QUERY PLAN", typ: types.String}}
		case *tree.ShowRanges:
			ps.cols = showRangesCols
		case *tree.Split:
			ps.cols = splitCols
		case *tree.Unsplit:
			ps.cols = unsplitCols
		case *tree.RelocateRange:
			ps.cols = relocateCols
		case *tree.Scatter:
			ps.cols = scatterCols
		case *tree.ShowZoneConfig:
			ps.cols = showZoneCols
		case *tree.ShowClusterSettingList:
			ps.cols = showSettingsCols
		case *tree.ShowTableStats:
			ps.cols = showStatsCols
			if st.UsingJSON {
				ps.cols = showStatsJSONCols
			}
		case *tree.ShowClusterSetting:
			if set, err := lookupSetting(st.Name); err == nil {
				ps.cols = []resultColumn{{name: set.Name, typ: settingColType(set)}}
			}
		}
		return nil
	}
	txn := ps.s.txn
	if txn == nil || ps.s.status == pgwire.TxnFailed {
		newTxn := ps.s.ex.newTxn
		if asOf := stmtAsOf(ps.ast); asOf != nil && txn == nil {
			// Described as it will run: at that time, in its schema.
			ts, err := ps.s.asOfTimestamp(asOf.Expr)
			if err != nil {
				return err
			}
			newTxn = func(ctx context.Context) (kvapi.Txn, error) { return ps.s.historicalTxn(ctx, ts) }
		}
		t, err := newTxn(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = t.Rollback(ctx) }()
		txn = t
	}
	if err := ps.s.refreshNames(ctx, txn); err != nil {
		return err
	}
	for i, t := range ps.hints {
		if t != nil && t.Family() == types.EnumFamily && t.TypeMeta.EnumData == nil {
			d, err := catalog.GetTypeByID(ctx, txn, catalog.TypeIDOfOID(t.Oid()))
			if err != nil {
				return err
			}
			if d == nil {
				return pgerror.Newf("42704", "type with OID %d does not exist", t.Oid())
			}
			ps.hints[i] = d.T()
		}
	}
	b := newBuilder(ctx, txn, ps.s.names, ps.nParams, ps.hints)
	b.sema.DateStyle = ps.s.dateStyleSetting()
	plan, tag, err := b.buildPlan(ps.ast)
	if err != nil {
		return err
	}
	for i, t := range b.sema.Placeholders.Types {
		if t == nil {
			t = ps.hints[i]
		}
		if t == nil {
			return pgerror.Newf("42P18", "could not determine data type of placeholder $%d", i+1)
		}
		ps.params[i] = t
	}
	if tag == "SELECT" || returnsRows(plan) {
		ps.cols = visibleCols(plan)
	}
	return nil
}

func (ps *prepared) ParamTypes() []uint32 {
	out := make([]uint32, len(ps.params))
	for i, t := range ps.params {
		out[i] = uint32(t.Oid())
	}
	return out
}

func (ps *prepared) Columns() []pgwire.Column {
	if ps.cols == nil {
		return nil
	}
	return wireColumns(ps.cols, nil)
}

func (ps *prepared) Close() {}

func (ps *prepared) Bind(ctx context.Context, params [][]byte, paramFormats, resultFormats []int16) (_ pgwire.Portal, err error) {
	defer recoverInternal(&err)
	ev := &sem.EvalCtx{Ctx: ctx, StmtTime: ps.s.ex.now(), Location: ps.s.location(), DateStyle: ps.s.dateStyleSetting(), ByteaEscape: ps.s.byteaEscape()}
	p := &portal{ps: ps, formats: resultFormats, params: make(tree.Datums, len(params))}
	for i, v := range params {
		d, err := pgformat.DecodeParam(v, ps.params[i], formatOf(paramFormats, i), ev.ParseContext())
		if err != nil {
			return nil, errors.Wrapf(err, "parameter $%d", i+1)
		}
		p.params[i] = d
	}
	return p, nil
}

// portal is a bound statement. It runs at its first Execute; the rows are
// then handed out in as many Executes as the client asks for.
type portal struct {
	ps      *prepared
	params  tree.Datums
	formats []int16
	res     *result
	sent    int
}

func (p *portal) Columns() []pgwire.Column {
	if p.ps.cols == nil {
		return nil
	}
	return wireColumns(p.ps.cols, p.formats)
}

func (p *portal) Close() { p.res.close() }

func (p *portal) Execute(ctx context.Context, maxRows int, syncNext bool, w pgwire.ResultWriter) (_ bool, err error) {
	p.ps.s.beginStatement(p.ps.sql)
	defer p.ps.s.endStatement()
	defer recoverInternal(&err)
	if p.ps.ast == nil {
		w.EmptyQuery()
		return false, nil
	}
	if p.res == nil {
		hints := make([]*types.T, len(p.ps.params))
		copy(hints, p.ps.params)
		// Statements up to the next Sync share an implicit transaction;
		// one alone up to it commits on its own, as a simple query's lone
		// statement does (retried after a 40001, its commit's included;
		// and an INSERT's key check goes with that commit).
		s := p.ps.s
		s.pipelined = !syncNext
		defer func() { s.pipelined = false }()
		s.executing = p.ps
		var res *result
		if cf, ok := p.ps.ast.(*copyFileStmt); ok {
			// A server file needs no COPY subprotocol: it runs in the
			// extended protocol too, as in PostgreSQL.
			res, err = s.copyFile(ctx, cf, w)
		} else {
			res, err = s.execStmt(ctx, p.ps.ast, p.ps.nParams, p.params, hints)
		}
		s.executing = nil
		if err != nil {
			return false, err
		}
		for _, n := range res.notices {
			w.Notice(n.wire())
		}
		for _, kv := range res.paramStatus {
			w.ParameterStatus(kv[0], kv[1])
		}
		p.res = res
	}
	st := p.ps.s.outStyle()
	for n := 0; p.sent < len(p.res.rows); n++ {
		if maxRows > 0 && n == maxRows {
			return true, nil
		}
		vals, err := encodeRow(p.res.rows[p.sent], p.res.cols, p.formats, st)
		if err != nil {
			return false, err
		}
		if err := w.Row(vals); err != nil {
			return false, err
		}
		p.sent++
	}
	w.Complete(p.res.tag)
	// Every row is sent: a portal executed once more only completes again,
	// so the rows and their memory go.
	p.res.close()
	p.res.rows, p.sent = nil, 0
	return false, nil
}
