package kvclient

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// DistSender sends KV batches addressed by key: it finds each key's range
// in its RangeCache (filled by meta2 lookups in range 1), splits a batch
// that spans ranges into one batch per range, sends each to the range's
// leaseholder through a RangeSender (Sender routes by range ID and follows
// NotLeaseHolder hints), and puts the answers back together in request
// order. A RangeKeyMismatchError (the cache was stale: a split happened)
// refreshes the cache from the descriptors the error carries and retries.
//
// Without transactions, a batch that spans ranges is not atomic: its parts
// apply range by range. A batch that fits one range is sent whole. Safe for
// concurrent use.
type DistSender struct {
	sender RangeSender
	cache  *RangeCache
	// metaPrefetch is how many meta2 records a lookup reads: the range
	// asked for and the ones after it, which a scan is likely to need next.
	metaPrefetch int64
}

// RangeSender sends requests to a range's leaseholder: Sender over gRPC
// (or to the node itself), or a test cluster's stores.
type RangeSender interface {
	Send(ctx context.Context, id rangepb.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error)
}

// NewDistSender returns a DistSender over sender, with an empty cache.
func NewDistSender(sender RangeSender) *DistSender {
	return &DistSender{sender: sender, cache: NewRangeCache(), metaPrefetch: 8}
}

// Cache returns the DistSender's range cache.
func (ds *DistSender) Cache() *RangeCache { return ds.cache }

var _ RangeSender = (*Sender)(nil)

// RangeFor returns the descriptor of the range holding key, from the cache
// or from meta2.
func (ds *DistSender) RangeFor(ctx context.Context, key []byte) (*rangepb.RangeDescriptor, error) {
	return ds.lookup(ctx, key, false)
}

// lookup finds the range containing key (reverse: the range holding the
// keys just below key).
func (ds *DistSender) lookup(ctx context.Context, key []byte, reverse bool) (*rangepb.RangeDescriptor, error) {
	var rt retry
	for {
		d, err := ds.lookupOnce(ctx, key, reverse)
		if err != nil {
			return nil, err
		}
		if (!reverse && inDesc(d, key, nil)) || (reverse && bytes.Compare(d.StartKey, key) < 0 && bytes.Compare(key, endKey(d)) <= 0) {
			return d, nil
		}
		// The cache held a range that no longer holds key (a split or
		// merge since), or the records read were stale: look again.
		ds.cache.Evict(d)
		if err := rt.wait(ctx, errors.Newf("meta2 has no range containing %q (found r%d [%q, %q))", key, d.RangeId, d.StartKey, d.EndKey)); err != nil {
			return nil, err
		}
	}
}

func (ds *DistSender) lookupOnce(ctx context.Context, key []byte, reverse bool) (*rangepb.RangeDescriptor, error) {
	if reverse {
		if d := ds.cache.LookupReverse(key); d != nil {
			return d, nil
		}
	} else if d := ds.cache.Lookup(key); d != nil {
		return d, nil
	}
	// The first meta2 record whose end key is past key (reverse: at or past
	// it) names the range.
	start := kvpb.Meta2Key(key)
	if !reverse {
		start = kvpb.Meta2Key(kvpb.KeyNext(key))
	}
	resp, err := ds.sender.Send(ctx, rangepb.MetaRangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{
		Span: &rangepb.Span{Key: start, EndKey: kvpb.Meta2Max}, MaxKeys: ds.metaPrefetch,
	}}})
	if err != nil {
		return nil, errors.Wrapf(err, "looking up the range of %q in meta2", key)
	}
	rows := resp.Responses[0].GetScan().GetRows()
	if len(rows) == 0 {
		return nil, errors.Newf("meta2 has no range for key %q", key)
	}
	descs := make([]*rangepb.RangeDescriptor, len(rows))
	for i, row := range rows {
		d := &rangepb.RangeDescriptor{}
		if err := proto.Unmarshal(row.Value, d); err != nil {
			return nil, errors.Wrapf(err, "decoding the meta2 record at %q", row.Key)
		}
		descs[i] = d
	}
	first := descs[0]
	ds.cache.Insert(descs...)
	// Splits and merges change meta2 in the transaction that changes the
	// ranges, but a read of meta2 at a timestamp before one of them (or a
	// cached record) may name a range that no longer holds key: that range
	// answers RangeKeyMismatch, with the current descriptors, or, merged
	// away, RangeNotFound.
	return first, nil
}

