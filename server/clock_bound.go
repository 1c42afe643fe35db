package server

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/stop"
)

// The node keeps its clock monotonic across restarts: it persists an upper
// bound on every wall time its clock may issue, a little ahead of physical
// time, and raises it in the background; at start it moves the clock past
// the bound the previous run left. So no timestamp issued after a restart
// is below one issued before it, even if the machine's clock went back.

const (
	clockBoundFile = "HLC_UPPER_BOUND"
	// clockBoundInterval is how often the bound is raised; it is persisted
	// clockBoundLead ahead of physical time, so the clock only stalls (its
	// logical part still advances) if persisting falls behind by that much.
	//
	// The lead must stay well inside the maximum clock offset (500ms by
	// default): a restarted node's clock starts up to clockBoundLead ahead
	// of physical time, and its writes must still fall inside the other
	// nodes' uncertainty intervals, or a read elsewhere could miss a write
	// that finished before it began. (With a 5s lead, a table created
	// through a just-restarted node was invisible to the others for
	// seconds.)
	clockBoundInterval = 100 * time.Millisecond
	clockBoundLead     = 250 * time.Millisecond
)

// restoreClockBound moves clock past the bound persisted in dir, if any.
func restoreClockBound(dir string, clock *hlc.Clock) error {
	b, err := os.ReadFile(filepath.Join(dir, clockBoundFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return errors.Wrap(err, "reading the clock's persisted upper bound")
	}
	bound, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return errors.Wrapf(err, "the clock's persisted upper bound in %s is corrupt", filepath.Join(dir, clockBoundFile))
	}
	clock.ForwardPastUpperBound(bound)
	return nil
}

// persistClockBound durably writes a new upper bound, then lets the clock
// issue up to it.
func persistClockBound(dir string, clock *hlc.Clock) error {
	bound := max(clock.PhysicalNow(), clock.Last().WallTime) + int64(clockBoundLead)
	path := filepath.Join(dir, clockBoundFile)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return errors.Wrap(err, "persisting the clock's upper bound")
	}
	_, err = f.WriteString(strconv.FormatInt(bound, 10) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return errors.Wrap(err, "persisting the clock's upper bound")
	}
	clock.SetWallTimeUpperBound(bound)
	return nil
}

// startClockBound restores the bound, persists a first one, and keeps
// raising it every clockBoundInterval until stopper stops.
func startClockBound(dir string, clock *hlc.Clock, stopper *stop.Stopper) error {
	if err := restoreClockBound(dir, clock); err != nil {
		return err
	}
	if err := persistClockBound(dir, clock); err != nil {
		return err
	}
	return stopper.RunAsyncTask("clock-upper-bound", func(ctx context.Context) {
		t := time.NewTicker(clockBoundInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A failed write leaves the old bound in force: the clock
				// stalls at it rather than ever issuing past what is on disk.
				_ = persistClockBound(dir, clock)
			}
		}
	})
}
