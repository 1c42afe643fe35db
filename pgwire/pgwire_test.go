package pgwire_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/stop"
	"github.com/meridiandb/meridian/stop/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

type testServer struct {
	addr string
	exec *testExecutor
	srv  *pgwire.Server
}

func startServer(t testing.TB, cfg pgwire.Config) *testServer {
	t.Helper()
	ts := &testServer{exec: &testExecutor{}}
	if cfg.Executor == nil {
		cfg.Executor = ts.exec
	}
	st := stop.NewStopper()
	srv, err := pgwire.NewServer(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Stop)
	ts.addr, ts.srv = ln.Addr().String(), srv
	return ts
}

func (ts *testServer) url(user, password, extra string) string {
	u := "postgres://" + user
	if password != "" {
		u += ":" + password
	}
	return u + "@" + ts.addr + "/defaultdb?sslmode=disable" + extra
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestPgx drives the server with pgx: extended protocol with its statement
// cache, parameters in text and binary, the simple protocol with several
// statements, errors that leave the connection usable, transactions.
func TestPgx(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	c := connect(t, ts.url("alice", "", ""))
	ctx := context.Background()

	for range 3 { // the second and third use the cached prepared statement
		var n int64
		if err := c.QueryRow(ctx, "SELECT 42").Scan(&n); err != nil || n != 42 {
			t.Fatalf("SELECT 42: %d %v", n, err)
		}
	}
	var s1, s2 string
	if err := c.QueryRow(ctx, "ECHO $1 $2", "hello", "wörld").Scan(&s1, &s2); err != nil || s1 != "hello" || s2 != "wörld" {
		t.Fatalf("ECHO: %q %q %v", s1, s2, err)
	}
	// A parameter type given at Parse, and binary formats both ways.
	if _, err := c.PgConn().Prepare(ctx, "e8", "ECHO $1", []uint32{20}); err != nil {
		t.Fatal(err)
	}
	res := c.PgConn().ExecPrepared(ctx, "e8", [][]byte{binary.BigEndian.AppendUint64(nil, 1<<40)}, []int16{1}, []int16{1}).Read()
	if res.Err != nil || len(res.Rows) != 1 || binary.BigEndian.Uint64(res.Rows[0][0]) != 1<<40 {
		t.Fatalf("binary int8 echo: %v %v", res.Rows, res.Err)
	}
	res = c.PgConn().ExecPrepared(ctx, "e8", [][]byte{[]byte("12")}, []int16{0}, []int16{1}).Read()
	if res.Err != nil || binary.BigEndian.Uint64(res.Rows[0][0]) != 12 {
		t.Fatalf("text in, binary out: %v %v", res.Rows, res.Err)
	}
	var i int64
	var null *string
	if err := c.QueryRow(ctx, "ECHO $1", nil).Scan(&null); err != nil || null != nil {
		t.Fatalf("ECHO NULL: %v %v", null, err)
	}
	rows, err := c.Query(ctx, "ROWS 1000")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil || v != int64(count) {
			t.Fatalf("row %d: %d %v", count, v, err)
		}
		count++
	}
	if rows.Err() != nil || count != 1000 {
		t.Fatalf("ROWS 1000: %d rows, %v", count, rows.Err())
	}

	// The simple protocol, several statements in one message.
	if _, err := c.Exec(ctx, "BEGIN; SELECT 1; COMMIT", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT 5", pgx.QueryExecModeSimpleProtocol).Scan(&i); err != nil || i != 5 {
		t.Fatalf("simple SELECT 5: %d %v", i, err)
	}
	// An empty query.
	if _, err := c.Exec(ctx, " ; ", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}

	// Errors carry their SQLSTATE and leave the connection usable.
	_, err = c.Exec(ctx, "ERROR 23505 duplicate key value violates unique constraint")
	if pgCode(err) != "23505" || !strings.Contains(err.Error(), "duplicate key value") {
		t.Fatalf("ERROR: %v", err)
	}
	if _, err := c.Exec(ctx, "NONSENSE"); pgCode(err) != "42601" {
		t.Fatalf("syntax error: %v", err)
	}
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&i); err != nil {
		t.Fatal(err)
	}

	// A failed transaction block refuses statements until ROLLBACK.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "ERROR 40001 restart transaction"); pgCode(err) != "40001" {
		t.Fatalf("in txn: %v", err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
		t.Fatalf("after failure: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if c.PgConn().TxStatus() != 'I' {
		t.Fatalf("txn status %c after rollback", c.PgConn().TxStatus())
	}

	// Settings changed by SET reach the driver.
	if _, err := c.Exec(ctx, "SET application_name = tester", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	if got := c.PgConn().ParameterStatus("application_name"); got != "tester" {
		t.Fatalf("application_name: %q", got)
	}
	if got := c.PgConn().ParameterStatus("server_version"); got == "" {
		t.Fatal("no server_version")
	}
}

// TestPgxBatch pipelines several statements, one of them failing: the
// server skips to the Sync, so the statements after the failure are not
// run, and the connection goes on.
func TestPgxBatch(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	c := connect(t, ts.url("alice", "", ""))
	ctx := context.Background()
	b := &pgx.Batch{}
	b.Queue("SELECT 1")
	b.Queue("ERROR 22012 division by zero")
	b.Queue("SELECT 3")
	br := c.SendBatch(ctx, b)
	var n int64
	if err := br.QueryRow().Scan(&n); err != nil || n != 1 {
		t.Fatalf("first: %d %v", n, err)
	}
	if _, err := br.Exec(); pgCode(err) != "22012" {
		t.Fatalf("second: %v", err)
	}
	if _, err := br.Exec(); err == nil {
		t.Fatal("a statement after the failure in the same pipeline ran")
	}
	if err := br.Close(); err != nil && pgCode(err) != "22012" {
		t.Fatal(err)
	}
	// The batch's Sync told the session to roll back its implicit
	// transaction.
	if got := ts.exec.syncLog(); len(got) == 0 || got[len(got)-1] != "abort" {
		t.Fatalf("syncs: %v, want the last one to abort", got)
	}
	if err := c.QueryRow(ctx, "SELECT 4").Scan(&n); err != nil || n != 4 {
		t.Fatalf("after the batch: %d %v", n, err)
	}
	if got := ts.exec.syncLog(); got[len(got)-1] != "commit" {
		t.Fatalf("syncs: %v, want the last one to commit", got)
	}
}

// TestIdleInTransactionTimeout: a connection that waits in a transaction
// block longer than the session allows is ended with the session's
// FATAL error; outside a block it waits forever.
func TestIdleInTransactionTimeout(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	r := dialRaw(t, ts.addr)
	r.startup("alice")
	r.send(&pgproto3.Query{String: "IDLE 50"})
	r.until(isReady)
	r.send(&pgproto3.Query{String: "BEGIN"})
	r.until(isReady)
	got := r.until(func(m pgproto3.BackendMessage) bool { _, ok := m.(*pgproto3.ErrorResponse); return ok })
	if last := got[len(got)-1]; !strings.Contains(last, "FATAL 25P03") {
		t.Fatalf("got %v, want FATAL 25P03", got)
	}
	if _, err := r.fe.Receive(); err == nil {
		t.Fatal("the connection stayed open after the idle timeout")
	}
}

// TestCancel: a CancelRequest on a second connection stops the running
// query with 57014; a wrong key does nothing.
func TestCancel(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	c := connect(t, ts.url("alice", "", ""))
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, "SLEEP", pgx.QueryExecModeSimpleProtocol)
		done <- err
	}()
	// A cancel request with a wrong key changes nothing.
	pid := c.PgConn().PID()
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	fe := pgproto3.NewFrontend(raw, raw)
	fe.Send(&pgproto3.CancelRequest{ProcessID: pid, SecretKey: []byte{1, 2, 3, 4}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(raw); err != nil {
		t.Fatal(err)
	}
	_ = raw.Close()
	select {
	case err := <-done:
		t.Fatalf("query ended after a cancel with a wrong key: %v", err)
	default:
	}
	// The driver's own cancel request, with the right key, stops it.
	deadline := time.After(10 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.PgConn().CancelRequest(cctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if pgCode(err) != "57014" || !strings.Contains(err.Error(), "canceling statement due to user request") {
				t.Fatalf("cancelled query: %v", err)
			}
			var n int64
			if err := c.QueryRow(ctx, "SELECT 9").Scan(&n); err != nil || n != 9 {
				t.Fatalf("after cancel: %d %v", n, err)
			}
			return
		case <-time.After(50 * time.Millisecond):
			// The cancel may arrive before the query started: send it again.
		case <-deadline:
			t.Fatal("query not cancelled")
		}
	}
}

// TestSCRAM: password authentication by SCRAM-SHA-256; a wrong password
// and an unknown user are refused alike with 28P01.
func TestSCRAM(t *testing.T) {
	ts := startServer(t, pgwire.Config{Auth: pgwire.Passwords{"alice": "s3cret"}})
	c := connect(t, ts.url("alice", "s3cret", ""))
	var n int64
	if err := c.QueryRow(context.Background(), "SELECT 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{ts.url("alice", "wrong", ""), ts.url("mallory", "s3cret", "")} {
		_, err := pgx.Connect(context.Background(), u)
		if pgCode(err) != "28P01" || !strings.Contains(err.Error(), "password authentication failed") {
			t.Fatalf("%s: %v", u, err)
		}
	}
	if n := ts.exec.sessions; n != 1 {
		t.Fatalf("%d sessions started, want 1", n)
	}
}

// TestTLS: sslmode=require upgrades the connection when the server has a
// certificate; without one the server answers 'N', which sslmode=prefer
// accepts and sslmode=require refuses.
func TestTLS(t *testing.T) {
	cert := selfSignedCert(t)
	ts := startServer(t, pgwire.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	c := connect(t, strings.Replace(ts.url("alice", "", ""), "sslmode=disable", "sslmode=require", 1))
	if _, ok := c.PgConn().Conn().(*tls.Conn); !ok {
		t.Fatalf("connection is %T, not TLS", c.PgConn().Conn())
	}
	plain := startServer(t, pgwire.Config{})
	connect(t, strings.Replace(plain.url("alice", "", ""), "sslmode=disable", "sslmode=prefer", 1))
	if _, err := pgx.Connect(context.Background(), strings.Replace(plain.url("alice", "", ""), "sslmode=disable", "sslmode=require", 1)); err == nil {
		t.Fatal("sslmode=require connected to a server without TLS")
	}
}

func selfSignedCert(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "meridian-test"},
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestPsql runs the real psql client against the server.
func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (.ci/run installs postgresql-client)")
	}
	ts := startServer(t, pgwire.Config{Auth: pgwire.Passwords{"alice": "pw"}})
	host, port, _ := net.SplitHostPort(ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-X", "-A", "-t", "-h", host, "-p", port, "-U", "alice", "-d", "db",
		"-v", "ON_ERROR_STOP=1", "-c", "SELECT 7", "-c", "ROWS 3")
	cmd.Env = append(cmd.Environ(), "PGPASSWORD=pw", "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); strings.Join(got, ",") != "7,0,1,2" {
		t.Fatalf("psql printed %q", out)
	}
	cmd = exec.CommandContext(ctx, psql, "-X", "-h", host, "-p", port, "-U", "alice", "-d", "db", "-c", "ERROR 42P01 relation \"t\" does not exist")
	cmd.Env = append(cmd.Environ(), "PGPASSWORD=pw", "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10", "PGOPTIONS=", "LC_ALL=C")
	out, _ = cmd.CombinedOutput()
	if !strings.Contains(string(out), `ERROR:  relation "t" does not exist`) {
		t.Fatalf("psql error output: %s", out)
	}
}

