package spanlatch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/stop/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

func ls(key, end string, a Access, wall int64) LatchSpan {
	s := LatchSpan{Span: Span{Key: []byte(key)}, Access: a, Timestamp: hlc.Timestamp{WallTime: wall}}
	if end != "" {
		s.EndKey = []byte(end)
	}
	return s
}

func TestConflicts(t *testing.T) {
	for _, tc := range []struct {
		a, b LatchSpan
		want bool
	}{
		{ls("a", "", Read, 10), ls("a", "", Read, 10), false},
		{ls("a", "", Write, 10), ls("a", "", Write, 20), true},
		{ls("a", "", Write, 10), ls("b", "", Write, 10), false},
		{ls("a", "c", Write, 10), ls("b", "", Write, 10), true},
		{ls("a", "b", Write, 10), ls("b", "", Write, 10), false}, // end is exclusive
		{ls("a", "", Write, 10), ls("a", "", Read, 10), true},    // read at the write's ts sees it
		{ls("a", "", Write, 10), ls("a", "", Read, 20), true},
		{ls("a", "", Write, 20), ls("a", "", Read, 10), false}, // write above the read is invisible
		{ls("a", "", Read, 10), ls("a", "", Write, 20), false},
		{ls("a", "", Write, 20), ls("a", "", Read, 0), true}, // non-MVCC read
		{ls("a", "", Write, 0), ls("a", "", Read, 10), true}, // non-MVCC write
		{ls("a", "z", Read, 5), ls("m", "n", Write, 1), true},
	} {
		if got := conflicts(&tc.a, &tc.b); got != tc.want {
			t.Errorf("conflicts(%+v, %+v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := conflicts(&tc.b, &tc.a); got != tc.want {
			t.Errorf("conflicts is not symmetric for %+v, %+v", tc.a, tc.b)
		}
	}
}

func TestAcquireWaitsForConflict(t *testing.T) {
	var m Manager
	ctx := context.Background()
	g1, err := m.Acquire(ctx, []LatchSpan{ls("a", "c", Write, 10)})
	if err != nil {
		t.Fatal(err)
	}
	// A non-conflicting request proceeds at once.
	g2, err := m.Acquire(ctx, []LatchSpan{ls("c", "", Write, 10)})
	if err != nil {
		t.Fatal(err)
	}
	m.Release(g2)

	acquired := make(chan *Guard)
	go func() {
		g, err := m.Acquire(ctx, []LatchSpan{ls("b", "", Read, 10)})
		if err != nil {
			t.Error(err)
		}
		acquired <- g
	}()
	// The waiter is queued behind g1 (2 guards); it cannot have acquired.
	for m.Len() != 2 {
		waitABit()
	}
	select {
	case <-acquired:
		t.Fatal("acquired a conflicting latch while g1 was held")
	default:
	}
	m.Release(g1)
	m.Release(<-acquired)
	if m.Len() != 0 {
		t.Fatalf("%d guards left", m.Len())
	}
}

func TestAcquireCancelled(t *testing.T) {
	var m Manager
	g1, _ := m.Acquire(context.Background(), []LatchSpan{ls("a", "", Write, 10)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Acquire(ctx, []LatchSpan{ls("a", "", Write, 10)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if m.Len() != 1 {
		t.Fatalf("a cancelled request left its latches: %d guards", m.Len())
	}
	m.Release(g1)
}

// TestRandomizedMutualExclusion has many goroutines latch random spans and
// checks, inside each critical section, that no conflicting latch is held
// at the same time.
func TestRandomizedMutualExclusion(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	var m Manager
	var active struct {
		sync.Mutex
		spans map[int][]LatchSpan
	}
	active.spans = map[int][]LatchSpan{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := range 300 {
				var spans []LatchSpan
				for range 1 + rng.IntN(3) {
					k := rng.IntN(20)
					s := ls(fmt.Sprintf("k%02d", k), "", Access(rng.IntN(2)), int64(rng.IntN(4)))
					if rng.IntN(3) == 0 {
						s.EndKey = []byte(fmt.Sprintf("k%02d", k+1+rng.IntN(4)))
					}
					spans = append(spans, s)
				}
				g, err := m.Acquire(context.Background(), spans)
				if err != nil {
					t.Error(err)
					return
				}
				id := w*1000 + i
				active.Lock()
				for other, os := range active.spans {
					if pairwiseConflict(spans, os) {
						t.Errorf("seed %d: %v held together with conflicting %v (request %d)", seed, spans, os, other)
					}
				}
				active.spans[id] = spans
				active.Unlock()
				active.Lock()
				delete(active.spans, id)
				active.Unlock()
				m.Release(g)
			}
		}()
	}
	wg.Wait()
}

// pairwiseConflict is the definition guardsConflict implements: some pair
// of latches conflicts.
func pairwiseConflict(a, b []LatchSpan) bool {
	for i := range a {
		for j := range b {
			if conflicts(&a[i], &b[j]) {
				return true
			}
		}
	}
	return false
}

// TestGuardsConflictRandomized: the sorted merge of guardsConflict agrees
// with the pairwise definition on random span sets: point keys and ranges,
// shared start keys, reads and writes at several timestamps, empty sets.
func TestGuardsConflictRandomized(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	spans := func() []LatchSpan {
		var out []LatchSpan
		for range rng.IntN(12) {
			k := rng.IntN(40)
			s := ls(fmt.Sprintf("k%02d", k), "", Access(rng.IntN(2)), int64(rng.IntN(4)))
			switch rng.IntN(4) {
			case 0:
				s.EndKey = []byte(fmt.Sprintf("k%02d", k+1+rng.IntN(10)))
			case 1:
				s.EndKey = append([]byte(fmt.Sprintf("k%02d", k)), 0) // the key alone, as a range
			}
			out = append(out, s)
		}
		return out
	}
	for i := range 200000 {
		a, b := spans(), spans()
		want := pairwiseConflict(a, b)
		if got := guardsConflict(newGuard(a), newGuard(b)); got != want {
			t.Fatalf("seed %d, case %d: guardsConflict(%v, %v) = %v, want %v", seed, i, a, b, got, want)
		}
	}
}

// waitABit yields to other goroutines while polling a condition.
func waitABit() { runtime.Gosched() }

// BenchmarkAcquireBulk: a request latching 1,000 keys while another
// holds 1,000 others interleaved with them (two COPY batches of a table).
func BenchmarkAcquireBulk(b *testing.B) {
	var m Manager
	ctx := context.Background()
	var held, req []LatchSpan
	for i := range 1000 {
		held = append(held, ls(fmt.Sprintf("k%06d", 2*i), "", Write, 10))
		req = append(req, ls(fmt.Sprintf("k%06d", 2*i+1), "", Write, 10))
	}
	h, _ := m.Acquire(ctx, held)
	defer m.Release(h)
	for b.Loop() {
		g, _ := m.Acquire(ctx, req)
		m.Release(g)
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	var m Manager
	ctx := context.Background()
	spans := []LatchSpan{ls("a", "", Write, 10)}
	for b.Loop() {
		g, _ := m.Acquire(ctx, spans)
		m.Release(g)
	}
}
