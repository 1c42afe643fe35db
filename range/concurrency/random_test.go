package concurrency

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/spanlatch"
	"github.com/meridiandb/meridian/stop"
)

// randStore is a toy MVCC store for TestManagerRandomized: one intent per
// key at most, transaction records, and the Pusher over them. known marks
// intents the lock table was told of.
type randStore struct {
	t       *testing.T
	latches *spanlatch.Manager
	mu      sync.Mutex
	// intents by key. A discovered intent stays unknown here: between
	// evaluation finding it and the lock table adding it, another request
	// may legitimately get through to it.
	intents map[string]*randIntent
	records map[kv.TxnID]*TxnRecord
	// pushes counts PushTxn calls; refused, those refused.
	pushes, refused int
}

type randIntent struct {
	txn   kv.TxnMeta
	known bool
}

var _ Pusher = (*randStore)(nil)

func (s *randStore) QueryTxn(_ context.Context, txn kv.TxnMeta) (TxnRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.records[txn.ID], nil
}

func (s *randStore) PushTxn(_ context.Context, _ *kv.TxnMeta, pushee kv.TxnMeta, typ PushType, pushTo hlc.Timestamp, force bool) (TxnRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[pushee.ID]
	// The record may refuse a push the manager thought would succeed
	// (here: every seventh); the manager must then wait, not spin.
	s.pushes++
	if !force && s.pushes%7 == 0 {
		s.refused++
		return *r, nil
	}
	if !r.finalized() {
		if typ == PushAbort {
			r.Status = kv.ABORTED
		} else {
			r.Meta.WriteTimestamp.Forward(pushTo)
		}
	}
	return *r, nil
}

// ResolveIntent latches the key as a real resolution would (it is a
// write, evaluated like any other): so it cannot slip between another
// request's evaluation and that request telling the lock table what it
// found or wrote.
func (s *randStore) ResolveIntent(ctx context.Context, up LockUpdate) error {
	lg, err := s.latches.Acquire(ctx, []spanlatch.LatchSpan{{
		Span: spanlatch.Span{Key: up.Key, EndKey: up.EndKey}, Access: spanlatch.Write,
	}})
	if err != nil {
		return err
	}
	defer s.latches.Release(lg)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resolveLocked(string(up.Key), up)
	return nil
}

func (s *randStore) resolveLocked(key string, up LockUpdate) {
	in, ok := s.intents[key]
	if !ok || in.txn.ID != up.Txn.ID {
		return
	}
	if up.Status == kv.PENDING {
		in.txn.WriteTimestamp.Forward(up.Txn.WriteTimestamp)
		return
	}
	delete(s.intents, key)
}

// evalResult is the outcome of evaluating one access.
type evalResult struct {
	aborted  bool
	conflict *kv.LockConflictError
	// wrote is the intent written, if any.
	wrote *kv.TxnMeta
}

// evaluate runs one access under latches, as MVCC would: a write or a read
// at or above another transaction's intent conflicts. A conflict with an
// intent the lock table knows of means the table let the request through
// while another transaction held the key: the property under test.
// A read may cover a span of keys (end != ""); a write is of one key.
func (s *randStore) evaluate(txn kv.TxnID, key, end string, write bool, readTS hlc.Timestamp) evalResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[txn]
	if rec.Status == kv.ABORTED {
		return evalResult{aborted: true}
	}
	var conflicts []kv.Lock
	for k, in := range s.intents {
		if !(k == key || (end != "" && key <= k && k < end)) {
			continue
		}
		if in.txn.ID != txn && (write || in.txn.WriteTimestamp.LessEq(readTS)) {
			if in.known {
				s.t.Errorf("txn %s sequenced to %s %q while the lock table knew txn %s held it",
					txn.Short(), map[bool]string{true: "write", false: "read"}[write], k, in.txn.ID.Short())
			}
			conflicts = append(conflicts, kv.Lock{Key: []byte(k), Txn: in.txn})
		}
	}
	if len(conflicts) > 0 {
		sort.Slice(conflicts, func(i, j int) bool { return string(conflicts[i].Key) < string(conflicts[j].Key) })
		return evalResult{conflict: &kv.LockConflictError{Locks: conflicts}}
	}
	if !write {
		return evalResult{}
	}
	meta := rec.Meta
	if in, ok := s.intents[key]; ok && in.txn.ID == txn {
		in.txn = meta
		return evalResult{wrote: &meta}
	}
	s.intents[key] = &randIntent{txn: meta}
	return evalResult{wrote: &meta}
}