// handleMismatch refreshes the cache after a RangeKeyMismatch from the
// range desc: desc goes, the descriptors the error carries come in.
func (ds *DistSender) handleMismatch(desc *rangepb.RangeDescriptor, rkm *rangepb.RangeKeyMismatchError) {
	ds.cache.Evict(desc)
	ds.cache.Insert(rkm.Desc)
	ds.cache.Insert(rkm.Ranges...)
}

// retry paces the attempts of one request after stale routing: at once
// the first times (the cache was refreshed), then backing off while meta2
// catches up.
type retry struct {
	n int
}

func (r *retry) wait(ctx context.Context, lastErr error) error {
	r.n++
	if ctx.Err() != nil {
		return errors.Wrapf(lastErr, "giving up after %d attempts", r.n)
	}
	if r.n <= 3 {
		return nil
	}
	d := min(time.Duration(r.n)*time.Millisecond, 100*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errors.Wrapf(lastErr, "giving up after %d attempts", r.n)
	case <-t.C:
		return nil
	}
}

// sendToRange sends reqs, which must all lie in one range, to the range
// holding key, retrying with a refreshed cache until the range answers
// with something other than a RangeKeyMismatch. It returns the descriptor
// used.
func (ds *DistSender) sendToRange(ctx context.Context, h *rangepb.BatchHeader, key []byte, reverse bool,
	reqs []*rangepb.RequestUnion, fits func(*rangepb.RangeDescriptor) bool) (*rangepb.BatchResponse, *rangepb.RangeDescriptor, error) {
	var rt retry
	for {
		desc, err := ds.lookup(ctx, key, reverse)
		if err != nil {
			return nil, nil, err
		}
		if fits != nil && !fits(desc) {
			// The caller split its requests by a descriptor that has
			// since been replaced: let it split them again.
			return nil, desc, errRefit
		}
		resp, err := ds.sendBatch(ctx, h, rangepb.RangeID(desc.RangeId), reqs)
		var rkm *rangepb.RangeKeyMismatchError
		var rnf *rangepb.RangeNotFoundError
		switch {
		case err == nil:
			return resp, desc, nil
		case errors.As(err, &rkm):
			ds.handleMismatch(desc, rkm)
		case errors.As(err, &rnf):
			ds.cache.Evict(desc)
		default:
			return nil, desc, err
		}
		if werr := rt.wait(ctx, err); werr != nil {
			return nil, desc, werr
		}
	}
}

var errRefit = errors.New("requests must be split again")

func (ds *DistSender) sendBatch(ctx context.Context, h *rangepb.BatchHeader, id rangepb.RangeID, reqs []*rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	if h == nil || (h.Timestamp == nil && h.Txn == nil) {
		return ds.sender.Send(ctx, id, reqs...)
	}
	// A header with a timestamp (a historical read) or a transaction needs
	// a sender that takes whole batches.
	bs, ok := ds.sender.(batchSender)
	if !ok {
		return nil, errors.New("the DistSender's sender cannot send a batch header")
	}
	resp, err := bs.SendBatch(ctx, &rangepb.BatchRequest{
		Header: &rangepb.BatchHeader{RangeId: int64(id), Timestamp: h.Timestamp, Txn: h.Txn, AsyncConsensus: h.AsyncConsensus,
			LockTimeoutNanos: h.LockTimeoutNanos, LockNoWait: h.LockNoWait, ReadSequence: h.ReadSequence}, Requests: reqs,
	})
	if err == nil && resp.Txn != nil {
		// The parts of a batch sent later, to other ranges, carry what
		// this range did to the transaction (a pushed timestamp); Send
		// returns the last word.
		h.Txn = resp.Txn
	}
	return resp, err
}