// rawConn is a protocol-level client for what drivers do not send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, addr string) *rawConn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(hlc.PhysicalNow().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

func (r *rawConn) send(msgs ...pgproto3.FrontendMessage) {
	for _, m := range msgs {
		r.fe.Send(m)
	}
	if err := r.fe.Flush(); err != nil {
		r.t.Fatal(err)
	}
}

// until reads messages up to and including one of type T, returning a
// one-line summary of each.
func (r *rawConn) until(stop func(pgproto3.BackendMessage) bool) []string {
	var out []string
	for {
		m, err := r.fe.Receive()
		if err != nil {
			r.t.Fatalf("after %v: %v", out, err)
		}
		out = append(out, summarize(m))
		if stop(m) {
			return out
		}
	}
}

func summarize(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.DataRow:
		var vals []string
		for _, v := range m.Values {
			vals = append(vals, string(v))
		}
		return "DataRow " + strings.Join(vals, ",")
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ErrorResponse:
		return fmt.Sprintf("ErrorResponse %s %s %s", m.Severity, m.Code, m.Message)
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3.")
}

func isReady(m pgproto3.BackendMessage) bool { _, ok := m.(*pgproto3.ReadyForQuery); return ok }

func (r *rawConn) startup(user string) {
	r.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": user, "database": "db"}})
	r.until(isReady)
}

