// Package leaktest fails a test binary that leaves goroutines running.
package leaktest

import (
	"testing"

	"go.uber.org/goleak"
)

// VerifyNoLeaks runs a package's tests and fails the run if any goroutine
// started by them is still running at the end. Call it from TestMain:
//
//	func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }
func VerifyNoLeaks(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Pebble and glog-style libraries keep process-wide helpers.
		goleak.IgnoreTopFunction("github.com/cockroachdb/pebble/v2/internal/cache.(*Cache).releaseLoop"),
		goleak.IgnoreAnyFunction("go.opencensus.io/stats/view.(*worker).start"),
		// regexp2's match-timeout clock, which stops a second after the
		// last timed search.
		goleak.IgnoreAnyFunction("github.com/dlclark/regexp2/v2.runClock"),
	)
}