// batchSender is a RangeSender that also sends whole batches (keeping their
// header's timestamp).
type batchSender interface {
	SendBatch(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error)
}

// requestSpan returns the keys a request touches: [key, end), or the key
// alone when end is nil. ok is false for requests not addressed by key.
func requestSpan(ru *rangepb.RequestUnion) (key, end []byte, ok bool) {
	return ru.Addr()
}

// inDesc reports whether [key, end) (or key alone) lies in desc.
func inDesc(desc *rangepb.RangeDescriptor, key, end []byte) bool {
	if bytes.Compare(key, desc.StartKey) < 0 || bytes.Compare(key, endKey(desc)) >= 0 {
		return false
	}
	return len(end) == 0 || bytes.Compare(end, endKey(desc)) <= 0
}

// Send sends a batch addressed by key (its header's range ID is ignored).
// A batch inside one range goes whole; otherwise each run of consecutive
// single-key requests in one range goes together, and each scan or delete
// range that spans ranges goes range by range, its results concatenated in
// key order. A scan's max_keys and max_bytes hold across the ranges; when
// one stops it early, its resume_key says where to go on.
func (ds *DistSender) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	if len(ba.Requests) == 0 {
		return &rangepb.BatchResponse{}, nil
	}
	for _, ru := range ba.Requests {
		if _, _, ok := requestSpan(ru); !ok {
			return nil, errors.Newf("DistSender: request %T is not addressed by key", ru.Value)
		}
	}
	// The header is copied: sending parts to several ranges updates its
	// transaction as the ranges answer (see sendBatch).
	if ba.Header != nil {
		ba = &rangepb.BatchRequest{Header: proto.Clone(ba.Header).(*rangepb.BatchHeader), Requests: ba.Requests}
	}
	// The whole batch in one range?
	key, _, _ := requestSpan(ba.Requests[0])
	if ds.fitsOne(ba.Requests, ds.cache.Lookup(key)) || len(ba.Requests) == 1 {
		resp, err := ds.sendWhole(ctx, ba)
		if !errors.Is(err, errRefit) {
			if resp != nil && ba.Header != nil && ba.Header.Txn != nil {
				resp.Txn = ba.Header.Txn
			}
			return resp, err
		}
	}
	if resp, handled, err := ds.sendCommit(ctx, ba); handled {
		return resp, err
	}
	out := &rangepb.BatchResponse{Responses: make([]*rangepb.ResponseUnion, len(ba.Requests))}
	defer func() {
		if ba.Header != nil && ba.Header.Txn != nil {
			out.Txn = ba.Header.Txn
		}
	}()
	for i := 0; i < len(ba.Requests); {
		if err := ctx.Err(); err != nil {
			return nil, errors.Wrap(err, "DistSender")
		}
		ru := ba.Requests[i]
		k, end, _ := requestSpan(ru)
		if len(end) > 0 {
			res, err := ds.sendSpanning(ctx, ba.Header, ru)
			if err != nil {
				return nil, err
			}
			out.Responses[i] = res
			i++
			continue
		}
		// A run of single-key requests in k's range.
		desc, err := ds.lookup(ctx, k, false)
		if err != nil {
			return nil, err
		}
		j := i + 1
		for j < len(ba.Requests) {
			k2, end2, _ := requestSpan(ba.Requests[j])
			if len(end2) > 0 || !inDesc(desc, k2, nil) {
				break
			}
			j++
		}
		run := ba.Requests[i:j]
		resp, _, err := ds.sendToRange(ctx, ba.Header, k, false, run, func(d *rangepb.RangeDescriptor) bool { return ds.fitsOne(run, d) })
		if errors.Is(err, errRefit) {
			continue // the cache changed: cut the run again
		}
		if err != nil {
			return nil, err
		}
		copy(out.Responses[i:j], resp.Responses)
		if out.Timestamp == nil {
			out.Timestamp = resp.Timestamp
		}
		i = j
	}
	return out, nil
}

