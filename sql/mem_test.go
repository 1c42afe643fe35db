package sql_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/memkv"
	"github.com/meridiandb/meridian/sql/mon"
)

// budgetMessage is the message of a statement that exceeds the budget.
var budgetMessage = regexp.MustCompile(`^memory budget exceeded: \d+ bytes requested, \d+ already in use of 262144 \(--max-sql-memory\)$`)

// TestMemoryBudget: with a small SQL memory budget, every kind of node
// that holds rows in memory fails its statement with SQLSTATE 53200
// instead of growing without bound; the memory comes back and the session
// goes on with a small query.
func TestMemoryBudget(t *testing.T) {
	const limit = 256 << 10
	m := mon.NewMonitor("--max-sql-memory", limit)
	ex := sql.NewExecutor(memkv.New(), hlc.PhysicalNow)
	ex.UseMemoryMonitor(m)
	c, _ := serveSQL(t, ex)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Each query holds about 5000 rows (or keys) in one node: over 256KiB.
	// The small queries are the same shapes over 10 rows.
	for _, tc := range []struct{ name, big, small string }{
		{"sort",
			`SELECT g FROM generate_series(1, 5000) g ORDER BY g DESC LIMIT 1`,
			`SELECT g FROM generate_series(1, 10) g ORDER BY g DESC LIMIT 1`},
		{"group by",
			`SELECT count(*) FROM (SELECT g, count(*) FROM generate_series(1, 5000) g GROUP BY g) s`,
			`SELECT count(*) FROM (SELECT g, count(*) FROM generate_series(1, 10) g GROUP BY g) s`},
		{"distinct",
			`SELECT count(*) FROM (SELECT DISTINCT g FROM generate_series(1, 5000) g) s`,
			`SELECT count(*) FROM (SELECT DISTINCT g FROM generate_series(1, 10) g) s`},
		{"distinct on",
			`SELECT count(*) FROM (SELECT DISTINCT ON (g) g FROM generate_series(1, 10000) g) s`,
			`SELECT count(*) FROM (SELECT DISTINCT ON (g) g FROM generate_series(1, 10) g) s`},
		{"count distinct",
			`SELECT count(DISTINCT g) FROM generate_series(1, 10000) g`,
			`SELECT count(DISTINCT g) FROM generate_series(1, 10) g`},
		{"string_agg",
			`SELECT length(string_agg(repeat('x', 100), ',')) FROM generate_series(1, 5000) g`,
			`SELECT length(string_agg(repeat('x', 100), ',')) FROM generate_series(1, 10) g`},
		{"join",
			`SELECT count(*) FROM generate_series(1, 3) a JOIN generate_series(1, 5000) b ON a = b`,
			`SELECT count(*) FROM generate_series(1, 3) a JOIN generate_series(1, 10) b ON a = b`},
		{"window",
			`SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY g) AS r FROM generate_series(1, 5000) g) s`,
			`SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY g) AS r FROM generate_series(1, 10) g) s`},
		{"union",
			`SELECT count(*) FROM (SELECT g FROM generate_series(1, 5000) g UNION SELECT g FROM generate_series(1, 10) g) s`,
			`SELECT count(*) FROM (SELECT g FROM generate_series(1, 10) g UNION SELECT g FROM generate_series(1, 10) g) s`},
		{"except",
			`SELECT count(*) FROM (SELECT g FROM generate_series(1, 5000) g EXCEPT SELECT 1) s`,
			`SELECT count(*) FROM (SELECT g FROM generate_series(1, 10) g EXCEPT SELECT 1) s`},
		{"recursive",
			`WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n + 1 FROM t WHERE n < 3000) SELECT count(*) FROM t`,
			`WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n + 1 FROM t WHERE n < 10) SELECT count(*) FROM t`},
		{"in subquery",
			`SELECT count(*) FROM generate_series(1, 3) a WHERE a IN (SELECT g FROM generate_series(1, 20000) g)`,
			`SELECT count(*) FROM generate_series(1, 3) a WHERE a IN (SELECT g FROM generate_series(1, 10) g)`},
		{"buffered result",
			`SELECT g FROM generate_series(1, 5000) g`,
			`SELECT g FROM generate_series(1, 10) g`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Both protocols: the simple one, and pgx's extended one.
			for _, proto := range []string{"simple", "extended"} {
				var err error
				if proto == "simple" {
					_, err = c.PgConn().Exec(ctx, tc.big).ReadAll()
				} else {
					var rows pgx.Rows
					if rows, err = c.Query(ctx, tc.big); err == nil {
						for rows.Next() {
						}
						rows.Close()
						err = rows.Err()
					}
				}
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != "53200" || !budgetMessage.MatchString(pe.Message) {
					t.Fatalf("%s protocol: want SQLSTATE 53200 naming the budget, got %v", proto, err)
				}
				if pe.Hint == "" {
					t.Errorf("no hint with %v", pe)
				}
				if used := m.Used(); used != 0 {
					t.Fatalf("%s protocol: %d bytes still charged after the statement failed", proto, used)
				}
				var n int64
				if err := c.QueryRow(ctx, tc.small).Scan(&n); err != nil {
					t.Fatalf("%s protocol: the small query after the failure: %v", proto, err)
				}
				if used := m.Used(); used != 0 {
					t.Fatalf("%s protocol: %d bytes still charged after a small query", proto, used)
				}
			}
		})
	}
	if hw := m.HighWater(); hw == 0 || hw > limit {
		t.Fatalf("high water %d: want charges, never past %d", hw, limit)
	}

	// In a transaction block the failure fails the block, as any error
	// does; ROLLBACK ends it, and the session goes on.
	for _, q := range []string{"BEGIN", "SELECT g FROM generate_series(1, 5000) g ORDER BY g"} {
		_, err := c.PgConn().Exec(ctx, q).ReadAll()
		if q == "BEGIN" && err != nil {
			t.Fatal(err)
		}
		if q != "BEGIN" {
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "53200" {
				t.Fatalf("in a block: want 53200, got %v", err)
			}
		}
	}
	if _, err := c.PgConn().Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM generate_series(1, 5000)").Scan(&n); err != nil || n != 5000 {
		t.Fatalf("after ROLLBACK: %d, %v", n, err)
	}
	if used := m.Used(); used != 0 {
		t.Fatalf("%d bytes still charged at the end", used)
	}
}

