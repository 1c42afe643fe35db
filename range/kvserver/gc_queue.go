package kvserver

import (
	"context"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/concurrency"
	"github.com/meridiandb/meridian/range/rangepb"
)

// The GC queue: on each pass of the queues (split_merge_queue.go) the
// leaseholder of a range collects its old MVCC versions once enough of
// them have been garbage for longer than the range's TTL (its zone's
// gc.ttlseconds). It raises the range's GC threshold to now - TTL and
// removes, a batch of keys at a time, the versions only reads below the
// threshold could see (cmd_gc.go).
//
// How much is collectable is estimated from the range's stats without
// reading its data: GCBytesAge sums, over the bytes that are not live, how
// many seconds each has been so; divided by the TTL it counts the bytes
// as if all had been garbage for a TTL. A range is collected when that
// estimate, or its transaction records' bytes, reach GCMinBytes, or when
// it holds intents, and at most once per tenth of its TTL. Finished transaction records last active
// before the threshold go too, after their intents are resolved; abandoned
// ones are aborted or, if STAGING, recovered first (collectTxnRecords), and
// so are the transactions of intents written before the threshold
// (cleanUpOldIntents).

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
	// Transaction records are system bytes; they and intents have no age
	// to go by: a range holding intents or records looks at them (but
	// reads through its data only for enough old versions).
	w := gcWork{
		versions: ms.GCBytesAge/max(int64(ttl.Seconds()), 1) >= q.GCMinBytes,
		intents:  ms.IntentCount > 0,
		records:  ms.SysBytes >= q.GCMinBytes,
	}
	if !w.versions && !w.intents && !w.records {
		return
	}
	threshold := kv.GCThreshold(now, ttl)
	if threshold.LessEq(r.gcThreshold()) {
		return
	}
	r.mu.Lock()
	r.mu.lastGC = now.WallTime
	r.mu.Unlock()
	removed, err := r.collectGarbage(ctx, desc, threshold, w)
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

// gcWork is what a range's collection looks at.
type gcWork struct{ versions, intents, records bool }

// collectGarbage raises the range's GC threshold to threshold and
// removes what is garbage below it: old versions (the keys listed a page
// at a time, a GC request per page), old intents of finished or abandoned
// transactions (cleanUpOldIntents) and finished transaction records
// (collectTxnRecords), as w says. It returns how many versions it removed.
func (r *Replica) collectGarbage(ctx context.Context, desc *rangepb.RangeDescriptor, threshold hlc.Timestamp, w gcWork) (int64, error) {
	var removed int64
	end := descEndKey(desc)
	// (A range's start key may be nil: the first range's.)
	for start, first := desc.StartKey, true; first || start != nil; first = false {
		var keys [][]byte
		var resume []byte
		if w.versions {
			ro := r.store.engine.NewReadOnly()
			var err error
			keys, resume, err = kv.MVCCGarbageKeys(ro, start, end, threshold, gcBatchKeys)
			ro.Close()
			if err != nil {
				return removed, err
			}
		}
		if len(keys) == 0 && !first {
			break
		}
		res, err := r.sendGC(ctx, &rangepb.GCRequest{Keys: keys, Threshold: tsToProto(threshold)})
		if err != nil {
			return removed, err
		}
		removed += res.VersionsRemoved
		start = resume
	}
	if w.intents {
		if err := r.cleanUpOldIntents(ctx, desc, threshold); err != nil {
			return removed, err
		}
	}
	if !w.records {
		return removed, nil
	}
	return removed, r.collectTxnRecords(ctx, desc, threshold)
}

// cleanUpOldIntents pushes the transactions of the range's intents
// written at or below threshold and resolves the intents of those that
// finished (or are aborted by the push: abandoned). An abandoned
// transaction's record lists none of its intents; without this they would
// wait for a reader to stumble on them.
func (r *Replica) cleanUpOldIntents(ctx context.Context, desc *rangepb.RangeDescriptor, threshold hlc.Timestamp) error {
	if r.store.cfg.TxnSender == nil {
		return nil
	}
	p := replicaPusher{r: r}
	end := descEndKey(desc)
	for start, first := desc.StartKey, true; first || start != nil; first = false {
		ro := r.store.engine.NewReadOnly()
		locks, resume, err := kv.MVCCOldLocks(ro, start, end, threshold, gcBatchKeys)
		ro.Close()
		if err != nil {
			return err
		}
		for _, l := range locks {
			if len(l.Txn.Key) == 0 {
				continue
			}
			rec, err := p.PushTxn(ctx, nil, l.Txn, concurrency.PushAbort, r.store.clock.Now(), false)
			if err != nil {
				return err
			}
			if rec.Status != kv.COMMITTED && rec.Status != kv.ABORTED {
				continue // alive
			}
			if err := p.ResolveIntent(ctx, concurrency.LockUpdate{
				Span: concurrency.Span{Key: l.Key}, Txn: rec.Meta, Status: rec.Status, IgnoredSeqNums: rec.IgnoredSeqNums,
			}); err != nil {
				return err
			}
		}
		start = resume
	}
	return nil
}

