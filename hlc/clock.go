package hlc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
)

// DefaultMaxOffset is the largest clock offset between two nodes that the
// cluster tolerates, as in CockroachDB.
const DefaultMaxOffset = 500 * time.Millisecond

// Clock is a hybrid logical clock. It is safe for concurrent use.
//
// Now and Update implement the HLC update rules: the wall component is the
// maximum of the physical clock and every timestamp seen; the logical
// component breaks ties so that every issued timestamp is strictly greater
// than every timestamp issued or received before it.
type Clock struct {
	physical  func() int64
	maxOffset time.Duration

	mu struct {
		sync.Mutex
		// ts is the last timestamp issued or received.
		ts Timestamp
		// upperBound, when non-zero, is the persisted upper bound on the wall
		// time this clock may issue (see SetWallTimeUpperBound).
		upperBound int64
	}
}

// NewClock returns a clock reading physical time from physical (nanoseconds
// since the Unix epoch; UnixNano or a ManualClock's UnixNano) and refusing
// remote timestamps more than maxOffset ahead of it. A maxOffset of 0 means
// DefaultMaxOffset.
func NewClock(physical func() int64, maxOffset time.Duration) *Clock {
	if maxOffset == 0 {
		maxOffset = DefaultMaxOffset
	}
	return &Clock{physical: physical, maxOffset: maxOffset}
}

// MaxOffset returns the maximum tolerated offset between clocks.
func (c *Clock) MaxOffset() time.Duration { return c.maxOffset }

// PhysicalNow returns the physical clock's reading, in nanoseconds.
func (c *Clock) PhysicalNow() int64 { return c.physical() }

// Now returns a timestamp strictly greater than every timestamp this clock
// issued or received before.
func (c *Clock) Now() Timestamp {
	pt := c.physical()
	c.mu.Lock()
	defer c.mu.Unlock()
	ub := c.mu.upperBound
	if ub != 0 && pt > ub {
		// Physical time has caught up with the persisted bound: advance the
		// logical component only, so nothing issued exceeds the bound.
		pt = ub
	}
	if pt > c.mu.ts.WallTime {
		c.mu.ts = Timestamp{WallTime: pt}
	} else {
		c.mu.ts = c.mu.ts.Next()
	}
	return c.mu.ts
}

// Last returns the last timestamp issued or received, without advancing.
func (c *Clock) Last() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.ts
}

// Update folds a timestamp received from another node into the clock and
// returns a timestamp greater than both it and everything issued before:
// the receive event of the HLC paper. It refuses a remote timestamp whose
// wall time is more than MaxOffset ahead of local physical time, leaving the
// clock unchanged, and one beyond the persisted upper bound.
func (c *Clock) Update(remote Timestamp) (Timestamp, error) {
	pt := c.physical()
	if remote.WallTime-pt > int64(c.maxOffset) {
		return Timestamp{}, &UntrustedRemoteError{
			Remote: remote, Physical: pt, MaxOffset: c.maxOffset,
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ub := c.mu.upperBound
	if ub != 0 {
		if remote.WallTime > ub {
			return Timestamp{}, errors.Wrapf(ErrUpperBoundNotPersisted,
				"remote timestamp %s is beyond the clock's persisted upper bound %d", remote, ub)
		}
		if pt > ub {
			pt = ub
		}
	}
	last := c.mu.ts
	switch {
	case pt > last.WallTime && pt > remote.WallTime:
		c.mu.ts = Timestamp{WallTime: pt}
	case remote.WallTime > last.WallTime:
		c.mu.ts = Timestamp{WallTime: remote.WallTime, Logical: remote.Logical}.Next()
	case last.WallTime > remote.WallTime:
		c.mu.ts = last.Next()
	default: // equal wall times
		l := max(last.Logical, remote.Logical)
		c.mu.ts = Timestamp{WallTime: last.WallTime, Logical: l}.Next()
	}
	return c.mu.ts, nil
}

// WaitPast returns once the physical clock has reached ts's wall time:
// commit-wait, as in Spanner and CockroachDB. A commit at a timestamp
// ahead of every clock (pushed there to clear a reader's uncertainty
// interval, which reaches max offset into the future) is acknowledged
// only then; otherwise a transaction that starts after the
// acknowledgement, on a node whose clock is behind that timestamp by more
// than the max offset (or on this one), reads below the commit and misses
// it, although it came after it in real time. A timestamp at the clock's
// wall time (ahead only in its logical part) does not wait: by the time a
// client hears of it and starts anything, the clock has moved on. A
// physical clock that does not move (a manual clock in a test) is waited
// for at most twice the max offset of real time.
func (c *Clock) WaitPast(ctx context.Context, ts Timestamp) error {
	ahead := time.Duration(ts.WallTime - c.physical())
	if ahead <= 0 {
		return nil
	}
	giveUp := time.Now().Add(2*c.maxOffset + time.Millisecond)
	for ahead > 0 && time.Now().Before(giveUp) {
		t := time.NewTimer(min(ahead, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Wrap(ctx.Err(), "waiting for the clock to reach the commit timestamp")
		case <-t.C:
		}
		ahead = time.Duration(ts.WallTime - c.physical())
	}
	return nil
}

// Forward raises the clock to at least ts without checking the offset. It
// is for timestamps this node itself issued earlier, such as the upper bound
// read back at restart.
func (c *Clock) Forward(ts Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.ts.Forward(ts)
}

// SetWallTimeUpperBound records that bound has been durably persisted as an
// upper bound on every wall time this clock will issue. From then on the
// clock never issues a wall time above it: once physical time reaches the
// bound, only the logical component advances, until the bound is raised.
//
// This makes the clock monotonic across restarts: a node persists
// physical-now plus a lead (well above its persist interval) before calling
// this, and at restart calls ForwardPastUpperBound with the bound it reads
// back, so every timestamp issued after the restart is above every one
// issued before it.
// A bound of 0 removes the limit.
func (c *Clock) SetWallTimeUpperBound(bound int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.upperBound = bound
}

// ForwardPastUpperBound raises the clock above every timestamp whose wall
// time is at most bound: at restart, bound is the upper bound the previous
// incarnation persisted.
func (c *Clock) ForwardPastUpperBound(bound int64) {
	c.Forward(Timestamp{WallTime: bound + 1})
}

// ErrUpperBoundNotPersisted marks an Update refused because the remote
// timestamp lies beyond the persisted wall time upper bound; retrying after
// the bound is raised succeeds.
var ErrUpperBoundNotPersisted = errors.New("hlc: wall time upper bound not yet persisted")

// UntrustedRemoteError is returned by Update for a remote timestamp more
// than MaxOffset ahead of local physical time.
type UntrustedRemoteError struct {
	Remote    Timestamp
	Physical  int64
	MaxOffset time.Duration
}

func (e *UntrustedRemoteError) Error() string {
	return fmt.Sprintf("remote wall time %s is %s ahead of local physical time, more than the maximum clock offset %s",
		e.Remote, time.Duration(e.Remote.WallTime-e.Physical), e.MaxOffset)
}