// fitsOne reports whether every request lies in desc.
func (ds *DistSender) fitsOne(reqs []*rangepb.RequestUnion, desc *rangepb.RangeDescriptor) bool {
	if desc == nil {
		return false
	}
	for _, ru := range reqs {
		k, end, _ := requestSpan(ru)
		if !inDesc(desc, k, end) {
			return false
		}
	}
	return true
}

// sendWhole sends a batch that fits one range (as far as the cache
// knows), or a batch of one request. It returns errRefit if the batch
// turns out to span ranges.
func (ds *DistSender) sendWhole(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	key, end, _ := requestSpan(ba.Requests[0])
	if len(ba.Requests) == 1 && len(end) > 0 {
		res, err := ds.sendSpanning(ctx, ba.Header, ba.Requests[0])
		if err != nil {
			return nil, err
		}
		return &rangepb.BatchResponse{Responses: []*rangepb.ResponseUnion{res}}, nil
	}
	resp, _, err := ds.sendToRange(ctx, ba.Header, key, false, ba.Requests,
		func(d *rangepb.RangeDescriptor) bool { return ds.fitsOne(ba.Requests, d) })
	return resp, err
}

// sendSpanning sends a request addressed by a span range by range: a scan
// with its limits, any other each range's part of it (rangepb.Narrow),
// the answers put back together (rangepb.Combine).
func (ds *DistSender) sendSpanning(ctx context.Context, h *rangepb.BatchHeader, ru *rangepb.RequestUnion) (*rangepb.ResponseUnion, error) {
	if scan := ru.GetScan(); scan != nil {
		res, err := ds.scan(ctx, h, scan)
		if err != nil {
			return nil, err
		}
		return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Scan{Scan: res}}, nil
	}
	key, end, _ := requestSpan(ru)
	var out *rangepb.ResponseUnion
	err := ds.eachRange(ctx, key, end, false, func(d *rangepb.RangeDescriptor, k, e []byte) (bool, error) {
		sub, err := rangepb.Narrow(ru, k, e)
		if err != nil {
			return false, err
		}
		resp, err := ds.sendIn(ctx, h, d, k, false, sub)
		if err != nil {
			return false, err
		}
		out, err = rangepb.Combine(out, resp.Responses[0])
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sendIn sends one request that the caller cut to fit desc; errRefit if
// desc is no longer what the cache holds there.
func (ds *DistSender) sendIn(ctx context.Context, h *rangepb.BatchHeader, desc *rangepb.RangeDescriptor, key []byte, reverse bool, ru *rangepb.RequestUnion) (*rangepb.BatchResponse, error) {
	resp, _, err := ds.sendToRange(ctx, h, key, reverse, []*rangepb.RequestUnion{ru}, func(d *rangepb.RangeDescriptor) bool {
		return d.RangeId == desc.RangeId && d.Generation == desc.Generation
	})
	return resp, err
}

// eachRange calls fn for the part of [key, end) in each range, in key
// order (reverse: descending), until fn returns false. A part whose
// descriptor went stale (errRefit) is cut again from the fresh cache.
func (ds *DistSender) eachRange(ctx context.Context, key, end []byte, reverse bool,
	fn func(d *rangepb.RangeDescriptor, key, end []byte) (bool, error)) error {
	if !reverse {
		cur := key
		for bytes.Compare(cur, end) < 0 {
			d, err := ds.lookup(ctx, cur, false)
			if err != nil {
				return err
			}
			subEnd := end
			if e := endKey(d); bytes.Compare(e, subEnd) < 0 {
				subEnd = e
			}
			if bytes.Compare(subEnd, cur) <= 0 {
				// A stale descriptor not containing cur: drop it and look
				// again.
				ds.cache.Evict(d)
				if err := ctx.Err(); err != nil {
					return err
				}
				continue
			}
			more, err := fn(d, cur, subEnd)
			if errors.Is(err, errRefit) {
				if err := ctx.Err(); err != nil {
					return err
				}
				continue
			}
			if err != nil || !more {
				return err
			}
			cur = subEnd
		}
		return nil
	}
	cur := end
	for bytes.Compare(key, cur) < 0 {
		d, err := ds.lookup(ctx, cur, true)
		if err != nil {
			return err
		}
		subStart := key
		if bytes.Compare(d.StartKey, subStart) > 0 {
			subStart = d.StartKey
		}
		if bytes.Compare(subStart, cur) >= 0 {
			ds.cache.Evict(d)
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		more, err := fn(d, subStart, cur)
		if errors.Is(err, errRefit) {
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		if err != nil || !more {
			return err
		}
		cur = subStart
	}
	return nil
}

// scan runs a scan over the ranges of its span: at once, one part per
// range, when it has no limits (a scan of ten ranges then takes about as
// long as the slowest part, not the sum of them); range by range, keeping
// its limits across them, when it has one (sending past the limit would
// read, and lock, rows the caller did not ask for).
func (ds *DistSender) scan(ctx context.Context, h *rangepb.BatchHeader, s *rangepb.ScanRequest) (*rangepb.ScanResponse, error) {
	if s.MaxKeys == 0 && s.MaxBytes == 0 {
		return ds.scanParallel(ctx, h, s)
	}
	return ds.scanSequential(ctx, h, s)
}

// scanParallel sends the parts of a scan without limits, one per range as
// the cache knows them, each from its own goroutine (a part whose range
// split or merged meanwhile is cut again within its span, see
// scanSequential). The rows come back in the scan's order. With a
// transaction, each part carries a copy of the header's, and the header
// takes the answer with the highest write timestamp (a read moves nothing
// else of a transaction).
func (ds *DistSender) scanParallel(ctx context.Context, h *rangepb.BatchHeader, s *rangepb.ScanRequest) (*rangepb.ScanResponse, error) {
	type part struct {
		key, end []byte
		h        *rangepb.BatchHeader
		res      *rangepb.ScanResponse
		err      error
	}
	var parts []*part
	key, end := s.Span.GetKey(), s.Span.GetEndKey()
	for cur := key; bytes.Compare(cur, end) < 0; {
		d, err := ds.lookup(ctx, cur, false)
		if err != nil {
			return nil, err
		}
		subEnd := end
		if e := endKey(d); bytes.Compare(e, subEnd) < 0 {
			subEnd = e
		}
		if bytes.Compare(subEnd, cur) <= 0 {
			ds.cache.Evict(d)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			continue
		}
		parts = append(parts, &part{key: cur, end: subEnd})
		cur = subEnd
	}
	if len(parts) <= 1 {
		return ds.scanSequential(ctx, h, s)
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// firstErr is the error of the part that failed first: the others'
	// may only say that they were cancelled because of it.
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for _, p := range parts {
		if h != nil {
			p.h = proto.Clone(h).(*rangepb.BatchHeader)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub := &rangepb.ScanRequest{Span: &rangepb.Span{Key: p.key, EndKey: p.end}, Reverse: s.Reverse, ForUpdate: s.ForUpdate}
			p.res, p.err = ds.scanSequential(pctx, p.h, sub)
			if p.err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = p.err
				}
				mu.Unlock()
				cancel() // the scan fails: the other parts need not finish
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := &rangepb.ScanResponse{}
	for i := range parts {
		p := parts[i]
		if s.Reverse {
			p = parts[len(parts)-1-i]
		}
		out.Rows = append(out.Rows, p.res.Rows...)
	}
	if h != nil && h.Txn != nil {
		var last *rangepb.Transaction
		for _, p := range parts {
			if t := p.h.Txn; t != nil && (last == nil || tsFromProto(last.Meta.GetWriteTimestamp()).Less(tsFromProto(t.Meta.GetWriteTimestamp()))) {
				last = t
			}
		}
		h.Txn = last
	}
	return out, nil
}

// scanSequential runs a scan range by range, keeping its limits across
// them.
func (ds *DistSender) scanSequential(ctx context.Context, h *rangepb.BatchHeader, s *rangepb.ScanRequest) (*rangepb.ScanResponse, error) {
	out := &rangepb.ScanResponse{}
	var bytesSoFar int64
	err := ds.eachRange(ctx, s.Span.GetKey(), s.Span.GetEndKey(), s.Reverse, func(d *rangepb.RangeDescriptor, key, end []byte) (bool, error) {
		sub := &rangepb.ScanRequest{Span: &rangepb.Span{Key: key, EndKey: end}, Reverse: s.Reverse, ForUpdate: s.ForUpdate}
		if s.MaxKeys > 0 {
			sub.MaxKeys = s.MaxKeys - int64(len(out.Rows))
		}
		if s.MaxBytes > 0 {
			sub.MaxBytes = s.MaxBytes - bytesSoFar
		}
		at := key
		if s.Reverse {
			at = end
		}
		resp, err := ds.sendIn(ctx, h, d, at, s.Reverse, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: sub}})
		if err != nil {
			return false, err
		}
		res := resp.Responses[0].GetScan()
		out.Rows = append(out.Rows, res.Rows...)
		for _, row := range res.Rows {
			bytesSoFar += int64(len(row.Key) + len(row.Value))
		}
		if len(res.ResumeKey) > 0 {
			out.ResumeKey = res.ResumeKey
			return false, nil
		}
		// The limits are used up at this range's edge: the rest of the
		// span is where to resume.
		next, last := end, bytes.Equal(end, s.Span.GetEndKey())
		if s.Reverse {
			next, last = key, bytes.Equal(key, s.Span.GetKey())
		}
		if !last && ((s.MaxKeys > 0 && int64(len(out.Rows)) >= s.MaxKeys) || (s.MaxBytes > 0 && bytesSoFar >= s.MaxBytes)) {
			out.ResumeKey = append([]byte(nil), next...)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AdminSplit splits the range holding key at key.
func (ds *DistSender) AdminSplit(ctx context.Context, key []byte) (*rangepb.AdminSplitResponse, error) {
	return ds.AdminSplitSticky(ctx, key, nil)
}

// AdminSplitSticky splits the range holding key at key, the boundary
// sticky until expiration (nil: not sticky): the merge queue leaves it.
func (ds *DistSender) AdminSplitSticky(ctx context.Context, key []byte, expiration *rangepb.Timestamp) (*rangepb.AdminSplitResponse, error) {
	resp, err := ds.Send(ctx, &rangepb.BatchRequest{Requests: []*rangepb.RequestUnion{{Value: &rangepb.RequestUnion_AdminSplit{
		AdminSplit: &rangepb.AdminSplitRequest{SplitKey: key, Expiration: expiration},
	}}}})
	if err != nil {
		return nil, err
	}
	res := resp.Responses[0].GetAdminSplit()
	ds.cache.Insert(res.GetLeft(), res.GetRight())
	return res, nil
}

// AdminMerge merges the range holding key with its right-hand neighbour.
func (ds *DistSender) AdminMerge(ctx context.Context, key []byte) (*rangepb.AdminMergeResponse, error) {
	var rt retry
	for {
		desc, err := ds.lookup(ctx, key, false)
		if err != nil {
			return nil, err
		}
		resp, err := ds.sender.Send(ctx, rangepb.RangeID(desc.RangeId), &rangepb.RequestUnion{Value: &rangepb.RequestUnion_AdminMerge{
			AdminMerge: &rangepb.AdminMergeRequest{},
		}})
		var rnf *rangepb.RangeNotFoundError
		if errors.As(err, &rnf) {
			// Merged away meanwhile: look again.
			ds.cache.Evict(desc)
			if werr := rt.wait(ctx, err); werr != nil {
				return nil, werr
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		res := resp.Responses[0].GetAdminMerge()
		ds.cache.Evict(desc)
		ds.cache.Insert(res.GetMerged())
		return res, nil
	}
}

func tsFromProto(p *rangepb.Timestamp) hlc.Timestamp { return p.HLC() }
