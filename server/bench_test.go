package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/txn"
)

// The benchmarks of issue 13: a SQL statement against the KV operation it
// comes down to, on one node (the single-node hot path), to be read as
// ratios from one run:
//
//	go test -run '^$' -bench 'SQLPointSelect|KVGet|SQLInsertRow|KVPut' -benchmem ./server/
//
// BenchmarkSQLPointSelect / BenchmarkKVGet: a primary-key SELECT through
// pgwire against a transactional Get of the same row's key; the targets
// are ≤ 3× and, for BenchmarkSQLInsertRow / BenchmarkKVPut (a one-row
// INSERT against a one-key transaction committing in one phase), ≤ 1.5×.

// benchRows is how many rows the point reads pick from.
const benchRows = 1000

// benchNode starts a one-node cluster serving SQL, with a table kv of
// benchRows rows, and returns it with a connection and the rows' keys.
func benchNode(b *testing.B) (*Node, *pgx.Conn, [][]byte) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sqlLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	n, err := Start(Config{StoreDir: b.TempDir(), Listener: ln, SQLListener: sqlLn, Bootstrap: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(n.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://root@"+n.SQLAddr()+"/defaultdb?sslmode=disable")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	if _, err := c.Exec(ctx, "CREATE TABLE kv (k INT PRIMARY KEY, v INT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO kv SELECT i, i FROM generate_series(0, $1) AS g(i)", benchRows-1); err != nil {
		b.Fatal(err)
	}
	// The table is the only one: its rows are the keys from the first
	// user table's prefix (0xec: table IDs from 100) on.
	var keys [][]byte
	if err := n.DB().Txn(ctx, func(ctx context.Context, t *txn.Txn) error {
		rows, err := t.Scan(ctx, []byte{0xec}, []byte{0xff}, 0)
		keys = keys[:0]
		for _, r := range rows {
			keys = append(keys, r.Key)
		}
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if len(keys) != benchRows {
		b.Fatalf("found %d keys for %d rows", len(keys), benchRows)
	}
	return n, c, keys
}

func BenchmarkSQLPointSelect(b *testing.B) {
	_, c, _ := benchNode(b)
	ctx := context.Background()
	var v int64
	for i := 0; b.Loop(); i++ {
		if err := c.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", (i*7919)%benchRows).Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSQLPointSelectGranted is BenchmarkSQLPointSelect as a role
// that is no superuser and reads kv by a grant: what privilege checks
// cost a statement (its role record and schema read in the transaction).
func BenchmarkSQLPointSelectGranted(b *testing.B) {
	n, root, _ := benchNode(b)
	ctx := context.Background()
	for _, q := range []string{"CREATE ROLE app LOGIN", "GRANT SELECT ON kv TO app"} {
		if _, err := root.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	c, err := pgx.Connect(ctx, "postgres://app@"+n.SQLAddr()+"/defaultdb?sslmode=disable")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	var v int64
	for i := 0; b.Loop(); i++ {
		if err := c.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", (i*7919)%benchRows).Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKVGet(b *testing.B) {
	n, _, keys := benchNode(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if err := n.DB().Txn(ctx, func(ctx context.Context, t *txn.Txn) error {
			_, found, err := t.Get(ctx, keys[(i*7919)%benchRows])
			if err == nil && !found {
				err = errors.New("row missing")
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSQLInsertRow(b *testing.B) {
	_, c, _ := benchNode(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Exec(ctx, "INSERT INTO kv VALUES ($1, $2)", benchRows+i, i); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSQLInsertRowSimple is BenchmarkSQLInsertRow on the simple
// query protocol (pgbench's and psql's), where a lone INSERT commits
// right after it and leaves its key check to the commit
// (sql/insert_deferred.go); /do-nothing is compare-pg's one-row INSERT
// ... ON CONFLICT DO NOTHING.
func BenchmarkSQLInsertRowSimple(b *testing.B) {
	for _, suffix := range []string{"", " ON CONFLICT DO NOTHING"} {
		name := "plain"
		if suffix != "" {
			name = "do-nothing"
		}
		b.Run(name, func(b *testing.B) {
			_, c, _ := benchNode(b)
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				q := fmt.Sprintf("INSERT INTO kv VALUES (%d, %d)%s", benchRows+i, i, suffix)
				if _, err := c.PgConn().Exec(ctx, q).ReadAll(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKVPut(b *testing.B) {
	n, _, keys := benchNode(b)
	ctx := context.Background()
	db := txn.NewDB(n.dist, n.cfg.Clock, n.stopper, txn.Options{BufferWrites: true})
	// New keys among the table's rows (after the last one, in its range),
	// a row's worth of value each.
	last := keys[len(keys)-1]
	value := []byte("a row's value...")
	for i := 0; b.Loop(); i++ {
		k := binary.BigEndian.AppendUint64(append(last[:len(last):len(last)], 0xff), uint64(i))
		if err := db.Txn(ctx, func(ctx context.Context, t *txn.Txn) error {
			return t.Put(ctx, k, value)
		}); err != nil {
			b.Fatal(err)
		}
	}
}
