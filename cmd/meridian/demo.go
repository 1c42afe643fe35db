package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/liveness"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "run a local 3-node cluster on temporary stores: replication, a node killed, failover, SQL",
		Long: `Start three nodes in this process, each with its own Pebble store in a
temporary directory and its own gRPC, SQL and HTTP ports on loopback; they
form a cluster the way separate processes do (node 1 bootstraps it, the
others join through it) and the replicate queue gives every range three
replicas. Then: thousands of writes, the node holding most leases killed,
writes going on, every acknowledged write read back, the node restarted and
caught up, a consistency check, SQL through the three nodes. With --serve
the cluster keeps running for psql until Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.out = cmd.OutOrStdout()
			return demo(o)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&o.writes, "writes", 2000, "keys to write before and after the failure")
	fs.BoolVar(&o.keep, "keep", false, "keep the stores' directory")
	fs.BoolVar(&o.serve, "serve", false, "after the demonstration, keep the cluster running for psql and drivers until interrupted")
	fs.IntVar(&o.sqlPort, "sql-port", 26257, "with --serve: n1's SQL port (n2 and n3 take the next two; 0: any free ports)")
	fs.IntVar(&o.httpPort, "http-port", 8080, "with --serve: n1's HTTP port (n2 and n3 take the next two; 0: any free ports)")
	return cmd
}

type demoOptions struct {
	out               io.Writer
	writes            int
	keep, serve       bool
	sqlPort, httpPort int
}

// demoCluster is the demo's three nodes, by index.
type demoCluster struct {
	dir   string
	o     demoOptions
	mu    sync.Mutex
	nodes [3]*server.Node
	addrs [3]string
}

func (c *demoCluster) port(base, i int) string {
	if base == 0 || !c.o.serve {
		return "127.0.0.1:0"
	}
	return fmt.Sprintf("127.0.0.1:%d", base+i)
}

// start starts node i (again, on its store and address, after a kill).
func (c *demoCluster) start(i int) error {
	c.mu.Lock()
	addr, join := c.addrs[i], []string{}
	for j, a := range c.addrs {
		if j != i && a != "" {
			join = append(join, a)
		}
	}
	c.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lns [3]net.Listener
	for k, a := range []string{addr, c.port(c.o.sqlPort, i), c.port(c.o.httpPort, i)} {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns[:k] {
				_ = l.Close()
			}
			return errors.Wrapf(err, "n%d: listening on %s", i+1, a)
		}
		lns[k] = ln
	}
	n, err := server.Start(server.Config{
		StoreDir: filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)), Listener: lns[0], SQLListener: lns[1], HTTPListener: lns[2],
		Bootstrap: i == 0, Join: join, Locality: []*serverpb.Tier{{Key: "region", Value: "local"}, {Key: "zone", Value: fmt.Sprintf("z%d", i+1)}},
		Store:             kvserver.StoreConfig{RaftTickInterval: 50 * time.Millisecond, LeaseDuration: 3 * time.Second},
		Liveness:          liveness.Config{LivenessDuration: 3 * time.Second},
		ReplicateInterval: 100 * time.Millisecond, DirectoryRefreshInterval: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nodes[i], c.addrs[i] = n, n.Addr()
	c.mu.Unlock()
	return nil
}

func (c *demoCluster) live() []*server.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*server.Node
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

func demo(o demoOptions) error {
	if o.out == nil {
		o.out = os.Stdout
	}
	out := o.out
	dir, err := os.MkdirTemp("", "meridian-demo-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	c := &demoCluster{dir: dir, o: o}
	defer func() {
		for _, n := range c.live() {
			n.Stop()
		}
	}()
	fmt.Fprintf(out, "Meridian demo: a 3-node cluster in this process, stores under %s\n\n", dir)
	t0 := hlc.PhysicalNow()
	for i := range 3 {
		if err := c.start(i); err != nil {
			return err
		}
		n := c.nodes[i]
		how := "joined through n1"
		if i == 0 {
			how = "bootstrapped the cluster"
		}
		fmt.Fprintf(out, "  n%d  %s: gRPC %s, SQL %s, HTTP %s\n", n.ID(), how, n.Addr(), n.SQLAddr(), n.HTTPAddr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := waitFor(ctx, "every range to get three replicas", func() error { return fullyReplicated(c.live(), 3) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe replicate queue gave every range a replica on each node in %s\n", since(t0))
	fmt.Fprintf(out, "  (each added as a learner, sent a snapshot, then promoted through a joint configuration)\n")

	acked := map[string]string{}
	var ackedMu sync.Mutex
	put := func(phase string, from, to int) (time.Duration, error) {
		start := hlc.PhysicalNow()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		next := from
		var nextMu sync.Mutex
		for w := range 16 {
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
					nodes := c.live()
					db := nodes[w%len(nodes)].DB()
					k, v := fmt.Sprintf("demo/key-%06d", i), fmt.Sprintf("%s-%d", phase, i)
					if err := db.Put(ctx, []byte(k), []byte(v)); err != nil {
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
	d, err := put("before", 0, o.writes)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nWrote %d keys with 16 concurrent writers in %s (%.0f writes/s); every write is a Raft command\n",
		o.writes, d.Round(time.Millisecond), float64(o.writes)/d.Seconds())
	if err := demoConsistency(ctx, out, c.live()[0]); err != nil {
		return err
	}

	victim := mostLeases(c)
	fmt.Fprintf(out, "\nKilling n%d, which holds the most leases (its node stops; its store stays on disk)\n", c.nodes[victim].ID())
	c.mu.Lock()
	c.nodes[victim].Stop()
	c.nodes[victim] = nil
	c.mu.Unlock()
	t0 = hlc.PhysicalNow()
	// Sent to the node as it went away, the write may come back
	// ambiguous; it writes a fixed value, so sending it again is safe.
	for attempt := 0; ; attempt++ {
		err := c.live()[0].DB().Put(ctx, []byte("demo/after-failover"), []byte("ok"))
		var amb *kvserver.AmbiguousResultError
		if err == nil {
			break
		}
		if !errors.As(err, &amb) || attempt >= 3 {
			return errors.Wrap(err, "first write after the failure")
		}
	}
	fmt.Fprintf(out, "  the next write succeeded after %s: the dead node's liveness expired, its leases moved\n", since(t0))
	if d, err = put("after", o.writes, 2*o.writes); err != nil {
		return err
	}
	fmt.Fprintf(out, "  wrote %d more keys on the 2 surviving nodes in %s\n", o.writes, d.Round(time.Millisecond))
	fmt.Fprintf(out, "\nReading back all %d acknowledged writes... ", len(acked))
	for k, v := range acked {
		got, found, err := c.live()[0].DB().Get(ctx, []byte(k))
		if err != nil {
			return errors.Wrapf(err, "reading %s", k)
		}
		if !found || string(got) != v {
			return errors.Newf("acknowledged write %s=%s reads back as %q (found %v)", k, v, got, found)
		}
	}
	fmt.Fprintln(out, "all present.")

	fmt.Fprintf(out, "\nRestarting node %d on its old store and address; it catches up from the log or a snapshot\n", victim+1)
	t0 = hlc.PhysicalNow()
	if err := c.start(victim); err != nil {
		return err
	}
	if err := waitFor(ctx, "the restarted node to catch up", func() error { return caughtUp(c.live(), c.nodes[victim]) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "  n%d caught up in %s\n", c.nodes[victim].ID(), since(t0))
	if err := demoConsistency(ctx, out, c.nodes[victim]); err != nil {
		return err
	}
	if err := demoSQL(ctx, out, c); err != nil {
		return err
	}
	if !o.serve {
		fmt.Fprintln(out, "\nDone. `meridian demo --serve` (or `make demo`) keeps the cluster running for psql.")
		return nil
	}
	fmt.Fprintln(out, "\nThe cluster keeps running; connect with psql or any PostgreSQL driver (Ctrl-C stops it):")
	for _, n := range c.live() {
		fmt.Fprintf(out, "  n%d  psql \"postgresql://root@%s/defaultdb?sslmode=disable\"   HTTP http://%s/_status/vars   gRPC %s\n", n.ID(), n.SQLAddr(), n.HTTPAddr(), n.Addr())
	}
	fmt.Fprintf(out, "  meridian node ls --insecure --host %s\n", c.live()[0].Addr())
	sigCtx, stopSig := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSig()
	<-sigCtx.Done()
	fmt.Fprintln(out, "\nStopping.")
	return nil
}

// fullyReplicated reports whether every range, by the newest descriptor
// any of nodes holds, has want voters and nothing else.
func fullyReplicated(nodes []*server.Node, want int) error {
	descs := map[kvserver.RangeID]*rangepb.RangeDescriptor{}
	for _, n := range nodes {
		for _, r := range n.Store().Replicas() {
			if d := r.Desc(); d != nil {
				if cur, ok := descs[r.RangeID()]; !ok || d.Generation > cur.Generation {
					descs[r.RangeID()] = d
				}
			}
		}
	}
	for id, d := range descs {
		voters := 0
		for _, rd := range d.Replicas {
			if rd.Type == rangepb.ReplicaType_VOTER_FULL {
				voters++
			}
		}
		if voters != want || len(d.Replicas) != want {
			return errors.Newf("r%d has %d voters of %d replicas", id, voters, len(d.Replicas))
		}
	}
	return nil
}

// caughtUp reports whether node's replicas have applied what the others'
// replicas of the same ranges had.
func caughtUp(nodes []*server.Node, node *server.Node) error {
	for _, other := range nodes {
		if other == node {
			continue
		}
		for _, ref := range other.Store().Replicas() {
			r, err := node.Store().GetReplica(ref.RangeID())
			if err != nil {
				return err
			}
			if r.AppliedIndex() < ref.AppliedIndex() {
				return errors.Newf("r%d at applied index %d, want %d", ref.RangeID(), r.AppliedIndex(), ref.AppliedIndex())
			}
		}
	}
	return nil
}

// demoConsistency checks every range's replicas against each other.
func demoConsistency(ctx context.Context, out io.Writer, n *server.Node) error {
	c, closeFn, err := server.DialAdmin(n.Addr(), nil)
	if err != nil {
		return err
	}
	defer closeFn()
	var resp *serverpb.CheckConsistencyResponse
	err = waitFor(ctx, "a consistency check", func() error {
		var err error
		if resp, err = c.CheckConsistency(ctx, &serverpb.CheckConsistencyRequest{}); err != nil {
			return err
		}
		for _, r := range resp.Ranges {
			if r.Error != "" {
				return errors.Newf("r%d: %s", r.RangeId, r.Error)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	replicas := 0
	for _, r := range resp.Ranges {
		replicas += int(r.Replicas)
	}
	fmt.Fprintf(out, "Consistency check: %d ranges, %d replicas, each range's replicas hold identical data\n", len(resp.Ranges), replicas)
	return nil
}

// mostLeases returns the index of the node holding the most valid leases.
func mostLeases(c *demoCluster) int {
	best, most := 0, -1
	for i, n := range c.nodes {
		held := 0
		for _, r := range n.Store().Replicas() {
			if r.OwnsValidLease() {
				held++
			}
		}
		if held > most {
			best, most = i, held
		}
	}
	return best
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() error) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Wrapf(err, "waiting for %s", what)
		case <-t.C:
		}
	}
}

// demoSQL runs SQL through the cluster: a table created through one node,
// a transfer between rows in a transaction through another, the total
// read through the third.
func demoSQL(ctx context.Context, out io.Writer, c *demoCluster) error {
	nodes := c.live()
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID() < nodes[j].ID() })
	conns := make([]*pgx.Conn, len(nodes))
	for i, n := range nodes {
		conn, err := pgx.Connect(ctx, "postgresql://root@"+n.SQLAddr()+"/defaultdb?sslmode=disable")
		if err != nil {
			return errors.Wrapf(err, "connecting to n%d's SQL port", n.ID())
		}
		defer conn.Close(ctx)
		conns[i] = conn
	}
	fmt.Fprintln(out, "\nSQL over pgwire, each statement a serializable transaction across the replicated ranges:")
	c1, c2, c3 := conns[0], conns[1%len(conns)], conns[2%len(conns)]
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS accounts (id INT PRIMARY KEY, owner TEXT NOT NULL, balance DECIMAL NOT NULL)",
		"INSERT INTO accounts VALUES (1, 'alice', 100.00), (2, 'bob', 50.00) ON CONFLICT DO NOTHING",
	} {
		if _, err := c1.Exec(ctx, q); err != nil {
			return errors.Wrapf(err, "n1: %s", q)
		}
	}
	fmt.Fprintln(out, "  n1> CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT NOT NULL, balance DECIMAL NOT NULL)")
	fmt.Fprintln(out, "  n1> INSERT INTO accounts VALUES (1, 'alice', 100.00), (2, 'bob', 50.00)")
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
	fmt.Fprintln(out, "  n2> BEGIN; UPDATE accounts SET balance = balance - 30 WHERE id = 1;")
	fmt.Fprintln(out, "      UPDATE accounts SET balance = balance + 30 WHERE id = 2; COMMIT")
	rows, err := c3.Query(ctx, "SELECT id, owner, balance::TEXT FROM accounts ORDER BY id")
	if err != nil {
		return errors.Wrap(err, "n3: SELECT")
	}
	fmt.Fprintln(out, "  n3> SELECT id, owner, balance FROM accounts ORDER BY id")
	for rows.Next() {
		var id int32
		var owner, balance string
		if err := rows.Scan(&id, &owner, &balance); err != nil {
			return err
		}
		fmt.Fprintf(out, "        %d | %-5s | %s\n", id, owner, balance)
	}
	if err := rows.Err(); err != nil {
		return errors.Wrap(err, "n3: SELECT")
	}
	var total string
	if err := c3.QueryRow(ctx, "SELECT sum(balance)::TEXT FROM accounts").Scan(&total); err != nil {
		return errors.Wrap(err, "n3: SELECT sum")
	}
	fmt.Fprintf(out, "  n3> SELECT sum(balance) FROM accounts  →  %s\n", total)
	if total != "150.00" {
		return errors.Newf("the accounts hold %s in all, want 150.00", total)
	}
	return nil
}

func since(t time.Time) time.Duration { return hlc.PhysicalNow().Sub(t).Round(time.Millisecond) }
