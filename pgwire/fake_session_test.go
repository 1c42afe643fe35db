package pgwire_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// testExecutor is a small statement language for testing the protocol
// layer alone (the sql package is tested with the real one):
//
//	SELECT <int>           one int8 row
//	ECHO $1 $2 ...         one row echoing the parameters (text unless
//	                       the client declared int8)
//	ROWS <n>               n int8 rows 0..n-1
//	ERROR <code> <msg>     fails with that SQLSTATE
//	SLEEP                  waits until cancelled
//	NOTICE <msg>           a notice, then completes
//	SET <name> = <value>   reports a ParameterStatus
//	BEGIN, COMMIT, ROLLBACK
//	IDLE <ms>              the idle-in-transaction timeout
//
// Syncs are recorded: "commit", or "abort" after an error.
// Statements of a simple query are separated by ';'.
type testExecutor struct {
	mu        sync.Mutex
	sessions  int
	cancelled int
	syncs     []string
}

func (e *testExecutor) NewSession(ctx context.Context, args pgwire.SessionArgs) (pgwire.Session, error) {
	if args.Database == "nodb" {
		return nil, pgerror.Newf("3D000", "database %q does not exist", args.Database)
	}
	e.mu.Lock()
	e.sessions++
	e.mu.Unlock()
	return &testSession{e: e, status: pgwire.TxnIdle}, nil
}

func (e *testExecutor) cancelCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cancelled
}

type testSession struct {
	e      *testExecutor
	status pgwire.TxnStatus
	idle   time.Duration
}

func (s *testSession) TxnStatus() pgwire.TxnStatus { return s.status }
func (s *testSession) Close()                      {}

func (s *testSession) Sync(ctx context.Context, abort bool) error {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if abort {
		s.e.syncs = append(s.e.syncs, "abort")
		if s.status == pgwire.TxnActive {
			s.status = pgwire.TxnFailed
		}
	} else {
		s.e.syncs = append(s.e.syncs, "commit")
	}
	return nil
}

func (e *testExecutor) syncLog() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.syncs...)
}

func (s *testSession) IdleTimeout() (time.Duration, error) {
	if s.status == pgwire.TxnIdle {
		return 0, nil
	}
	return s.idle, pgerror.New("25P03", "terminating connection due to idle-in-transaction timeout")
}

func (s *testSession) ExecSimple(ctx context.Context, query string, w pgwire.ResultWriter) error {
	n := 0
	for _, q := range strings.Split(query, ";") {
		if strings.TrimSpace(q) == "" {
			continue
		}
		n++
		st, err := s.Prepare(ctx, q, nil)
		if err != nil {
			return s.fail(err)
		}
		if len(st.ParamTypes()) > 0 {
			return s.fail(pgerror.New(pgerror.CodeSyntaxError, "parameters need the extended protocol"))
		}
		p, err := st.Bind(ctx, nil, nil, nil)
		if err != nil {
			return s.fail(err)
		}
		w.Columns(p.Columns())
		if _, err := p.Execute(ctx, 0, false, w); err != nil {
			return s.fail(err)
		}
	}
	if n == 0 {
		w.EmptyQuery()
	}
	return nil
}

func (s *testSession) fail(err error) error {
	if s.status == pgwire.TxnActive {
		s.status = pgwire.TxnFailed
	}
	return err
}

func (s *testSession) Prepare(ctx context.Context, query string, paramTypes []uint32) (pgwire.Statement, error) {
	f := strings.Fields(query)
	if len(f) == 0 {
		return nil, pgerror.New(pgerror.CodeSyntaxError, "empty statement")
	}
	verb := strings.ToUpper(f[0])
	if s.status == pgwire.TxnFailed && verb != "ROLLBACK" {
		return nil, pgerror.New(pgerror.CodeInFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	st := &testStmt{s: s, verb: verb, args: f[1:]}
	switch verb {
	case "SELECT", "ROWS":
		if len(f) != 2 {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "syntax error")
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			return nil, pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near %q", f[1])
		}
		st.cols = []pgwire.Column{{Name: "?column?", TypeOID: 20, TypeSize: 8, TypeMod: -1}}
	case "ECHO":
		for i := range f[1:] {
			typ := uint32(25)
			if i < len(paramTypes) && paramTypes[i] == 20 {
				typ = 20
			}
			st.params = append(st.params, typ)
			st.cols = append(st.cols, pgwire.Column{Name: fmt.Sprintf("p%d", i+1), TypeOID: typ, TypeSize: -1, TypeMod: -1})
		}
	case "ERROR":
		if len(f) < 3 {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "ERROR needs a code and a message")
		}
	case "SLEEP", "NOTICE", "SET", "BEGIN", "COMMIT", "ROLLBACK", "IDLE":
	default:
		return nil, pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near %q", f[0])
	}
	return st, nil
}

