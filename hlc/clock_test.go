package hlc

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/stop/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

func TestTimestampOrdering(t *testing.T) {
	a := Timestamp{WallTime: 10, Logical: 1}
	b := Timestamp{WallTime: 10, Logical: 2}
	c := Timestamp{WallTime: 11}
	if !a.Less(b) || !b.Less(c) || !a.Less(c) || c.Less(a) || a.Less(a) {
		t.Fatal("Less is not a strict order")
	}
	if !a.LessEq(a) || a.Compare(a) != 0 || a.Compare(b) != -1 || c.Compare(b) != 1 {
		t.Fatal("LessEq/Compare disagree with Less")
	}
	if a.Next() != b || b.Prev() != a {
		t.Fatalf("Next/Prev: %s %s", a.Next(), b.Prev())
	}
	top := Timestamp{WallTime: 5, Logical: math.MaxInt32}
	if top.Next() != (Timestamp{WallTime: 6}) || top.Next().Prev() != top {
		t.Fatalf("Next/Prev across the logical limit: %s", top.Next())
	}
	if (Timestamp{}).Prev() != (Timestamp{}) || !(Timestamp{}).IsEmpty() || MinTimestamp.IsEmpty() {
		t.Fatal("empty timestamp")
	}
	x := a
	if !x.Forward(c) || x != c || x.Forward(a) {
		t.Fatal("Forward")
	}
	x.Backward(a)
	if x != a {
		t.Fatal("Backward")
	}
	if got := (Timestamp{WallTime: 1_500_000_000, Logical: 3}).String(); got != "1.500000000,3" {
		t.Fatalf("String: %s", got)
	}
	if got := (Timestamp{WallTime: -1}).String(); got != "-1.999999999,0" {
		t.Fatalf("String of a negative wall time: %s", got)
	}
}

func TestClockNowMonotonic(t *testing.T) {
	m := NewManualClock(1000)
	c := NewClock(m.UnixNano, 0)
	if c.MaxOffset() != DefaultMaxOffset {
		t.Fatalf("default max offset: %s", c.MaxOffset())
	}
	prev := c.Now()
	if prev != (Timestamp{WallTime: 1000}) {
		t.Fatalf("first Now: %s", prev)
	}
	for i := range 1000 {
		switch i % 3 {
		case 0:
			m.Increment(7)
		case 1:
			m.Increment(-11) // the physical clock jumps back
		}
		ts := c.Now()
		if !prev.Less(ts) {
			t.Fatalf("Now went from %s to %s", prev, ts)
		}
		prev = ts
	}
}

func TestClockUpdate(t *testing.T) {
	m := NewManualClock(1000)
	c := NewClock(m.UnixNano, 100*time.Nanosecond)
	for _, tc := range []struct {
		phys   int64
		remote Timestamp
		want   Timestamp
	}{
		// Physical time is ahead of both: it wins.
		{phys: 1000, remote: Timestamp{WallTime: 900, Logical: 5}, want: Timestamp{WallTime: 1000}},
		// Remote ahead of both: take its wall time, one logical tick past it.
		{phys: 1000, remote: Timestamp{WallTime: 1050, Logical: 5}, want: Timestamp{WallTime: 1050, Logical: 6}},
		// Local last ahead: tick our own logical.
		{phys: 1000, remote: Timestamp{WallTime: 1020, Logical: 9}, want: Timestamp{WallTime: 1050, Logical: 7}},
		// Equal wall times: max logical plus one.
		{phys: 1000, remote: Timestamp{WallTime: 1050, Logical: 20}, want: Timestamp{WallTime: 1050, Logical: 21}},
		{phys: 1000, remote: Timestamp{WallTime: 1050, Logical: 2}, want: Timestamp{WallTime: 1050, Logical: 22}},
		// Physical time moved past everything.
		{phys: 2000, remote: Timestamp{WallTime: 1990, Logical: 2}, want: Timestamp{WallTime: 2000}},
	} {
		m.Set(tc.phys)
		got, err := c.Update(tc.remote)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Fatalf("Update(%s) at pt=%d: got %s, want %s", tc.remote, tc.phys, got, tc.want)
		}
	}
}

