package pgwire

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// conn is one client connection. Only its own goroutine touches it, except
// for cancelQuery and the notifications (notify, notifier).
type conn struct {
	s  *Server
	nc net.Conn
	be *pgproto3.Backend
	bw *bufio.Writer
	// out is what bw writes to: the connection, counting the bytes that
	// went out (see resultWriter.Rewind).
	out *countingWriter
	err error // the first write error; the connection is then dead
	// ahead is a message (or aheadErr the error) read ahead by syncNext,
	// which receive returns before reading on.
	ahead    pgproto3.FrontendMessage
	aheadErr error

	pid, secret uint32
	sess        Session

	cancelMu sync.Mutex
	// cancelFn cancels the query running now, if any.
	cancelFn context.CancelFunc

	stmts   map[string]Statement
	portals map[string]Portal
	// deallocated are the statements DEALLOCATE closed, closed once the
	// message that ran it is done (all: every one).
	deallocated    []string
	deallocatedAll bool
	// skipToSync is set after an error in the extended protocol: every
	// message up to the next Sync is discarded.
	skipToSync bool
	// copying is the COPY FROM STDIN in progress, if any.
	copying *copyReader
	// ready: the last message sent was ReadyForQuery; the session's idle
	// timeouts apply to the wait for the next one.
	ready bool

	// Notifications (LISTEN/NOTIFY) arrive from other goroutines:
	// pending holds them (pendingMu) until the next ReadyForQuery outside
	// a transaction block, or until the notifier goroutine (started with
	// the first) writes them while the loop waits idle outside one
	// (idleOutside). writeMu keeps the two writers apart; the one who
	// delivers a notification never waits for the socket.
	pendingMu   sync.Mutex
	pending     []Notification
	notifyKick  chan struct{}
	writeMu     sync.Mutex
	idleOutside bool
	// waiting: the loop waits for the next message after a
	// ReadyForQuery (writeMu); terminating: pg_terminate_backend asked the
	// connection to end (stateMu).
	waiting     bool
	terminating bool
	told        bool          // the client was sent the FATAL error of a termination
	done        chan struct{} // closed when the connection ends

	stateMu sync.Mutex
	// busy is set while a message is handled; closing once a drain has
	// closed the idle connection (the loop then ends without handling
	// what it read).
	busy, closing bool
}

// closeIfIdle closes the connection if it waits for a message outside a
// transaction block; a busy one closes itself when it gets there (see
// loop).
func (c *conn) closeIfIdle() {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	if !c.busy && c.sess != nil && c.sess.TxnStatus() == TxnIdle && !c.closing {
		c.closing = true
		_ = c.nc.Close()
	}
}

// errConnDone ends a connection's loop without an error to report.
var errConnDone = errors.New("connection done")

