package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/rpc"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/stop"
)

// runDemo shows the most complete layer working for real: a 3-node cluster
// in this process, each node with its own Pebble store in a temporary
// directory and its own gRPC server on loopback. The first range is
// replicated to all three nodes, takes writes, loses its leaseholder, and
// carries on; the dead node comes back and catches up.
func runDemo(args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	writes := fs.Int("writes", 2000, "keys to write before and after the failure")
	keep := fs.Bool("keep", false, "keep the stores' directory")
	serve := fs.Bool("serve", false, "after the demonstration, keep the cluster running for psql and drivers until interrupted")
	sqlPort := fs.Int("sql-port", 26257, "with --serve: n1's SQL port (n2 and n3 take the next two)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := demoOptions{writes: *writes, keep: *keep, serve: *serve}
	if *serve {
		opts.sqlPort = *sqlPort
	}
	if err := demo(opts); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		return 1
	}
	return 0
}

type demoOptions struct {
	writes int
	keep   bool
	serve  bool
	// sqlPort is n1's SQL port (0: any free one).
	sqlPort int
}

type demoCluster struct {
	dir       string
	clusterID []byte
	sqlPort   int
	addrs     map[kvserver.NodeID]string
	sqlAddrs  map[kvserver.NodeID]string
	nodes     map[kvserver.NodeID]*server.Node
	mu        sync.Mutex
}

func (c *demoCluster) resolve(id kvserver.NodeID) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.addrs[id]
	if !ok {
		return "", errors.Newf("unknown node %d", id)
	}
	return a, nil
}

