package kvclient

import (
	"testing"

	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

func rd(id int64, start, end string, gen int64) *rangepb.RangeDescriptor {
	d := &rangepb.RangeDescriptor{RangeId: id, StartKey: []byte(start), EndKey: []byte(end), Generation: gen}
	if end == "" {
		d.EndKey = kv.KeyMax
	}
	return d
}

func TestRangeCache(t *testing.T) {
	c := NewRangeCache()
	// The unsplit range, then its two halves from a split (generation 1).
	c.Insert(rd(1, "", "", 0))
	if d := c.Lookup([]byte("q")); d.GetRangeId() != 1 {
		t.Fatalf("lookup q: %v", d)
	}
	c.Insert(rd(2, "m", "", 1))
	if c.Len() != 1 {
		t.Fatalf("the newer right half evicts the range it came from: %d entries", c.Len())
	}
	if d := c.Lookup([]byte("a")); d != nil {
		t.Fatalf("lookup a after the eviction: %v", d)
	}
	c.Insert(rd(1, "", "m", 1))
	for _, tc := range []struct {
		key     string
		reverse bool
		want    int64
	}{
		{"", false, 1}, {"a", false, 1}, {"l", false, 1}, {"m", false, 2}, {"zz", false, 2},
		{"m", true, 1}, {"ma", true, 2}, {"a", true, 1},
	} {
		var d *rangepb.RangeDescriptor
		if tc.reverse {
			d = c.LookupReverse([]byte(tc.key))
		} else {
			d = c.Lookup([]byte(tc.key))
		}
		if d.GetRangeId() != tc.want {
			t.Errorf("lookup %q reverse=%v: r%d, want r%d", tc.key, tc.reverse, d.GetRangeId(), tc.want)
		}
	}
	// A stale descriptor (the unsplit range, from a lagging meta2 record)
	// does not displace the newer halves.
	c.Insert(rd(1, "", "", 0))
	if c.Len() != 2 || c.Lookup([]byte("q")).GetRangeId() != 2 {
		t.Fatalf("a stale descriptor displaced newer ones: %d entries", c.Len())
	}
	// Evict drops the exact descriptor only.
	c.Evict(rd(2, "m", "", 0))
	if c.Len() != 2 {
		t.Fatal("evicted a descriptor of another generation")
	}
	c.Evict(rd(2, "m", "", 1))
	if c.Len() != 1 || c.Lookup([]byte("q")) != nil {
		t.Fatal("evict failed")
	}
	// Three-way overlap: one new descriptor replacing several old ones.
	c.Insert(rd(3, "m", "p", 2), rd(4, "p", "", 2))
	c.Insert(rd(1, "", "", 5))
	if c.Len() != 1 || c.Lookup([]byte("z")).GetRangeId() != 1 {
		t.Fatalf("a merged range did not replace its parts: %d entries", c.Len())
	}
}