func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	// Closing the socket unblocks a read when the server stops.
	stopClose := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stopClose()
	defer func() { _ = nc.Close() }()

	c := &conn{s: s, nc: nc, stmts: map[string]Statement{}, portals: map[string]Portal{}, done: make(chan struct{})}
	defer close(c.done)
	c.setConn(nc)
	args, ok := c.startup(ctx)
	if !ok {
		return
	}
	if s.isDraining() {
		c.fatal(pgerror.New(pgerror.CodeCannotConnectNow, "the node is shutting down"))
		return
	}
	if !s.register(c) {
		c.fatal(pgerror.New(pgerror.CodeTooManyConnections, "sorry, too many clients already"))
		return
	}
	defer s.unregister(c)
	s.cfg.Observer.ConnOpened()
	defer s.cfg.Observer.ConnClosed()
	if err := c.authenticate(ctx, args); err != nil {
		c.fatal(err)
		return
	}
	args.ProcessID, args.ServerVersion, args.Notify = c.pid, s.cfg.ServerVersion, c.notify
	args.Cancel, args.Terminate, args.Deallocate = c.cancelQuery, c.terminate, c.deallocate
	var warnings []*pgproto3.NoticeResponse
	args.Warn = func(code pgerror.Code, msg string) {
		warnings = append(warnings, &pgproto3.NoticeResponse{
			Severity: string(pgerror.SeverityWarning), SeverityUnlocalized: string(pgerror.SeverityWarning), Code: string(code), Message: msg})
	}
	sess, err := s.cfg.Executor.NewSession(ctx, args)
	if err != nil {
		c.fatal(err)
		return
	}
	c.sess = sess
	defer func() {
		for _, p := range c.portals {
			p.Close()
		}
		for _, st := range c.stmts {
			st.Close()
		}
		sess.Close()
	}()
	c.send(&pgproto3.AuthenticationOk{})
	for _, w := range warnings {
		c.send(w)
	}
	// The settings a client may have set at startup are reported as the
	// session took them.
	setting := func(name, def string) string {
		if st, ok := sess.(interface {
			Setting(name string) (string, error)
		}); ok {
			if v, err := st.Setting(name); err == nil {
				return v
			}
		}
		return def
	}
	for _, kv := range [][2]string{
		{"server_version", s.cfg.ServerVersion},
		{"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"},
		{"DateStyle", setting("datestyle", "ISO, MDY")},
		{"IntervalStyle", "postgres"},
		{"TimeZone", setting("timezone", "UTC")},
		{"integer_datetimes", "on"},
		{"standard_conforming_strings", setting("standard_conforming_strings", "on")},
		{"is_superuser", "on"},
		{"session_authorization", args.User},
		{"application_name", args.Params["application_name"]},
	} {
		c.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
	}
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: binary.BigEndian.AppendUint32(nil, c.secret)})
	c.readyForQuery()
	if err := c.loop(ctx); err != nil && !errors.Is(err, errConnDone) && c.err == nil {
		c.fatal(err)
	}
}

// setConn (re)builds the message codec over nc, as after a TLS upgrade.
func (c *conn) setConn(nc net.Conn) {
	c.nc = nc
	c.out = &countingWriter{w: nc}
	c.bw = bufio.NewWriterSize(c.out, 32<<10)
	c.be = pgproto3.NewBackend(nc, c.bw)
	c.be.SetMaxBodyLen(c.s.cfg.MaxMessageSize)
}

// startup handles the messages before the session: encryption requests,
// a cancel request (which ends the connection), and the startup message.
func (c *conn) startup(ctx context.Context) (SessionArgs, bool) {
	tlsDone := false
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if !isDisconnect(err) {
				c.fatal(pgerror.Newf(pgerror.CodeProtocolViolation, "invalid startup packet: %v", err))
			}
			return SessionArgs{}, false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.s.cfg.TLS == nil || tlsDone {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return SessionArgs{}, false
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return SessionArgs{}, false
			}
			tc := tls.Server(c.nc, c.s.cfg.TLS)
			if err := tc.HandshakeContext(ctx); err != nil {
				return SessionArgs{}, false
			}
			tlsDone = true
			c.setConn(tc)
		case *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return SessionArgs{}, false
			}
		case *pgproto3.CancelRequest:
			c.s.cancel(m.ProcessID, cancelKey(m.SecretKey))
			return SessionArgs{}, false
		case *pgproto3.StartupMessage:
			args := SessionArgs{Params: map[string]string{}, RemoteAddr: c.nc.RemoteAddr()}
			var unsupported []string
			for k, v := range m.Parameters {
				if strings.HasPrefix(k, "_pq_.") {
					unsupported = append(unsupported, k)
					continue
				}
				args.Params[k] = v
			}
			args.User = args.Params["user"]
			args.Database = args.Params["database"]
			if args.Database == "" {
				args.Database = args.User
			}
			if args.User == "" {
				c.fatal(pgerror.New(pgerror.CodeInvalidAuthorization, "no PostgreSQL user name specified in startup packet"))
				return SessionArgs{}, false
			}
			if c.s.cfg.RequireTLS && !tlsDone {
				c.fatal(pgerror.Newf(pgerror.CodeInvalidAuthorization,
					"this node accepts only TLS connections: connect with sslmode=require or stronger (user %q)", args.User))
				return SessionArgs{}, false
			}
			if m.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unsupported) > 0 {
				// We speak 3.0: tell a client asking for more, and name the
				// protocol options we ignore.
				c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unsupported})
			}
			return args, true
		default:
			c.fatal(pgerror.Newf(pgerror.CodeProtocolViolation, "unexpected startup message %T", msg))
			return SessionArgs{}, false
		}
	}
}

