// Package spanlatch serialises conflicting requests while they evaluate on a
// replica. Before a request reads or writes, it acquires latches over the key
// spans it touches; a latch waits for every earlier latch it conflicts with,
// and is released once the request's effects are in the write batch (for
// reads, once the read is done).
//
// Latches are timestamp-aware, as in CockroachDB: a read at T conflicts only
// with writes at or below T (a write above T cannot change what the read
// sees), and a write at T only with reads at or above T. Writes conflict with
// writes regardless of timestamp, and a latch with an empty timestamp (a
// non-MVCC access, such as a range-local key) conflicts with every
// overlapping latch.
//
// Fairness: a request's latches are inserted in the moment it asks, before it
// waits, and it waits only for latches inserted earlier. So no request
// starves, and since waits point only backward in arrival order, latches
// cannot deadlock.
//
// Latches are held for the duration of evaluation, never while waiting for
// another transaction: that is the lock table's job.
package spanlatch

import (
	"bytes"
	"context"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// Access is how a latch touches its span.
type Access int8

const (
	// Read latches share with other reads.
	Read Access = iota
	// Write latches exclude overlapping reads (at or above their timestamp)
	// and all overlapping writes.
	Write
)

func (a Access) String() string {
	if a == Read {
		return "read"
	}
	return "write"
}

// Span is a key or a key range: [Key, EndKey), or the single key Key when
// EndKey is nil.
type Span struct {
	Key, EndKey []byte
}

// end returns the exclusive end of s as a key range.
func (s Span) end() []byte {
	if s.EndKey == nil {
		return append(s.Key[:len(s.Key):len(s.Key)], 0)
	}
	return s.EndKey
}

// overlaps reports whether s and o share a key.
func (s Span) overlaps(o Span) bool {
	return bytes.Compare(s.Key, o.end()) < 0 && bytes.Compare(o.Key, s.end()) < 0
}

// LatchSpan is one span a request latches, with its access and timestamp.
type LatchSpan struct {
	Span
	Access Access
	// Timestamp is the MVCC time of the access; empty for non-MVCC access.
	Timestamp hlc.Timestamp
}

// conflicts reports whether latches a and b must not be held together.
func conflicts(a, b *LatchSpan) bool {
	if a.Access == Read && b.Access == Read {
		return false
	}
	if !a.overlaps(b.Span) {
		return false
	}
	if a.Access == Write && b.Access == Write {
		return true
	}
	if a.Timestamp.IsEmpty() || b.Timestamp.IsEmpty() {
		return true
	}
	r, w := a, b
	if a.Access == Write {
		r, w = b, a
	}
	// A write above the read's timestamp is invisible to the read.
	return w.Timestamp.LessEq(r.Timestamp)
}

// Guard is a request's set of latches. Release it exactly once.
type Guard struct {
	spans []LatchSpan
	done  chan struct{}
}

// Manager holds the latches of one replica. It is safe for concurrent use.
//
// Held latches are kept in arrival order and conflicts are found by a linear
// scan: a replica has at most a few hundred requests evaluating at once, and
// this keeps the code obviously right. An interval tree is the next step if
// profiles say so.
type Manager struct {
	mu struct {
		sync.Mutex
		held []*Guard
	}
}

// Acquire waits until no earlier conflicting latch is held, then returns a
// guard holding spans. If ctx ends first, it gives up its place and returns
// ctx's error.
func (m *Manager) Acquire(ctx context.Context, spans []LatchSpan) (*Guard, error) {
	g := &Guard{spans: spans, done: make(chan struct{})}
	m.mu.Lock()
	var waitFor []*Guard
	for _, h := range m.mu.held {
		if guardsConflict(g, h) {
			waitFor = append(waitFor, h)
		}
	}
	m.mu.held = append(m.mu.held, g)
	m.mu.Unlock()

	for _, h := range waitFor {
		select {
		case <-h.done:
		case <-ctx.Done():
			m.Release(g)
			return nil, errors.Wrap(ctx.Err(), "waiting for latches")
		}
	}
	return g, nil
}

// Release drops g's latches and wakes the requests waiting for them.
func (m *Manager) Release(g *Guard) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, h := range m.mu.held {
		if h == g {
			m.mu.held = append(m.mu.held[:i], m.mu.held[i+1:]...)
			close(g.done)
			return
		}
	}
}

// Len returns the number of requests holding or waiting for latches.
func (m *Manager) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.mu.held)
}

func guardsConflict(a, b *Guard) bool {
	for i := range a.spans {
		for j := range b.spans {
			if conflicts(&a.spans[i], &b.spans[j]) {
				return true
			}
		}
	}
	return false
}
