package tscache

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/stop"
)

func ts(wall int64) hlc.Timestamp { return hlc.Timestamp{WallTime: wall} }

func txnID(b byte) kv.TxnID {
	var id kv.TxnID
	id[0] = b
	return id
}

var noTxn kv.TxnID

func span(s string) (start, end []byte) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return []byte(a), nil
	}
	return []byte(a), []byte(b)
}

func TestCacheGetMax(t *testing.T) {
	A, B := txnID('A'), txnID('B')
	type add struct {
		span string
		ts   int64
		txn  kv.TxnID
	}
	for _, tc := range []struct {
		name     string
		lowWater int64
		adds     []add
		query    string
		wantTS   int64
		wantTxn  kv.TxnID
	}{
		{name: "empty", query: "a", wantTS: 0},
		{name: "low water", lowWater: 5, query: "a-z", wantTS: 5},
		{name: "point hit", adds: []add{{"b", 10, A}}, query: "b", wantTS: 10, wantTxn: A},
		{name: "point miss", adds: []add{{"b", 10, A}}, query: "c", wantTS: 0},
		{name: "point is not a prefix", adds: []add{{"b", 10, A}}, query: "ba", wantTS: 0},
		{name: "span covers point", adds: []add{{"b-d", 10, A}}, query: "c", wantTS: 10, wantTxn: A},
		{name: "end exclusive", adds: []add{{"b-d", 10, A}}, query: "d", wantTS: 0},
		{name: "query span overlaps", adds: []add{{"b-d", 10, A}}, query: "a-c", wantTS: 10, wantTxn: A},
		{name: "higher wins", adds: []add{{"b-d", 10, A}, {"c", 12, B}}, query: "a-z", wantTS: 12, wantTxn: B},
		{name: "lower does not lower", adds: []add{{"c", 12, B}, {"b-d", 10, A}}, query: "c", wantTS: 12, wantTxn: B},
		{name: "tie loses txn", adds: []add{{"b-d", 10, A}, {"c-e", 10, B}}, query: "c", wantTS: 10, wantTxn: noTxn},
		{name: "tie keeps txn outside overlap", adds: []add{{"b-d", 10, A}, {"c-e", 10, B}}, query: "b", wantTS: 10, wantTxn: A},
		{name: "tie same txn", adds: []add{{"b-d", 10, A}, {"c-e", 10, A}}, query: "a-z", wantTS: 10, wantTxn: A},
		{name: "two txns across query", adds: []add{{"b", 10, A}, {"d", 10, B}}, query: "a-z", wantTS: 10, wantTxn: noTxn},
		{name: "read below low water", lowWater: 20, adds: []add{{"b", 10, A}}, query: "b", wantTS: 20},
		{name: "read at low water has no txn", lowWater: 20, adds: []add{{"b", 20, A}}, query: "b", wantTS: 20},
		{name: "read above low water", lowWater: 20, adds: []add{{"b", 30, A}}, query: "a-c", wantTS: 30, wantTxn: A},
		{name: "empty key", adds: []add{{"", 7, A}}, query: "-a", wantTS: 7, wantTxn: A},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{})
			c.SetLowWater(ts(tc.lowWater))
			for _, a := range tc.adds {
				s, e := span(a.span)
				c.Add(s, e, ts(a.ts), a.txn)
			}
			s, e := span(tc.query)
			gotTS, gotTxn := c.GetMax(s, e)
			if gotTS != ts(tc.wantTS) || gotTxn != tc.wantTxn {
				t.Errorf("GetMax(%s) = %s %s, want %s %s", tc.query, gotTS, gotTxn.Short(), ts(tc.wantTS), tc.wantTxn.Short())
			}
			checkInvariants(t, c)
		})
	}
}