// cancelKey reads a cancel request's secret key, which is four bytes in
// protocol 3.0.
func cancelKey(b []byte) uint32 {
	if len(b) != 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// loop reads and answers messages until the client leaves or the
// connection fails.
func (c *conn) loop(ctx context.Context) error {
	for {
		c.stateMu.Lock()
		c.busy = false
		c.stateMu.Unlock()
		if c.s.isDraining() {
			c.closeIfIdle()
		}
		// A connection is idle only once it said it is ready: in a
		// pipeline the client may take its time before the next message.
		var idle time.Duration
		var idleErr error
		if c.ready {
			idle, idleErr = c.sess.IdleTimeout()
		}
		if c.ahead != nil || c.aheadErr != nil {
			idle = 0
		}
		if idle > 0 {
			_ = c.nc.SetReadDeadline(hlc.PhysicalNow().Add(idle))
		}
		msg, err := c.receive()
		c.writeMu.Lock()
		c.idleOutside, c.waiting = false, false
		c.writeMu.Unlock()
		c.ready = false
		if idle > 0 {
			_ = c.nc.SetReadDeadline(time.Time{})
		}
		c.stateMu.Lock()
		closing := c.closing
		c.busy = !closing
		c.stateMu.Unlock()
		if closing {
			return errConnDone
		}
		if err != nil {
			if isDisconnect(err) || ctx.Err() != nil {
				return errConnDone
			}
			if idle > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
				// The session closes (its transaction rolled back) as the
				// connection ends.
				return idleErr
			}
			var tooBig *pgproto3.ExceededMaxBodyLenErr
			if errors.As(err, &tooBig) {
				return pgerror.Newf(pgerror.CodeProgramLimitExceeded,
					"message of %d bytes exceeds the limit of %d bytes", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen)
			}
			return pgerror.Newf(pgerror.CodeProtocolViolation, "invalid message: %v", err)
		}
		if c.skipToSync {
			switch msg.(type) {
			case *pgproto3.Sync:
				c.skipToSync = false
				c.sync(ctx, true)
			case *pgproto3.Terminate:
				return errConnDone
			}
			continue
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(ctx, m.String)
			c.readyForQuery()
		case *pgproto3.Parse:
			c.extended(c.parse(ctx, m))
		case *pgproto3.Bind:
			c.extended(c.bind(ctx, m))
		case *pgproto3.Describe:
			c.extended(c.describe(m))
		case *pgproto3.Execute:
			c.extended(c.execute(ctx, m))
		case *pgproto3.Close:
			c.extended(c.closeObject(m))
		case *pgproto3.Sync:
			c.sync(ctx, false)
		case *pgproto3.Flush:
			c.flush()
		case *pgproto3.Terminate:
			return errConnDone
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Stray COPY messages after a COPY ended with an error are
			// ignored, as PostgreSQL does.
		case *pgproto3.FunctionCall:
			c.sendError(pgerror.New(pgerror.CodeFeatureNotSupported, "the function call protocol is not supported"))
			c.readyForQuery()
		default:
			return pgerror.Newf(pgerror.CodeProtocolViolation, "unexpected message %T", msg)
		}
		c.closeDeallocated()
		if c.err != nil {
			return errConnDone
		}
		c.stateMu.Lock()
		terminating := c.terminating
		c.stateMu.Unlock()
		if terminating && c.told {
			return errConnDone
		}
		if terminating {
			return errTerminated
		}
	}
}

