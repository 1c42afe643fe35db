package sql_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/sqltest"
)

// TestImplicitTxn: the statements of a pipeline or a query string commit
// together or not at all, as in PostgreSQL (see sqltest).
func TestImplicitTxn(t *testing.T) {
	c, _ := startSQL(t)
	sqltest.CheckImplicitTxns(t, c, "implicit_txn")
}

// TestImplicitTxnAgainstPostgres runs the same checks on PostgreSQL 15.
func TestImplicitTxnAgainstPostgres(t *testing.T) {
	url := freshPostgresDB(t, "implicit_txn")
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	sqltest.CheckImplicitTxns(t, c, "implicit_txn")
}

// TestImplicitTxnProtocolError: an error the protocol layer finds (a Bind
// with the wrong number of parameters) rolls back the statements the
// pipeline ran before it, at Sync, as in PostgreSQL.
func TestImplicitTxnProtocolError(t *testing.T) {
	c, url := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE proto_err (k INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = nc.Close() }()
	_ = nc.SetDeadline(hlc.PhysicalNow().Add(10 * time.Second))
	fe := pgproto3.NewFrontend(nc, nc)
	send := func(msgs ...pgproto3.FrontendMessage) {
		for _, m := range msgs {
			fe.Send(m)
		}
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// until reads up to ReadyForQuery and returns the error codes seen
	// and the transaction status.
	until := func() (codes []string, status byte) {
		for {
			m, err := fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			switch m := m.(type) {
			case *pgproto3.ErrorResponse:
				codes = append(codes, m.Code)
			case *pgproto3.ReadyForQuery:
				return codes, m.TxStatus
			}
		}
	}
	send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "test", "database": "defaultdb"}})
	until()
	send(
		&pgproto3.Parse{Name: "ins", Query: "INSERT INTO proto_err VALUES ($1)", ParameterOIDs: []uint32{23}},
		&pgproto3.Bind{PreparedStatement: "ins", Parameters: [][]byte{[]byte("1")}},
		&pgproto3.Execute{},
		&pgproto3.Bind{PreparedStatement: "ins", Parameters: [][]byte{[]byte("2"), []byte("3")}},
		&pgproto3.Execute{},
		&pgproto3.Sync{},
	)
	if codes, status := until(); len(codes) != 1 || codes[0] != "08P01" || status != 'I' {
		t.Fatalf("errors %v, status %c; want one 08P01, then idle", codes, status)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM proto_err").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after the failed pipeline: %d, %v; want 0", n, err)
	}
	// The same pipeline without the bad Bind commits at Sync.
	send(&pgproto3.Bind{PreparedStatement: "ins", Parameters: [][]byte{[]byte("1")}}, &pgproto3.Execute{}, &pgproto3.Sync{})
	if codes, status := until(); len(codes) != 0 || status != 'I' {
		t.Fatalf("errors %v, status %c", codes, status)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM proto_err").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows after the pipeline: %d, %v; want 1", n, err)
	}
}
