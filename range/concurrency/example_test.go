package concurrency_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/concurrency"
	"github.com/meridiandb/meridian/range/spanlatch"
)

// records is a minimal Pusher: transaction records in a map, intents
// resolved by nobody (a replica sends ResolveIntent through Raft).
type records struct {
	mu sync.Mutex
	m  map[kv.TxnID]*concurrency.TxnRecord
}

func (r *records) QueryTxn(_ context.Context, txn kv.TxnMeta) (concurrency.TxnRecord, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.m[txn.ID], nil
}

func (r *records) PushTxn(
	_ context.Context, _ *kv.TxnMeta, pushee kv.TxnMeta, typ concurrency.PushType, pushTo hlc.Timestamp, _ bool,
) (concurrency.TxnRecord, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.m[pushee.ID]
	if rec.Status == kv.PENDING {
		if typ == concurrency.PushAbort {
			rec.Status = kv.ABORTED
		} else {
			rec.Meta.WriteTimestamp.Forward(pushTo)
		}
	}
	return *rec, nil
}

func (r *records) ResolveIntent(context.Context, concurrency.LockUpdate) error { return nil }

// Example shows the calls a replica makes around one request's
// evaluation: sequence, evaluate, report the intent written, finish; and
// what a second transaction's conflicting write then does.
func Example() {
	ctx := context.Background()
	clock := hlc.NewClock(hlc.NewManualClock(100e9).UnixNano, 0)
	recs := &records{m: map[kv.TxnID]*concurrency.TxnRecord{}}
	m := concurrency.NewManager(concurrency.Config{
		Pusher: recs, Clock: clock, Latches: &spanlatch.Manager{},
	})
	newTxn := func(name string, priority int32) *kv.TxnMeta {
		txn := &kv.TxnMeta{WriteTimestamp: clock.Now(), Priority: priority}
		copy(txn.ID[:], name)
		recs.m[txn.ID] = &concurrency.TxnRecord{Meta: *txn, LastActive: clock.Now()}
		return txn
	}
	write := func(txn *kv.TxnMeta, key string) concurrency.Request {
		return concurrency.Request{Txn: txn, Timestamp: txn.WriteTimestamp, Spans: []concurrency.LockSpan{
			{Span: concurrency.Span{Key: []byte(key)}, Access: concurrency.Write},
		}}
	}

	// Transaction A writes k.
	a := newTxn("A", 1)
	g, err := m.SequenceReq(ctx, write(a, "k"))
	if err != nil {
		panic(err)
	}
	// ... evaluate under g's latches, write the intent ...
	if err := m.OnLockAcquired([]byte("k"), *a); err != nil {
		panic(err)
	}
	m.FinishReq(g)
	fmt.Printf("after A's write: %+v\n", m.Metrics())

	// Transaction B, of higher priority, writes k: it pushes A out (abort),
	// resolves A's intent, and goes on.
	b := newTxn("B", 2)
	g, err = m.SequenceReq(ctx, write(b, "k"))
	if err != nil {
		panic(err)
	}
	rec, _ := recs.QueryTxn(ctx, *a)
	fmt.Printf("A is %s; B sequenced: %+v\n", rec.Status, m.Metrics())
	m.FinishReq(g)
	fmt.Printf("after B finished (without writing): %+v\n", m.Metrics())

	// Output:
	// after A's write: {Locks:1 Queued:0 WaitingPushes:0}
	// A is ABORTED; B sequenced: {Locks:0 Queued:1 WaitingPushes:0}
	// after B finished (without writing): {Locks:0 Queued:0 WaitingPushes:0}
}
