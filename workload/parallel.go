package workload

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Parallel runs tasks, at most n at a time, and returns the first error; the
// first error cancels the context the others were given. Every goroutine it
// starts has returned when it returns.
func Parallel(ctx context.Context, n int, tasks []func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if n < 1 {
		n = 1
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     atomic.Int64
	)
	for range min(n, len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(tasks) || ctx.Err() != nil {
					return
				}
				if err := tasks[i](ctx); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// Progress is a progress bar: one line, rewritten with \r, showing rows
// done out of the total. It is safe for concurrent use.
type Progress struct {
	label string
	total int64
	done  atomic.Int64
	out   io.Writer
	start time.Time

	stop chan struct{}
	wg   sync.WaitGroup
}

// StartProgress starts drawing a bar for total rows on out twice a second.
// Call Finish to stop it.
func StartProgress(out io.Writer, label string, total int64, start time.Time) *Progress {
	p := &Progress{label: label, total: total, out: out, start: start, stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw("")
			}
		}
	}()
	return p
}

// Add counts n more rows done.
func (p *Progress) Add(n int64) { p.done.Add(n) }

// Finish stops the bar and draws its last state, ending the line.
func (p *Progress) Finish() {
	close(p.stop)
	p.wg.Wait()
	p.draw("\n")
}

func (p *Progress) draw(end string) {
	const width = 30
	done := p.done.Load()
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(done)/float64(p.total), 1)
	}
	filled := int(frac * width)
	bar := make([]byte, width)
	for i := range bar {
		if i < filled {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	fmt.Fprintf(p.out, "\r%s [%s] %3.0f%% %d/%d rows %5.1fs%s",
		p.label, bar, frac*100, done, p.total, time.Since(p.start).Seconds(), end)
}
