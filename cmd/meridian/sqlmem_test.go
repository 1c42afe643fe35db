package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/common/expfmt"
)

// TestMaxSQLMemory: a node started with --max-sql-memory=1MiB fails a
// sort larger than that with SQLSTATE 53200, answers a small one on the
// same connection, and shows its budget in its metrics; a bad value in
// MERIDIAN_MAX_SQL_MEMORY is refused like a bad flag. The same node's
// --max-go-memory and garbage collector target show in its metrics.
func TestMaxSQLMemory(t *testing.T) {
	n := &nodeProc{listen: freeAddr(t, "127.0.0.1"), sql: freeAddr(t, "127.0.0.1"), http: freeAddr(t, "127.0.0.1")}
	n.store = filepath.Join(t.TempDir(), "store")
	n.proc = startProc(t, "single", nil, "start-single-node", "--insecure", "--store", n.store,
		"--listen-addr", n.listen, "--sql-addr", n.sql, "--http-addr", n.http, "--max-sql-memory=1MiB", "--max-go-memory=1GiB")
	n.waitReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, n.url())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)

	// 50,000 rows held by the sort: several MiB.
	rows, err := c.Query(ctx, "SELECT g FROM generate_series(1, 50000) g ORDER BY g DESC")
	if err == nil {
		for rows.Next() {
		}
		rows.Close()
		err = rows.Err()
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53200" || !strings.Contains(pe.Message, "of 1048576 (--max-sql-memory)") {
		t.Fatalf("a sort past the budget: want SQLSTATE 53200 naming the budget, got %v", err)
	}
	var top []int64
	rows, err = c.Query(ctx, "SELECT g FROM generate_series(1, 100) g ORDER BY g DESC LIMIT 3")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			t.Fatal(err)
		}
		top = append(top, g)
	}
	if err := rows.Err(); err != nil || len(top) != 3 || top[0] != 100 || top[2] != 98 {
		t.Fatalf("a small sort after the failure: %v, %v", top, err)
	}

	resp, err := http.Get("http://" + n.http + "/_status/vars")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"meridian_sql_mem_max_bytes": 1 << 20, "meridian_sql_mem_used_bytes": 0,
		"meridian_go_memory_limit_bytes": 1 << 30, "meridian_go_gc_percent": nodeGCPercent} {
		f := families[name]
		if f == nil || len(f.Metric) != 1 || f.Metric[0].GetGauge().GetValue() != want {
			t.Errorf("%s: %v, want %v", name, f, want)
		}
	}
	if f := families["meridian_sql_mem_high_water_bytes"]; f == nil || f.Metric[0].GetGauge().GetValue() <= 0 {
		t.Errorf("meridian_sql_mem_high_water_bytes: %v, want a positive value", f)
	}

	// The environment sets the flag as it does the others, and is checked
	// as strictly (the error names the flag, as for --cache or --locality
	// from the environment).
	store := filepath.Join(t.TempDir(), "store")
	cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
	defer ccancel()
	cmd := exec.CommandContext(cctx, meridianBin(t), "start-single-node", "--store", store,
		"--listen-addr", freeAddr(t, "127.0.0.1"), "--sql-addr", freeAddr(t, "127.0.0.1"), "--http-addr", freeAddr(t, "127.0.0.1"))
	cmd.Env = append(os.Environ(), "MERIDIAN_MAX_SQL_MEMORY=abc")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `--max-sql-memory "abc": want a size`) {
		t.Fatalf("MERIDIAN_MAX_SQL_MEMORY=abc: want a refusal, got %v:\n%s", err, out)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Fatalf("the store directory was created: %v", err)
	}
}
