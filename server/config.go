package server

import (
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/liveness"
	"github.com/meridiandb/meridian/server/serverpb"
	"github.com/meridiandb/meridian/sql"
)

// Config configures a node. Zero fields take the documented defaults.
type Config struct {
	// StoreDir is the store's directory. Required.
	StoreDir string
	// Listener accepts the node's gRPC connections: other nodes, nodes
	// that join, and the operator's commands. Required.
	Listener net.Listener
	// AdvertiseAddr is the gRPC address other nodes reach this node at.
	// Default: the listener's address.
	AdvertiseAddr string
	// Join lists gRPC addresses of nodes of the cluster to join (or, for a
	// node of a cluster not yet initialized, of its future peers). A node
	// whose store already belongs to a cluster uses them to find its peers
	// again.
	Join []string
	// Bootstrap makes a node with an empty store initialize a new cluster
	// at once, as its first node, rather than wait for `meridian init` or
	// join another (start-single-node, demos and tests).
	Bootstrap bool
	// JoinTimeout bounds how long a new node tries its join addresses while
	// none of them answers at all; then Start fails (nothing is written to
	// the store). Addresses that answer "not initialized yet" keep it
	// waiting. Default 1 minute.
	JoinTimeout time.Duration
	// Locality is where the node runs, outermost tier first
	// (region=us-east1,zone=b).
	Locality []*serverpb.Tier
	// Clock is the node's clock. Default: the machine's clock with the
	// default maximum offset.
	Clock *hlc.Clock
	// Store holds the store's tuning (ticks, lease duration); its identity
	// and wiring fields are filled in.
	Store kvserver.StoreConfig
	// Liveness holds the liveness tuning (durations); its identity and
	// wiring fields are filled in.
	Liveness liveness.Config
	// TimeUntilStoreDead is how long a node's liveness record must have
	// expired before the node counts as dead and its replicas are rebuilt
	// elsewhere (server.time_until_store_dead). Default 5 minutes.
	TimeUntilStoreDead time.Duration
	// TempSchemaCleanupInterval is how often the node drops the
	// temporary schemas of sessions that are gone (its own from before a
	// restart, or a dead node's). Default 1 minute; the first pass runs as
	// SQL starts.
	TempSchemaCleanupInterval time.Duration
	// AutoStatsAsOf is how far in the past the node's background
	// statistics collections read (sql.DefaultAutoStatsAsOf by default):
	// far enough back that no writer is still busy there.
	AutoStatsAsOf time.Duration
	// DescriptorLeaseDuration is how long a node's lease on a table
	// descriptor lasts (sql/lease): a schema change waits out the lease
	// of a node that does not answer. Default lease.DefaultDuration.
	DescriptorLeaseDuration time.Duration
	// ReplicationFactor is how many replicas each range gets, as far as
	// there are live nodes for them. Default 3.
	ReplicationFactor int
	// ReplicateInterval is how often the node's replicate queue looks at
	// the ranges it holds leases for. Default 500ms.
	ReplicateInterval time.Duration
	// ZoneRefreshInterval bounds how old the zone configurations the
	// replicate queue applies may be: it re-reads them when they are
	// older. Default 1s.
	ZoneRefreshInterval time.Duration
	// DisableRebalancing turns off the moves of replicas and leases that
	// only balance counts across stores (up-replication, replacement and
	// zone constraints still apply); SET CLUSTER SETTING
	// kv.allocator.rebalancing.enabled turns it on and off at run time.
	DisableRebalancing bool
	// DirectoryRefreshInterval is how often the node re-reads every node's
	// descriptor from the cluster. Default 2s.
	DirectoryRefreshInterval time.Duration
	// CacheSize is the engine's block cache. Default: kv's default.
	CacheSize int64
	// SQLListener, when set, serves PostgreSQL clients (pgwire) on it,
	// running SQL in the cluster's transactions.
	SQLListener net.Listener
	// MaxSQLMemory is the node's budget, in bytes, for the rows its SQL
	// statements hold in memory (sorts, hash tables, buffered results),
	// shared by all its sessions: a statement that would take the node
	// past it fails with SQLSTATE 53200 (see sql/mon). Default 0:
	// unlimited. The meridian binary's --max-sql-memory defaults to 25%
	// of the machine's memory.
	MaxSQLMemory int64
	// SQLAuthenticate makes SQL clients authenticate as a role stored in
	// the cluster (CREATE ROLE): by a client certificate (SQLTLS) or by
	// the role's password (SCRAM-SHA-256). False: anyone may connect as
	// anyone, for insecure clusters only.
	SQLAuthenticate bool
	// SQLTLS, when set, is offered to SQL clients; with SQLRequireTLS,
	// clients must take it (a verified client certificate then
	// authenticates the user it names).
	SQLTLS        *tls.Config
	SQLRequireTLS bool
	// HTTPListener, when set, serves health checks, Prometheus metrics and
	// status pages on it.
	HTTPListener net.Listener
	// RPCServerTLS and RPCClientTLS, when set, make node-to-node gRPC
	// mutual TLS. Nil: plaintext (insecure mode).
	RPCServerTLS, RPCClientTLS *tls.Config
	// Logger receives the node's log. Default: slog's default logger.
	Logger *slog.Logger
	// DrainTimeout bounds how long a drain waits for running SQL
	// statements and lease transfers. Default 10s.
	DrainTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock = hlc.NewClock(hlc.UnixNano, hlc.DefaultMaxOffset)
	}
	if c.AdvertiseAddr == "" && c.Listener != nil {
		c.AdvertiseAddr = reachableAddr(c.Listener.Addr())
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = time.Minute
	}
	if c.TimeUntilStoreDead == 0 {
		c.TimeUntilStoreDead = 5 * time.Minute
	}
	if c.TempSchemaCleanupInterval == 0 {
		c.TempSchemaCleanupInterval = time.Minute
	}
	if c.AutoStatsAsOf == 0 {
		c.AutoStatsAsOf = sql.DefaultAutoStatsAsOf
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 3
	}
	if c.ReplicateInterval == 0 {
		c.ReplicateInterval = 500 * time.Millisecond
	}
	if c.ZoneRefreshInterval == 0 {
		c.ZoneRefreshInterval = time.Second
	}
	if c.DirectoryRefreshInterval == 0 {
		c.DirectoryRefreshInterval = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 10 * time.Second
	}
}

