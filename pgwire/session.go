package pgwire

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// Executor starts the SQL sessions behind connections. The sql package
// implements it; pgwire knows nothing of parsing, planning or types beyond
// their OIDs and encoded values.
type Executor interface {
	NewSession(ctx context.Context, args SessionArgs) (Session, error)
}

// SessionArgs are what the client sent at startup.
type SessionArgs struct {
	User     string
	Database string
	// Params holds every startup parameter, user and database included
	// (application_name, client_encoding, DateStyle, options, ...).
	Params     map[string]string
	RemoteAddr net.Addr
	// ProcessID is the connection's process ID (BackendKeyData), which
	// pg_backend_pid reports and cancel requests name.
	ProcessID uint32
	// ServerVersion is the server_version the client is told.
	ServerVersion string
	// Warn sends the client a warning once the session has started (a
	// startup parameter whose value the session does not take, say).
	Warn func(code pgerror.Code, msg string)
	// Notify delivers a notification (LISTEN/NOTIFY) to the client, from
	// any goroutine: at once if the connection waits for its next
	// message outside a transaction block, else just before its next
	// ReadyForQuery outside one, as PostgreSQL delivers them.
	Notify func(Notification)
	// Cancel cancels the statement the connection runs, if any, as a
	// CancelRequest would; Terminate ends the connection (FATAL 57P01),
	// at once if it waits for a message, else once its statement is
	// cancelled. Both may be called from any goroutine.
	Cancel, Terminate func()
	// Deallocate closes the protocol-level prepared statement name
	// (every one, for ""), as DEALLOCATE and DISCARD ALL do, once the
	// message being handled is done; false if there is none of that
	// name. Called from the session's own statements.
	Deallocate func(name string) bool
}

// Notification is one NOTIFY as a listening client receives it: the
// channel, the payload, and the process ID of the session that sent it.
type Notification struct {
	PID              uint32
	Channel, Payload string
}

// TxnStatus is the transaction state a ReadyForQuery message reports.
type TxnStatus byte

// The transaction states of the protocol.
const (
	TxnIdle   TxnStatus = 'I' // not in a transaction block
	TxnActive TxnStatus = 'T' // in a transaction block
	TxnFailed TxnStatus = 'E' // in a failed transaction block
)

// Session is one connection's SQL state: its transaction, settings and
// the objects behind its prepared statements and portals. pgwire calls it
// from one goroutine at a time; a call's ctx is cancelled by a
// CancelRequest for the connection or when the server stops.
type Session interface {
	// ExecSimple runs the statements of a simple-protocol query string in
	// order, each one's result written to w, and stops at the first error,
	// which it returns. A string without statements gets w.EmptyQuery.
	ExecSimple(ctx context.Context, query string, w ResultWriter) error
	// Prepare parses and plans query, which holds at most one statement.
	// paramTypes are the parameter OIDs the client gave (0: unspecified),
	// possibly fewer than the statement has.
	Prepare(ctx context.Context, query string, paramTypes []uint32) (Statement, error)
	// Sync ends the implicit transaction of the extended-protocol
	// messages since the previous Sync: every statement run since then
	// outside a transaction block belongs to one transaction, which Sync
	// commits; with abort (an error was reported since), it rolls back, and
	// a transaction block that is open fails. An error (from the commit)
	// goes to the client before ReadyForQuery.
	Sync(ctx context.Context, abort bool) error
	// IdleTimeout is how long the connection may wait for the client's
	// next message in the session's present state (0: forever), and the
	// error that ends the connection when it waits longer
	// (idle_in_transaction_session_timeout, idle_session_timeout).
	IdleTimeout() (time.Duration, error)
	// TxnStatus reports the session's transaction state.
	TxnStatus() TxnStatus
	// Close releases the session; an open transaction is rolled back.
	Close()
}

// Statement is a prepared statement.
type Statement interface {
	// ParamTypes are the OIDs of every parameter, inferred where the
	// client left them unspecified.
	ParamTypes() []uint32
	// Columns describes the result rows; nil for a statement without rows.
	// Formats are not set yet (text).
	Columns() []Column
	// Bind makes a portal: the statement with parameter values (nil for
	// NULL) in the given formats (0 text, 1 binary; none: all text; one:
	// all that), producing results in resultFormats (same conventions).
	Bind(ctx context.Context, params [][]byte, paramFormats, resultFormats []int16) (Portal, error)
	// Close releases the statement.
	Close()
}

