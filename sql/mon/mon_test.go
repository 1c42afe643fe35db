package mon_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/mon"
	"github.com/meridiandb/meridian/sql/pgerror"
)

func TestAccountGrowShrinkClose(t *testing.T) {
	ctx := context.Background()
	m := mon.NewMonitor("--max-sql-memory", 1<<20)
	a := m.NewAccount()
	if err := a.Grow(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if a.Used() != 100 || m.Used() < 100 {
		t.Fatalf("after Grow(100): account %d, monitor %d", a.Used(), m.Used())
	}
	a.Shrink(40)
	if a.Used() != 60 {
		t.Fatalf("after Shrink(40): account %d", a.Used())
	}
	a.Shrink(1000) // more than held: down to zero, never below
	if a.Used() != 0 {
		t.Fatalf("after an oversized Shrink: account %d", a.Used())
	}
	if err := a.Grow(ctx, 500<<10); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close() // idempotent
	if a.Used() != 0 || m.Used() != 0 {
		t.Fatalf("after Close: account %d, monitor %d", a.Used(), m.Used())
	}
	if m.HighWater() < 500<<10 {
		t.Fatalf("high water %d, want at least %d", m.HighWater(), 500<<10)
	}
	// A closed account may be used again.
	if err := a.Grow(ctx, 10); err != nil {
		t.Fatal(err)
	}
	a.Close()
}

func TestBudgetExceeded(t *testing.T) {
	ctx := context.Background()
	m := mon.NewMonitor("--max-sql-memory", 1<<20)
	a, b := m.NewAccount(), m.NewAccount()
	defer a.Close()
	defer b.Close()
	// a takes all but 32KiB (a whole number of reservation chunks, so
	// that it holds exactly that).
	if err := a.Grow(ctx, 1<<20-32<<10); err != nil {
		t.Fatalf("a grow within the budget failed: %v", err)
	}
	err := b.Grow(ctx, 40000)
	if err == nil {
		t.Fatal("a grow past the budget succeeded")
	}
	if !mon.IsBudgetExceeded(err) || pgerror.CodeOf(err) != pgerror.CodeOutOfMemory {
		t.Fatalf("want a budget error with SQLSTATE 53200, got %v (%s)", err, pgerror.CodeOf(err))
	}
	var be *mon.BudgetExceededError
	if !errors.As(err, &be) || be.Requested != 40000 || be.Limit != 1<<20 || be.InUse != 1<<20-32<<10 {
		t.Fatalf("error fields: %+v", be)
	}
	const want = "memory budget exceeded: 40000 bytes requested, 1015808 already in use of 1048576 (--max-sql-memory)"
	if err.Error() != want {
		t.Fatalf("message:\n got %s\nwant %s", err, want)
	}
	if h := pgerror.HintOf(err); !strings.Contains(h, "--max-sql-memory") {
		t.Fatalf("hint does not name the flag: %q", h)
	}
	// The failed grow charged nothing; what is left still fits.
	if b.Used() != 0 {
		t.Fatalf("a failed grow charged %d", b.Used())
	}
	if err := b.Grow(ctx, 32<<10); err != nil {
		t.Fatalf("the last 32KiB: %v", err)
	}
	if err := b.Grow(ctx, 1); err == nil {
		t.Fatal("a full budget took one more byte")
	}
	// Released memory is available again.
	a.Close()
	if err := b.Grow(ctx, 512<<10); err != nil {
		t.Fatalf("after the other account closed: %v", err)
	}
}

func TestUnlimited(t *testing.T) {
	ctx := context.Background()
	for name, m := range map[string]*mon.BytesMonitor{"zero limit": mon.NewMonitor("x", 0), "nil monitor": nil} {
		t.Run(name, func(t *testing.T) {
			a := m.NewAccount()
			if err := a.Grow(ctx, 1<<40); err != nil {
				t.Fatal(err)
			}
			if a.Used() != 1<<40 {
				t.Fatalf("used %d", a.Used())
			}
			a.Close()
			if m.Used() != 0 {
				t.Fatalf("monitor holds %d after Close", m.Used())
			}
		})
	}
	var a *mon.Account // a nil account tracks nothing
	if err := a.Grow(ctx, 10); err != nil || a.Used() != 0 {
		t.Fatalf("nil account: %v, %d", err, a.Used())
	}
	a.Shrink(10)
	a.Close()
}

// TestConcurrentSessions: sessions sharing one root never take it past its
// limit together; each either gets its bytes or a budget error, and all
// of it comes back when they close.
func TestConcurrentSessions(t *testing.T) {
	ctx := context.Background()
	const limit = 4 << 20
	m := mon.NewMonitor("--max-sql-memory", limit)
	const sessions, rows, rowSize = 8, 2000, 512
	var wg sync.WaitGroup
	var mu sync.Mutex
	var exceeded, completed int
	for i := 0; i < sessions; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stmt := 0; stmt < 5; stmt++ {
				acc := m.NewAccount()
				var err error
				for r := 0; r < rows && err == nil; r++ {
					err = acc.Grow(ctx, rowSize)
					if used := m.Used(); used > limit {
						t.Errorf("monitor at %d, past its limit %d", used, limit)
					}
					if r%10 == 9 {
						acc.Shrink(rowSize)
					}
				}
				acc.Close()
				mu.Lock()
				if err != nil {
					if !mon.IsBudgetExceeded(err) {
						t.Errorf("unexpected error: %v", err)
					}
					exceeded++
				} else {
					completed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if m.Used() != 0 {
		t.Fatalf("monitor holds %d after every account closed", m.Used())
	}
	if m.HighWater() > limit {
		t.Fatalf("high water %d past the limit %d", m.HighWater(), limit)
	}
	// Each statement wants ~0.9MiB; eight at once cannot all fit in 4MiB.
	t.Logf("%d statements completed, %d exceeded the budget", completed, exceeded)
	if completed+exceeded != sessions*5 {
		t.Fatalf("%d outcomes, want %d", completed+exceeded, sessions*5)
	}
}
