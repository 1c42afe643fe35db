package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/dustin/go-humanize"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/liveness"
	"github.com/meridiandb/meridian/server"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// nodeFlags are the flags of the commands that run a node.
type nodeFlags struct {
	store, listenAddr, advertiseAddr, sqlAddr, httpAddr string
	join                                                []string
	locality, cache, maxSQLMemory, maxGoMemory          string
	insecure                                            bool
	certsDir                                            string
	timeUntilStoreDead                                  time.Duration
	drainTimeout, joinTimeout, livenessDuration         time.Duration
	// goMemoryLimit is --max-go-memory in bytes, set by config.
	goMemoryLimit int64
}

func (f *nodeFlags) register(fs *pflag.FlagSet, withJoin bool) {
	fs.StringVar(&f.store, "store", "meridian-data", "the store's directory (created if new)")
	fs.StringVar(&f.listenAddr, "listen-addr", "127.0.0.1:26357", "address for node-to-node gRPC, joining nodes and the node commands")
	fs.StringVar(&f.advertiseAddr, "advertise-addr", "", "gRPC address other nodes reach this node at (default: --listen-addr)")
	fs.StringVar(&f.sqlAddr, "sql-addr", "127.0.0.1:26257", "address for PostgreSQL clients")
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8080", "address for health checks, metrics (/_status/vars) and status pages")
	if withJoin {
		fs.StringSliceVar(&f.join, "join", nil, "gRPC addresses of nodes to join through, comma-separated (the same list on every node is fine)")
	}
	fs.StringVar(&f.locality, "locality", "", "where the node runs, outermost tier first: region=us-east1,zone=us-east1-b")
	fs.StringVar(&f.cache, "cache", "128MiB", "the store's block cache: a size (512MiB, 1GB) or a share of the machine's memory (25%)")
	fs.StringVar(&f.maxSQLMemory, "max-sql-memory", "25%", "memory the node's SQL statements may hold at once for sorts, hash tables and buffered results, "+
		"shared by all sessions: a size (512MiB, 1GB) or a share of the machine's memory (25%); a statement that needs more fails with SQLSTATE 53200")
	fs.StringVar(&f.maxGoMemory, "max-go-memory", "25%", "soft limit of the node's Go heap (SQL memory included, block cache not): past it the garbage collector works harder "+
		"instead of letting the heap grow; a size or a share of the machine's memory (GOMEMLIMIT, when set, wins)")
	fs.BoolVar(&f.insecure, "insecure", false, "run without TLS or authentication (development only: anyone who can reach the ports has full access)")
	fs.StringVar(&f.certsDir, "certs-dir", "", "directory with ca.crt, node.crt and node.key (see 'meridian cert'): TLS for gRPC and SQL")
	fs.DurationVar(&f.timeUntilStoreDead, "time-until-store-dead", 5*time.Minute, "how long a node must be unreachable before its replicas are rebuilt elsewhere")
	fs.DurationVar(&f.drainTimeout, "drain-timeout", 10*time.Second, "how long a drain (SIGTERM) waits for running statements and lease transfers")
	if withJoin {
		fs.DurationVar(&f.joinTimeout, "join-timeout", time.Minute, "how long a new node tries its join addresses while none of them answers; then it exits")
	}
	// Tuning for tests: every node of a cluster must use the same.
	fs.DurationVar(&f.livenessDuration, "liveness-duration", 9*time.Second, "how long a node's liveness heartbeat keeps it live (leases of a dead node move after it)")
	_ = fs.MarkHidden("liveness-duration")
}