func (c *demoCluster) start(id kvserver.NodeID, bootstrap bool) error {
	c.mu.Lock()
	addr := c.addrs[id]
	c.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	c.mu.Lock()
	sqlAddr := c.sqlAddrs[id]
	c.mu.Unlock()
	if sqlAddr == "" {
		sqlAddr = "127.0.0.1:0"
		if c.sqlPort != 0 {
			sqlAddr = fmt.Sprintf("127.0.0.1:%d", c.sqlPort+int(id)-1)
		}
	}
	sqlLn, err := net.Listen("tcp", sqlAddr)
	if err != nil {
		_ = ln.Close()
		return errors.Wrap(err, "listening for SQL clients")
	}
	n, err := server.Start(server.Config{
		NodeID: id, ClusterID: c.clusterID, StoreDir: filepath.Join(c.dir, fmt.Sprintf("n%d", id)),
		Listener: ln, SQLListener: sqlLn, Resolve: c.resolve, Bootstrap: bootstrap,
		Nodes: []kvserver.NodeID{1, 2, 3},
		Store: kvserver.StoreConfig{RaftTickInterval: 50 * time.Millisecond, LeaseDuration: 3 * time.Second},
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.addrs[id] = n.Addr()
	c.sqlAddrs[id] = n.SQLAddr()
	c.nodes[id] = n
	c.mu.Unlock()
	return nil
}

func demo(o demoOptions) error {
	writes := o.writes
	dir, err := os.MkdirTemp("", "meridian-demo-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	c := &demoCluster{dir: dir, clusterID: id, sqlPort: o.sqlPort, addrs: map[kvserver.NodeID]string{},
		sqlAddrs: map[kvserver.NodeID]string{}, nodes: map[kvserver.NodeID]*server.Node{}}
	defer func() {
		for _, n := range c.nodes {
			n.Stop()
		}
	}()
	fmt.Printf("Meridian demo: a 3-node cluster in this process, stores under %s\n\n", dir)
	for i := kvserver.NodeID(1); i <= 3; i++ {
		if err := c.start(i, i == 1); err != nil {
			return err
		}
		fmt.Printf("  n%d  gRPC on %s, SQL on %s, Pebble store in n%d/\n", i, c.addrs[i], c.sqlAddrs[i], i)
	}

	stopper := stop.NewStopper()
	defer stopper.Stop()
	clientCtx := rpc.NewContext(stopper, rpc.Options{
		ClusterID: c.clusterID, NodeID: 0, Clock: hlc.NewClock(hlc.UnixNano, hlc.DefaultMaxOffset), HeartbeatInterval: time.Second,
	})
	sender := kvclient.NewSender(clientCtx, c.resolve, []kvserver.NodeID{1, 2, 3})
	// A consistency check waits for every replica, including one that is
	// catching up: give an attempt more than the default two seconds.
	sender.AttemptTimeout = 20 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t0 := hlc.PhysicalNow()
	resp, err := sender.Send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ChangeReplicas{ChangeReplicas: &rangepb.ChangeReplicasRequest{
		Changes: []*rangepb.ReplicaChange{
			{Type: rangepb.ChangeType_ADD_VOTER, NodeId: 2, StoreId: 2},
			{Type: rangepb.ChangeType_ADD_VOTER, NodeId: 3, StoreId: 3},
		},
	}}})
	if err != nil {
		return errors.Wrap(err, "adding replicas")
	}
	fmt.Printf("\nRange r1 (all keys) started on n1 alone; replicas added on n2 and n3 in %s\n", since(t0))
	fmt.Printf("  (each as a learner, sent a snapshot, then promoted through a joint configuration)\n")
	fmt.Printf("  r1 replicas: %s\n", describe(resp.Responses[0].GetChangeReplicas().Desc))

	acked := map[string]string{}
	var ackedMu sync.Mutex
	put := func(phase string, from, to int) (time.Duration, error) {
		start := hlc.PhysicalNow()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		next := from
		var nextMu sync.Mutex
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					nextMu.Lock()
					i := next
					next++
					nextMu.Unlock()
					if i >= to {
						return
					}
					k, v := fmt.Sprintf("key-%06d", i), fmt.Sprintf("%s-%d", phase, i)
					_, err := sender.Send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte(k), Value: []byte(v)}}})
					if err != nil {
						errs <- errors.Wrapf(err, "writing %s", k)
						return
					}
					ackedMu.Lock()
					acked[k] = v
					ackedMu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		return hlc.PhysicalNow().Sub(start), <-errs
	}

	d, err := put("before", 0, writes)
	if err != nil {
		return err
	}
	fmt.Printf("\nWrote %d keys with 16 concurrent writers in %s (%.0f writes/s); every write is a Raft command\n",
		writes, d.Round(time.Millisecond), float64(writes)/d.Seconds())
	if err := checkConsistency(ctx, sender); err != nil {
		return err
	}

	lh := leaseholder(c)
	fmt.Printf("\nKilling n%d, the leaseholder (its node stops; its store stays on disk)\n", lh)
	c.mu.Lock()
	c.nodes[lh].Stop()
	delete(c.nodes, lh)
	c.mu.Unlock()
	t0 = hlc.PhysicalNow()
	_, err = sender.Send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Put{Put: &rangepb.PutRequest{Key: []byte("after-failover"), Value: []byte("ok")}}})
	if err != nil {
		return errors.Wrap(err, "first write after the failure")
	}
	fmt.Printf("  the next write succeeded after %s: the old 3s lease expired, n%d took over\n", since(t0), leaseholder(c))
	d, err = put("after", writes, 2*writes)
	if err != nil {
		return err
	}
	fmt.Printf("  wrote %d more keys on the 2 surviving nodes in %s\n", writes, d.Round(time.Millisecond))

	fmt.Printf("\nReading back all %d acknowledged writes... ", len(acked))
	for k, v := range acked {
		resp, err := sender.Send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{Get: &rangepb.GetRequest{Key: []byte(k)}}})
		if err != nil {
			return errors.Wrapf(err, "reading %s", k)
		}
		if g := resp.Responses[0].GetGet(); !g.Found || string(g.Value) != v {
			return errors.Newf("acknowledged write %s=%s reads back as %q (found %v)", k, v, g.Value, g.Found)
		}
	}
	fmt.Println("all present.")

	fmt.Printf("\nRestarting n%d on its old store; it catches up from the leader's log or a snapshot\n", lh)
	if err := c.start(lh, false); err != nil {
		return err
	}
	t0 = hlc.PhysicalNow()
	if err := waitCaughtUp(c, lh); err != nil {
		return err
	}
	fmt.Printf("  n%d caught up in %s\n", lh, since(t0))
	if err := checkConsistency(ctx, sender); err != nil {
		return err
	}
	if err := demoSQL(ctx, c); err != nil {
		return err
	}
	if !o.serve {
		fmt.Println("\nDone. `meridian demo --serve` keeps the cluster running for psql.")
		return nil
	}
	fmt.Println("\nThe cluster keeps running; connect with psql or any PostgreSQL driver (Ctrl-C stops it):")
	for i := kvserver.NodeID(1); i <= 3; i++ {
		fmt.Printf("  psql \"postgresql://root@%s/defaultdb?sslmode=disable\"\n", c.sqlAddrs[i])
	}
	sigCtx, stopSig := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSig()
	<-sigCtx.Done()
	fmt.Println("\nStopping.")
	return nil
}