// receive returns the client's next message: the one read ahead, if any.
// Like the backend's, a message is valid until the next receive.
func (c *conn) receive() (pgproto3.FrontendMessage, error) {
	if c.ahead != nil || c.aheadErr != nil {
		msg, err := c.ahead, c.aheadErr
		c.ahead, c.aheadErr = nil, nil
		return msg, err
	}
	return c.be.Receive()
}

// syncNext reports whether the client's next message is a Sync that has
// already arrived, reading it ahead without waiting for more: an Execute
// followed by its Sync is an implicit transaction of one statement, which
// commits within the Execute (see Portal.Execute). A message not yet
// (wholly) here is not waited for: a client may send Execute and Flush
// and wait for the rows before it sends more.
func (c *conn) syncNext() bool {
	if c.ahead == nil && c.aheadErr == nil {
		// A deadline in the past: the read returns what the connection
		// holds already, or times out at once; a message cut short stays
		// with the backend for the next read.
		_ = c.nc.SetReadDeadline(time.Unix(1, 0))
		msg, err := c.be.Receive()
		_ = c.nc.SetReadDeadline(time.Time{})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		c.ahead, c.aheadErr = msg, err
	}
	_, ok := c.ahead.(*pgproto3.Sync)
	return ok
}

// extended reports an extended-protocol message's error, after which the
// protocol skips to the next Sync.
func (c *conn) extended(err error) {
	if err != nil {
		c.sendError(err)
		c.skipToSync = true
	}
}

// sync ends the extended protocol's implicit transaction (committed, or
// with abort rolled back: an error was reported since the last Sync) and
// tells the client the session is ready.
func (c *conn) sync(ctx context.Context, abort bool) {
	qctx, done := c.queryContext(ctx)
	if err := c.sess.Sync(qctx, abort); err != nil {
		c.sendError(canceledAs(qctx, err))
	}
	done()
	c.endExtended()
	c.readyForQuery()
}

// endExtended closes the portals, which live until the next Sync outside
// a transaction block.
func (c *conn) endExtended() {
	if c.sess.TxnStatus() == TxnIdle {
		for name, p := range c.portals {
			p.Close()
			delete(c.portals, name)
		}
	}
}

// queryContext returns the context of one query, which a cancel request
// for this connection cancels.
func (c *conn) queryContext(ctx context.Context) (context.Context, func()) {
	qctx, cancel := context.WithCancel(ctx)
	c.cancelMu.Lock()
	c.cancelFn = cancel
	c.cancelMu.Unlock()
	return qctx, func() {
		c.cancelMu.Lock()
		c.cancelFn = nil
		c.cancelMu.Unlock()
		cancel()
	}
}

func (c *conn) cancelQuery() {
	c.cancelMu.Lock()
	defer c.cancelMu.Unlock()
	if c.cancelFn != nil {
		c.cancelFn()
	}
}

func (c *conn) simpleQuery(ctx context.Context, query string) {
	qctx, done := c.queryContext(ctx)
	defer done()
	w := newResultWriter(c, true)
	err := c.sess.ExecSimple(qctx, query, w)
	if r := c.copying; r != nil {
		// A COPY that stopped early (bad data, say): the client sends
		// the rest anyway; read it away up to its CopyDone or CopyFail,
		// and only then answer.
		c.copying = nil
		buf := make([]byte, 32<<10)
		for r.done == nil {
			if _, rerr := r.Read(buf); rerr != nil {
				break
			}
		}
		if err == nil && r.done != io.EOF {
			err = r.done
		}
	}
	if err != nil {
		w.failed(err)
		c.sendError(canceledAs(qctx, err))
	}
}

