package rpc

import (
	"sort"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// Offset is one measurement of a remote clock relative to ours: the remote
// clock read Offset ahead of ours, give or take Uncertainty (half the round
// trip of the ping that measured it).
type Offset struct {
	Offset      time.Duration
	Uncertainty time.Duration
	// MeasuredAt is our physical time at the measurement, nanoseconds.
	MeasuredAt int64
}

// beyond reports whether the offset certainly exceeds max.
func (o Offset) beyond(max time.Duration) bool {
	off := o.Offset
	if off < 0 {
		off = -off
	}
	return off-o.Uncertainty > max
}

// RemoteClockMonitor keeps the latest clock offset to each remote node. It
// is safe for concurrent use.
type RemoteClockMonitor struct {
	clock *hlc.Clock
	// ttl is how long a measurement counts.
	ttl time.Duration

	mu struct {
		sync.Mutex
		offsets map[int32]Offset
	}
}

// NewRemoteClockMonitor returns a monitor judging offsets by clock's
// maximum offset.
func NewRemoteClockMonitor(clock *hlc.Clock) *RemoteClockMonitor {
	m := &RemoteClockMonitor{clock: clock, ttl: 10 * time.Second}
	m.mu.offsets = map[int32]Offset{}
	return m
}

// Update records a measurement for node.
func (m *RemoteClockMonitor) Update(node int32, o Offset) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mu.offsets[node] = o
}

// Offsets returns the current measurements by node.
func (m *RemoteClockMonitor) Offsets() map[int32]Offset {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int32]Offset, len(m.mu.offsets))
	for n, o := range m.mu.offsets {
		out[n] = o
	}
	return out
}

// ErrClockOffset marks a node whose clock is beyond the maximum offset from
// most of the cluster.
var ErrClockOffset = errors.New("clock offset beyond the maximum")

// VerifyHealthy returns an error marked ErrClockOffset when this node's
// clock is certainly more than the maximum offset away from a majority of
// the nodes it has recent measurements for: then it is this clock, not
// theirs, that is wrong, and serving would break the uncertainty
// guarantees every read relies on.
func (m *RemoteClockMonitor) VerifyHealthy() error {
	now := m.clock.PhysicalNow()
	max := m.clock.MaxOffset()
	m.mu.Lock()
	defer m.mu.Unlock()
	var fresh, bad []int32
	for n, o := range m.mu.offsets {
		if now-o.MeasuredAt > int64(m.ttl) {
			continue
		}
		fresh = append(fresh, n)
		if o.beyond(max) {
			bad = append(bad, n)
		}
	}
	if len(fresh) == 0 || len(bad)*2 <= len(fresh) {
		return nil
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i] < bad[j] })
	return errors.Mark(errors.Newf(
		"this node's clock is more than the maximum offset %s away from %d of %d nodes (%v): fix its clock synchronisation",
		max, len(bad), len(fresh), bad), ErrClockOffset)
}
