package main

import "testing"

// TestDemo runs `meridian demo` end to end (fewer writes): three nodes over
// loopback gRPC, replication, a leaseholder killed, failover, every
// acknowledged write read back, the dead node restarted and consistent.
func TestDemo(t *testing.T) {
	if err := demo(demoOptions{writes: 200}); err != nil {
		t.Fatal(err)
	}
}
