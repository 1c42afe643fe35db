package hlc

import (
	"sync/atomic"
	"time"
)

// PhysicalNow returns the machine's wall-clock time. It is the one place
// that reads time.Now: code that needs physical time for durations (latency
// histograms, timeouts) calls it; code that orders events uses a Clock.
func PhysicalNow() time.Time { return time.Now() }

// UnixNano is the default physical clock of a Clock: PhysicalNow in
// nanoseconds since the Unix epoch.
func UnixNano() int64 { return time.Now().UnixNano() }

// ManualClock is a physical clock that moves only when told to, for tests.
// It is safe for concurrent use.
type ManualClock struct {
	nanos atomic.Int64
}

// NewManualClock returns a manual clock reading nanos.
func NewManualClock(nanos int64) *ManualClock {
	m := &ManualClock{}
	m.nanos.Store(nanos)
	return m
}

// UnixNano returns the manual clock's time; pass it to NewClock.
func (m *ManualClock) UnixNano() int64 { return m.nanos.Load() }

// Increment moves the manual clock forward (or back, for negative d).
func (m *ManualClock) Increment(d int64) { m.nanos.Add(d) }

// Set sets the manual clock's time.
func (m *ManualClock) Set(nanos int64) { m.nanos.Store(nanos) }
