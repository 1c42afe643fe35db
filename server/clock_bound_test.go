package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/stop"
	"github.com/meridiandb/meridian/stop/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

// TestClockMonotonicAcrossRestart: a node's clock issues timestamps, the
// node stops, and the machine's clock goes back by a minute; after the
// restart every timestamp is still above every one issued before.
func TestClockMonotonicAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	phys := hlc.NewManualClock(1_000_000_000_000)
	clock := hlc.NewClock(phys.UnixNano, 0)
	stopper := stop.NewStopper()
	if err := startClockBound(dir, clock, stopper); err != nil {
		t.Fatal(err)
	}
	var last hlc.Timestamp
	for range 100 {
		phys.Increment(1000)
		last = clock.Now()
	}
	stopper.Stop()

	phys2 := hlc.NewManualClock(phys.UnixNano() - 60_000_000_000)
	clock2 := hlc.NewClock(phys2.UnixNano, 0)
	stopper2 := stop.NewStopper()
	defer stopper2.Stop()
	if err := startClockBound(dir, clock2, stopper2); err != nil {
		t.Fatal(err)
	}
	if ts := clock2.Now(); !last.Less(ts) {
		t.Fatalf("after the restart Now() = %s, not above %s issued before", ts, last)
	}
}

func TestCorruptClockBoundRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, clockBoundFile), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := restoreClockBound(dir, hlc.NewClock(hlc.UnixNano, 0))
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("want a clear error for a corrupt bound, got %v", err)
	}
}
