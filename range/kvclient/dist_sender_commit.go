package kvclient

import (
	"context"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// sendCommit sends a transaction's committing batch that spans ranges, one
// part per range, the parts at once: its writes (and the QueryIntents that
// prove its pipelined writes) do not wait for one another. An EndTxn that
// lists in-flight writes (a parallel commit: it stages the record) goes
// with its range's part, in parallel with the rest; any other EndTxn goes
// after every other part succeeded, alone, since it commits outright.
// handled is false for a batch this does not apply to (not ending with an
// EndTxn, holding a request that spans ranges, or inside one range), and
// when the range cache changed under it: the caller then sends it the
// ordinary way (the parts already sent are replays of the same writes).
//
// The answer's transaction is the EndTxn's, its write timestamp the
// highest any part reported: a STAGING transaction whose writes were
// pushed above the staged timestamp is not committed, and its coordinator
// sees so by comparing the two.
func (ds *DistSender) sendCommit(ctx context.Context, ba *rangepb.BatchRequest) (_ *rangepb.BatchResponse, handled bool, _ error) {
	n := len(ba.Requests)
	et := ba.Requests[n-1].GetEndTxn()
	if et == nil || ba.Header.GetTxn() == nil || n < 2 {
		return nil, false, nil
	}
	type part struct {
		desc *rangepb.RangeDescriptor
		idx  []int
	}
	var parts []*part
	byRange := map[int64]*part{}
	for i, ru := range ba.Requests {
		key, end, _ := requestSpan(ru)
		if len(end) > 0 {
			return nil, false, nil
		}
		desc, err := ds.lookup(ctx, key, false)
		if err != nil {
			return nil, true, err
		}
		p := byRange[desc.RangeId]
		if p == nil {
			p = &part{desc: desc}
			byRange[desc.RangeId] = p
			parts = append(parts, p)
		}
		p.idx = append(p.idx, i)
	}
	if len(parts) < 2 {
		return nil, false, nil
	}
	phases := [][]*part{parts}
	if len(et.InFlightWrites) == 0 {
		// The EndTxn alone, after the rest.
		var endPart *part
		for _, p := range parts {
			if p.idx[len(p.idx)-1] == n-1 {
				p.idx = p.idx[:len(p.idx)-1]
				endPart = &part{desc: p.desc, idx: []int{n - 1}}
			}
		}
		rest := parts[:0:0]
		for _, p := range parts {
			if len(p.idx) > 0 {
				rest = append(rest, p)
			}
		}
		phases = [][]*part{rest, {endPart}}
	}
	out := &rangepb.BatchResponse{Responses: make([]*rangepb.ResponseUnion, n)}
	txn := ba.Header.Txn
	for _, phase := range phases {
		type result struct {
			br  *rangepb.BatchResponse
			err error
		}
		results := make([]result, len(phase))
		var wg sync.WaitGroup
		for i, p := range phase {
			reqs := make([]*rangepb.RequestUnion, len(p.idx))
			for j, idx := range p.idx {
				reqs[j] = ba.Requests[idx]
			}
			// Each part its own header: a range's answer updates it.
			h := proto.Clone(ba.Header).(*rangepb.BatchHeader)
			h.Txn = proto.Clone(txn).(*rangepb.Transaction)
			key, _, _ := requestSpan(reqs[0])
			wg.Add(1)
			go func() {
				defer wg.Done()
				br, _, err := ds.sendToRange(ctx, h, key, false, reqs, func(d *rangepb.RangeDescriptor) bool { return ds.fitsOne(reqs, d) })
				results[i] = result{br, err}
			}()
		}
		wg.Wait()
		var firstErr error
		for _, r := range results {
			if r.err != nil && (firstErr == nil || errors.Is(firstErr, errRefit)) {
				firstErr = r.err
			}
		}
		if firstErr != nil {
			if errors.Is(firstErr, errRefit) {
				return nil, false, nil
			}
			return nil, true, firstErr
		}
		merged := txn
		for i, p := range phase {
			br := results[i].br
			copy2(out.Responses, p.idx, br.Responses)
			if out.Timestamp == nil {
				out.Timestamp = br.Timestamp
			}
			if br.Txn != nil && p.idx[len(p.idx)-1] == n-1 {
				merged = proto.Clone(br.Txn).(*rangepb.Transaction)
			}
		}
		if merged == txn {
			merged = proto.Clone(txn).(*rangepb.Transaction)
		}
		for _, r := range results {
			forwardWriteTs(merged, r.br.Txn)
		}
		txn = merged
	}
	out.Txn = txn
	return out, true, nil
}

// copy2 puts a part's responses back at the batch's positions.
func copy2(dst []*rangepb.ResponseUnion, idx []int, src []*rangepb.ResponseUnion) {
	for j, i := range idx {
		if j < len(src) {
			dst[i] = src[j]
		}
	}
}

// forwardWriteTs raises dst's write timestamp to src's.
func forwardWriteTs(dst, src *rangepb.Transaction) {
	if src.GetMeta() == nil || dst.GetMeta() == nil {
		return
	}
	d, s := dst.Meta.GetWriteTimestamp(), src.Meta.GetWriteTimestamp()
	if s == nil {
		return
	}
	if d == nil || d.WallTime < s.WallTime || (d.WallTime == s.WallTime && d.Logical < s.Logical) {
		dst.Meta.WriteTimestamp = proto.Clone(s).(*rangepb.Timestamp)
	}
}