func TestClockRefusesRemoteBeyondMaxOffset(t *testing.T) {
	m := NewManualClock(1_000_000)
	c := NewClock(m.UnixNano, 500*time.Nanosecond)
	before := c.Now()
	_, err := c.Update(Timestamp{WallTime: 1_000_000 + 501})
	var ure *UntrustedRemoteError
	if !errors.As(err, &ure) {
		t.Fatalf("want UntrustedRemoteError, got %v", err)
	}
	if ure.MaxOffset != 500*time.Nanosecond || ure.Physical != 1_000_000 {
		t.Fatalf("error fields: %+v", ure)
	}
	if c.Last() != before {
		t.Fatalf("a refused update moved the clock: %s → %s", before, c.Last())
	}
	// Exactly max offset ahead is accepted.
	if _, err := c.Update(Timestamp{WallTime: 1_000_000 + 500}); err != nil {
		t.Fatal(err)
	}
}

// TestClockMonotonicAcrossRestart persists an upper bound, "restarts" with a
// physical clock that went back in time, and checks every new timestamp is
// above every old one.
func TestClockMonotonicAcrossRestart(t *testing.T) {
	m := NewManualClock(10_000)
	c := NewClock(m.UnixNano, 0)
	const lead = 1000
	persisted := m.UnixNano() + lead
	c.SetWallTimeUpperBound(persisted)

	var last Timestamp
	for range 50 {
		m.Increment(100) // physical time overtakes the bound at 11_000
		last = c.Now()
		if last.WallTime > persisted {
			t.Fatalf("issued %s beyond the persisted bound %d", last, persisted)
		}
	}
	if last.WallTime != persisted || last.Logical == 0 {
		t.Fatalf("at the bound the clock should tick logically: %s", last)
	}
	if _, err := c.Update(Timestamp{WallTime: persisted + 1}); !errors.Is(err, ErrUpperBoundNotPersisted) {
		t.Fatalf("update beyond the bound: %v", err)
	}

	// Restart: the machine's clock is now behind where it was.
	m2 := NewManualClock(5_000)
	c2 := NewClock(m2.UnixNano, 0)
	c2.ForwardPastUpperBound(persisted)
	if ts := c2.Now(); !last.Less(ts) {
		t.Fatalf("after restart Now()=%s is not above %s", ts, last)
	}
}

func TestClockConcurrentNowUnique(t *testing.T) {
	c := NewClock(UnixNano, 0)
	const goroutines, per = 4, 2000
	results := make([][]Timestamp, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				results[g] = append(results[g], c.Now())
			}
		}()
	}
	wg.Wait()
	seen := map[Timestamp]bool{}
	for _, rs := range results {
		for i, ts := range rs {
			if seen[ts] {
				t.Fatalf("timestamp %s issued twice", ts)
			}
			seen[ts] = true
			if i > 0 && !rs[i-1].Less(ts) {
				t.Fatalf("not monotonic within a goroutine: %s then %s", rs[i-1], ts)
			}
		}
	}
}

// TestClockSimulation runs N nodes whose physical clocks start skewed and
// drift at different rates, exchanging messages with random delays, and
// checks the HLC guarantees: a receive is ordered after its send, a node's
// timestamps never go backwards, and l − pt never exceeds the largest skew
// between any two physical clocks seen so far.
func TestClockSimulation(t *testing.T) {
	for range 20 {
		seed := rand.Uint64()
		t.Run("", func(t *testing.T) {
			simulate(t, seed)
		})
	}
}

type simNode struct {
	offset int64   // initial skew, ns
	drift  float64 // rate relative to true time
	phys   *ManualClock
	clock  *Clock
	last   Timestamp
}

type simMsg struct {
	deliverAt int64
	to        int
	ts        Timestamp
}