// config checks the flags and opens the node's listeners; nothing is
// written anywhere before every flag has been checked.
func (f *nodeFlags) config() (server.Config, error) {
	var cfg server.Config
	locality, err := server.ParseLocality(f.locality)
	if err != nil {
		return cfg, err
	}
	cache, err := parseCacheSize("--cache", f.cache)
	if err != nil {
		return cfg, err
	}
	maxSQLMemory, err := parseCacheSize("--max-sql-memory", f.maxSQLMemory)
	if err != nil {
		return cfg, err
	}
	if f.goMemoryLimit, err = parseCacheSize("--max-go-memory", f.maxGoMemory); err != nil {
		return cfg, err
	}
	if f.insecure == (f.certsDir != "") {
		return cfg, errors.New("choose one of --insecure (no TLS, no authentication: development only) and --certs-dir (TLS; see 'meridian cert')")
	}
	if f.store == "" {
		return cfg, errors.New("--store must name a directory")
	}
	cfg = server.Config{
		StoreDir: f.store, Join: f.join, Locality: locality, CacheSize: cache, MaxSQLMemory: maxSQLMemory,
		AdvertiseAddr: f.advertiseAddr, TimeUntilStoreDead: f.timeUntilStoreDead, DrainTimeout: f.drainTimeout, JoinTimeout: f.joinTimeout,
		Liveness: liveness.Config{LivenessDuration: f.livenessDuration},
		// Expiration leases (the liveness range's) last two thirds of a
		// liveness period, as the defaults (6s and 9s): failover takes
		// about one liveness period.
		Store:  kvserver.StoreConfig{LeaseDuration: f.livenessDuration * 2 / 3},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	if f.certsDir != "" {
		tc, err := loadNodeTLS(f.certsDir)
		if err != nil {
			return cfg, err
		}
		cfg.RPCServerTLS, cfg.RPCClientTLS, cfg.SQLTLS, cfg.SQLRequireTLS = tc.rpcServer, tc.rpcClient, tc.sql, true
		cfg.SQLAuthenticate = true
	}
	listen := func(addr, what string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		return ln, errors.Wrapf(err, "listening for %s on %s", what, addr)
	}
	if cfg.Listener, err = listen(f.listenAddr, "gRPC"); err != nil {
		return cfg, err
	}
	if cfg.SQLListener, err = listen(f.sqlAddr, "SQL clients"); err != nil {
		_ = cfg.Listener.Close()
		return cfg, err
	}
	if f.httpAddr != "" {
		if cfg.HTTPListener, err = listen(f.httpAddr, "HTTP"); err != nil {
			_ = cfg.Listener.Close()
			_ = cfg.SQLListener.Close()
			return cfg, err
		}
	}
	return cfg, nil
}

// parseCacheSize parses the value of a memory size flag (--cache,
// --max-sql-memory): "512MiB", "1GB", "1073741824" or "25%" (of the
// machine's memory). Errors name the flag.
func parseCacheSize(flag, s string) (int64, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		pct, err := strconv.ParseFloat(p, 64)
		if err != nil || pct <= 0 || pct > 90 {
			return 0, errors.Newf("%s %q: a percentage must be in (0, 90]", flag, s)
		}
		total, err := totalMemory()
		if err != nil {
			return 0, errors.Wrapf(err, "%s %q", flag, s)
		}
		return int64(float64(total) * pct / 100), nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > math.MaxInt64 {
		return 0, errors.Newf("%s %q: want a size such as 512MiB or 1GB, or a percentage such as 25%%", flag, s)
	}
	return int64(n), nil
}

// totalMemory reads the machine's memory from /proc/meminfo.
func totalMemory() (uint64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, errors.Wrap(err, "reading the machine's memory size")
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10, nil
			}
		}
	}
	return 0, errors.New("/proc/meminfo has no MemTotal")
}

func newStartCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "start",
		Short: "run a node of a cluster",
		Long: `Run a node. A node whose store is new joins the cluster through one of the
--join addresses, or, if the cluster does not exist yet, waits until
'meridian init' bootstraps it (once, on any one node). A node whose store
belongs to a cluster rejoins it, also from another address.

Three nodes on one machine:
  meridian start --insecure --store n1 --listen-addr 127.0.0.1:26357 --sql-addr 127.0.0.1:26257 --http-addr 127.0.0.1:8080 --join 127.0.0.1:26357,127.0.0.1:26358,127.0.0.1:26359 &
  meridian start --insecure --store n2 --listen-addr 127.0.0.1:26358 --sql-addr 127.0.0.1:26258 --http-addr 127.0.0.1:8081 --join 127.0.0.1:26357,127.0.0.1:26358,127.0.0.1:26359 &
  meridian start --insecure --store n3 --listen-addr 127.0.0.1:26359 --sql-addr 127.0.0.1:26259 --http-addr 127.0.0.1:8082 --join 127.0.0.1:26357,127.0.0.1:26358,127.0.0.1:26359 &
  meridian init --insecure --host 127.0.0.1:26357`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(f.join) == 0 {
				return errors.New("--join is required: the gRPC addresses of the cluster's nodes (use 'meridian start-single-node' for a cluster of one)")
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			return runNode(cfg, f, cmd.OutOrStdout())
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}

func newStartSingleNodeCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "start-single-node",
		Short: "run a one-node cluster on a persistent store (bootstrapped at the first start)",
		Long: `Run a cluster of one node: the first start bootstraps it, later starts
reopen it. Every write still goes through Raft, a group of one voter; each
range keeps one replica. Without --certs-dir it runs insecure (a
development shortcut, as it always was: it says so in its log).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.certsDir == "" {
				f.insecure = true
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			cfg.Bootstrap, cfg.ReplicationFactor = true, 1
			return runNode(cfg, f, cmd.OutOrStdout())
		},
	}
	f.register(cmd.Flags(), false)
	return cmd
}

// runNode starts a node and runs it until a signal: the first SIGTERM or
// SIGINT drains it, then stops it; a second one stops it at once.
func runNode(cfg server.Config, f nodeFlags, out io.Writer) error {
	if f.insecure {
		cfg.Logger.Warn("RUNNING IN INSECURE MODE: no TLS, no authentication; anyone who can reach this node's ports can read and change all its data. Use --certs-dir for anything but development.")
	}
	tuneGC(f.goMemoryLimit)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	type started struct {
		n   *server.Node
		err error
	}
	startc := make(chan started, 1)
	go func() {
		n, err := server.Start(cfg)
		startc <- started{n, err}
	}()
	var n *server.Node
	select {
	case s := <-startc:
		if s.err != nil {
			return s.err
		}
		n = s.n
	case sig := <-sigs:
		// Still joining or waiting for init: nothing to drain.
		return errors.Newf("received %s before the node joined a cluster", sig)
	}
	ssl := "sslmode=disable"
	if !f.insecure {
		ssl = "sslmode=verify-full&sslrootcert=" + f.certsDir + "/ca.crt&sslcert=" + f.certsDir + "/client.root.crt&sslkey=" + f.certsDir + "/client.root.key"
	}
	fmt.Fprintf(out, "Meridian node %d is running.\n  cluster:  %s\n  store:    %s\n  gRPC:     %s\n  SQL:      postgresql://root@%s/defaultdb?%s\n  HTTP:     http://%s\n  locality: %s\n",
		n.ID(), hex.EncodeToString(n.ClusterID()), cfg.StoreDir, n.Addr(), n.SQLAddr(), ssl, n.HTTPAddr(), server.FormatLocality(cfg.Locality))
	sig := <-sigs
	fmt.Fprintf(out, "Received %s: draining (a second signal stops at once).\n", sig)
	done := make(chan string, 1)
	go func() {
		progress, _ := n.Drain(context.Background())
		done <- progress
	}()
	select {
	case progress := <-done:
		fmt.Fprintf(out, "Drained: %s.\n", progress)
	case sig = <-sigs:
		fmt.Fprintf(out, "Received %s again: stopping now.\n", sig)
	}
	n.Stop()
	fmt.Fprintln(out, "Stopped.")
	return nil
}
