package server

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/pgwire"
)

// TestSessionsAcrossNodes: pg_stat_activity on any node lists the
// sessions of every node with what they do (active with their query,
// idle, idle in transaction); process IDs name their node;
// pg_cancel_backend through n1 cancels a statement running on n2 (57014
// there), pg_terminate_backend ends a session on n3 (57P01 there), a
// role may not signal another role's session (42501), and a process ID
// nobody has answers false.
func TestSessionsAcrossNodes(t *testing.T) {
	nodes := sqlCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c1, c2, c3 := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1]), sqlConnect(t, nodes[2])
	pidOf := func(c *pgx.Conn) uint32 {
		var pid uint32
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		return pid
	}
	p2, p3 := pidOf(c2), pidOf(c3)
	if n, ok := pgwire.NodeOfPID(p2); !ok || n != 2 {
		t.Fatalf("n2's session has process ID %d, naming node %d", p2, n)
	}
	state := func(pid uint32) (string, string, bool) {
		t.Helper()
		var st, q string
		var inTxn bool
		err := c1.QueryRow(ctx, "SELECT state, query, xact_start IS NOT NULL FROM pg_stat_activity WHERE pid = $1", pid).Scan(&st, &q, &inTxn)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		return st, q, inTxn
	}

	// Idle, and idle in a transaction.
	if st, q, inTxn := state(p3); st != "idle" || q != "SELECT pg_backend_pid()" || inTxn {
		t.Fatalf("n3's idle session: %q %q in a transaction: %v", st, q, inTxn)
	}
	if _, err := c3.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if st, _, inTxn := state(p3); st != "idle in transaction" || !inTxn {
		t.Fatalf("n3's session after BEGIN: %q, in a transaction: %v", st, inTxn)
	}
	var db, user string
	if err := c1.QueryRow(ctx, "SELECT datname, usename FROM pg_stat_activity WHERE pid = $1", p3).Scan(&db, &user); err != nil || db != "defaultdb" || user != "root" {
		t.Fatalf("n3's session: %q %q %v", db, user, err)
	}

	// A statement running on n2, cancelled through n1.
	if _, err := c2.Exec(ctx, "SET application_name = 'sleeper'"); err != nil {
		t.Fatal(err)
	}
	slept := make(chan error, 1)
	go func() {
		_, err := c2.Exec(ctx, "SELECT pg_sleep(60)")
		slept <- err
	}()
	waitFor(t, time.Minute, func() error {
		var n int
		if err := c1.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE pid = $1 AND state = 'active' AND query = 'SELECT pg_sleep(60)' AND application_name = 'sleeper'`, p2).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return errors.New("the sleep is not shown yet")
		}
		return nil
	})
	var ok bool
	if err := c1.QueryRow(ctx, "SELECT pg_cancel_backend($1)", p2).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_cancel_backend: %v %v", ok, err)
	}
	if err := <-slept; sqlCode(err) != "57014" {
		t.Fatalf("the cancelled sleep: %v, want 57014", err)
	}
	if err := c2.QueryRow(ctx, "SELECT true").Scan(&ok); err != nil {
		t.Fatalf("the session whose statement was cancelled: %v", err)
	}

	// sleepOnN2 starts a long sleep on n2's session and waits until
	// pg_stat_activity shows it running; its error comes on slept.
	sleepOnN2 := func() {
		t.Helper()
		go func() {
			_, err := c2.Exec(ctx, "SELECT pg_sleep(60)")
			slept <- err
		}()
		waitFor(t, time.Minute, func() error {
			if st, _, _ := state(p2); st != "active" {
				return errors.Newf("n2's session is %q", st)
			}
			return nil
		})
	}

	// A client's CancelRequest that reaches another node (a load
	// balancer's choice) is passed on to the session's node.
	sleepOnN2()
	sendCancel(t, nodes[0].SQLAddr(), p2, c2.PgConn().SecretKey())
	if err := <-slept; sqlCode(err) != "57014" {
		t.Fatalf("the sleep cancelled through n1's CancelRequest: %v, want 57014", err)
	}

	// Another role may not signal root's session.
	if _, err := c1.Exec(ctx, "CREATE USER alice"); err != nil {
		t.Fatal(err)
	}
	alice, err := pgx.Connect(ctx, "postgres://alice@"+nodes[0].SQLAddr()+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = alice.Close(ctx) }()
	if _, err := alice.Exec(ctx, "SELECT pg_cancel_backend($1)", p2); sqlCode(err) != "42501" {
		t.Fatalf("alice cancelling root's session: %v, want 42501", err)
	}

	// No such process.
	if err := c1.QueryRow(ctx, "SELECT pg_cancel_backend(1)").Scan(&ok); err != nil || ok {
		t.Fatalf("pg_cancel_backend of nobody: %v %v", ok, err)
	}

	// A session ended through n1 while it runs a statement on n2.
	sleepOnN2()
	if err := c1.QueryRow(ctx, "SELECT pg_terminate_backend($1)", p2).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend of a running session: %v %v", ok, err)
	}
	if err := <-slept; sqlCode(err) != "57P01" {
		t.Fatalf("the terminated sleep: %v, want 57P01", err)
	}

	// n3's idle session ended through n1.
	if err := c1.QueryRow(ctx, "SELECT pg_terminate_backend($1)", p3).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend: %v %v", ok, err)
	}
	if _, err := c3.Exec(ctx, "SELECT 1"); sqlCode(err) != "57P01" {
		t.Fatalf("the terminated session's next statement: %v, want 57P01", err)
	}
	waitFor(t, time.Minute, func() error {
		if _, _, found := state(p3); found {
			return errors.New("the terminated session is still listed")
		}
		return nil
	})
}

// sendCancel sends a CancelRequest for process pid with key secret to the
// server at addr, as a client does on a connection of its own.
func sendCancel(t *testing.T, addr string, pid uint32, secret []byte) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = nc.Close() }()
	msg := binary.BigEndian.AppendUint32(nil, uint32(12+len(secret)))
	msg = binary.BigEndian.AppendUint32(msg, 80877102)
	msg = binary.BigEndian.AppendUint32(msg, pid)
	if _, err := nc.Write(append(msg, secret...)); err != nil {
		t.Fatal(err)
	}
	// The server closes the connection once it has read the request.
	_, _ = nc.Read(make([]byte, 1))
}