func TestCacheMergesAdjacentReads(t *testing.T) {
	c := New(Options{})
	A := txnID('A')
	for _, k := range []string{"a", "a\x00", "a\x00\x00"} {
		c.Add([]byte(k), nil, ts(10), A)
	}
	c.Add([]byte("b"), []byte("c"), ts(10), A)
	c.Add([]byte("a"), []byte("b"), ts(10), A)
	if n := c.Stats().Intervals; n != 1 {
		t.Fatalf("%d intervals after reading [a, c) piecewise, want 1", n)
	}
}

func TestCacheInvertedSpanPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("an inverted span did not panic")
		}
	}()
	New(Options{}).Add([]byte("b"), []byte("a"), ts(1), noTxn)
}

// checkInvariants verifies the tree's structure: intervals ordered, not
// overlapping, non-empty, above the low-water mark, and the byte count.
func checkInvariants(t *testing.T, c *Cache) {
	t.Helper()
	c.mu.RLock()
	defer c.mu.RUnlock()
	var prev *interval
	var total int64
	c.mu.tree.Ascend(func(iv *interval) bool {
		if bytes.Compare(iv.start, iv.end) >= 0 {
			t.Errorf("empty interval [%q, %q)", iv.start, iv.end)
		}
		if prev != nil && bytes.Compare(prev.end, iv.start) > 0 {
			t.Errorf("overlap: [%q, %q) and [%q, %q)", prev.start, prev.end, iv.start, iv.end)
		}
		if iv.val.ts.LessEq(c.mu.lowWater) {
			t.Errorf("interval [%q, %q) at %s not above the low-water mark %s", iv.start, iv.end, iv.val.ts, c.mu.lowWater)
		}
		total += iv.size()
		prev = iv
		return true
	})
	if total != c.mu.bytes {
		t.Errorf("byte count %d, intervals add up to %d", c.mu.bytes, total)
	}
}

// model is the brute-force reference: every read ever added, and the
// low-water mark. The answer over a span is the maximum over the reads
// that overlap it, which equals the maximum over its keys.
type model struct {
	reads    []modelRead
	lowWater hlc.Timestamp
}

type modelRead struct {
	start, end []byte
	val        value
}

func (m *model) getMax(start, end []byte) value {
	end = spanEnd(start, end)
	v := value{ts: m.lowWater}
	for _, r := range m.reads {
		if bytes.Compare(r.start, end) < 0 && bytes.Compare(start, r.end) < 0 {
			v = v.max(r.val)
		}
	}
	return v
}