func simulate(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	const (
		nodes     = 5
		maxOffset = 250 * time.Millisecond
		steps     = 5000
	)
	// Skews stay within half the max offset each way and drift by up to
	// 100 ppm, so no two clocks are ever further apart than maxOffset.
	var ns [nodes]*simNode
	for i := range ns {
		n := &simNode{
			offset: rng.Int64N(int64(maxOffset)) - int64(maxOffset)/2,
			drift:  1 + (rng.Float64()*2-1)*1e-4,
		}
		n.phys = NewManualClock(0)
		n.clock = NewClock(n.phys.UnixNano, maxOffset)
		ns[i] = n
	}
	var inflight []simMsg
	var trueTime int64 = 1_000_000_000
	var maxSkew int64
	setPhys := func() {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for _, n := range ns {
			p := int64(float64(trueTime)*n.drift) + n.offset
			n.phys.Set(p)
			lo, hi = min(lo, p), max(hi, p)
		}
		maxSkew = max(maxSkew, hi-lo)
	}
	check := func(i int, ts Timestamp) {
		n := ns[i]
		if !n.last.Less(ts) {
			t.Fatalf("seed %d: node %d went from %s to %s", seed, i, n.last, ts)
		}
		n.last = ts
		if d := ts.WallTime - n.phys.UnixNano(); d > maxSkew {
			t.Fatalf("seed %d: node %d l−pt = %d exceeds the skew bound %d", seed, i, d, maxSkew)
		}
	}
	for range steps {
		trueTime += rng.Int64N(2_000_000) // up to 2ms per step
		setPhys()
		// Deliver due messages.
		kept := inflight[:0]
		for _, m := range inflight {
			if m.deliverAt > trueTime {
				kept = append(kept, m)
				continue
			}
			recv, err := ns[m.to].clock.Update(m.ts)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if !m.ts.Less(recv) {
				t.Fatalf("seed %d: receive %s not after send %s", seed, recv, m.ts)
			}
			check(m.to, recv)
		}
		inflight = kept
		// A random node does a local event or sends a message.
		i := rng.IntN(nodes)
		ts := ns[i].clock.Now()
		check(i, ts)
		if rng.IntN(2) == 0 {
			to := (i + 1 + rng.IntN(nodes-1)) % nodes
			inflight = append(inflight, simMsg{deliverAt: trueTime + rng.Int64N(10_000_000), to: to, ts: ts})
		}
	}
}

func BenchmarkClockNow(b *testing.B) {
	b.Run("clock=time.Now", func(b *testing.B) {
		var sink int64
		for b.Loop() {
			sink += time.Now().UnixNano()
		}
		_ = sink
	})
	b.Run("clock=hlc", func(b *testing.B) {
		c := NewClock(UnixNano, 0)
		for b.Loop() {
			c.Now()
		}
	})
	b.Run("clock=hlc/parallel", func(b *testing.B) {
		c := NewClock(UnixNano, 0)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Now()
			}
		})
	})
}

// TestWaitPast: commit-wait returns at once for a timestamp the clock has
// reached, once the physical clock reaches one ahead of it, after a bounded
// time for a clock that does not move, and early when the context ends.
func TestWaitPast(t *testing.T) {
	ctx := context.Background()
	m := NewManualClock(1_000_000)
	c := NewClock(m.UnixNano, 20*time.Millisecond)
	for _, ts := range []Timestamp{{WallTime: 999_999, Logical: 5}, {WallTime: 1_000_000, Logical: 9}} {
		if err := c.WaitPast(ctx, ts); err != nil {
			t.Fatal(err)
		}
	}

	// A clock that moves: WaitPast returns once it has reached ts.
	ahead := Timestamp{WallTime: m.UnixNano() + int64(5*time.Millisecond), Logical: 7}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				m.Increment(int64(time.Millisecond))
			}
		}
	}()
	if err := c.WaitPast(ctx, ahead); err != nil {
		t.Fatal(err)
	}
	if pt := m.UnixNano(); pt < ahead.WallTime {
		t.Fatalf("WaitPast returned with the physical clock at %d, below %d", pt, ahead.WallTime)
	}
	close(stop)
	<-done

	// A frozen clock: the wait is bounded (twice the max offset).
	if err := c.WaitPast(ctx, Timestamp{WallTime: m.UnixNano() + 1}); err != nil {
		t.Fatal(err)
	}

	// A context that ends cuts the wait short.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.WaitPast(cctx, Timestamp{WallTime: m.UnixNano() + 1}); err == nil {
		t.Fatal("WaitPast with an ended context: no error")
	}
}
