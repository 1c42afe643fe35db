package server

import (
	runtimemetrics "runtime/metrics"
	"strings"
	"time"

	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics is a node's Prometheus registry, served at /_status/vars. Gauges
// of the store are computed at scrape time; SQL figures are counted as
// statements complete (the node is pgwire's Observer).
type metrics struct {
	reg         *prometheus.Registry
	connections prometheus.Gauge
	statements  *prometheus.CounterVec
	errors      *prometheus.CounterVec
	latency     *prometheus.HistogramVec
}

func newMetrics(n *Node) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gauge := func(name, help string, fn func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "meridian", Name: name, Help: help}, fn))
	}
	counter := func(name, help string, fn func() float64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "meridian", Name: name, Help: help}, fn))
	}
	ranges := func(count func(r replicaFacts) bool) func() float64 {
		return func() float64 {
			if !n.isStarted() {
				return 0
			}
			c := 0
			for _, f := range n.replicaFacts() {
				if count(f) {
					c++
				}
			}
			return float64(c)
		}
	}
	gauge("ranges", "Replicas on this node's store.", ranges(func(replicaFacts) bool { return true }))
	gauge("leaseholders", "Ranges whose lease this node holds.", ranges(func(f replicaFacts) bool { return f.leaseholder }))
	gauge("ranges_underreplicated", "Ranges led here with fewer live voters than the replication factor allows.",
		ranges(func(f replicaFacts) bool { return f.leaseholder && f.underReplicated }))
	gauge("ranges_unavailable", "Ranges led here whose live voters are no quorum.",
		ranges(func(f replicaFacts) bool { return f.leaseholder && f.unavailable }))
	gauge("live_nodes", "Nodes this node sees live.", func() float64 {
		if !n.isStarted() {
			return 0
		}
		c, now := 0, n.cfg.Clock.Now()
		for _, d := range n.dir.all() {
			if n.nodeState(kvserver.NodeID(d.NodeId), now) == nodeLive {
				c++
			}
		}
		return float64(c)
	})
	gauge("node_ready", "1 while the node serves and is not draining.", func() float64 {
		if n.Ready() {
			return 1
		}
		return 0
	})
	counter("raft_proposals_total", "Commands proposed to Raft by this node's replicas.", func() float64 {
		if !n.isStarted() {
			return 0
		}
		return float64(n.store.Metrics().RaftProposals.Load())
	})
	counter("raft_applied_total", "Raft log entries applied by this node's replicas.", func() float64 {
		if !n.isStarted() {
			return 0
		}
		return float64(n.store.Metrics().RaftApplied.Load())
	})
	counter("raft_reproposals_total", "Commands proposed to Raft again because their lease index was used up (an extra round each).", func() float64 {
		if !n.isStarted() {
			return 0
		}
		return float64(n.store.Metrics().RaftReproposals.Load())
	})
	for _, c := range []struct {
		name, help string
		get        func() int64
	}{
		{"txn_deadlocks_local_total", "Deadlocks broken that this node's wait queue saw whole.", func() int64 { return n.store.Metrics().Deadlocks.Local.Load() }},
		{"txn_deadlocks_distributed_total", "Deadlocks broken through waits published on other nodes.", func() int64 {
			return n.store.Metrics().Deadlocks.Distributed.Load()
		}},
		{"txn_commits_total", "Transactions coordinated here that committed.", func() int64 { return n.db.Metrics().Commits.Load() }},
		{"txn_aborts_total", "Transactions coordinated here that rolled back or failed.", func() int64 { return n.db.Metrics().Aborts.Load() }},
		{"txn_restarts_total", "Commits refused with a retryable error (the transaction ran again).", func() int64 { return n.db.Metrics().Restarts.Load() }},
		{"txn_batches_total", "KV batches (round trips) the transactions coordinated here sent, heartbeats aside.", func() int64 { return n.db.Metrics().Batches.Load() }},
	} {
		counter(c.name, c.help, func() float64 {
			if !n.isStarted() {
				return 0
			}
			return float64(c.get())
		})
	}
	// The store's engine (Pebble): the figures an operator checks when
	// reads slow down (read amplification, L0) or writes stall.
	storage := func(get func(kv.Metrics) float64) func() float64 {
		return func() float64 {
			if !n.isStarted() { // n.engine is set before started closes
				return 0
			}
			return get(n.engine.Metrics())
		}
	}
	gauge("storage_read_amplification", "Memtables, L0 sublevels and non-empty lower levels a point read may consult.",
		storage(func(m kv.Metrics) float64 { return float64(m.ReadAmp) }))
	gauge("storage_l0_files", "SST files in L0.", storage(func(m kv.Metrics) float64 { return float64(m.L0Files) }))
	gauge("storage_compaction_debt_bytes", "Estimated bytes left to compact.", storage(func(m kv.Metrics) float64 { return float64(m.CompactionDebt) }))
	gauge("storage_disk_usage_bytes", "The store's size on disk.", storage(func(m kv.Metrics) float64 { return float64(m.DiskUsage) }))
	counter("storage_compactions_total", "Compactions since the store opened.", storage(func(m kv.Metrics) float64 { return float64(m.CompactionCount) }))
	counter("storage_flushes_total", "Memtable flushes since the store opened.", storage(func(m kv.Metrics) float64 { return float64(m.FlushCount) }))
	counter("storage_wal_fsyncs_total", "WAL fsyncs since the store opened.", storage(func(m kv.Metrics) float64 { return float64(m.WALFsyncCount) }))
	counter("storage_wal_fsync_seconds_total", "Time spent in WAL fsyncs since the store opened.",
		storage(func(m kv.Metrics) float64 { return m.WALFsyncLatencySum.Seconds() }))
	counter("storage_block_cache_hits_total", "Block cache hits.", storage(func(m kv.Metrics) float64 { return float64(m.BlockCacheHits) }))
	counter("storage_block_cache_misses_total", "Block cache misses.", storage(func(m kv.Metrics) float64 { return float64(m.BlockCacheMisses) }))
	gauge("sql_mem_used_bytes", "Bytes of the node's SQL memory budget (--max-sql-memory) that running statements hold.",
		func() float64 { return float64(n.sqlMem.Used()) })
	gauge("sql_mem_max_bytes", "The node's SQL memory budget (--max-sql-memory); 0 is unlimited.",
		func() float64 { return float64(n.sqlMem.Limit()) })
	gauge("go_gc_percent", "The Go garbage collector's target (GOGC): how far the heap may grow past what is live before a collection.",
		func() float64 { return runtimeMetric("/gc/gogc:percent") })
	gauge("go_memory_limit_bytes", "The soft limit of the node's Go heap (--max-go-memory, or GOMEMLIMIT).",
		func() float64 { return runtimeMetric("/gc/gomemlimit:bytes") })
	gauge("sql_mem_high_water_bytes", "The most bytes of the SQL memory budget held at once since the node started.",
		func() float64 { return float64(n.sqlMem.HighWater()) })
	m.connections = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "meridian", Name: "sql_connections", Help: "Open SQL connections."})
	m.statements = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "meridian", Name: "sql_statements_total",
		Help: "SQL statements completed, by type (the command tag's verb)."}, []string{"type"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "meridian", Name: "sql_errors_total",
		Help: "SQL statements that failed, by SQLSTATE class."}, []string{"class"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "meridian", Name: "sql_statement_duration_seconds",
		Help: "SQL statement latency, by type.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18)}, []string{"type"})
	m.reg.MustRegister(m.connections, m.statements, m.errors, m.latency)
	return m
}

