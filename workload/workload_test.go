package workload

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meridiandb/meridian/stop/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain",
		"failed to connect to `user=u database=d`:\n\th (h): tls error: refused\n\th (h): failed SASL auth: FATAL: bad password": "failed to connect to `user=u database=d`: h (h): failed SASL auth: FATAL: bad password",
		"a\nb\n":    "a; b",
		"  x  \n\n": "x",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	got := Redact("postgres://u:secret@h:1/db?sslmode=disable")
	if strings.Contains(got, "secret") || !strings.Contains(got, "u:xxxxx@h:1/db") {
		t.Errorf("Redact: %s", got)
	}
	if got := Redact("postgres://u@h/db"); got != "postgres://u@h/db" {
		t.Errorf("Redact without a password: %s", got)
	}
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	serialization := &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	calls := 0
	retries, err := Retry(ctx, func() error {
		if calls++; calls < 4 {
			return errors.Wrap(serialization, "txn")
		}
		return nil
	})
	if err != nil || retries != 3 || calls != 4 {
		t.Errorf("Retry: %d retries, %d calls, %v; want 3, 4, nil", retries, calls, err)
	}
	fatal := &pgconn.PgError{Code: "42P01", Message: `relation "x" does not exist`}
	calls = 0
	retries, err = Retry(ctx, func() error { calls++; return fatal })
	if calls != 1 || retries != 0 || !IsFatal(err) || IsRetryable(err) {
		t.Errorf("Retry of a fatal error: %d calls, %d retries, %v", calls, retries, err)
	}
	if IsFatal(errors.New("connection reset")) || IsFatal(nil) {
		t.Error("a network error is not fatal")
	}
}

func TestParallel(t *testing.T) {
	var ran atomic.Int64
	boom := errors.New("boom")
	tasks := make([]func(context.Context) error, 100)
	for i := range tasks {
		tasks[i] = func(ctx context.Context) error {
			ran.Add(1)
			if i == 10 {
				return boom
			}
			return nil
		}
	}
	if err := Parallel(context.Background(), 3, tasks); !errors.Is(err, boom) {
		t.Fatalf("Parallel: %v, want boom", err)
	}
	if n := ran.Load(); n < 11 || n > 13 {
		t.Errorf("%d tasks ran; after the failure at most the ones in flight should", n)
	}
	ran.Store(0)
	if err := Parallel(context.Background(), 4, tasks[:10]); err != nil || ran.Load() != 10 {
		t.Errorf("Parallel: %v after %d tasks, want nil after 10", err, ran.Load())
	}
}

// TestRun: what completes during the ramp is not measured, the measured
// window lasts the duration, and every worker has returned at the end.
func TestRun(t *testing.T) {
	stats := NewStats("op")
	var running, beforeWindow atomic.Int64
	var live strings.Builder
	elapsed, err := Run(context.Background(), stats, RunOptions{
		Workers: 3, Duration: 1500 * time.Millisecond, Ramp: 300 * time.Millisecond, Live: &live,
	}, func(ctx context.Context, id int, stop <-chan struct{}) error {
		running.Add(1)
		defer running.Add(-1)
		for !Stopped(ctx, stop) {
			if !stats.Record("op", time.Millisecond, 0) {
				beforeWindow.Add(1)
			}
			Sleep(ctx, stop, 10*time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if running.Load() != 0 {
		t.Errorf("%d workers still running after Run returned", running.Load())
	}
	if elapsed < 1400*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("measured %s, want about 1.5s", elapsed)
	}
	r := stats.Report(elapsed)[0]
	// Three workers at up to 100 ops/s for 1.5 s.
	if r.Count < 100 || r.Count > 450 || beforeWindow.Load() == 0 {
		t.Errorf("measured %d ops, %d before the window", r.Count, beforeWindow.Load())
	}
	if r.P50 != 1 || r.Max != 1 {
		t.Errorf("latencies p50 %.3f max %.3f ms, want 1", r.P50, r.Max)
	}
	if !strings.Contains(live.String(), "op ") {
		t.Errorf("no live line: %q", live.String())
	}

	// A fatal error ends the run at once and is returned.
	boom := errors.New("boom")
	_, err = Run(context.Background(), NewStats("op"), RunOptions{Workers: 2, Duration: time.Hour},
		func(ctx context.Context, id int, stop <-chan struct{}) error {
			if id == 1 {
				return boom
			}
			<-ctx.Done()
			return nil
		})
	if !errors.Is(err, boom) {
		t.Errorf("Run: %v, want boom", err)
	}
}
