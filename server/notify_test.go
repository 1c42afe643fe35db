package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestNotifyAcrossNodes: NOTIFY through one node reaches the sessions that
// LISTEN on the channel through every node, with the sender's PID; only
// committed transactions notify, in commit order, each transaction's
// notifications together and in order, a repeated one once; pg_notify
// does the same; UNLISTEN stops delivery, and a LISTEN rolled back never
// starts it.
func TestNotifyAcrossNodes(t *testing.T) {
	nodes := sqlCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c1, c2, c3, c4 := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1]), sqlConnect(t, nodes[2]), sqlConnect(t, nodes[1])
	exec := func(c *pgx.Conn, qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	// expect waits for c's next notifications and checks them.
	expect := func(c *pgx.Conn, who string, want ...[2]string) {
		t.Helper()
		for _, w := range want {
			n, err := c.WaitForNotification(ctx)
			if err != nil {
				t.Fatalf("%s waiting for %v: %v", who, w, err)
			}
			if n.Channel != w[0] || n.Payload != w[1] {
				t.Fatalf("%s got %s %q, want %s %q", who, n.Channel, n.Payload, w[0], w[1])
			}
		}
	}
	exec(c2, "LISTEN ch")
	exec(c3, "LISTEN ch", `LISTEN "Other"`)
	channels := func(c *pgx.Conn) string {
		t.Helper()
		var s string
		if err := c.QueryRow(ctx, "SELECT coalesce(string_agg(c, ' '), '') FROM pg_listening_channels() AS c").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := channels(c3); got != "Other ch" {
		t.Fatalf("n3's pg_listening_channels: %q", got)
	}

	// Through n1 to sessions on n2 and n3, with the sender's PID.
	exec(c1, "NOTIFY ch, 'hello'")
	n, err := c2.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Channel != "ch" || n.Payload != "hello" || n.PID != c1.PgConn().PID() {
		t.Fatalf("n2 got %+v, want ch 'hello' from PID %d", n, c1.PgConn().PID())
	}
	expect(c3, "n3", [2]string{"ch", "hello"})

	// A rolled back transaction notifies nobody; a transaction's
	// notifications come together and in order, a repeat once. Two
	// transactions that overlap come in their commit timestamps' order
	// (the order they serialize in, which the listeners' own reads agree
	// with): here A, which started first, unless the hub read the queue
	// past A's timestamp before A wrote, which pushed A after B.
	exec(c1, "BEGIN", "NOTIFY ch, 'rolled back'", "ROLLBACK")
	exec(c1, "BEGIN", "NOTIFY ch, 'a1'", "NOTIFY ch, 'a1'")
	exec(c4, "BEGIN", "NOTIFY ch, 'b1'", "COMMIT")
	exec(c1, "SELECT pg_notify('ch', 'a2')", "COMMIT")
	for _, c := range []*pgx.Conn{c2, c3} {
		var got []string
		for range 3 {
			n, err := c.WaitForNotification(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, n.Payload)
		}
		if g := strings.Join(got, " "); g != "a1 a2 b1" && g != "b1 a1 a2" {
			t.Fatalf("a listener got %s; want A's a1 a2 together, and B's b1 before or after them", g)
		}
	}
	// Transactions one after the other in real time come in that order.
	exec(c1, "NOTIFY ch, 'first'")
	exec(c4, "NOTIFY ch, 'second'")
	exec(c3, "NOTIFY ch, 'third'")
	expect(c2, "n2", [2]string{"ch", "first"}, [2]string{"ch", "second"}, [2]string{"ch", "third"})
	expect(c3, "n3", [2]string{"ch", "first"}, [2]string{"ch", "second"}, [2]string{"ch", "third"})

	// UNLISTEN stops delivery: n3's next notification is the later one
	// on the channel it still listens on. Quoted channel names keep
	// their case.
	exec(c3, "UNLISTEN ch")
	if got := channels(c3); got != "Other" {
		t.Fatalf("n3's pg_listening_channels after UNLISTEN ch: %q", got)
	}
	exec(c1, "NOTIFY ch, 'not for n3'", `NOTIFY "Other", 'for n3'`)
	expect(c3, "n3", [2]string{"Other", "for n3"})
	expect(c2, "n2", [2]string{"ch", "not for n3"})

	// A LISTEN whose transaction rolls back never starts.
	exec(c4, "BEGIN", "LISTEN never", "ROLLBACK", "LISTEN later")
	exec(c1, "NOTIFY never, 'x'", "NOTIFY later, 'y'")
	expect(c4, "n2's second session", [2]string{"later", "y"})

	// A session listening idle gets a notification as it commits, with
	// no statement of its own in between (WaitForNotification above
	// reads the socket only).
	done := make(chan error, 1)
	go func() {
		n, err := c2.WaitForNotification(ctx)
		if err == nil && n.Payload != "idle" {
			t.Errorf("idle listener got %q", n.Payload)
		}
		done <- err
	}()
	exec(c1, "NOTIFY ch, 'idle'")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