// TestExtendedProtocol checks message sequences drivers rely on: portal
// suspension with a row limit, Describe of statements and portals, Close,
// skipping to Sync after an error, named objects.
func TestExtendedProtocol(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	r := dialRaw(t, ts.addr)
	r.startup("alice")

	r.send(&pgproto3.Parse{Name: "s1", Query: "ROWS 5"}, &pgproto3.Describe{ObjectType: 'S', Name: "s1"},
		&pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{MaxRows: 2}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Execute{}, &pgproto3.Sync{})
	got := strings.Join(r.until(isReady), "; ")
	want := "ParseComplete; ParameterDescription; RowDescription; BindComplete; RowDescription; " +
		"DataRow 0; DataRow 1; PortalSuspended; DataRow 2; DataRow 3; PortalSuspended; DataRow 4; CommandComplete SELECT 5; ReadyForQuery I"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}

	// After an error, everything up to Sync is skipped: one error, one
	// ReadyForQuery.
	r.send(&pgproto3.Parse{Query: "BOGUS"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Sync{})
	got = strings.Join(r.until(isReady), "; ")
	if got != "ErrorResponse ERROR 42601 syntax error at or near \"BOGUS\"; ReadyForQuery I" {
		t.Fatalf("error pipeline: %s", got)
	}

	// Unknown statement and portal; duplicate names; a statement without
	// rows describes as NoData; Close of what does not exist is fine.
	for _, tc := range []struct {
		msgs []pgproto3.FrontendMessage
		want string
	}{
		{[]pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "nope"}, &pgproto3.Sync{}},
			`ErrorResponse ERROR 26000 prepared statement "nope" does not exist; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Execute{Portal: "nope"}, &pgproto3.Sync{}},
			`ErrorResponse ERROR 34000 portal "nope" does not exist; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Parse{Name: "s1", Query: "SELECT 1"}, &pgproto3.Sync{}},
			`ErrorResponse ERROR 42P05 prepared statement "s1" already exists; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Parse{Name: "b", Query: "BEGIN"}, &pgproto3.Describe{ObjectType: 'S', Name: "b"}, &pgproto3.Sync{}},
			`ParseComplete; ParameterDescription; NoData; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Close{ObjectType: 'S', Name: "s1"}, &pgproto3.Close{ObjectType: 'P', Name: "zz"}, &pgproto3.Sync{}},
			`CloseComplete; CloseComplete; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Sync{}},
			`ErrorResponse ERROR 26000 prepared statement "s1" does not exist; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Parse{Name: "e", Query: "ECHO $1"}, &pgproto3.Bind{PreparedStatement: "e"}, &pgproto3.Sync{}},
			`ParseComplete; ErrorResponse ERROR 08P01 bind message supplies 0 parameters, but prepared statement "e" requires 1; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "e", Parameters: [][]byte{[]byte("x")}, ParameterFormatCodes: []int16{7}}, &pgproto3.Sync{}},
			`ErrorResponse ERROR 08P01 unsupported format code: 7; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Query{String: "BEGIN"}},
			`CommandComplete BEGIN; ReadyForQuery T`},
		{[]pgproto3.FrontendMessage{&pgproto3.Query{String: "ERROR 40001 retry"}},
			`ErrorResponse ERROR 40001 retry; ReadyForQuery E`},
		{[]pgproto3.FrontendMessage{&pgproto3.Query{String: "ROLLBACK"}},
			`CommandComplete ROLLBACK; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Query{String: ""}},
			`EmptyQueryResponse; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.Query{String: "NOTICE hello"}},
			`NoticeResponse; CommandComplete NOTICE; ReadyForQuery I`},
		{[]pgproto3.FrontendMessage{&pgproto3.FunctionCall{Function: 1}},
			`ErrorResponse ERROR 0A000 the function call protocol is not supported; ReadyForQuery I`},
	} {
		r.send(tc.msgs...)
		if got := strings.Join(r.until(isReady), "; "); got != tc.want {
			t.Errorf("%T...: got %s, want %s", tc.msgs[0], got, tc.want)
		}
	}
	r.send(&pgproto3.Terminate{})
	if _, err := r.fe.Receive(); err == nil {
		t.Fatal("connection open after Terminate")
	}
}