func randKey(rng *rand.Rand) []byte {
	n := rng.IntN(4)
	k := make([]byte, n)
	const alphabet = "abcdefg\x00"
	for i := range k {
		k[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return k
}

func randSpan(rng *rand.Rand) (start, end []byte) {
	a := randKey(rng)
	switch r := rng.IntN(100); {
	case r < 60:
		return a, nil
	case r < 98:
		// A narrow span: a and the keys it prefixes, up to a random one.
		return a, append(bytes.Clone(a), "abcdefg\xff"[rng.IntN(8)])
	}
	b := randKey(rng)
	switch bytes.Compare(a, b) {
	case 0:
		return a, nil
	case 1:
		a, b = b, a
	}
	return a, b
}

// TestCacheRandomized checks the cache against the brute-force model over
// random reads, low-water raises and (with a small memory bound)
// evictions. Under eviction the cache's low-water mark may rise on its own;
// the model adopts it, and answers must still match exactly: an eviction
// may only forget what the raised mark covers.
func TestCacheRandomized(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	for _, maxBytes := range []int64{DefaultMaxBytes, 1200} {
		t.Run(fmt.Sprintf("max_bytes=%d", maxBytes), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(maxBytes)))
			c := New(Options{MaxBytes: maxBytes})
			m := &model{}
			txns := []kv.TxnID{noTxn, txnID('A'), txnID('B'), txnID('C')}
			var maxAdded hlc.Timestamp
			maxIntervals := 0
			for i := range 3000 {
				switch r := rng.IntN(100); {
				case r < 1:
					lw := ts(int64(rng.IntN(i/40 + 1)))
					c.SetLowWater(lw)
					m.lowWater.Forward(lw)
				default:
					s, e := randSpan(rng)
					v := value{ts: ts(int64(1 + rng.IntN(i/5+5))), txn: txns[rng.IntN(len(txns))]}
					c.Add(s, e, v.ts, v.txn)
					m.reads = append(m.reads, modelRead{start: bytes.Clone(s), end: spanEnd(s, e), val: v})
					maxAdded.Forward(v.ts)
				}
				lw := c.LowWater()
				if lw.Less(m.lowWater) {
					t.Fatalf("seed %d op %d: low-water mark %s fell below %s", seed, i, lw, m.lowWater)
				}
				if maxBytes == DefaultMaxBytes && lw != m.lowWater {
					t.Fatalf("seed %d op %d: low-water mark %s rose without memory pressure (want %s)", seed, i, lw, m.lowWater)
				}
				if maxAdded.Less(lw) && m.lowWater.Less(lw) {
					t.Fatalf("seed %d op %d: eviction raised the low-water mark to %s, above every read (%s)", seed, i, lw, maxAdded)
				}
				m.lowWater = lw
				if st := c.Stats(); st.Intervals > maxIntervals {
					maxIntervals = st.Intervals
				}
				if st := c.Stats(); st.Bytes > maxBytes {
					t.Fatalf("seed %d op %d: %d bytes over the bound %d", seed, i, st.Bytes, maxBytes)
				}
				for range 3 {
					s, e := randSpan(rng)
					gotTS, gotTxn := c.GetMax(s, e)
					want := m.getMax(s, e)
					if gotTS != want.ts || gotTxn != want.txn {
						t.Fatalf("seed %d op %d: GetMax(%q, %q) = %s %s, model says %s %s",
							seed, i, s, e, gotTS, gotTxn.Short(), want.ts, want.txn.Short())
					}
				}
				if i%100 == 0 {
					checkInvariants(t, c)
				}
			}
			st := c.Stats()
			t.Logf("at most %d intervals; at the end %d, %d bytes; %d evictions", maxIntervals, st.Intervals, st.Bytes, st.Evictions)
			if maxBytes < DefaultMaxBytes && st.Evictions == 0 {
				t.Errorf("seed %d: the small cache never evicted", seed)
			}
		})
	}
}

// TestCacheConcurrent runs readers recording and checking reads at once
// (under -race in CI): after a goroutine's Add returns, GetMax over its key
// must never report less, whatever the others do, evictions included.
func TestCacheConcurrent(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	c := New(Options{MaxBytes: 8 << 10})
	s := stop.NewStopper()
	defer s.Stop()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		if err := s.RunAsyncTask("tscache-worker", func(ctx context.Context) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := range 2000 {
				k := fmt.Appendf(nil, "k%03d", rng.IntN(200))
				at := ts(int64(w*10000 + i + 1))
				c.Add(k, nil, at, txnID(byte(w)))
				if got, _ := c.GetMax(k, nil); got.Less(at) {
					t.Errorf("seed %d: GetMax(%s) = %s after a read at %s", seed, k, got, at)
					return
				}
				if rng.IntN(500) == 0 {
					c.SetLowWater(ts(int64(i)))
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	checkInvariants(t, c)
}

func BenchmarkTSCache_Add(b *testing.B) {
	for _, keys := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			c := New(Options{})
			rng := rand.New(rand.NewPCG(1, 2))
			i := int64(0)
			for b.Loop() {
				i++
				k := fmt.Appendf(nil, "key%08d", rng.IntN(keys))
				c.Add(k, nil, ts(i), noTxn)
			}
		})
	}
}

func BenchmarkTSCache_Get(b *testing.B) {
	for _, keys := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			c := New(Options{})
			for i := range keys {
				c.Add(fmt.Appendf(nil, "key%08d", i), nil, ts(int64(i+1)), noTxn)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			var k []byte
			for b.Loop() {
				k = fmt.Appendf(k[:0], "key%08d", rng.IntN(keys))
				c.GetMax(k, nil)
			}
		})
	}
}
