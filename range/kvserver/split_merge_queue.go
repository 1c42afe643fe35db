package kvserver

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The split and merge queues: every QueueSettings.Interval the store
// looks at the ranges it holds the lease of and
//
//   - splits a range whose data (key and value bytes) is above
//     RangeMaxBytes at the key that halves it (findSplitKey);
//   - splits a range served more than LoadSplitQPS requests per second at
//     the key that halves its load: the median of a uniform sample of the
//     keys its requests were addressed to since the last look (the range's
//     loadSampler);
//   - merges a range whose data is below RangeMinBytes with its right-hand
//     neighbour when both are cold (together below a quarter of
//     LoadSplitQPS) and the merged range stays below RangeMaxBytes, if the
//     neighbour's replicas are on the same stores (AdminMerge).
//
// Splits and merges are the admin commands' (replica_split.go,
// replica_merge.go); the queues only decide.

// SpanConfigs is what the queues need from the zone configurations
// (which live above the range layer, in the SQL catalog).
type SpanConfigs interface {
	// RangeSizes returns the size bounds of the range starting at key;
	// ok false leaves the queue settings' bounds.
	RangeSizes(ctx context.Context, startKey []byte) (minBytes, maxBytes int64, ok bool)
	// SameConfig reports whether the ranges starting at a and b have the
	// same zone configuration, so that they may merge.
	SameConfig(ctx context.Context, a, b []byte) bool
	// GCTTL returns how long the range starting at key keeps the
	// versions its newer ones shadow (gc_queue.go); ok false leaves the
	// queue settings' TTL.
	GCTTL(ctx context.Context, startKey []byte) (ttl time.Duration, ok bool)
}

// Defaults of QueueSettings.
const (
	DefaultRangeMaxBytes = 512 << 20
	DefaultRangeMinBytes = 128 << 20
	DefaultLoadSplitQPS  = 2500
	DefaultQueueInterval = time.Second
)

// QueueSettings tune the split and merge queues. A zero field takes its
// default, except the Enable switches.
type QueueSettings struct {
	// RangeMaxBytes: a range with more data is split. Default 512 MiB.
	RangeMaxBytes int64
	// RangeMinBytes: a range with less data may be merged. Default 128 MiB.
	RangeMinBytes int64
	// LoadSplitQPS: a range serving more requests per second is split.
	// Default 2500; negative turns load-based splitting off.
	LoadSplitQPS float64
	// Interval between two looks at the ranges. Default 1s.
	Interval time.Duration
	// EnableSplits, EnableMerges, EnableGC switch the queues on.
	EnableSplits, EnableMerges, EnableGC bool
	// GCTTL: versions shadowed longer ago are garbage where SpanConfigs
	// gives no TTL (a zone's gc.ttlseconds). Default 4 hours.
	GCTTL time.Duration
	// GCMinBytes: a range is collected once about this many bytes have
	// been garbage for a TTL (gc_queue.go). Default 1 MiB.
	GCMinBytes int64
}

func (q QueueSettings) withDefaults() QueueSettings {
	if q.RangeMaxBytes == 0 {
		q.RangeMaxBytes = DefaultRangeMaxBytes
	}
	if q.RangeMinBytes == 0 {
		q.RangeMinBytes = DefaultRangeMinBytes
	}
	if q.LoadSplitQPS == 0 {
		q.LoadSplitQPS = DefaultLoadSplitQPS
	}
	if q.Interval == 0 {
		q.Interval = DefaultQueueInterval
	}
	if q.GCTTL == 0 {
		q.GCTTL = DefaultGCTTL
	}
	if q.GCMinBytes == 0 {
		q.GCMinBytes = DefaultGCMinBytes
	}
	return q
}

// SetQueueSettings changes the queues' settings; they apply from the next
// look at the ranges.
func (s *Store) SetQueueSettings(q QueueSettings) {
	q = q.withDefaults()
	s.queueSettings.Store(&q)
}

// QueueSettings returns the queues' settings.
func (s *Store) QueueSettings() QueueSettings {
	if q := s.queueSettings.Load(); q != nil {
		return *q
	}
	return QueueSettings{}.withDefaults()
}

// QueueStats counts what the queues did.
type QueueStats struct {
	SizeSplits, LoadSplits, Merges atomic.Int64
	// Passes counts the looks at the ranges.
	Passes atomic.Int64
}

// Queues returns the counts of the store's queues.
func (s *Store) Queues() *QueueStats { return &s.queueStats }