func (r *Replica) sendGC(ctx context.Context, req *rangepb.GCRequest) (*rangepb.GCResponse, error) {
	br, err := r.Send(ctx, &rangepb.BatchRequest{
		Header:   &rangepb.BatchHeader{RangeId: int64(r.rangeID)},
		Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_Gc{Gc: req}}},
	})
	if err != nil {
		return nil, err
	}
	return br.Responses[0].GetGc(), nil
}

// collectTxnRecords removes the records of the range's transactions last
// active at or below threshold: an abandoned PENDING one is aborted by a
// push, an abandoned STAGING one recovered (committed if all its writes
// landed, else aborted), then each finished one goes, a page at a time; a
// committed one after the intents it left to resolve after its commit
// (TxnLockSpansKey) are resolved, since once its record is gone a pusher
// meeting one would take it for aborted. A live transaction's record is
// left (its heartbeats keep it above the threshold), and so is a committed
// one written before records were collected (its intents are not known).
func (r *Replica) collectTxnRecords(ctx context.Context, desc *rangepb.RangeDescriptor, threshold hlc.Timestamp) error {
	if r.store.cfg.TxnSender == nil {
		return nil
	}
	p := replicaPusher{r: r}
	span := rangeLocalSpan(desc.StartKey, descEndKey(desc))
	for start := span.Key; start != nil; {
		recs, resume, err := r.oldTxnRecords(start, span.EndKey, threshold)
		if err != nil {
			return err
		}
		var keys [][]byte
		for _, rec := range recs {
			meta := metaToKV(rec.Meta)
			key := TxnRecordKey(rec.Meta.Key, meta.ID)
			if !isFinal(rec.Status) {
				got, err := p.PushTxn(ctx, nil, meta, concurrency.PushAbort, r.store.clock.Now(), false)
				if err != nil {
					return err
				}
				if got.Status != kv.COMMITTED && got.Status != kv.ABORTED {
					continue // alive after all
				}
				// The push (or the recovery) rewrote the record here.
				if rec, err = readRecord(r.store.engine, key); err != nil {
					return err
				}
				if rec == nil {
					continue
				}
			}
			if rec.Status == rangepb.TransactionStatus_COMMITTED {
				if !rec.IntentsKnown {
					continue // its intents are not known: kept
				}
				spans, err := readTxnLockSpans(r.store.engine, rec.Meta.Key, meta.ID)
				if err != nil {
					return err
				}
				for _, sp := range spans {
					if err := p.ResolveIntent(ctx, concurrency.LockUpdate{
						Span: concurrency.Span{Key: sp.Key, EndKey: sp.EndKey}, Txn: meta, Status: kv.COMMITTED,
						IgnoredSeqNums: seqRangesToKV(rec.IgnoredSeqNums),
					}); err != nil {
						return err
					}
				}
			}
			keys = append(keys, key)
		}
		if len(keys) > 0 {
			if _, err := r.sendGC(ctx, &rangepb.GCRequest{TxnRecords: keys, Threshold: tsToProto(threshold)}); err != nil {
				return err
			}
		}
		start = resume
	}
	return nil
}

// oldTxnRecords lists, from start on, up to gcBatchKeys transaction
// records below end last active at or below threshold; resume is where to
// go on from, nil at the end.
func (r *Replica) oldTxnRecords(start, end []byte, threshold hlc.Timestamp) (recs []*rangepb.TxnRecord, resume []byte, _ error) {
	ro := r.store.engine.NewReadOnly()
	defer ro.Close()
	it, err := ro.NewIterator(kv.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	for it.SeekGE(kv.MVCCKey{Key: start}); ; it.NextKey() {
		ok, err := it.Valid()
		if err != nil || !ok {
			return recs, nil, err
		}
		k := it.UnsafeKey()
		if k.IsValue() {
			continue
		}
		if _, ok := decodeTxnRecordKey(k.Key); !ok {
			continue
		}
		if len(recs) == gcBatchKeys {
			return recs, append([]byte(nil), k.Key...), nil
		}
		rec, err := readRecord(ro, k.Key)
		if err != nil {
			return nil, nil, err
		}
		if rec != nil && rec.Meta != nil && !threshold.Less(recordActive(rec)) {
			recs = append(recs, rec)
		}
	}
}