// TestBadInput: malformed or hostile input gets an error with a SQLSTATE
// and a closed connection, never a panic or a hang; the server keeps
// serving others.
func TestBadInput(t *testing.T) {
	ts := startServer(t, pgwire.Config{MaxMessageSize: 1 << 20, MaxConnections: 3})
	fatalOf := func(r *rawConn) string {
		for {
			m, err := r.fe.Receive()
			if err != nil {
				return "closed: " + err.Error()
			}
			if e, ok := m.(*pgproto3.ErrorResponse); ok {
				if _, err := r.fe.Receive(); err == nil {
					t.Fatal("connection left open after a FATAL error")
				}
				return e.Severity + " " + e.Code
			}
		}
	}
	rawBytes := func(b []byte) *rawConn {
		r := dialRaw(t, ts.addr)
		if _, err := r.nc.Write(b); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// A startup packet of an impossible length, and one with an unknown
	// protocol code.
	if got := fatalOf(rawBytes([]byte{0, 0, 0, 2, 0, 0})); got != "FATAL 08P01" {
		t.Errorf("short startup packet: %s", got)
	}
	if got := fatalOf(rawBytes([]byte{0, 0, 0, 8, 0, 9, 0, 0})); got != "FATAL 08P01" {
		t.Errorf("unknown protocol: %s", got)
	}
	// No user.
	r := dialRaw(t, ts.addr)
	r.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"database": "db"}})
	if got := fatalOf(r); got != "FATAL 28000" {
		t.Errorf("no user: %s", got)
	}
	// A session the executor refuses.
	r = dialRaw(t, ts.addr)
	r.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "a", "database": "nodb"}})
	if got := fatalOf(r); got != "FATAL 3D000" {
		t.Errorf("refused session: %s", got)
	}
	// After startup: an unknown message type, a message over the size
	// limit, a length below the minimum.
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"unknown type", []byte{'z', 0, 0, 0, 4}, "FATAL 08P01"},
		{"too big", []byte{'Q', 0, 0x7f, 0, 0}, "FATAL 54000"},
		{"bad length", []byte{'Q', 0, 0, 0, 1}, "FATAL 08P01"},
		{"truncated bind", []byte{'B', 0, 0, 0, 6, 0, 0}, "FATAL 08P01"},
	} {
		r := dialRaw(t, ts.addr)
		r.startup("alice")
		if _, err := r.nc.Write(tc.b); err != nil {
			t.Fatal(err)
		}
		if got := fatalOf(r); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	// Too many connections: the fourth is refused with 53300.
	var open []*rawConn
	for range 3 {
		r := dialRaw(t, ts.addr)
		r.startup("alice")
		open = append(open, r)
	}
	r = dialRaw(t, ts.addr)
	r.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "a"}})
	if got := fatalOf(r); got != "FATAL 53300" {
		t.Errorf("fourth connection: %s", got)
	}
	for _, r := range open {
		r.send(&pgproto3.Terminate{})
		_, _ = io.ReadAll(r.nc)
	}
	// The server still serves.
	c := connect(t, ts.url("alice", "", ""))
	var n int64
	if err := c.QueryRow(context.Background(), "SELECT 3").Scan(&n); err != nil || n != 3 {
		t.Fatalf("after bad input: %d %v", n, err)
	}
}

