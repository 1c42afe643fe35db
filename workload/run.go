package workload

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/meridiandb/meridian/hlc"
)

// RunOptions shape a timed run.
type RunOptions struct {
	// Workers is the number of concurrent workers.
	Workers int
	// Duration is the measured time, after the ramp.
	Duration time.Duration
	// Ramp staggers the workers' starts over this long; nothing that
	// completes during it is measured.
	Ramp time.Duration
	// Live, when set, gets one line per second.
	Live io.Writer
	// LiveSuffix, when set, is appended to each live line (say, tpmC so far).
	LiveSuffix func(elapsed time.Duration) string
}

// Worker is one worker's loop. It runs until stop is closed (the measured
// window is over) or ctx is cancelled, and returns nil then. An error it
// returns ends the whole run: return only errors that make going on
// pointless (see IsFatal).
type Worker func(ctx context.Context, id int, stop <-chan struct{}) error

// Run runs opts.Workers copies of work, measures into stats for
// opts.Duration after opts.Ramp, and returns the measured elapsed time
// (shorter than Duration when ctx is cancelled or a worker fails). Every
// goroutine it starts has returned when it returns.
func Run(ctx context.Context, stats *Stats, opts RunOptions, work Worker) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})

	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := hlc.PhysicalNow()
	for i := range opts.Workers {
		delay := time.Duration(0)
		if opts.Workers > 1 {
			delay = opts.Ramp * time.Duration(i) / time.Duration(opts.Workers)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if delay > 0 {
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return
				}
			}
			if err := work(ctx, i, stop); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
		}()
	}

	// The clock: open the window after the ramp, print live lines, close
	// the window after the duration.
	var measuredFrom time.Time
	elapsed := time.Duration(0)
	func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		rampEnd := time.NewTimer(opts.Ramp)
		defer rampEnd.Stop()
		var end <-chan time.Time
		if opts.Ramp <= 0 {
			stats.SetMeasuring(true)
			measuredFrom = hlc.PhysicalNow()
			t := time.NewTimer(opts.Duration)
			defer t.Stop()
			end = t.C
		}
		last := hlc.PhysicalNow()
		for {
			select {
			case <-ctx.Done():
				if !measuredFrom.IsZero() {
					elapsed = time.Since(measuredFrom)
				}
				return
			case <-rampEnd.C:
				if end == nil {
					stats.SetMeasuring(true)
					measuredFrom = hlc.PhysicalNow()
					t := time.NewTimer(opts.Duration)
					defer t.Stop()
					end = t.C
				}
			case <-end:
				elapsed = time.Since(measuredFrom)
				return
			case <-tick.C:
				now := hlc.PhysicalNow()
				if opts.Live != nil {
					line := stats.liveLine(now.Sub(start), now.Sub(last))
					if opts.LiveSuffix != nil && !measuredFrom.IsZero() {
						line += "  " + opts.LiveSuffix(now.Sub(measuredFrom))
					}
					fmt.Fprintln(opts.Live, line)
				}
				last = now
			}
		}
	}()
	stats.SetMeasuring(false)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	// An interrupted run (ctx cancelled by the caller) is not a failure:
	// the caller reports the window measured so far.
	return elapsed, firstErr
}

// Sleep waits for d, or until stop is closed or ctx is done; it reports
// whether the full time passed.
func Sleep(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// Stopped reports whether stop is closed or ctx is done.
func Stopped(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	case <-ctx.Done():
		return true
	default:
		return false
	}
}