// ConnOpened, ConnClosed and StatementDone make metrics pgwire's Observer.
func (m *metrics) ConnOpened() { m.connections.Inc() }
func (m *metrics) ConnClosed() { m.connections.Dec() }
func (m *metrics) StatementDone(tag string, d time.Duration, err error) {
	if err != nil {
		m.errors.WithLabelValues(string(pgerror.CodeOf(err))[:2]).Inc()
		return
	}
	typ, _, _ := strings.Cut(tag, " ")
	if typ == "" {
		typ = "OTHER"
	}
	m.statements.WithLabelValues(typ).Inc()
	m.latency.WithLabelValues(typ).Observe(d.Seconds())
}

// replicaFacts is what the status pages and metrics say of one replica.
type replicaFacts struct {
	desc            *rangepb.RangeDescriptor
	lease           *rangepb.Lease
	leaseholder     bool
	liveVoters      int
	voters          int
	underReplicated bool
	unavailable     bool
}

// replicaFacts describes every replica on the store.
func (n *Node) replicaFacts() []replicaFacts {
	now := n.cfg.Clock.Now()
	usable := 0
	for _, d := range n.dir.all() {
		if n.nodeState(kvserver.NodeID(d.NodeId), now) == nodeLive {
			usable++
		}
	}
	zones := n.cachedZones()
	var out []replicaFacts
	for _, r := range n.store.Replicas() {
		f := replicaFacts{desc: r.Desc(), lease: r.Lease(), leaseholder: r.OwnsValidLease()}
		if f.desc == nil {
			continue // not initialized yet (waits for a snapshot)
		}
		for _, rd := range f.desc.GetReplicas() {
			if rd.Type == rangepb.ReplicaType_LEARNER {
				continue
			}
			f.voters++
			if n.nodeState(kvserver.NodeID(rd.NodeId), now) == nodeLive {
				f.liveVoters++
			}
		}
		f.underReplicated = f.liveVoters < min(int(*zones.ForKey(f.desc.StartKey).NumReplicas), usable)
		f.unavailable = f.liveVoters <= f.voters/2
		out = append(out, f)
	}
	return out
}

// runtimeMetric reads one uint64 metric of the Go runtime.
func runtimeMetric(name string) float64 {
	s := []runtimemetrics.Sample{{Name: name}}
	runtimemetrics.Read(s)
	if s[0].Value.Kind() != runtimemetrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64())
}
