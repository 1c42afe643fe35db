package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/cockroachdb/errors"
)

// servePprof serves Go's runtime profiles (/debug/pprof/...) on addr, for
// profiling a running node: `go tool pprof http://ADDR/debug/pprof/profile`.
// Empty addr: nothing is served. The handlers run on a mux of their own,
// not on http.DefaultServeMux. The listener lives as long as the process.
func servePprof(addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Wrapf(err, "listening for pprof on %s", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := http.Serve(ln, mux); err != nil {
			fmt.Fprintln(os.Stderr, "pprof server:", err)
		}
	}()
	return nil
}
