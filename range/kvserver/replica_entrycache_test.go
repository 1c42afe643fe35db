package kvserver

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

func ents(lo, hi, term uint64) []raftpb.Entry {
	var out []raftpb.Entry
	for i := lo; i < hi; i++ {
		out = append(out, raftpb.Entry{Index: i, Term: term, Data: []byte("x")})
	}
	return out
}

func TestEntryCache(t *testing.T) {
	var c entryCache
	c.add(ents(11, 21, 5))
	if got, ok := c.get(12, 15, 0); !ok || len(got) != 3 || got[0].Index != 12 {
		t.Fatalf("get [12,15): %v %v", got, ok)
	}
	if _, ok := c.get(5, 15, 0); ok {
		t.Fatal("a range below the cache must miss")
	}
	// A new leader overwrites the tail from 18 on.
	c.add(ents(18, 25, 6))
	if tm, ok := c.term(17); !ok || tm != 5 {
		t.Fatalf("term(17) = %d %v", tm, ok)
	}
	if tm, ok := c.term(20); !ok || tm != 6 {
		t.Fatalf("term(20) after overwrite = %d %v", tm, ok)
	}
	if _, ok := c.term(25); ok {
		t.Fatal("term past the tail must miss")
	}
	// maxSize limits, but returns at least one entry.
	if got, ok := c.get(11, 25, 1); !ok || len(got) != 1 {
		t.Fatalf("size-limited get: %d %v", len(got), ok)
	}
	c.truncate(15)
	if _, ok := c.get(15, 16, 0); ok || c.first() != 16 {
		t.Fatalf("after truncate(15): first %d", c.first())
	}
	// A gap starts the cache over.
	c.add(ents(40, 42, 7))
	if c.first() != 40 {
		t.Fatalf("after a gap: first %d", c.first())
	}
	// Bounded in count.
	c.add(ents(42, 42+2*entryCacheMaxEntries, 7))
	if len(c.ents) != entryCacheMaxEntries || c.ents[len(c.ents)-1].Index != 42+2*entryCacheMaxEntries-1 {
		t.Fatalf("bounded: %d entries ending at %d", len(c.ents), c.ents[len(c.ents)-1].Index)
	}
}