func (c *conn) parse(ctx context.Context, m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, ok := c.stmts[m.Name]; ok {
			return pgerror.Newf(pgerror.CodeDuplicatePreparedStatement, "prepared statement %q already exists", m.Name)
		}
	}
	qctx, done := c.queryContext(ctx)
	defer done()
	st, err := c.sess.Prepare(qctx, m.Query, m.ParameterOIDs)
	if err != nil {
		return canceledAs(qctx, err)
	}
	if pn, ok := st.(ParseNoticer); ok {
		for _, n := range pn.ParseNotices() {
			c.send(n.response())
		}
	}
	if old := c.stmts[m.Name]; old != nil {
		old.Close() // the unnamed statement is replaced
	}
	c.stmts[m.Name] = st
	c.send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) bind(ctx context.Context, m *pgproto3.Bind) error {
	st := c.stmts[m.PreparedStatement]
	if st == nil {
		return pgerror.Newf(pgerror.CodeInvalidSQLStatementName, "prepared statement %q does not exist", m.PreparedStatement)
	}
	if m.DestinationPortal != "" {
		if _, ok := c.portals[m.DestinationPortal]; ok {
			return pgerror.Newf(pgerror.CodeDuplicateCursor, "portal %q already exists", m.DestinationPortal)
		}
	}
	if n, want := len(m.Parameters), len(st.ParamTypes()); n != want {
		return pgerror.Newf(pgerror.CodeProtocolViolation,
			"bind message supplies %d parameters, but prepared statement %q requires %d", n, m.PreparedStatement, want)
	}
	if err := checkFormats(m.ParameterFormatCodes, len(m.Parameters), "parameter"); err != nil {
		return err
	}
	if err := checkFormats(m.ResultFormatCodes, len(st.Columns()), "result"); err != nil {
		return err
	}
	qctx, done := c.queryContext(ctx)
	defer done()
	p, err := st.Bind(qctx, m.Parameters, m.ParameterFormatCodes, m.ResultFormatCodes)
	if err != nil {
		return canceledAs(qctx, err)
	}
	if old := c.portals[m.DestinationPortal]; old != nil {
		old.Close()
	}
	c.portals[m.DestinationPortal] = p
	c.send(&pgproto3.BindComplete{})
	return nil
}

// checkFormats checks a Bind message's format codes: none, one for all,
// or one per value; each 0 (text) or 1 (binary).
func checkFormats(codes []int16, n int, what string) error {
	if len(codes) > 1 && len(codes) != n {
		return pgerror.Newf(pgerror.CodeProtocolViolation, "bind message has %d %s formats but %d %ss", len(codes), what, n, what)
	}
	for _, f := range codes {
		if f != 0 && f != 1 {
			return pgerror.Newf(pgerror.CodeProtocolViolation, "unsupported format code: %d", f)
		}
	}
	return nil
}

func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		st := c.stmts[m.Name]
		if st == nil {
			return pgerror.Newf(pgerror.CodeInvalidSQLStatementName, "prepared statement %q does not exist", m.Name)
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: st.ParamTypes()})
		c.sendRowDescription(st.Columns())
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			return pgerror.Newf(pgerror.CodeInvalidCursorName, "portal %q does not exist", m.Name)
		}
		c.sendRowDescription(p.Columns())
	default:
		return pgerror.Newf(pgerror.CodeProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) error {
	p := c.portals[m.Portal]
	if p == nil {
		return pgerror.Newf(pgerror.CodeInvalidCursorName, "portal %q does not exist", m.Portal)
	}
	// Read m before reading ahead: the backend reuses its messages.
	maxRows := int(m.MaxRows)
	syncNext := c.syncNext()
	qctx, done := c.queryContext(ctx)
	defer done()
	w := newResultWriter(c, false)
	suspended, err := p.Execute(qctx, maxRows, syncNext, w)
	if err != nil {
		w.failed(err)
		return canceledAs(qctx, err)
	}
	if suspended {
		c.send(&pgproto3.PortalSuspended{})
	}
	return nil
}