func (s *randStore) markKnown(key string, txn kv.TxnID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.intents[key]; ok && in.txn.ID == txn {
		in.known = true
	}
}

// finish ends txn: COMMITTED unless it was aborted, and returns its final
// record.
func (s *randStore) finish(txn kv.TxnID, abort bool) TxnRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[txn]
	if !r.finalized() {
		r.Status = kv.COMMITTED
		if abort {
			r.Status = kv.ABORTED
		}
	}
	return *r
}

// TestManagerRandomized has many goroutines run transactions that write
// and read a few keys in random order, through a Manager with real
// latches and the toy store. Some intents are hidden from the lock table
// (as if written under an earlier lease) and must be discovered. It checks
// that no request is let through to a key another transaction holds while
// the lock table knows it, that the lock table never sees two holders,
// and that everything finishes: deadlocks are found and broken.
func TestManagerRandomized(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	const workers, txnsPerWorker, numKeys = 8, 100, 4

	var events struct {
		sync.Mutex
		deadlocks, waits, pushes int
	}
	latches := &spanlatch.Manager{}
	store := &randStore{t: t, latches: latches, intents: map[string]*randIntent{}, records: map[kv.TxnID]*TxnRecord{}}
	manual := hlc.NewManualClock(100e9)
	clock := hlc.NewClock(manual.UnixNano, 0)
	m := NewManager(Config{
		Pusher:  store,
		Clock:   clock,
		Latches: latches,
		// Rechecks exercise the wake-up paths that no signal drives.
		PushRecheckInterval: 20 * time.Millisecond,
		Knobs: TestingKnobs{OnEvent: func(_ *Guard, ev string) {
			events.Lock()
			defer events.Unlock()
			switch {
			case strings.HasPrefix(ev, "deadlock"):
				events.deadlocks++
			case strings.HasPrefix(ev, "push of"):
				events.waits++
			case strings.HasPrefix(ev, "pushing"):
				events.pushes++
			}
		}},
	})
	stopper := stop.NewStopper()
	defer stopper.Stop()

	var stats struct {
		sync.Mutex
		committed, aborted, discovered int
	}
	var wg sync.WaitGroup
	var tsCounter struct {
		sync.Mutex
		n int64
	}
	nextTS := func() hlc.Timestamp {
		tsCounter.Lock()
		defer tsCounter.Unlock()
		tsCounter.n++
		return hlc.Timestamp{WallTime: 100e9 + tsCounter.n}
	}

	runTxn := func(ctx context.Context, rng *rand.Rand, w, i int) error {
		var id kv.TxnID
		binary.BigEndian.PutUint32(id[:], uint32(w))
		binary.BigEndian.PutUint32(id[4:], uint32(i))
		ts := nextTS()
		meta := kv.TxnMeta{ID: id, WriteTimestamp: ts, MinTimestamp: ts, Priority: int32(rng.IntN(3))}
		store.mu.Lock()
		store.records[id] = &TxnRecord{Meta: meta, Status: kv.PENDING, LastActive: clock.Now()}
		store.mu.Unlock()

		written := map[string]bool{}
		aborted := false
		for range 1 + rng.IntN(4) {
			ki := rng.IntN(numKeys)
			key, end := fmt.Sprintf("k%d", ki), ""
			acc := Read
			switch r := rng.IntN(20); {
			case r < 13:
				acc = Write
			case r < 16 && ki < numKeys-1:
				end = fmt.Sprintf("k%d", ki+1+rng.IntN(numKeys-ki-1)+1)
			}
			write := acc == Write
			// Yield so that transactions interleave (and deadlock) rather
			// than run one after another.
			for range rng.IntN(4) {
				runtime.Gosched()
			}
			sp := Span{Key: []byte(key)}
			if end != "" {
				sp.EndKey = []byte(end)
			}
			req := Request{Txn: &meta, Timestamp: ts, Spans: []LockSpan{{Span: sp, Access: acc}}}
			g, err := m.SequenceReq(ctx, req)
			for err == nil {
				res := store.evaluate(id, key, end, write, ts)
				if res.aborted {
					err = &TxnAbortedError{Txn: meta, Reason: "found aborted at evaluation"}
					m.FinishReq(g)
					break
				}
				if res.conflict != nil {
					stats.Lock()
					stats.discovered++
					stats.Unlock()
					g, err = m.HandleLockConflictError(ctx, g, res.conflict)
					continue
				}
				if res.wrote != nil {
					written[key] = true
					// One intent in five stays hidden from the lock table.
					if rng.IntN(5) > 0 {
						store.markKnown(key, id)
						if err := m.OnLockAcquired([]byte(key), *res.wrote); err != nil {
							t.Errorf("seed %d: %v", seed, err)
						}
					}
				}
				m.FinishReq(g)
				break
			}
			if err != nil {
				if !errors.HasType(err, (*TxnAbortedError)(nil)) {
					return err
				}
				aborted = true
				break
			}
		}

		rec := store.finish(id, aborted)
		keys := make([]string, 0, len(written))
		for k := range written {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			up := LockUpdate{Span: Span{Key: []byte(k)}, Txn: rec.Meta, Status: rec.Status}
			if err := store.ResolveIntent(ctx, up); err != nil {
				return err
			}
			m.OnLockUpdated(up)
		}
		m.OnTxnUpdated(rec)
		stats.Lock()
		defer stats.Unlock()
		if rec.Status == kv.COMMITTED {
			stats.committed++
		} else {
			stats.aborted++
		}
		return nil
	}

	for w := range workers {
		wg.Add(1)
		if err := stopper.RunAsyncTask("random-worker", func(ctx context.Context) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := range txnsPerWorker {
				if err := runTxn(ctx, rng, w, i); err != nil {
					if ctx.Err() == nil {
						t.Errorf("seed %d: worker %d txn %d: %v", seed, w, i, err)
					}
					return
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	if err := stopper.RunAsyncTask("random-wait", func(context.Context) {
		wg.Wait()
		close(done)
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Errorf("seed %d: workers stuck (deadlock?)\nlock table:\n%s\nwaiting pushes:\n%v",
			seed, dumpLockTable(m), m.twq.edges())
		stopper.Stop()
		<-done
	}
	stats.Lock()
	defer stats.Unlock()
	events.Lock()
	defer events.Unlock()
	store.mu.Lock()
	refused := store.refused
	store.mu.Unlock()
	t.Logf("committed %d, aborted %d, discovered locks %d; pushes that waited %d, tried at once %d (refused %d); deadlocks broken %d",
		stats.committed, stats.aborted, stats.discovered, events.waits, events.pushes, refused, events.deadlocks)
	if events.deadlocks == 0 {
		t.Logf("no deadlock this run")
	}
	if mt := m.Metrics(); mt != (Metrics{}) && !t.Failed() {
		t.Errorf("seed %d: left behind: %+v\n%s", seed, mt, dumpLockTable(m))
	}
}

func dumpLockTable(m *Manager) string {
	var b strings.Builder
	for _, l := range m.lt.snapshot() {
		fmt.Fprintf(&b, "%q holder=%v queue=%d\n", l.key, l.holder, len(l.queue))
	}
	return b.String()
}
