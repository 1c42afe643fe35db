package server

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/sqltest"
)

// sqlCluster starts three real nodes on loopback gRPC, each serving SQL,
// with range 1 replicated to all three and the keyspace split so that
// descriptors and tables live in different ranges: SQL statements then run
// as distributed transactions.
func sqlCluster(t *testing.T) []*Node {
	t.Helper()
	return sqlClusterWith(t, nil)
}

// sqlClusterWith is sqlCluster with tune applied to each node's
// configuration.
func sqlClusterWith(t *testing.T, tune func(*Config)) []*Node {
	t.Helper()
	c := newTestClusterWith(t, 3, true, tune)
	nodes := []*Node{c.node(0), c.node(1), c.node(2)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Descriptors (0x04 'd'), the ID counter (0x04 'i') and the tables
	// with IDs 100.. (0xec..) fall in different ranges.
	for _, k := range [][]byte{{0x04, 'i'}, {0xee}, {0xf1}} {
		if _, err := nodes[0].dist.AdminSplit(ctx, k); err != nil {
			t.Fatalf("split at %x: %v", k, err)
		}
	}
	return nodes
}

func sqlConnect(t *testing.T, n *Node) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig("postgres://root@" + n.SQLAddr() + "/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	// For the logic files' exec notices.
	cfg.OnNotice = sqltest.RecordNotices
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// TestSQLLogicOnCluster runs the SQL logic files (sql/testdata/logic,
// whose expected outputs are PostgreSQL's) against a three-node cluster,
// each file through a different node.
func TestSQLLogicOnCluster(t *testing.T) {
	nodes := sqlCluster(t)
	// The files' plans are those of tables without statistics unless a
	// file analyzes them: no refresh in the background.
	if _, err := sqlConnect(t, nodes[0]).Exec(context.Background(), "SET CLUSTER SETTING sql.stats.automatic_collection.enabled = false"); err != nil {
		t.Fatal(err)
	}
	i := 0
	sqltest.Run(t, "../sql/testdata/logic", func(t *testing.T, path string) *pgx.Conn {
		i++
		return sqlConnect(t, nodes[i%len(nodes)])
	}, false)
}

// TestImplicitTxnOnCluster checks the implicit transactions of pipelines
// and query strings (sqltest.CheckImplicitTxns) on a three-node cluster,
// where a pipeline's statements write to several ranges.
func TestImplicitTxnOnCluster(t *testing.T) {
	nodes := sqlCluster(t)
	sqltest.CheckImplicitTxns(t, sqlConnect(t, nodes[1]), "implicit_txn")
}

// TestStatementTimeoutOnLockWait: a statement blocked behind another
// transaction's write is ended by statement_timeout (57014), and so is
// one ended by a CancelRequest; the blocking transaction then commits.
func TestStatementTimeoutOnLockWait(t *testing.T) {
	nodes := sqlCluster(t)
	ctx := context.Background()
	a, b := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1])
	if _, err := a.Exec(ctx, "CREATE TABLE lockwait (k INT PRIMARY KEY, v INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(ctx, "INSERT INTO lockwait VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The read sends the transaction's buffered write: its intent is
	// then on the range.
	if _, err := tx.Exec(ctx, "UPDATE lockwait SET v = 1 WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT v FROM lockwait WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, "SET statement_timeout = '300ms'"); err != nil {
		t.Fatal(err)
	}
	start := hlc.PhysicalNow()
	_, err = b.Exec(ctx, "UPDATE lockwait SET v = 2 WHERE k = 1")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" || pgErr.Message != "canceling statement due to statement timeout" {
		t.Fatalf("blocked UPDATE: %v, want 57014 canceling statement due to statement timeout", err)
	}
	if d := hlc.PhysicalNow().Sub(start); d > 10*time.Second {
		t.Fatalf("the timeout took %v", d)
	}
	if _, err := b.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.Exec(ctx, "UPDATE lockwait SET v = 3 WHERE k = 1")
		done <- err
	}()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