func (c *conn) closeObject(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		if st := c.stmts[m.Name]; st != nil {
			st.Close()
			delete(c.stmts, m.Name)
		}
	case 'P':
		if p := c.portals[m.Name]; p != nil {
			p.Close()
			delete(c.portals, m.Name)
		}
	default:
		return pgerror.Newf(pgerror.CodeProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	// Closing what does not exist is not an error.
	c.send(&pgproto3.CloseComplete{})
	return nil
}

// deallocate is SessionArgs.Deallocate: the statement (every one, for
// "") is closed after the message that runs the DEALLOCATE, which may
// itself be executing one of them.
func (c *conn) deallocate(name string) bool {
	if name == "" {
		c.deallocatedAll = true
		return true
	}
	if c.stmts[name] == nil {
		return false
	}
	c.deallocated = append(c.deallocated, name)
	return true
}

func (c *conn) closeDeallocated() {
	if c.deallocatedAll {
		for name, st := range c.stmts {
			st.Close()
			delete(c.stmts, name)
		}
	}
	for _, name := range c.deallocated {
		if st := c.stmts[name]; st != nil {
			st.Close()
			delete(c.stmts, name)
		}
	}
	c.deallocated, c.deallocatedAll = nil, false
}

func (c *conn) sendRowDescription(cols []Column) {
	if cols == nil {
		c.send(&pgproto3.NoData{})
		return
	}
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(cols))}
	for i, col := range cols {
		rd.Fields[i] = pgproto3.FieldDescription{
			Name: []byte(col.Name), TableOID: col.TableOID, TableAttributeNumber: col.TableAttr,
			DataTypeOID: col.TypeOID, DataTypeSize: col.TypeSize, TypeModifier: col.TypeMod, Format: col.Format,
		}
	}
	c.send(rd)
}

// canceledAs turns the error of a query whose context a cancel request
// ended into PostgreSQL's message for it. A layer below may report the
// cancellation in its own terms (a gRPC Canceled status, say, which
// carries no SQLSTATE): an error without a code of its own is taken as
// the cancellation it most likely is.
func canceledAs(qctx context.Context, err error) error {
	if code := pgerror.CodeOf(err); qctx.Err() != nil && (code == pgerror.CodeQueryCanceled || code == pgerror.CodeInternalError) {
		return pgerror.New(pgerror.CodeQueryCanceled, "canceling statement due to user request")
	}
	return err
}

func (c *conn) readyForQuery() {
	st := TxnIdle
	if c.sess != nil {
		st = c.sess.TxnStatus()
	}
	c.writeMu.Lock()
	if st == TxnIdle {
		c.sendPending()
	}
	if r, ok := c.sess.(ParameterReporter); ok {
		for _, kv := range r.ChangedParameters() {
			c.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
		}
	}
	c.send(&pgproto3.ReadyForQuery{TxStatus: byte(st)})
	c.flush()
	c.idleOutside, c.waiting = st == TxnIdle, true
	c.writeMu.Unlock()
	c.ready = true
}

// errTerminated ends a connection pg_terminate_backend ended.
var errTerminated = pgerror.New(pgerror.CodeAdminShutdown, "terminating connection due to administrator command")

// terminate ends the connection (SessionArgs.Terminate, from any
// goroutine): a connection waiting for a message gets FATAL 57P01 and
// closes now; a busy one has its query cancelled and ends, with the same
// error, once the message it handles is done.
func (c *conn) terminate() {
	c.stateMu.Lock()
	c.terminating = true
	c.stateMu.Unlock()
	c.cancelQuery()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if !c.waiting {
		return
	}
	c.send(errorResponse(errTerminated, pgerror.SeverityFatal))
	c.flush()
	c.stateMu.Lock()
	c.closing = true
	c.stateMu.Unlock()
	_ = c.nc.Close()
}

