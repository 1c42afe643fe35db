package workload

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to 10 minutes, to three
// significant digits.
const (
	histMin    = 1
	histMax    = int64(10 * time.Minute / time.Microsecond)
	histDigits = 3
)

// Stats collects, per operation, the successes, errors and retries and a
// latency histogram of the successes. Only what happens while it is
// measuring (between the end of the ramp and the end of the run) counts;
// the live counters count everything. It is safe for concurrent use.
type Stats struct {
	ops       []*opStats
	byName    map[string]*opStats
	measuring atomic.Bool
}

type opStats struct {
	name string
	// live counts successes since the last live line, measured or not.
	live atomic.Int64

	mu struct {
		sync.Mutex
		hist    *hdrhistogram.Histogram
		count   int64
		errors  int64
		retries int64
	}
}

// NewStats returns Stats for the named operations, reported in that order.
func NewStats(ops ...string) *Stats {
	s := &Stats{byName: map[string]*opStats{}}
	for _, name := range ops {
		o := &opStats{name: name}
		o.mu.hist = hdrhistogram.New(histMin, histMax, histDigits)
		s.ops = append(s.ops, o)
		s.byName[name] = o
	}
	return s
}

// SetMeasuring starts or stops the measured window.
func (s *Stats) SetMeasuring(on bool) { s.measuring.Store(on) }

// Measuring reports whether the measured window is open.
func (s *Stats) Measuring() bool { return s.measuring.Load() }

func (s *Stats) op(name string) *opStats {
	o, ok := s.byName[name]
	if !ok {
		panic("workload: unregistered operation " + name) // a programming error, not input
	}
	return o
}

// Record counts one success of op that took d and needed retries retries.
// It reports whether the success fell inside the measured window.
func (s *Stats) Record(op string, d time.Duration, retries int) bool {
	o := s.op(op)
	o.live.Add(1)
	if !s.measuring.Load() {
		return false
	}
	us := d.Microseconds()
	if us < histMin {
		us = histMin
	}
	if us > histMax {
		us = histMax
	}
	o.mu.Lock()
	_ = o.mu.hist.RecordValue(us) // in range by construction
	o.mu.count++
	o.mu.retries += int64(retries)
	o.mu.Unlock()
	return true
}

// RecordError counts one failure of op after retries retries.
func (s *Stats) RecordError(op string, retries int) {
	if !s.measuring.Load() {
		return
	}
	o := s.op(op)
	o.mu.Lock()
	o.mu.errors++
	o.mu.retries += int64(retries)
	o.mu.Unlock()
}

// OpReport is the measured outcome of one operation. Latencies are in
// milliseconds.
type OpReport struct {
	Name    string  `json:"name"`
	Count   int64   `json:"count"`
	Errors  int64   `json:"errors"`
	Retries int64   `json:"retries"`
	Rate    float64 `json:"per_second"`
	P50     float64 `json:"p50_ms"`
	P90     float64 `json:"p90_ms"`
	P95     float64 `json:"p95_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

// Report returns every operation's measured outcome over elapsed.
func (s *Stats) Report(elapsed time.Duration) []OpReport {
	var out []OpReport
	for _, o := range s.ops {
		o.mu.Lock()
		h := o.mu.hist
		ms := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }
		r := OpReport{
			Name: o.name, Count: o.mu.count, Errors: o.mu.errors, Retries: o.mu.retries,
			P50: ms(50), P90: ms(90), P95: ms(95), P99: ms(99), Max: float64(h.Max()) / 1000,
		}
		o.mu.Unlock()
		if elapsed > 0 {
			r.Rate = float64(r.Count) / elapsed.Seconds()
		}
		out = append(out, r)
	}
	return out
}

// Totals sums counts, errors and retries over ops.
func Totals(ops []OpReport) (count, errs, retries int64) {
	for _, o := range ops {
		count += o.Count
		errs += o.Errors
		retries += o.Retries
	}
	return count, errs, retries
}

// liveLine formats and resets the live counters: operations per second
// since the last line (interval long), for each operation.
func (s *Stats) liveLine(elapsed, interval time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.0fs", elapsed.Seconds())
	for _, o := range s.ops {
		n := o.live.Swap(0)
		fmt.Fprintf(&b, "  %s %.1f/s", o.name, float64(n)/interval.Seconds())
	}
	var errs, retries int64
	for _, o := range s.ops {
		o.mu.Lock()
		errs += o.mu.errors
		retries += o.mu.retries
		o.mu.Unlock()
	}
	fmt.Fprintf(&b, "  | errors %d retries %d", errs, retries)
	return b.String()
}

// WriteOpTable writes the per-operation table of a final report.
func WriteOpTable(w io.Writer, ops []OpReport) {
	fmt.Fprintf(w, "%-14s %9s %9s %7s %8s %9s %9s %9s %9s %9s\n",
		"operation", "count", "per_sec", "errors", "retries", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms")
	for _, o := range ops {
		fmt.Fprintf(w, "%-14s %9d %9.1f %7d %8d %9.1f %9.1f %9.1f %9.1f %9.1f\n",
			o.Name, o.Count, o.Rate, o.Errors, o.Retries, o.P50, o.P90, o.P95, o.P99, o.Max)
	}
}
