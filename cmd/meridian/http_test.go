package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/expfmt"
)

// TestMetricsEndpoint: /_status/vars parses with Prometheus's text parser
// and holds the node's metrics; /health, /_status/nodes and
// /_status/ranges answer.
func TestMetricsEndpoint(t *testing.T) {
	n := &nodeProc{listen: freeAddr(t, "127.0.0.1"), sql: freeAddr(t, "127.0.0.1"), http: freeAddr(t, "127.0.0.1")}
	n.store = t.TempDir() + "/store"
	n.proc = startProc(t, "single", nil, "start-single-node", "--insecure", "--store", n.store,
		"--listen-addr", n.listen, "--sql-addr", n.sql, "--http-addr", n.http)
	n.waitReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, n.url())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{"CREATE TABLE m (k INT PRIMARY KEY)", "INSERT INTO m VALUES (1), (2)", "SELECT * FROM m", "SELECT nonsense FROM m"} {
		_, _ = c.Exec(ctx, q)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + n.http + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/_status/vars")
	if code != http.StatusOK {
		t.Fatalf("/_status/vars: %d %s", code, body)
	}
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/_status/vars does not parse: %v", err)
	}
	for _, name := range []string{
		"meridian_ranges", "meridian_leaseholders", "meridian_ranges_underreplicated", "meridian_ranges_unavailable",
		"meridian_raft_proposals_total", "meridian_raft_applied_total", "meridian_txn_commits_total", "meridian_txn_aborts_total",
		"meridian_txn_restarts_total", "meridian_sql_statements_total", "meridian_sql_statement_duration_seconds",
		"meridian_sql_errors_total", "meridian_sql_connections", "meridian_sql_mem_used_bytes", "meridian_sql_mem_max_bytes", "meridian_live_nodes", "go_goroutines", "process_resident_memory_bytes",
		"meridian_storage_read_amplification", "meridian_storage_l0_files", "meridian_storage_wal_fsyncs_total", "meridian_storage_flushes_total",
	} {
		if families[name] == nil {
			t.Errorf("/_status/vars has no %s", name)
		}
	}
	value := func(name, label string) float64 {
		f := families[name]
		if f == nil {
			return -1
		}
		for _, m := range f.Metric {
			match := label == ""
			for _, l := range m.Label {
				if l.GetValue() == label {
					match = true
				}
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		return -1
	}
	for _, check := range []struct {
		name, label string
		min         float64
	}{
		{"meridian_ranges", "", 3}, {"meridian_leaseholders", "", 3}, {"meridian_raft_proposals_total", "", 1},
		{"meridian_sql_statements_total", "INSERT", 1}, {"meridian_sql_statements_total", "SELECT", 1},
		{"meridian_sql_statement_duration_seconds", "CREATE", 1}, {"meridian_sql_errors_total", "42", 1},
		{"meridian_sql_connections", "", 1}, {"meridian_txn_commits_total", "", 1}, {"meridian_live_nodes", "", 1},
	} {
		if v := value(check.name, check.label); v < check.min {
			t.Errorf("%s{%s} = %v, want at least %v", check.name, check.label, v, check.min)
		}
	}
	if v := value("meridian_ranges_unavailable", ""); v != 0 {
		t.Errorf("meridian_ranges_unavailable = %v", v)
	}

	for _, path := range []string{"/health", "/health?ready=1"} {
		if code, body := get(path); code != http.StatusOK {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	code, body = get("/_status/nodes")
	var nodes struct {
		Nodes []struct {
			Desc struct {
				NodeID int32 `json:"node_id"`
			} `json:"desc"`
			Live bool `json:"live"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(body), &nodes); code != http.StatusOK || err != nil || len(nodes.Nodes) != 1 || !nodes.Nodes[0].Live {
		t.Errorf("/_status/nodes: %d %v %s", code, err, body)
	}
	code, body = get("/_status/ranges")
	var ranges struct {
		Ranges []struct {
			RangeID int64 `json:"range_id"`
		} `json:"ranges"`
	}
	if err := json.Unmarshal([]byte(body), &ranges); code != http.StatusOK || err != nil || len(ranges.Ranges) < 3 {
		t.Errorf("/_status/ranges: %d %v %s", code, err, body)
	}
}