// notify delivers a notification (SessionArgs.Notify) from any goroutine,
// without waiting: it is written before the next ReadyForQuery outside a
// transaction block, or by the notifier at once if the connection waits
// idle outside one.
func (c *conn) notify(n Notification) {
	c.pendingMu.Lock()
	c.pending = append(c.pending, n)
	kick := c.notifyKick
	if kick == nil {
		kick = make(chan struct{}, 1)
		c.notifyKick = kick
		if err := c.s.stopper.RunAsyncTask("pgwire-notifier", func(ctx context.Context) { c.notifier(ctx, kick) }); err != nil {
			c.notifyKick = nil // stopping: the next ReadyForQuery, if any, delivers
		}
	}
	c.pendingMu.Unlock()
	select {
	case kick <- struct{}{}:
	default:
	}
}

// notifier writes the pending notifications whenever it is kicked while
// the connection waits idle outside a transaction block, until the
// connection ends.
func (c *conn) notifier(ctx context.Context, kick chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-kick:
		}
		c.writeMu.Lock()
		if c.idleOutside {
			c.sendPending()
			c.flush()
		}
		c.writeMu.Unlock()
	}
}

// sendPending sends the notifications waiting for delivery; writeMu is
// held.
func (c *conn) sendPending() {
	c.pendingMu.Lock()
	ns := c.pending
	c.pending = nil
	c.pendingMu.Unlock()
	for _, n := range ns {
		c.send(notificationResponse(n))
	}
}

func notificationResponse(n Notification) *pgproto3.NotificationResponse {
	return &pgproto3.NotificationResponse{PID: n.PID, Channel: n.Channel, Payload: n.Payload}
}

// send queues a message; a write error is kept and ends the connection.
func (c *conn) send(m pgproto3.BackendMessage) {
	if c.err != nil {
		return
	}
	c.be.Send(m)
	// Hand the message to the buffered writer, which writes to the socket
	// whenever 32 KiB have gathered, so a large result streams out.
	if err := c.be.Flush(); err != nil {
		c.err = err
	}
}

func (c *conn) flush() {
	if c.err != nil {
		return
	}
	if err := c.bw.Flush(); err != nil {
		c.err = err
	}
}

func (c *conn) sendError(err error) {
	c.stateMu.Lock()
	terminating := c.terminating
	c.stateMu.Unlock()
	if terminating {
		// The statement failed because pg_terminate_backend cancelled
		// it: the client hears why, as from PostgreSQL, and the loop ends.
		c.send(errorResponse(errTerminated, pgerror.SeverityFatal))
		c.flush()
		c.told = true
		return
	}
	c.send(errorResponse(err, pgerror.SeverityError))
}

// fatal reports err and leaves the connection to be closed.
func (c *conn) fatal(err error) {
	c.send(errorResponse(err, pgerror.SeverityFatal))
	c.flush()
}

func errorResponse(err error, sev pgerror.Severity) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{
		Severity:            string(sev),
		SeverityUnlocalized: string(sev),
		Code:                string(pgerror.CodeOf(err)),
		Message:             err.Error(),
		Detail:              pgerror.DetailOf(err),
		Hint:                pgerror.HintOf(err),
		Position:            int32(pgerror.PositionOf(err)),
	}
}

