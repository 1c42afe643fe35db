// Package hlc implements a hybrid logical clock (HLC) and the Timestamp it
// issues, after Kulkarni et al., "Logical Physical Clocks and Consistent
// Snapshots in Globally Distributed Databases" (2014).
//
// A timestamp is a pair (l, c): l is the largest physical time the clock has
// heard of (its own or a remote one), c a logical counter that orders events
// sharing the same l. The clock keeps l close to physical time (l − pt is
// bounded by the clock skew between nodes) while guaranteeing that every
// send happens-before its receive in timestamp order, so timestamps capture
// causality without depending on perfectly synchronised clocks.
//
// Every node keeps its clock within MaxOffset of the others. A remote
// timestamp further ahead than that is refused (UntrustedRemoteError): it
// means some clock is broken, and accepting it would drag this node's clock,
// and every timestamp it issues, into the future.
//
// This package is also the only one allowed to read the wall clock
// (time.Now): everything else takes time from a Clock or from PhysicalNow,
// so that tests can inject time.
package hlc

import (
	"fmt"
	"math"
)

// Timestamp is a point in HLC time. The zero value is the empty timestamp,
// ordered before every other.
type Timestamp struct {
	// WallTime is the physical component, nanoseconds since the Unix epoch.
	WallTime int64
	// Logical orders events that share a WallTime.
	Logical int32
}

// MaxTimestamp is larger than any timestamp a clock issues.
var MaxTimestamp = Timestamp{WallTime: math.MaxInt64, Logical: math.MaxInt32}

// MinTimestamp is the smallest non-empty timestamp.
var MinTimestamp = Timestamp{WallTime: 0, Logical: 1}

// IsEmpty reports whether t is the zero timestamp.
func (t Timestamp) IsEmpty() bool { return t == Timestamp{} }

// Less reports whether t < s.
func (t Timestamp) Less(s Timestamp) bool {
	return t.WallTime < s.WallTime || (t.WallTime == s.WallTime && t.Logical < s.Logical)
}

// LessEq reports whether t ≤ s.
func (t Timestamp) LessEq(s Timestamp) bool { return !s.Less(t) }

// Compare returns -1, 0 or +1 as t is less than, equal to or greater than s.
func (t Timestamp) Compare(s Timestamp) int {
	switch {
	case t.Less(s):
		return -1
	case s.Less(t):
		return 1
	}
	return 0
}

// Next returns the smallest timestamp greater than t.
func (t Timestamp) Next() Timestamp {
	if t.Logical == math.MaxInt32 {
		return Timestamp{WallTime: t.WallTime + 1}
	}
	return Timestamp{WallTime: t.WallTime, Logical: t.Logical + 1}
}

// Prev returns the largest timestamp smaller than t. Prev of the empty
// timestamp is the empty timestamp.
func (t Timestamp) Prev() Timestamp {
	switch {
	case t.Logical > 0:
		return Timestamp{WallTime: t.WallTime, Logical: t.Logical - 1}
	case t.WallTime > 0:
		return Timestamp{WallTime: t.WallTime - 1, Logical: math.MaxInt32}
	}
	return Timestamp{}
}

// Add returns t with wall nanoseconds and logical ticks added.
func (t Timestamp) Add(wall int64, logical int32) Timestamp {
	return Timestamp{WallTime: t.WallTime + wall, Logical: t.Logical + logical}
}

// Forward raises t to s if s is greater and reports whether it did.
func (t *Timestamp) Forward(s Timestamp) bool {
	if t.Less(s) {
		*t = s
		return true
	}
	return false
}

// Backward lowers t to s if s is smaller.
func (t *Timestamp) Backward(s Timestamp) {
	if s.Less(*t) {
		*t = s
	}
}

// String formats t as "<seconds>.<nanoseconds>,<logical>", the form used in
// logs, errors and datadriven test files.
func (t Timestamp) String() string {
	sec, nsec := t.WallTime/1e9, t.WallTime%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	return fmt.Sprintf("%d.%09d,%d", sec, nsec, t.Logical)
}
