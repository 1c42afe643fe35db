package kvtest

import (
	"bytes"
	"context"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// KeySender sends batches addressed by key over the cluster: a stand-in for
// the DistSender (range/kvclient, splits branch) that reads the range
// descriptors straight from the live stores instead of meta2. A batch
// inside one range goes whole, header (transaction) included; otherwise it
// is cut into one batch per range, sent in the order of their first
// request (so the anchor key's range, first in a transaction's first
// writing batch, goes first), and a span that crosses ranges is cut at
// their bounds, its results put back together. Safe for concurrent use.
type KeySender struct {
	c *Cluster
	// from is the node sending (0: any node; see Cluster.send).
	from kvserver.NodeID
}

var _ kvserver.KeySender = (*KeySender)(nil)

// KeySender returns a key-addressed sender over the cluster.
func (c *Cluster) KeySender() *KeySender { return &KeySender{c: c} }

// requestSpan returns the key (or span) a request is addressed by.
func requestSpan(ru *rangepb.RequestUnion) (key, end []byte, ok bool) {
	return kvserver.RequestSpan(ru)
}

// descs returns the range descriptors the live stores hold, one per range
// (the one with the most replicas' agreement is not needed: without splits
// they never change span).
func (s *KeySender) descs() []*rangepb.RangeDescriptor {
	seen := map[int64]bool{}
	var out []*rangepb.RangeDescriptor
	for _, n := range s.c.Nodes {
		if !n.Alive() {
			continue
		}
		for _, r := range n.Store.Replicas() {
			d := r.Desc()
			if d == nil || seen[d.RangeId] {
				continue
			}
			seen[d.RangeId] = true
			out = append(out, d)
		}
	}
	return out
}

func contains(d *rangepb.RangeDescriptor, key []byte) bool {
	return bytes.Compare(d.StartKey, key) <= 0 && (len(d.EndKey) == 0 || bytes.Compare(key, d.EndKey) < 0)
}

// piece is the part of one request that goes to one range.
type piece struct {
	idx int
	ru  *rangepb.RequestUnion
}

// Send sends ba, addressed by key.
func (s *KeySender) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	descs := s.descs()
	var order []int64
	groups := map[int64][]piece{}
	add := func(d *rangepb.RangeDescriptor, p piece) {
		if _, ok := groups[d.RangeId]; !ok {
			order = append(order, d.RangeId)
		}
		groups[d.RangeId] = append(groups[d.RangeId], p)
	}
	for i, ru := range ba.Requests {
		key, end, ok := requestSpan(ru)
		if !ok {
			return nil, errors.Newf("KeySender: request %T is not addressed by key", ru.Value)
		}
		found := false
		for _, d := range descs {
			if len(end) == 0 {
				if contains(d, key) {
					add(d, piece{i, ru})
					found = true
					break
				}
				continue
			}
			k, e := key, end
			if bytes.Compare(k, d.StartKey) < 0 {
				k = d.StartKey
			}
			if len(d.EndKey) > 0 && bytes.Compare(e, d.EndKey) > 0 {
				e = d.EndKey
			}
			if bytes.Compare(k, e) < 0 {
				sub, err := rangepb.Narrow(ru, k, e)
				if err != nil {
					return nil, err
				}
				add(d, piece{i, sub})
				found = true
			}
		}
		if !found {
			return nil, errors.Newf("KeySender: no range holds %q", key)
		}
	}
	// A commit sent with writes on several ranges goes last, alone, after
	// every write (as DistSender sends it): it must not commit before all
	// of them are written. Those writes go to their ranges at once. A
	// parallel commit (an EndTxn listing in-flight writes, which stages
	// the record) goes with its range's part, all parts at once.
	type send struct {
		id     int64
		pieces []piece
	}
	var sends []send
	for _, id := range order {
		sends = append(sends, send{id, groups[id]})
	}
	last := len(ba.Requests) - 1
	et := ba.Requests[last].GetEndTxn()
	commit := len(sends) > 1 && et != nil && ba.Header.GetTxn() != nil
	var phases [][]send
	if commit && len(et.InFlightWrites) > 0 {
		phases = [][]send{sends}
	}
	if phases == nil && len(sends) > 1 && et != nil {
		for i, sd := range sends {
			if n := len(sd.pieces); n > 0 && sd.pieces[n-1].idx == last {
				sends[i].pieces = sd.pieces[:n-1]
				sends = append(sends, send{sd.id, sd.pieces[n-1:]})
				break
			}
		}
	}
	if phases == nil && commit {
		var rest []send
		for _, sd := range sends[:len(sends)-1] {
			if len(sd.pieces) > 0 {
				rest = append(rest, sd)
			}
		}
		phases = [][]send{rest, sends[len(sends)-1:]}
	}
	if phases == nil {
		for _, sd := range sends {
			phases = append(phases, []send{sd})
		}
	}
	out := &rangepb.BatchResponse{Responses: make([]*rangepb.ResponseUnion, len(ba.Requests))}
	type scanPart struct {
		start []byte
		rows  []*rangepb.KeyValue
	}
	scans := map[int][]scanPart{}
	type result struct {
		br  *rangepb.BatchResponse
		err error
	}
	var done []struct {
		sd send
		br *rangepb.BatchResponse
	}
	for _, phase := range phases {
		results := make([]result, len(phase))
		var wg sync.WaitGroup
		for i, sd := range phase {
			if len(sd.pieces) == 0 {
				continue
			}
			h := proto.Clone(ba.Header).(*rangepb.BatchHeader)
			h.RangeId = sd.id
			if out.Txn != nil {
				// A later range sees what an earlier one did to the txn.
				h.Txn = out.Txn
			}
			sub := &rangepb.BatchRequest{Header: h}
			for _, p := range sd.pieces {
				sub.Requests = append(sub.Requests, p.ru)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				br, err := s.c.sendBatch(ctx, s.from, sub)
				results[i] = result{br, err}
			}()
		}
		wg.Wait()
		for _, r := range results {
			if r.err != nil {
				return nil, r.err
			}
		}
		// The phase's answer for the transaction: the EndTxn's part's
		// (or the last one's), at the highest write timestamp of all.
		var merged *rangepb.Transaction
		for i, sd := range phase {
			br := results[i].br
			if br == nil {
				continue
			}
			done = append(done, struct {
				sd send
				br *rangepb.BatchResponse
			}{sd, br})
			if br.Txn != nil && (merged == nil || sd.pieces[len(sd.pieces)-1].idx == last || len(phase) == 1) {
				merged = proto.Clone(br.Txn).(*rangepb.Transaction)
			}
		}
		for i := range phase {
			if br := results[i].br; br != nil && merged != nil && br.Txn.GetMeta() != nil {
				if w := tsOf(br.Txn.Meta.WriteTimestamp); tsOf(merged.Meta.WriteTimestamp).Less(w) {
					merged.Meta.WriteTimestamp = br.Txn.Meta.WriteTimestamp
				}
			}
		}
		if merged != nil {
			out.Txn = merged
		}
	}
	for _, d := range done {
		sd, br := d.sd, d.br
		if out.Timestamp == nil {
			out.Timestamp = br.Timestamp
		}
		for j, p := range sd.pieces {
			res := br.Responses[j]
			prev := out.Responses[p.idx]
			switch {
			case prev == nil:
				out.Responses[p.idx] = res
				if sc := res.GetScan(); sc != nil {
					k, _, _ := requestSpan(p.ru)
					scans[p.idx] = append(scans[p.idx], scanPart{k, sc.Rows})
				}
			case res.GetScan() != nil:
				k, _, _ := requestSpan(p.ru)
				scans[p.idx] = append(scans[p.idx], scanPart{k, res.GetScan().Rows})
			default:
				if _, err := rangepb.Combine(prev, res); err != nil {
					return nil, err
				}
			}
		}
	}
	// Scans across ranges: the parts' rows in key order (limits are not
	// applied across ranges: the tests' scans have none).
	for idx, parts := range scans {
		if len(parts) < 2 {
			continue
		}
		for i := 1; i < len(parts); i++ {
			for j := i; j > 0 && bytes.Compare(parts[j].start, parts[j-1].start) < 0; j-- {
				parts[j], parts[j-1] = parts[j-1], parts[j]
			}
		}
		var rows []*rangepb.KeyValue
		for _, p := range parts {
			rows = append(rows, p.rows...)
		}
		out.Responses[idx] = &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Scan{Scan: &rangepb.ScanResponse{Rows: rows}}}
	}
	return out, nil
}

// SendBatch sends a whole batch to the range its header names, header
// (timestamp, transaction) included, finding the leaseholder as Send does.
// A DistSender over the cluster uses it for batches with a header.
func (c *Cluster) SendBatch(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	return c.sendBatch(ctx, 0, ba)
}

func tsOf(p *rangepb.Timestamp) hlc.Timestamp {
	return hlc.Timestamp{WallTime: p.GetWallTime(), Logical: p.GetLogical()}
}