// Validate checks the required fields.
func (c *Config) Validate() error {
	switch {
	case c.StoreDir == "":
		return errors.New("server: StoreDir is required")
	case c.Listener == nil:
		return errors.New("server: Listener is required")
	case c.ReplicationFactor < 1:
		return errors.Newf("server: replication factor %d: must be at least 1", c.ReplicationFactor)
	case c.MaxSQLMemory < 0:
		return errors.Newf("server: MaxSQLMemory %d: must not be negative (0 is unlimited)", c.MaxSQLMemory)
	}
	for _, t := range c.Locality {
		if t.Key == "" || t.Value == "" {
			return errors.Newf("server: locality tier %q=%q: keys and values must not be empty", t.Key, t.Value)
		}
	}
	return nil
}

// ParseLocality parses a locality flag, "region=us-east1,zone=b": tiers
// outermost first, each key=value, keys unique.
func ParseLocality(s string) ([]*serverpb.Tier, error) {
	if s == "" {
		return nil, nil
	}
	var tiers []*serverpb.Tier
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" || v == "" {
			return nil, errors.Newf("malformed locality %q: want key=value pairs separated by commas, e.g. region=us-east1,zone=us-east1-b", s)
		}
		if seen[k] {
			return nil, errors.Newf("malformed locality %q: tier %q appears twice", s, k)
		}
		seen[k] = true
		tiers = append(tiers, &serverpb.Tier{Key: k, Value: v})
	}
	return tiers, nil
}

// FormatLocality is ParseLocality's inverse.
func FormatLocality(tiers []*serverpb.Tier) string {
	parts := make([]string, len(tiers))
	for i, t := range tiers {
		parts[i] = t.Key + "=" + t.Value
	}
	return strings.Join(parts, ",")
}

// reachableAddr is addr as other machines can dial it: a listener on every
// interface (0.0.0.0, ::) is reached at the machine's host name.
func reachableAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	host, err := os.Hostname()
	if err != nil {
		return addr.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