// queueLoop runs the queues until the store stops.
func (s *Store) queueLoop(ctx context.Context) {
	for {
		q := s.QueueSettings()
		t := time.NewTimer(q.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if q.EnableSplits || q.EnableMerges || q.EnableGC {
			s.processQueues(ctx, q)
			s.queueStats.Passes.Add(1)
		}
	}
}

// processQueues looks at every range this store holds the lease of once.
func (s *Store) processQueues(ctx context.Context, q QueueSettings) {
	reps := s.Replicas()
	sort.Slice(reps, func(i, j int) bool { return reps[i].rangeID < reps[j].rangeID })
	loads := make(map[RangeID]loadSample, len(reps))
	for _, r := range reps {
		ld := r.load.take()
		loads[r.rangeID] = ld
		r.qps.Store(math.Float64bits(ld.qps))
	}
	for _, r := range reps {
		if ctx.Err() != nil {
			return
		}
		desc, lease := r.Desc(), r.Lease()
		if desc == nil || lease.GetReplica().GetNodeId() != int32(s.nodeID) || isJoint(desc) {
			continue
		}
		if f, destroyed := r.frozen(); f || destroyed != nil {
			continue
		}
		size := rangeDataBytes(r)
		ld := loads[r.rangeID]
		q := q
		if sc := s.cfg.SpanConfigs; sc != nil {
			if minBytes, maxBytes, ok := sc.RangeSizes(ctx, desc.StartKey); ok {
				q.RangeMinBytes, q.RangeMaxBytes = minBytes, maxBytes
			}
		}
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		switch {
		case q.EnableSplits && size > q.RangeMaxBytes:
			if _, err := r.adminSplit(actx, &rangepb.AdminSplitRequest{}); err == nil {
				s.queueStats.SizeSplits.Add(1)
			}
		case q.EnableSplits && q.LoadSplitQPS > 0 && ld.qps > q.LoadSplitQPS:
			if key := ld.splitKey(desc); key != nil {
				if _, err := r.adminSplit(actx, &rangepb.AdminSplitRequest{SplitKey: key}); err == nil {
					s.queueStats.LoadSplits.Add(1)
				}
			}
		case q.EnableMerges && size < q.RangeMinBytes:
			if s.shouldMerge(ctx, r, desc, size, ld, loads, q) {
				if _, err := r.adminMerge(actx); err == nil {
					s.queueStats.Merges.Add(1)
				}
			}
		}
		if q.EnableGC && actx.Err() == nil {
			s.maybeGC(actx, r, r.Desc(), q)
		}
		cancel()
	}
}

// shouldMerge decides whether r (small) merges with its right-hand
// neighbour.
func (s *Store) shouldMerge(ctx context.Context, r *Replica, desc *rangepb.RangeDescriptor, size int64, ld loadSample, loads map[RangeID]loadSample, q QueueSettings) bool {
	if len(desc.EndKey) == 0 {
		return false
	}
	for _, d := range s.descsContaining(desc.EndKey, r.rangeID) {
		if !bytes.Equal(d.StartKey, desc.EndKey) {
			continue
		}
		right, err := s.GetReplica(RangeID(d.RangeId))
		if err != nil || !sameStores(desc, d) {
			return false
		}
		if d.StickyBit != nil && s.clock.Now().Less(tsFromProto(d.StickyBit)) {
			return false // a manual split's boundary
		}
		if sc := s.cfg.SpanConfigs; sc != nil && !sc.SameConfig(ctx, desc.StartKey, d.StartKey) {
			return false // a zone's boundary
		}
		cold := q.LoadSplitQPS <= 0 || ld.qps+loads[right.rangeID].qps < q.LoadSplitQPS/4
		return cold && size+rangeDataBytes(right) < q.RangeMaxBytes
	}
	return false
}

// rangeDataBytes is the size the queues compare: key and value bytes.
func rangeDataBytes(r *Replica) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.mu.state.GetStats()
	return st.GetKeyBytes() + st.GetValBytes()
}

// loadSampleSize bounds the keys a range keeps to find its load split key.
const loadSampleSize = 64

// loadSampler counts a range's requests and keeps a uniform sample of the
// keys they were addressed to (reservoir sampling).
type loadSampler struct {
	mu    sync.Mutex
	since time.Time
	n     int64
	keys  [][]byte
}

// loadSample is what a sampler saw over one period.
type loadSample struct {
	qps  float64
	keys [][]byte
}

func (l *loadSampler) record(key []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.keys) < loadSampleSize {
		l.keys = append(l.keys, append([]byte(nil), key...))
	} else if i := rand.Int64N(l.n); i < loadSampleSize {
		l.keys[i] = append(l.keys[i][:0], key...)
	}
}

// take returns the period's sample and starts a new period.
func (l *loadSampler) take() loadSample {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := hlc.PhysicalNow()
	out := loadSample{keys: l.keys}
	if !l.since.IsZero() {
		if d := now.Sub(l.since).Seconds(); d > 0 {
			out.qps = float64(l.n) / d
		}
	}
	l.since, l.n, l.keys = now, 0, nil
	return out
}

// splitKey is the median of the sampled keys, if it can split desc.
func (ls loadSample) splitKey(desc *rangepb.RangeDescriptor) []byte {
	keys := append([][]byte(nil), ls.keys...)
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	if len(keys) < 2 {
		return nil
	}
	key := keys[len(keys)/2]
	if validateSplitKey(desc, key) != nil {
		return nil
	}
	return key
}

// QPS returns the requests per second the replica served over the queues'
// last period (measured while the split and merge queues run): the load
// the allocator balances leases by.
func (r *Replica) QPS() float64 { return math.Float64frombits(r.qps.Load()) }

// recordLoad counts a batch for the load-based split queue, by the key of
// its first request.
func (r *Replica) recordLoad(ba *rangepb.BatchRequest) {
	if len(ba.Requests) == 0 {
		return
	}
	if key, _, ok := RequestSpan(ba.Requests[0]); ok {
		r.load.record(key)
	}
}