func isDisconnect(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// resultWriter writes a statement's results to the connection.
type resultWriter struct {
	c      *conn
	simple bool
	// start is when the statement being written started.
	start time.Time
	// markSent and markBuffered are the output at the last Mark: bytes
	// sent, bytes buffered.
	markSent     int64
	markBuffered int
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	return n, err
}

var _ Rewinder = (*resultWriter)(nil)

func (w *resultWriter) Mark() {
	w.markSent, w.markBuffered = w.c.out.n, w.c.bw.Buffered()
}

// Rewind drops the buffered output if all of it came after the mark and
// none went out since (the buffer holds 32 KiB: a query string's answer
// up to that size).
func (w *resultWriter) Rewind() bool {
	c := w.c
	if c.err != nil || c.out.n != w.markSent || w.markBuffered != 0 {
		return false
	}
	c.bw.Reset(c.out)
	return true
}

func newResultWriter(c *conn, simple bool) *resultWriter {
	return &resultWriter{c: c, simple: simple, start: hlc.PhysicalNow()}
}

var _ ResultWriter = (*resultWriter)(nil)

func (w *resultWriter) Columns(cols []Column) {
	if w.simple && cols != nil {
		w.c.sendRowDescription(cols)
	}
}

func (w *resultWriter) Row(vals [][]byte) error {
	w.c.send(&pgproto3.DataRow{Values: vals})
	return w.c.err
}

func (w *resultWriter) Complete(tag string) {
	w.c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	now := hlc.PhysicalNow()
	w.c.s.cfg.Observer.StatementDone(tag, now.Sub(w.start), nil)
	w.start = now
}

// failed reports a statement that ended in err.
func (w *resultWriter) failed(err error) {
	w.c.s.cfg.Observer.StatementDone("", hlc.PhysicalNow().Sub(w.start), err)
}

func (w *resultWriter) EmptyQuery() { w.c.send(&pgproto3.EmptyQueryResponse{}) }

func (w *resultWriter) Notice(n Notice) {
	w.c.send(n.response())
}

// response is n as the protocol's NoticeResponse.
func (n Notice) response() *pgproto3.NoticeResponse {
	return &pgproto3.NoticeResponse{Severity: string(n.Severity), SeverityUnlocalized: string(n.Severity), Code: string(n.Code),
		Message: n.Message, Detail: n.Detail, Hint: n.Hint, Position: int32(n.Position)}
}

func (w *resultWriter) ParameterStatus(name, value string) {
	w.c.send(&pgproto3.ParameterStatus{Name: name, Value: value})
}

// copyFormats are a COPY's overall format and its columns' format codes:
// all text (0) or all binary (1).
func copyFormats(numCols int, binary bool) (byte, []uint16) {
	format := uint16(0)
	if binary {
		format = 1
	}
	codes := make([]uint16, numCols)
	for i := range codes {
		codes[i] = format
	}
	return byte(format), codes
}

func (w *resultWriter) CopyIn(numCols int, binary bool) (io.Reader, error) {
	format, codes := copyFormats(numCols, binary)
	w.c.send(&pgproto3.CopyInResponse{OverallFormat: format, ColumnFormatCodes: codes})
	w.c.flush()
	if w.c.err != nil {
		return nil, w.c.err
	}
	w.c.copying = &copyReader{c: w.c}
	return w.c.copying, nil
}

func (w *resultWriter) CopyOut(numCols int, binary bool) (CopyWriter, error) {
	format, codes := copyFormats(numCols, binary)
	w.c.send(&pgproto3.CopyOutResponse{OverallFormat: format, ColumnFormatCodes: codes})
	return copyWriter{w.c}, w.c.err
}

// copyWriter sends COPY ... TO STDOUT data as CopyData messages.
type copyWriter struct{ c *conn }

func (cw copyWriter) Write(data []byte) error {
	cw.c.send(&pgproto3.CopyData{Data: data})
	return cw.c.err
}

func (cw copyWriter) Done() error {
	cw.c.send(&pgproto3.CopyDone{})
	return cw.c.err
}

// copyReader yields the payloads of a client's CopyData messages until
// its CopyDone or CopyFail. Sync and Flush in between are ignored, as
// PostgreSQL does; any other message is a protocol violation.
type copyReader struct {
	c    *conn
	buf  []byte
	done error
}

func (r *copyReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done != nil {
			return 0, r.done
		}
		msg, err := r.c.receive()
		if err != nil {
			r.done = pgerror.Newf(pgerror.CodeProtocolViolation, "reading COPY data: %v", err)
			r.c.err = err
			return 0, r.done
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			r.buf = append(r.buf[:0], m.Data...)
		case *pgproto3.CopyDone:
			r.done = io.EOF
		case *pgproto3.CopyFail:
			r.done = pgerror.Newf("57014", "COPY from stdin failed: %s", m.Message)
		case *pgproto3.Sync, *pgproto3.Flush:
		default:
			r.done = pgerror.Newf(pgerror.CodeProtocolViolation, "unexpected message type %T during COPY from stdin", msg)
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