// demoSQL runs SQL through the cluster: a table created through one
// node, written and read through the others, a transfer between rows in
// a transaction, the table's rows split off into a range of their own.
func demoSQL(ctx context.Context, c *demoCluster) error {
	conn := func(id kvserver.NodeID) (*pgx.Conn, error) {
		c.mu.Lock()
		addr := c.sqlAddrs[id]
		c.mu.Unlock()
		return pgx.Connect(ctx, "postgresql://root@"+addr+"/defaultdb?sslmode=disable")
	}
	fmt.Println("\nSQL over pgwire, each statement a serializable transaction across the replicated ranges:")
	c1, err := conn(1)
	if err != nil {
		return errors.Wrap(err, "connecting to n1's SQL port")
	}
	defer c1.Close(ctx)
	c2, err := conn(2)
	if err != nil {
		return errors.Wrap(err, "connecting to n2's SQL port")
	}
	defer c2.Close(ctx)
	c3, err := conn(3)
	if err != nil {
		return errors.Wrap(err, "connecting to n3's SQL port")
	}
	defer c3.Close(ctx)
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS accounts (id INT PRIMARY KEY, owner TEXT NOT NULL, balance DECIMAL NOT NULL)",
		"INSERT INTO accounts VALUES (1, 'alice', 100.00), (2, 'bob', 50.00) ON CONFLICT DO NOTHING",
	} {
		if _, err := c1.Exec(ctx, q); err != nil {
			return errors.Wrapf(err, "n1: %s", q)
		}
	}
	fmt.Println("  n1> CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT NOT NULL, balance DECIMAL NOT NULL)")
	fmt.Println("  n1> INSERT INTO accounts VALUES (1, 'alice', 100.00), (2, 'bob', 50.00)")
	tx, err := c2.Begin(ctx)
	if err != nil {
		return err
	}
	for _, q := range []string{
		"UPDATE accounts SET balance = balance - 30 WHERE id = 1",
		"UPDATE accounts SET balance = balance + 30 WHERE id = 2",
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			_ = tx.Rollback(ctx)
			return errors.Wrapf(err, "n2: %s", q)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return errors.Wrap(err, "n2: COMMIT")
	}
	fmt.Println("  n2> BEGIN; UPDATE accounts SET balance = balance - 30 WHERE id = 1;")
	fmt.Println("      UPDATE accounts SET balance = balance + 30 WHERE id = 2; COMMIT")
	rows, err := c3.Query(ctx, "SELECT id, owner, balance::TEXT FROM accounts ORDER BY id")
	if err != nil {
		return errors.Wrap(err, "n3: SELECT")
	}
	fmt.Println("  n3> SELECT id, owner, balance FROM accounts ORDER BY id")
	for rows.Next() {
		var id int32
		var owner, balance string
		if err := rows.Scan(&id, &owner, &balance); err != nil {
			return err
		}
		fmt.Printf("        %d | %-5s | %s\n", id, owner, balance)
	}
	if err := rows.Err(); err != nil {
		return errors.Wrap(err, "n3: SELECT")
	}
	var total string
	if err := c3.QueryRow(ctx, "SELECT sum(balance)::TEXT FROM accounts").Scan(&total); err != nil {
		return errors.Wrap(err, "n3: SELECT sum")
	}
	fmt.Printf("  n3> SELECT sum(balance) FROM accounts  →  %s\n", total)
	if total != "150.00" {
		return errors.Newf("the accounts hold %s in all, want 150.00", total)
	}
	return nil
}

// checkConsistency runs the range's consistency check: every replica
// hashes its data at one applied index, and the leaseholder collects and
// compares the checksums.
func checkConsistency(ctx context.Context, sender *kvclient.Sender) error {
	resp, err := sender.Send(ctx, 1, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ComputeChecksum{ComputeChecksum: &rangepb.ComputeChecksumRequest{}}})
	if err != nil {
		return errors.Wrap(err, "consistency check")
	}
	sums := resp.Responses[0].GetComputeChecksum().Checksums
	fmt.Printf("Consistency check: %d replicas hold identical data at applied index %d (sha256 %x…)\n",
		len(sums), sums[0].AppliedIndex, sums[0].Checksum[:6])
	return nil
}

// waitCaughtUp waits until node n's replica of r1 has applied everything
// the leaseholder had applied when the wait began.
func waitCaughtUp(c *demoCluster, n kvserver.NodeID) error {
	c.mu.Lock()
	lh := c.nodes[leaseholderLocked(c)]
	node := c.nodes[n]
	c.mu.Unlock()
	if lh == nil || node == nil {
		return errors.New("no leaseholder to catch up with")
	}
	ref, err := lh.Store().GetReplica(1)
	if err != nil {
		return err
	}
	target := ref.AppliedIndex()
	deadline := hlc.PhysicalNow().Add(time.Minute)
	for {
		if r, err := node.Store().GetReplica(1); err == nil && r.AppliedIndex() >= target {
			return nil
		}
		if hlc.PhysicalNow().After(deadline) {
			return errors.Newf("n%d did not catch up to applied index %d within a minute", n, target)
		}
		t := time.NewTimer(20 * time.Millisecond)
		<-t.C
	}
}

func leaseholder(c *demoCluster) kvserver.NodeID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return leaseholderLocked(c)
}

// leaseholderLocked returns the node holding r1's lease, as the replicas
// know it (0 if none); c.mu is held.
func leaseholderLocked(c *demoCluster) kvserver.NodeID {
	var best *rangepb.Lease
	for _, n := range c.nodes {
		if r, err := n.Store().GetReplica(1); err == nil {
			if l := r.Lease(); l != nil && (best == nil || l.Sequence > best.Sequence) {
				best = l
			}
		}
	}
	if best == nil {
		return 0
	}
	return kvserver.NodeID(best.Replica.NodeId)
}

func describe(desc *rangepb.RangeDescriptor) string {
	var out []string
	for _, rd := range desc.Replicas {
		out = append(out, fmt.Sprintf("n%d (replica %d, %s)", rd.NodeId, rd.ReplicaId, rd.Type))
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func since(t time.Time) time.Duration { return hlc.PhysicalNow().Sub(t).Round(time.Millisecond) }