wait:
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := b.PgConn().CancelRequest(cctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		retry := time.NewTimer(50 * time.Millisecond)
		select {
		case err := <-done:
			retry.Stop()
			if !errors.As(err, &pgErr) || pgErr.Code != "57014" || pgErr.Message != "canceling statement due to user request" {
				t.Fatalf("cancelled UPDATE: %v, want 57014 canceling statement due to user request", err)
			}
			break wait
		case <-retry.C:
			// The cancel may have come before the statement started.
		case <-deadline.C:
			t.Fatal("the blocked UPDATE was not cancelled")
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := b.QueryRow(ctx, "SELECT v FROM lockwait WHERE k = 1").Scan(&v); err != nil || v != 1 {
		t.Fatalf("v = %d, %v; want the blocking transaction's 1", v, err)
	}
}

// TestSQLBank moves money between accounts in explicit transactions from
// clients on all three nodes, retrying serialization failures, while
// auditors read the total: no audit and no final count may ever see money
// created or lost.
func TestSQLBank(t *testing.T) {
	nodes := sqlCluster(t)
	ctx := context.Background()
	const accounts, initial = 10, 100
	setup := sqlConnect(t, nodes[0])
	if _, err := setup.Exec(ctx, "CREATE TABLE bank (id INT PRIMARY KEY, balance INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for i := range accounts {
		if _, err := setup.Exec(ctx, "INSERT INTO bank VALUES ($1, $2)", i, initial); err != nil {
			t.Fatal(err)
		}
	}
	var transfers, retries, audits atomic.Int64
	deadline := hlc.PhysicalNow().Add(4 * time.Second)
	var wg sync.WaitGroup
	errCh := make(chan error, 16)
	for w := range 6 {
		c := sqlConnect(t, nodes[w%3])
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; hlc.PhysicalNow().Before(deadline); k++ {
				from, to := (w*7+k)%accounts, (w*3+k*5+1)%accounts
				if from == to {
					continue
				}
				err := transfer(ctx, c, from, to, 1+k%5)
				var pe *pgconn.PgError
				switch {
				case err == nil:
					transfers.Add(1)
				case errors.As(err, &pe) && pe.Code == "40001":
					retries.Add(1)
				default:
					errCh <- errors.Wrapf(err, "worker %d", w)
					return
				}
			}
		}(w)
	}
	for a := range 2 {
		c := sqlConnect(t, nodes[(a+1)%3])
		wg.Add(1)
		go func() {
			defer wg.Done()
			for hlc.PhysicalNow().Before(deadline) {
				var total int64
				err := c.QueryRow(ctx, "SELECT sum(balance) FROM bank").Scan(&total)
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "40001" {
					continue
				}
				if err != nil {
					errCh <- errors.Wrap(err, "audit")
					return
				}
				if total != accounts*initial {
					errCh <- errors.Newf("audit saw a total of %d, want %d", total, accounts*initial)
					return
				}
				audits.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errCh)
	for err := range errCh {
		t.Error(err)
	}
	var total, n int64
	if err := setup.QueryRow(ctx, "SELECT sum(balance), count(*) FROM bank").Scan(&total, &n); err != nil {
		t.Fatal(err)
	}
	if total != accounts*initial || n != accounts {
		t.Fatalf("final: %d accounts, total %d; want %d, %d", n, total, accounts, accounts*initial)
	}
	t.Logf("%d transfers, %d serialization failures retried, %d audits", transfers.Load(), retries.Load(), audits.Load())
	if transfers.Load() == 0 || audits.Load() == 0 {
		t.Fatal("no transfer or no audit completed")
	}
}

func transfer(ctx context.Context, c *pgx.Conn, from, to, amount int) (err error) {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(ctx)
		}
	}()
	var a, b int64
	if err := tx.QueryRow(ctx, "SELECT balance FROM bank WHERE id = $1", from).Scan(&a); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, "SELECT balance FROM bank WHERE id = $1", to).Scan(&b); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE bank SET balance = $1 WHERE id = $2", a-int64(amount), from); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE bank SET balance = $1 WHERE id = $2", b+int64(amount), to); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// TestSQLBankNodeFailure kills a node holding leases while clients on the
// other two keep transferring money in explicit transactions: after a
// lease expiry the survivors carry on, and the total stays exact, whatever
// became of the transfers in flight (each commits whole or not at all).
func TestSQLBankNodeFailure(t *testing.T) {
	nodes := sqlCluster(t)
	ctx := context.Background()
	const accounts, initial = 8, 100
	setup := sqlConnect(t, nodes[0])
	if _, err := setup.Exec(ctx, "CREATE TABLE bank (id INT PRIMARY KEY, balance INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for i := range accounts {
		if _, err := setup.Exec(ctx, "INSERT INTO bank VALUES ($1, $2)", i, initial); err != nil {
			t.Fatal(err)
		}
	}
	// The node holding the most leases dies; clients use the others.
	victim, best := 0, -1
	for i, n := range nodes {
		held := 0
		for _, r := range n.Store().Replicas() {
			if r.Lease().GetReplica().GetNodeId() == int32(n.ID()) {
				held++
			}
		}
		if held > best {
			victim, best = i, held
		}
	}
	var survivors []*Node
	for i, n := range nodes {
		if i != victim {
			survivors = append(survivors, n)
		}
	}
	var transfers, failures atomic.Int64
	var wg sync.WaitGroup
	stopAt := hlc.PhysicalNow().Add(8 * time.Second)
	for w := range 4 {
		c := sqlConnect(t, survivors[w%2])
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; hlc.PhysicalNow().Before(stopAt); k++ {
				from, to := (w*5+k)%accounts, (w*3+k*7+1)%accounts
				if from == to {
					continue
				}
				// Retryable, ambiguous, or the node's lease moving: any
				// error leaves the transfer done whole or not at all.
				tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if err := transfer(tctx, c, from, to, 1); err != nil {
					if failures.Add(1)%100000 == 1 {
						t.Logf("transfer: %v", err)
					}
				} else {
					transfers.Add(1)
				}
				cancel()
			}
		}(w)
	}
	// Kill the victim once transfers flow.
	tick := time.NewTicker(10 * time.Millisecond)
	for transfers.Load() < 10 && hlc.PhysicalNow().Before(stopAt) {
		<-tick.C
	}
	tick.Stop()
	before := transfers.Load()
	nodes[victim].Stop()
	wg.Wait()
	after := transfers.Load()
	t.Logf("n%d killed after %d transfers; %d in all, %d failed attempts", nodes[victim].ID(), before, after, failures.Load())
	if after <= before {
		t.Fatalf("no transfer committed after n%d died", nodes[victim].ID())
	}
	check := sqlConnect(t, survivors[0])
	var total, n int64
	deadline := hlc.PhysicalNow().Add(20 * time.Second)
	for {
		err := check.QueryRow(ctx, "SELECT sum(balance), count(*) FROM bank").Scan(&total, &n)
		if err == nil {
			break
		}
		if hlc.PhysicalNow().After(deadline) {
			t.Fatal(err)
		}
	}
	if total != accounts*initial || n != accounts {
		t.Fatalf("after the failure: %d accounts, total %d; want %d, %d", n, total, accounts, accounts*initial)
	}
}