type testStmt struct {
	s      *testSession
	verb   string
	args   []string
	params []uint32
	cols   []pgwire.Column
}

func (st *testStmt) ParamTypes() []uint32     { return st.params }
func (st *testStmt) Columns() []pgwire.Column { return st.cols }
func (st *testStmt) Close()                   {}

func (st *testStmt) Bind(ctx context.Context, params [][]byte, paramFormats, resultFormats []int16) (pgwire.Portal, error) {
	p := &testPortal{st: st}
	for i, c := range st.cols {
		c.Format = formatAt(resultFormats, i)
		p.cols = append(p.cols, c)
	}
	switch st.verb {
	case "SELECT":
		n, _ := strconv.ParseInt(st.args[0], 10, 64)
		p.rows = [][][]byte{{encodeInt(n, formatAt(resultFormats, 0))}}
	case "ROWS":
		n, _ := strconv.Atoi(st.args[0])
		for i := range n {
			p.rows = append(p.rows, [][]byte{encodeInt(int64(i), formatAt(resultFormats, 0))})
		}
	case "ECHO":
		row := make([][]byte, len(params))
		for i, v := range params {
			if v == nil {
				continue
			}
			in, out := formatAt(paramFormats, i), formatAt(resultFormats, i)
			if st.params[i] == 20 && in != out {
				var n int64
				if in == 1 {
					if len(v) != 8 {
						return nil, pgerror.New(pgerror.CodeInvalidBinaryRepresentation, "insufficient data left in message")
					}
					n = int64(binary.BigEndian.Uint64(v))
				} else {
					var err error
					if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
						return nil, pgerror.Newf(pgerror.CodeInvalidTextRepresentation, "invalid input syntax for type bigint: %q", v)
					}
				}
				v = encodeInt(n, out)
			}
			row[i] = v
		}
		p.rows = [][][]byte{row}
	}
	return p, nil
}

func formatAt(formats []int16, i int) int16 {
	switch len(formats) {
	case 0:
		return 0
	case 1:
		return formats[0]
	}
	return formats[i]
}

func encodeInt(n int64, format int16) []byte {
	if format == 1 {
		return binary.BigEndian.AppendUint64(nil, uint64(n))
	}
	return []byte(strconv.FormatInt(n, 10))
}

type testPortal struct {
	st   *testStmt
	cols []pgwire.Column
	rows [][][]byte
	sent int
}

func (p *testPortal) Columns() []pgwire.Column {
	if p.st.cols == nil {
		return nil
	}
	return p.cols
}
func (p *testPortal) Close() {}

func (p *testPortal) Execute(ctx context.Context, maxRows int, _ bool, w pgwire.ResultWriter) (bool, error) {
	s := p.st.s
	switch p.st.verb {
	case "ERROR":
		return false, s.fail(pgerror.New(pgerror.Code(p.st.args[0]), strings.Join(p.st.args[1:], " ")))
	case "SLEEP":
		<-ctx.Done()
		s.e.mu.Lock()
		s.e.cancelled++
		s.e.mu.Unlock()
		return false, s.fail(ctx.Err())
	case "NOTICE":
		w.Notice(pgwire.Notice{Severity: pgerror.SeverityNotice, Code: pgerror.CodeWarning, Message: strings.Join(p.st.args, " ")})
		w.Complete("NOTICE")
		return false, nil
	case "SET":
		rest := strings.Join(p.st.args, " ")
		name, value, _ := strings.Cut(rest, "=")
		w.ParameterStatus(strings.TrimSpace(name), strings.TrimSpace(value))
		w.Complete("SET")
		return false, nil
	case "IDLE":
		ms, err := strconv.Atoi(p.st.args[0])
		if err != nil {
			return false, err
		}
		s.idle = time.Duration(ms) * time.Millisecond
		w.Complete("SET")
		return false, nil
	case "BEGIN":
		s.status = pgwire.TxnActive
		w.Complete("BEGIN")
		return false, nil
	case "COMMIT", "ROLLBACK":
		tag := p.st.verb
		if s.status == pgwire.TxnFailed {
			tag = "ROLLBACK"
		}
		s.status = pgwire.TxnIdle
		w.Complete(tag)
		return false, nil
	}
	for n := 0; p.sent < len(p.rows); n++ {
		if maxRows > 0 && n == maxRows {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if err := w.Row(p.rows[p.sent]); err != nil {
			return false, err
		}
		p.sent++
	}
	w.Complete(fmt.Sprintf("SELECT %d", p.sent))
	return false, nil
}
