package kvserver

import (
	"context"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The GC queue: on each pass of the queues (split_merge_queue.go) the
// leaseholder of a range collects its old MVCC versions once enough of
// them have been garbage for longer than the range's TTL (its zone's
// gc.ttlseconds). It raises the range's GC threshold to now - TTL and
// removes, a batch of keys at a time, the versions only reads below the
// threshold could see (replica_eval_gc.go).
//
// How much is collectable is estimated from the range's stats without
// reading its data: GCBytesAge sums, over the bytes that are not live, how
// many seconds each has been so; divided by the TTL it counts the bytes
// as if all had been garbage for a TTL. A range is collected when that
// estimate reaches GCMinBytes, and at most once per tenth of its TTL.

// Defaults of the GC queue's QueueSettings.
const (
	DefaultGCTTL      = 4 * time.Hour
	DefaultGCMinBytes = 1 << 20
	// gcBatchKeys bounds the keys one GC request collects: one Raft
	// command, and write latches on that many keys while it applies.
	gcBatchKeys = 256
)

// GCStats counts what the GC queue did.
type GCStats struct {
	// Runs counts ranges collected, VersionsRemoved the versions removed.
	Runs, VersionsRemoved int64
	// Errors counts failed runs; LastError is the latest failure.
	Errors    int64
	LastError string
}

// maybeGC collects r's garbage if it is due (see the file comment).
func (s *Store) maybeGC(ctx context.Context, r *Replica, desc *rangepb.RangeDescriptor, q QueueSettings) {
	ttl := q.GCTTL
	if sc := s.cfg.SpanConfigs; sc != nil {
		if t, ok := sc.GCTTL(ctx, desc.StartKey); ok {
			ttl = t
		}
	}
	now := s.clock.Now()
	r.mu.Lock()
	ms := statsFromProto(r.mu.state.GetStats())
	last := r.mu.lastGC
	r.mu.Unlock()
	if last != 0 && time.Duration(now.WallTime-last) < max(ttl/10, q.Interval) {
		return
	}
	ms.AgeTo(now.WallTime)
	if ms.GCBytes() <= 0 || ms.GCBytesAge/max(int64(ttl.Seconds()), 1) < q.GCMinBytes {
		return
	}
	threshold := kv.GCThreshold(now, ttl)
	if threshold.LessEq(r.gcThreshold()) {
		return
	}
	r.mu.Lock()
	r.mu.lastGC = now.WallTime
	r.mu.Unlock()
	removed, err := r.collectGarbage(ctx, desc, threshold)
	s.gcMu.Lock()
	s.gcMu.stats.Runs++
	s.gcMu.stats.VersionsRemoved += removed
	if err != nil {
		// The next due pass tries again.
		s.gcMu.stats.Errors++
		s.gcMu.stats.LastError = err.Error()
	}
	s.gcMu.Unlock()
}

// GCStats returns the counts of the store's GC queue.
func (s *Store) GCStats() GCStats {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	return s.gcMu.stats
}

// collectGarbage lists the keys of desc with versions garbage at threshold
// and removes them through GC requests, the first of which raises the
// range's GC threshold. It returns how many versions it removed.
func (r *Replica) collectGarbage(ctx context.Context, desc *rangepb.RangeDescriptor, threshold hlc.Timestamp) (int64, error) {
	var removed int64
	end := descEndKey(desc)
	for start := desc.StartKey; start != nil; {
		ro := r.store.engine.NewReadOnly()
		keys, resume, err := kv.MVCCGarbageKeys(ro, start, end, threshold, gcBatchKeys)
		ro.Close()
		if err != nil || len(keys) == 0 {
			return removed, err
		}
		br, err := r.Send(ctx, &rangepb.BatchRequest{
			Header: &rangepb.BatchHeader{RangeId: int64(r.rangeID)},
			Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Gc{Gc: &rangepb.GCRequest{
				Keys: keys, Threshold: tsToProto(threshold),
			}}}},
		})
		if err != nil {
			return removed, err
		}
		removed += br.Responses[0].GetGc().GetVersionsRemoved()
		start = resume
	}
	return removed, nil
}
