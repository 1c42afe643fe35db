package txn

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// interceptSender hands each batch to f before (or instead of) sending it.
type interceptSender struct {
	inner Sender
	f     func(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error, bool)
}

func (s interceptSender) Send(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error) {
	if s.f != nil {
		if br, err, handled := s.f(ctx, ba); handled {
			return br, err
		}
	}
	return s.inner.Send(ctx, ba)
}

var errCoordinatorDied = errors.New("the coordinator died")

// TestParallelCommitRecovery: a coordinator sends its parallel commit (a
// STAGING EndTxn with writes on two ranges) and dies before it learns the
// outcome, so the record stays STAGING and its heartbeats stop. Once the
// heartbeat expires, a conflicting transaction recovers it: committed when
// every in-flight write landed at or below the staged timestamp, aborted
// when one is missing (the missing write, delivered late, cannot change
// that) or was pushed above it. Never both: the conflicting transaction
// sees both writes or neither, as the record says.
func TestParallelCommitRecovery(t *testing.T) {
	const threshold = time.Second
	for _, tcase := range []struct {
		landed, pushed bool
	}{{true, false}, {false, false}, {true, true}} {
		landed, pushed := tcase.landed, tcase.pushed
		committed := landed && !pushed
		t.Run(fmt.Sprintf("landed=%v/pushed=%v", landed, pushed), func(t *testing.T) {
			tc := newTestClusterWith(t, Options{}, kvtest.Options{Nodes: 3,
				StoreConfig: kvserver.StoreConfig{TxnLivenessThreshold: threshold}})
			ctx := testCtx(t)
			k1, k2 := key(0, "a"), key(1, "b")
			var staged atomic.Pointer[rangepb.BatchRequest]
			var lateWrite atomic.Pointer[rangepb.BatchRequest]
			dying := NewDB(interceptSender{inner: tc.db.sender, f: func(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error, bool) {
				n := len(ba.Requests)
				if n == 0 || len(ba.Requests[n-1].GetEndTxn().GetInFlightWrites()) == 0 {
					return nil, nil, false
				}
				staged.Store(proto.Clone(ba).(*rangepb.BatchRequest))
				send := ba
				if !landed {
					// The write to k2 is held up on its way.
					send = &rangepb.BatchRequest{Header: ba.Header}
					for _, ru := range ba.Requests {
						if put := ru.GetPut(); put != nil && string(put.Key) == string(k2) {
							lateWrite.Store(&rangepb.BatchRequest{Header: proto.Clone(ba.Header).(*rangepb.BatchHeader), Requests: []*rangepb.RequestUnion{ru}})
							continue
						}
						send.Requests = append(send.Requests, ru)
					}
				}
				if _, err := tc.db.sender.Send(ctx, send); err != nil {
					t.Errorf("the parallel commit's batch: %v", err)
				}
				// The coordinator never hears back.
				return nil, errCoordinatorDied, true
			}}, tc.db.clock, tc.Stopper, Options{HeartbeatInterval: 50 * time.Millisecond})

			// Leases first: a new lease starts above every timestamp before
			// it, which would push the writes (and the commit would refresh).
			for _, k := range [][]byte{k1, k2} {
				if _, _, err := tc.db.Get(ctx, k); err != nil {
					t.Fatal(err)
				}
			}
			// And the transaction after those reads, which would otherwise
			// push its writes above the staged timestamp (a STAGING record
			// whose write was pushed is not committed: recovery aborts it).
			tc.Manual.Increment(int64(10 * time.Millisecond))
			a := dying.newTxn("staged", 1000)
			a.BufferWrites()
			if err := a.Put(ctx, k1, []byte("a1")); err != nil {
				t.Fatal(err)
			}
			if err := a.Put(ctx, k2, []byte("a2")); err != nil {
				t.Fatal(err)
			}
			if pushed {
				// A read of k2 above the transaction's timestamp: its write
				// there is pushed above the staged timestamp.
				tc.Manual.Increment(int64(10 * time.Millisecond))
				if _, _, err := tc.db.Get(ctx, k2); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Commit(ctx); !errors.Is(err, errCoordinatorDied) {
				t.Fatalf("commit: %v", err)
			}
			if staged.Load() == nil {
				t.Fatal("no parallel commit was sent")
			}
			meta := a.Proto().Meta
			record := func() rangepb.TransactionStatus {
				br, err := tc.db.sender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{{
					Value: &rangepb.RequestUnion_QueryTxn{QueryTxn: &rangepb.QueryTxnRequest{Key: meta.Key, Txn: meta}}}}})
				if err != nil {
					t.Fatal(err)
				}
				return br.Responses[0].GetQueryTxn().GetQueriedTxn().GetStatus()
			}
			if got := record(); got != rangepb.TransactionStatus_STAGING {
				t.Fatalf("record after the coordinator died: %s, want STAGING", got)
			}

			// The heartbeat expires; a lower-priority writer of k1 pushes,
			// meets the STAGING record and recovers it.
			tc.Manual.Increment(int64(threshold + 100*time.Millisecond))
			var saw1, saw2 bool
			err := tc.db.Txn(ctx, func(ctx context.Context, txn *Txn) error {
				v1, ok1, err := txn.GetForUpdate(ctx, k1)
				if err != nil {
					return err
				}
				v2, ok2, err := txn.Get(ctx, k2)
				if err != nil {
					return err
				}
				saw1, saw2 = ok1 && string(v1) == "a1", ok2 && string(v2) == "a2"
				return txn.Put(ctx, k1, []byte("b1"))
			})
			if err != nil {
				t.Fatal(err)
			}
			want := rangepb.TransactionStatus_ABORTED
			if committed {
				want = rangepb.TransactionStatus_COMMITTED
			}
			if got := record(); got != want {
				t.Fatalf("recovered record: %s, want %s", got, want)
			}
			if saw1 != saw2 || saw1 != committed {
				t.Fatalf("the recovering transaction saw k1=%v k2=%v (want both %v)", saw1, saw2, committed)
			}
			if landed {
				return
			}
			// The held-up write arrives now: it lands above the staged
			// timestamp, and the transaction stays aborted.
			if br, err := tc.db.sender.Send(ctx, lateWrite.Load()); err == nil {
				stagedTs := tsFromProto(lateWrite.Load().Header.Txn.Meta.WriteTimestamp)
				if got := tsFromProto(br.Txn.GetMeta().GetWriteTimestamp()); !stagedTs.Less(got) {
					t.Fatalf("the late write landed at %s, not above the staged %s", got, stagedTs)
				}
			}
			if got := record(); got != rangepb.TransactionStatus_ABORTED {
				t.Fatalf("after the late write: %s", got)
			}
			if _, found, err := tc.db.Get(ctx, k2); err != nil || found {
				t.Fatalf("k2 after the late write of an aborted txn: found=%v err=%v", found, err)
			}
		})
	}
}

