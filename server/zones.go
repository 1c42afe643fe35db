package server

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/txnkv"
)

// zoneCache is the node's copy of the zone configurations and of the
// tables' databases (catalog.ZoneSet), re-read from the cluster at most
// every Config.ZoneRefreshInterval: the replicate queue asks for it on
// every pass. A zone change reaches the queues within that interval.
// Safe for concurrent use.
type zoneCache struct {
	mu struct {
		sync.Mutex
		set      *catalog.ZoneSet
		loadedAt time.Time
	}
}

// zones returns the node's zone set, re-reading it when it is older than
// the refresh interval. If it cannot be read, the last one read (or, the
// first time, none: every range then gets the built-in default).
func (n *Node) zones(ctx context.Context) *catalog.ZoneSet {
	c := &n.zoneCache
	c.mu.Lock()
	defer c.mu.Unlock()
	now := hlc.PhysicalNow()
	if c.mu.set != nil && now.Sub(c.mu.loadedAt) < n.cfg.ZoneRefreshInterval {
		return c.mu.set
	}
	zs, err := n.loadZones(ctx)
	if err != nil {
		if ctx.Err() == nil {
			n.cfg.Logger.Warn("reading the zone configurations", "err", err.Error())
		}
		if c.mu.set == nil {
			return n.builtinZones()
		}
		return c.mu.set
	}
	c.mu.set, c.mu.loadedAt = zs, now
	return zs
}

// cachedZones is the zone set last read, without reading it again (the
// built-in default if none was read yet): for callers that must not wait
// on the cluster, such as a metrics scrape.
func (n *Node) cachedZones() *catalog.ZoneSet {
	c := &n.zoneCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.set == nil {
		return n.builtinZones()
	}
	return c.mu.set
}

func (n *Node) loadZones(ctx context.Context) (*catalog.ZoneSet, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	txn, err := txnkv.NewDB(n.db).NewTxn(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = txn.Rollback(ctx) }()
	zs, err := catalog.LoadZoneSet(ctx, txn)
	if err != nil {
		return nil, err
	}
	settings, err := catalog.ListSettings(ctx, txn)
	if err != nil {
		return nil, err
	}
	n.applyClusterSettings(settings)
	if _, ok := zs.Zones[catalog.DefaultZoneTarget]; !ok {
		zs.Zones[catalog.DefaultZoneTarget] = n.builtinDefaultZone()
	}
	return zs, nil
}

// builtinDefaultZone is RANGE default until one is stored: the built-in
// values with the node's replication factor.
func (n *Node) builtinDefaultZone() *catalog.ZoneConfig {
	z := catalog.DefaultZoneConfig()
	rf := int64(n.cfg.ReplicationFactor)
	z.NumReplicas = &rf
	return z
}

func (n *Node) builtinZones() *catalog.ZoneSet {
	return &catalog.ZoneSet{
		Zones:   map[catalog.ZoneTarget]*catalog.ZoneConfig{catalog.DefaultZoneTarget: n.builtinDefaultZone()},
		TableDB: map[uint32]uint32{},
	}
}

// nodeSpanConfigs gives the store's split and merge queues the zones'
// range sizes, GC TTLs and boundaries (kvserver.SpanConfigs).
type nodeSpanConfigs struct{ n *Node }

var _ kvserver.SpanConfigs = nodeSpanConfigs{}

func (c nodeSpanConfigs) RangeSizes(ctx context.Context, startKey []byte) (minBytes, maxBytes int64, ok bool) {
	if !c.n.isStarted() {
		return 0, 0, false
	}
	z := c.n.zones(ctx).ForKey(startKey)
	return *z.RangeMinBytes, *z.RangeMaxBytes, true
}

func (c nodeSpanConfigs) GCTTL(ctx context.Context, startKey []byte) (time.Duration, bool) {
	if !c.n.isStarted() {
		return 0, false
	}
	return time.Duration(*c.n.zones(ctx).ForKey(startKey).GCTTLSeconds) * time.Second, true
}

func (c nodeSpanConfigs) SameConfig(ctx context.Context, a, b []byte) bool {
	if !c.n.isStarted() {
		return false
	}
	zs := c.n.zones(ctx)
	return zs.ForKey(a).Equal(zs.ForKey(b))
}

// applyClusterSettings applies the cluster settings (SET CLUSTER SETTING)
// to this node; a setting without a record leaves the node's own
// configuration.
func (n *Node) applyClusterSettings(stored map[string]string) {
	boolSetting := func(name string, def bool) bool {
		if v, ok := stored[name]; ok {
			return v == "true"
		}
		return def
	}
	q := n.baseQueues
	q.EnableSplits = boolSetting("kv.range_split.by_size_enabled", q.EnableSplits)
	q.EnableMerges = boolSetting("kv.range_merge.queue.enabled", q.EnableMerges)
	threshold := q.LoadSplitQPS
	if v, ok := stored["kv.range_split.load_qps_threshold"]; ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
			threshold = f
		}
	}
	if threshold <= 0 {
		threshold = kvserver.DefaultLoadSplitQPS
	}
	if boolSetting("kv.range_split.by_load_enabled", q.LoadSplitQPS >= 0) {
		q.LoadSplitQPS = threshold
	} else {
		q.LoadSplitQPS = -1
	}
	if cur := n.store.QueueSettings(); cur.EnableSplits != q.EnableSplits || cur.EnableMerges != q.EnableMerges || cur.LoadSplitQPS != q.LoadSplitQPS {
		n.store.SetQueueSettings(q)
	}
	n.rebalancing.Store(boolSetting("kv.allocator.rebalancing.enabled", !n.cfg.DisableRebalancing))
	n.loadBasedLeases.Store(boolSetting("kv.allocator.load_based_lease_rebalancing.enabled", true))
	n.loadBasedReplicas.Store(boolSetting("kv.allocator.load_based_replica_rebalancing.enabled", true))
	dead := n.cfg.TimeUntilStoreDead
	if v, ok := stored["server.time_until_store_dead"]; ok {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			dead = d
		}
	}
	n.timeUntilStoreDead.Store(int64(dead))
}
