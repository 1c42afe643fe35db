package txn

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// TestPipelinerCommitter runs testdata/pipeliner_committer: the seqNums →
// pipeliner → committer stack over a mock range that answers every batch
// (the mock stages an EndTxn that lists in-flight writes, as a range
// would). Commands:
//
//	init [pipelining=off] [parallel-commits=off]
//	send [push=<wall>]   one request a line: put k | get k | scan a b |
//	                     delrange a b | commit | rollback. push makes the
//	                     mock answer with the write timestamp at <wall>.
//
// send prints every batch that reached the mock (its async flag, requests
// and an EndTxn's in-flight writes), the answer's status, and the writes
// left in flight.
func TestPipelinerCommitter(t *testing.T) {
	ctx := context.Background()
	var (
		seq  *txnSeqNumAllocator
		pipe *txnPipeliner
		com  *txnCommitter
		txn  *rangepb.Transaction
		push int64
		out  strings.Builder
	)
	mock := &mockSender{fn: func(ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
		fmt.Fprintf(&out, "batch async=%v\n", ba.Header.AsyncConsensus)
		br := &rangepb.BatchResponse{Txn: cloneTxn(ba.Header.Txn)}
		if push > 0 {
			br.Txn.Meta.WriteTimestamp = tsToProto(hlc.Timestamp{WallTime: push})
		}
		for _, ru := range ba.Requests {
			fmt.Fprintf(&out, "  %s\n", describe(ru))
			res := &rangepb.ResponseUnion{}
			if dr := ru.GetDeleteRange(); dr != nil && dr.ReturnKeys {
				// The live keys are the one-letter ones.
				out := &rangepb.DeleteRangeResponse{}
				for c := dr.Span.Key[0]; c < dr.Span.EndKey[0]; c++ {
					out.Keys = append(out.Keys, []byte{c})
				}
				res.Value = &rangepb.ResponseUnion_DeleteRange{DeleteRange: out}
			}
			if et := ru.GetEndTxn(); et != nil {
				t := cloneTxn(ba.Header.Txn)
				switch {
				case !et.Commit:
					t.Status = rangepb.TransactionStatus_ABORTED
				case len(et.InFlightWrites) > 0:
					t.Status = rangepb.TransactionStatus_STAGING
				default:
					t.Status = rangepb.TransactionStatus_COMMITTED
				}
				br.Txn.Status = t.Status
				res.Value = &rangepb.ResponseUnion_EndTxn{EndTxn: &rangepb.EndTxnResponse{Txn: t}}
			}
			br.Responses = append(br.Responses, res)
		}
		push = 0
		return br, nil
	}}
	datadriven.RunTest(t, "testdata/pipeliner_committer", func(t *testing.T, d *datadriven.TestData) string {
		out.Reset()
		switch d.Cmd {
		case "init":
			seq, pipe, com = &txnSeqNumAllocator{}, &txnPipeliner{}, &txnCommitter{parallel: true, deadline: &txnDeadline{}}
			pipe.disabled = d.HasArg("pipelining")
			com.parallel = !d.HasArg("parallel-commits")
			seq.setWrapped(pipe)
			pipe.setWrapped(com)
			com.setWrapped(mock)
			txn = testTxnProto(10, 10)
			txn.Meta.Key = []byte("a")
			return ""
		case "send":
			if d.HasArg("push") {
				d.ScanArgs(t, "push", &push)
			}
			var reqs []*rangepb.RequestUnion
			for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
				f := strings.Fields(line)
				switch f[0] {
				case "put":
					reqs = append(reqs, put(f[1]))
				case "get":
					reqs = append(reqs, get(f[1]))
				case "scan":
					reqs = append(reqs, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{Scan: &rangepb.ScanRequest{
						Span: &rangepb.Span{Key: []byte(f[1]), EndKey: []byte(f[2])}}}})
				case "delrange":
					reqs = append(reqs, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_DeleteRange{DeleteRange: &rangepb.DeleteRangeRequest{
						Span: &rangepb.Span{Key: []byte(f[1]), EndKey: []byte(f[2])}}}})
				case "commit", "rollback":
					reqs = append(reqs, endTxn(f[0] == "commit"))
				default:
					d.Fatalf(t, "unknown request %q", line)
				}
			}
			br, err := seq.SendLocked(ctx, batch(cloneTxn(txn), reqs...))
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
			} else {
				fmt.Fprintf(&out, "answer: %d responses, status %s\n", len(br.Responses), br.Txn.GetStatus())
			}
			var ws []string
			for _, w := range pipe.inFlight {
				ws = append(ws, fmt.Sprintf("%s@%d", w.Key, w.Sequence))
			}
			fmt.Fprintf(&out, "in flight: %s\n", strings.Join(ws, " "))
			return out.String()
		}
		d.Fatalf(t, "unknown command %q", d.Cmd)
		return ""
	})
}

func cloneTxn(t *rangepb.Transaction) *rangepb.Transaction {
	return proto.Clone(t).(*rangepb.Transaction)
}

// describe prints a request for the test's output.
func describe(ru *rangepb.RequestUnion) string {
	switch req := ru.Value.(type) {
	case *rangepb.RequestUnion_Put:
		return fmt.Sprintf("put %s@%d", req.Put.Key, req.Put.Sequence)
	case *rangepb.RequestUnion_Get:
		return fmt.Sprintf("get %s", req.Get.Key)
	case *rangepb.RequestUnion_Scan:
		return fmt.Sprintf("scan %s-%s", req.Scan.Span.Key, req.Scan.Span.EndKey)
	case *rangepb.RequestUnion_DeleteRange:
		keys := ""
		if req.DeleteRange.ReturnKeys {
			keys = " return-keys"
		}
		return fmt.Sprintf("delrange %s-%s@%d%s", req.DeleteRange.Span.Key, req.DeleteRange.Span.EndKey, req.DeleteRange.Sequence, keys)
	case *rangepb.RequestUnion_QueryIntent:
		return fmt.Sprintf("query-intent %s@%d", req.QueryIntent.Key, req.QueryIntent.Txn.Sequence)
	case *rangepb.RequestUnion_EndTxn:
		var ws []string
		for _, w := range req.EndTxn.InFlightWrites {
			ws = append(ws, fmt.Sprintf("%s@%d", w.Key, w.Sequence))
		}
		return fmt.Sprintf("end-txn commit=%v in-flight=[%s]", req.EndTxn.Commit, strings.Join(ws, " "))
	}
	return fmt.Sprintf("%T", ru.Value)
}