// TestRollbackOfStagedTxnRecovers: a parallel commit's batch staged the
// record but the coordinator got a retryable error back (one write was
// refused); its rollback is refused by the STAGING record (it might have
// committed) and recovers it instead: aborted, as a write is missing, with
// no intent left behind.
func TestRollbackOfStagedTxnRecovers(t *testing.T) {
	tc := newTestCluster(t, Options{})
	ctx := testCtx(t)
	k1, k2 := key(0, "a"), key(1, "b")
	for _, k := range [][]byte{k1, k2} {
		if _, _, err := tc.db.Get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	tc.Manual.Increment(int64(10 * time.Millisecond))
	db := NewDB(interceptSender{inner: tc.db.sender, f: func(ctx context.Context, ba *rangepb.BatchRequest) (*rangepb.BatchResponse, error, bool) {
		n := len(ba.Requests)
		if n == 0 || len(ba.Requests[n-1].GetEndTxn().GetInFlightWrites()) == 0 {
			return nil, nil, false
		}
		send := &rangepb.BatchRequest{Header: ba.Header}
		for _, ru := range ba.Requests {
			if put := ru.GetPut(); put == nil || string(put.Key) != string(k2) {
				send.Requests = append(send.Requests, ru)
			}
		}
		if _, err := tc.db.sender.Send(ctx, send); err != nil {
			t.Errorf("the parallel commit's batch: %v", err)
		}
		return nil, &kvserver.TransactionRetryError{Reason: rangepb.TransactionRetryReason_RETRY_REFRESH_FAILED, Txn: ba.Header.Txn,
			Extra: "the write to k2 was refused"}, true
	}}, tc.db.clock, tc.Stopper, Options{HeartbeatInterval: 50 * time.Millisecond})
	a := db.NewTxn("staged")
	a.BufferWrites()
	for _, k := range [][]byte{k1, k2} {
		if err := a.Put(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Commit(ctx); !IsRetryable(err) {
		t.Fatalf("commit: %v, want a retryable error", err)
	}
	if err := a.Rollback(ctx); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	meta := a.Proto().Meta
	br, err := tc.db.sender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{{
		Value: &rangepb.RequestUnion_QueryTxn{QueryTxn: &rangepb.QueryTxnRequest{Key: meta.Key, Txn: meta}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if st := br.Responses[0].GetQueryTxn().GetQueriedTxn().GetStatus(); st != rangepb.TransactionStatus_ABORTED {
		t.Fatalf("record after the rollback: %s, want ABORTED", st)
	}
	waitFor(t, "the intents resolved", func() bool { return tc.LockRecords(t) == 0 })
}