// Portal is a bound statement ready to run, possibly in several steps.
type Portal interface {
	// Columns describes the result rows with their formats; nil for a
	// statement without rows.
	Columns() []Column
	// Execute runs the portal, or resumes it, writing at most maxRows rows
	// (0: all) to w. It reports suspended when rows remain; otherwise it
	// has called w.Complete. syncNext: the client's next message is a
	// Sync, so that a statement outside a transaction is the whole of its
	// implicit transaction, which may commit before Execute returns (and
	// be retried whole after a serialization failure, nothing of it sent
	// yet).
	Execute(ctx context.Context, maxRows int, syncNext bool, w ResultWriter) (suspended bool, err error)
	// Close releases the portal.
	Close()
}

// Column describes one result column, as a RowDescription field.
type Column struct {
	Name string
	// TableOID and TableAttr name the table column it comes from (0 if
	// none).
	TableOID  uint32
	TableAttr uint16
	TypeOID   uint32
	// TypeSize is the type's size in bytes, -1 variable, -2 C string.
	TypeSize int16
	TypeMod  int32
	// Format is 0 (text) or 1 (binary).
	Format int16
}

// ResultWriter receives a statement's results. In the simple protocol the
// columns go out as a RowDescription; in the extended protocol the client
// learns them from Describe, and Columns is not sent.
// Rewinder is a ResultWriter whose output can be taken back while none of
// it has reached the client: a query string whose implicit transaction
// must run again (40001) then runs again unseen, as the client expects of
// a query string outside a transaction block.
type Rewinder interface {
	// Mark notes where the output is.
	Mark()
	// Rewind drops the output written since the last Mark and reports
	// whether it could: not once any of it went out.
	Rewind() bool
}

// CopyWriter sends the data of a COPY ... TO STDOUT.
type CopyWriter interface {
	Write(data []byte) error
	Done() error
}

// Notice is a warning or notice for the client: its severity (WARNING or
// NOTICE), SQLSTATE and message, and the optional DETAIL and HINT lines
// and place in the query text (characters from 1; 0: none).
type Notice struct {
	Severity pgerror.Severity
	Code     pgerror.Code
	Message  string
	Detail   string
	Hint     string
	Position int
}

// ParameterReporter is a Session whose reported settings (ParameterStatus)
// can change other than by a statement's result: a rollback undoing a
// SET. The changes are sent before ReadyForQuery, as PostgreSQL does, so
// that a client that follows them (psql lexes by
// standard_conforming_strings) is not left with a stale value.
type ParameterReporter interface {
	ChangedParameters() [][2]string
}

// ParseNoticer is a Statement with notices from its parse (the lexer's
// warnings about backslashes in string literals), which the client gets
// before ParseComplete, as from PostgreSQL.
type ParseNoticer interface {
	ParseNotices() []Notice
}

type ResultWriter interface {
	// Columns announces the columns of the rows that follow.
	Columns(cols []Column)
	// Row sends one row of values, each already encoded in its column's
	// format (nil: NULL). An error means the connection failed.
	Row(vals [][]byte) error
	// Complete ends a statement's result with its command tag, such as
	// "SELECT 3" or "INSERT 0 1".
	Complete(tag string)
	// EmptyQuery answers a query string that held no statement.
	EmptyQuery()
	// Notice sends a notice (severity WARNING or NOTICE) to the client.
	Notice(n Notice)
	// ParameterStatus tells the client of a changed session setting that
	// drivers track (TimeZone, DateStyle, application_name, ...).
	ParameterStatus(name, value string)
	// CopyIn starts a COPY ... FROM STDIN of numCols columns in text (or
	// binary) format: the client is asked for the data, which the returned
	// reader yields (the CopyData payloads, in order) until the client's
	// CopyDone (io.EOF) or CopyFail (an error with its message).
	CopyIn(numCols int, binary bool) (io.Reader, error)
	// CopyOut starts a COPY ... TO STDOUT of numCols columns in text (or
	// CSV) or binary format: the writer sends each Write as one CopyData
	// message and Done ends the data (CopyDone); Complete follows.
	CopyOut(numCols int, binary bool) (CopyWriter, error)
}
