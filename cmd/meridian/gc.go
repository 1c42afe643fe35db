package main

import (
	"os"
	"runtime/debug"
)

// nodeGCPercent is the garbage collector's target for a node: the heap
// may grow to five times what is live before a collection starts.
//
// Why not Go's default of 100: a node's live Go heap is small (tens of
// MiB; Pebble's block cache and memtables live outside it) while every
// statement allocates, so at 100 the collector ran ~7 times a second
// under `pgbench -S` with 4 clients and took ~15% of the node's CPU.
// Measured on the 2-core VM, 2026-12-07, 10 s runs, same store:
// GOGC=100 17.5k tps, 200 20.2k, 400 20.0k, 800 22.7k; RSS 110 MiB at
// 200, 144 MiB at 400, 212 MiB at 800. The soft memory limit
// (--max-go-memory) bounds what the higher target could cost on a node
// whose live heap is large: past it the collector runs as often as
// needed, whatever the target.
const nodeGCPercent = 400

// tuneGC sets the collector's target and soft memory limit for a node
// process, unless the operator set GOGC or GOMEMLIMIT, which win.
func tuneGC(memoryLimit int64) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(nodeGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && memoryLimit > 0 {
		debug.SetMemoryLimit(memoryLimit)
	}
}