// FuzzConnection feeds arbitrary bytes after a valid startup: the server
// must answer without panicking and close or wait for more, never hang on
// a closed client.
func FuzzConnection(f *testing.F) {
	ts := startServer(f, pgwire.Config{MaxMessageSize: 1 << 16})
	msg := func(typ byte, body []byte) []byte {
		return append(binary.BigEndian.AppendUint32([]byte{typ}, uint32(len(body)+4)), body...)
	}
	f.Add(msg('Q', []byte("SELECT 1\x00")))
	f.Add(msg('P', []byte("s\x00ECHO $1\x00\x00\x01\x00\x00\x00\x14")))
	f.Add(append(msg('P', []byte("\x00ROWS 3\x00\x00\x00")), msg('B', []byte("\x00\x00\x00\x00\x00\x00\x00\x00"))...))
	f.Add(msg('D', []byte("S\x00")))
	f.Add(msg('E', []byte("\x00\x00\x00\x00\x01")))
	f.Add(msg('C', []byte("Px\x00")))
	f.Add(msg('S', nil))
	f.Add(msg('d', []byte("1,2\n")))
	f.Add([]byte{'B', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = nc.Close() }()
		_ = nc.SetDeadline(hlc.PhysicalNow().Add(5 * time.Second))
		fe := pgproto3.NewFrontend(nc, nc)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "f"}})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Write(data); err != nil {
			return // the server closed already
		}
		// End of input: the server must then end the connection within
		// the deadline, whatever the bytes were; reading to EOF proves it
		// did not hang.
		_ = nc.(*net.TCPConn).CloseWrite()
		if _, err := io.ReadAll(nc); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("server hung on input %q", data)
			}
		}
	})
}