// TestMemoryBudgetShared: the budget is the node's, shared by its
// sessions: what one session holds (a portal's unsent rows) is not
// available to another until it is released.
func TestMemoryBudgetShared(t *testing.T) {
	m := mon.NewMonitor("--max-sql-memory", 256<<10)
	ex := sql.NewExecutor(memkv.New(), hlc.PhysicalNow)
	ex.UseMemoryMonitor(m)
	a, url := serveSQL(t, ex)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close(ctx) }()

	// a holds 2000 rows (about 140KiB) in a portal it has read one row
	// of: inside a block, the portal outlives its first Execute.
	if _, err := a.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	fe := a.PgConn().Frontend()
	roundTrip := func(msgs ...pgproto3.FrontendMessage) (rows int) {
		t.Helper()
		for _, msg := range msgs {
			fe.Send(msg)
		}
		fe.Send(&pgproto3.Sync{})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		for {
			msg, err := fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			switch msg := msg.(type) {
			case *pgproto3.DataRow:
				rows++
			case *pgproto3.ErrorResponse:
				t.Fatalf("portal: %s %s", msg.Code, msg.Message)
			case *pgproto3.ReadyForQuery:
				return rows
			}
		}
	}
	if n := roundTrip(&pgproto3.Parse{Query: "SELECT g FROM generate_series(1, 2000) g"},
		&pgproto3.Bind{DestinationPortal: "held"}, &pgproto3.Execute{Portal: "held", MaxRows: 1}); n != 1 {
		t.Fatalf("first Execute: %d rows", n)
	}
	if used := m.Used(); used < 100<<10 {
		t.Fatalf("a's suspended portal is charged %d bytes, want over 100KiB", used)
	}
	// b's statement of the same size does not fit beside a's portal.
	_, err = b.PgConn().Exec(ctx, "SELECT g FROM generate_series(1, 2000) g").ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53200" {
		t.Fatalf("b beside a: want 53200, got %v", err)
	}
	if n := roundTrip(&pgproto3.Execute{Portal: "held"}); n != 1999 {
		t.Fatalf("second Execute: %d rows", n)
	}
	if used := m.Used(); used != 0 {
		t.Fatalf("a's portal sent every row, yet %d bytes are charged", used)
	}
	if _, err := a.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	// b's statement fits now.
	if _, err := b.PgConn().Exec(ctx, "SELECT g FROM generate_series(1, 2000) g").ReadAll(); err != nil {
		t.Fatalf("b after a finished: %v", err)
	}
	if used := m.Used(); used != 0 {
		t.Fatalf("%d bytes still charged at the end", used)
	}
}
