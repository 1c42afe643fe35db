package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/cockroachdb/errors"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveHTTP serves the node's HTTP endpoints on ln:
//
//	/health            200 while the process serves (liveness probe)
//	/health?ready=1    200 once the node has joined and published itself,
//	                   503 before that and while draining (readiness probe)
//	/_status/vars      Prometheus metrics, text format
//	/_status/nodes     every node's status, JSON
//	/_status/ranges    this node's replicas, JSON
//	/debug/pprof/      Go runtime profiles (insecure clusters only: the
//	                   endpoint has no authentication, and a profile shows
//	                   the command line and the running code)
func (n *Node) serveHTTP(ln net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ready") != "" && r.URL.Query().Get("ready") != "0" {
			if !n.Ready() {
				reason := "not ready: the node has not joined a cluster yet"
				if n.draining.Load() {
					reason = "not ready: the node is draining"
				}
				http.Error(w, reason, http.StatusServiceUnavailable)
				return
			}
		}
		writeJSON(w, map[string]any{"node_id": n.nodeID, "ready": n.Ready(), "draining": n.draining.Load()})
	})
	if n.cfg.RPCServerTLS == nil {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("/_status/vars", promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/_status/nodes", func(w http.ResponseWriter, r *http.Request) {
		if !n.isStarted() {
			http.Error(w, "the node has not joined a cluster yet", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		writeJSON(w, map[string]any{"nodes": n.clusterStatus(ctx)})
	})
	mux.HandleFunc("/_status/ranges", func(w http.ResponseWriter, r *http.Request) {
		if !n.isStarted() {
			http.Error(w, "the node has not joined a cluster yet", http.StatusServiceUnavailable)
			return
		}
		type replica struct {
			NodeID    int32  `json:"node_id"`
			ReplicaID int32  `json:"replica_id"`
			Type      string `json:"type"`
		}
		type rng struct {
			RangeID       int64     `json:"range_id"`
			StartKey      string    `json:"start_key"`
			EndKey        string    `json:"end_key"`
			Replicas      []replica `json:"replicas"`
			Leaseholder   int32     `json:"leaseholder"`
			IsLeaseholder bool      `json:"is_leaseholder"`
			LiveVoters    int       `json:"live_voters"`
		}
		var out []rng
		for _, f := range n.replicaFacts() {
			x := rng{RangeID: f.desc.RangeId, StartKey: prettyKey(f.desc.StartKey), EndKey: prettyKey(f.desc.EndKey),
				Leaseholder: f.lease.GetReplica().GetNodeId(), IsLeaseholder: f.leaseholder, LiveVoters: f.liveVoters}
			for _, rd := range f.desc.Replicas {
				x.Replicas = append(x.Replicas, replica{NodeID: rd.NodeId, ReplicaID: rd.ReplicaId, Type: rd.Type.String()})
			}
			out = append(out, x)
		}
		writeJSON(w, map[string]any{"node_id": n.nodeID, "ranges": out})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := n.stopper.RunAsyncTask("http-serve", func(context.Context) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.cfg.Logger.Warn("HTTP server stopped", "err", err.Error())
		}
	}); err != nil {
		return err
	}
	return n.stopper.RunAsyncTask("http-stop", func(ctx context.Context) {
		<-ctx.Done()
		_ = srv.Close()
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// prettyKey prints a key for people: printable bytes as they are, the rest
// in hex.
func prettyKey(k []byte) string {
	if len(k) == 0 {
		return "/Min"
	}
	if string(k) == "\xff\xff" {
		return "/Max"
	}
	var b strings.Builder
	b.WriteByte('/')
	for _, c := range k {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			b.WriteByte(c)
		} else {
			b.WriteString(`\x` + hex.EncodeToString([]byte{c}))
		}
	}
	return b.String()
}
