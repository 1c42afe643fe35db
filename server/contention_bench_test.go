package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
)

// BenchmarkSQLContendedTPCB runs TestSQLContendedUpdates' TPC-B-like
// transaction (every one updates the single branch row) from 1 and from 4
// concurrent clients on one node, and reports the committed transactions
// per second and the serialization failures (40001, retried) per commit:
// how conflicts are waited for and resolved shows in the ratio of the two
// throughputs.
//
//	go test -run '^$' -bench SQLContendedTPCB -benchtime 200x ./server/
func BenchmarkSQLContendedTPCB(b *testing.B) {
	for _, clients := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			n, setup, _ := benchNode(b)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			for _, q := range []string{
				"CREATE TABLE branches (bid INT PRIMARY KEY, bbalance INT NOT NULL)",
				"CREATE TABLE tellers (tid INT PRIMARY KEY, bid INT NOT NULL, tbalance INT NOT NULL)",
				"CREATE TABLE accounts (aid INT PRIMARY KEY, bid INT NOT NULL, abalance INT NOT NULL)",
				"INSERT INTO branches VALUES (1, 0)",
				"INSERT INTO tellers SELECT i, 1, 0 FROM generate_series(1, 10) AS g(i)",
				"INSERT INTO accounts SELECT i, 1, 0 FROM generate_series(1, 1000) AS g(i)",
			} {
				if _, err := setup.Exec(ctx, q); err != nil {
					b.Fatalf("%s: %v", q, err)
				}
			}
			conns := make([]*pgx.Conn, clients)
			for i := range conns {
				c, err := pgx.Connect(ctx, "postgres://root@"+n.SQLAddr()+"/db?sslmode=disable")
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = c.Close(context.Background()) }()
				conns[i] = c
			}
			var next, retries atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			b.ResetTimer()
			start := hlc.PhysicalNow()
			for w, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := next.Add(1); k <= int64(b.N); {
						err := tpcbTxn(ctx, c, 1+int((int64(w)*31+k*7)%1000), 1+int((int64(w)+k)%10))
						switch {
						case err == nil:
							k = next.Add(1)
						case sqlCode(err) == "40001":
							retries.Add(1)
						default:
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := hlc.PhysicalNow().Sub(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "txn/s")
			b.ReportMetric(float64(retries.Load())/float64(b.N), "retries/txn")
		})
	}
}
