package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
)

// TestClusterStartJoinInit: three `meridian start` processes on loopback
// ports and `meridian init`: a table created through node 1 is read
// through node 3; `meridian node ls` lists three live nodes; a second init
// fails cleanly.
func TestClusterStartJoinInit(t *testing.T) {
	c := newProcCluster(t, 3, "--liveness-duration", "3s")
	c.startAll()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c1, err := pgx.Connect(ctx, c.nodes[0].url())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close(ctx)
	for _, q := range []string{"CREATE TABLE joined (k INT PRIMARY KEY, v TEXT)", "INSERT INTO joined VALUES (1, 'one'), (2, 'two')"} {
		if _, err := c1.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c3, err := pgx.Connect(ctx, c.nodes[2].url())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close(ctx)
	var n int
	var maxV string
	if err := c3.QueryRow(ctx, "SELECT count(*), max(v) FROM joined").Scan(&n, &maxV); err != nil || n != 2 || maxV != "two" {
		t.Fatalf("read through node 3: %d rows, max %q, %v", n, maxV, err)
	}

	waitUntil(t, time.Minute, func() error {
		rows, err := c.nodeLS(1)
		if err != nil {
			return err
		}
		live := 0
		for _, r := range rows {
			if r.Live {
				live++
			}
		}
		if len(rows) != 3 || live != 3 {
			return errors.Newf("node ls: %+v", rows)
		}
		return nil
	})
	out, err := runCLI(t, "node", "ls", "--insecure", "--host", c.nodes[2].listen)
	if err != nil || !strings.Contains(out, "(3 rows)") {
		t.Fatalf("node ls (table): %v\n%s", err, out)
	}
	t.Logf("meridian node ls:\n%s", out)

	out, err = runCLI(t, "init", "--insecure", "--host", c.nodes[1].listen)
	if err == nil || !strings.Contains(out, "already been initialized") {
		t.Fatalf("a second init: %v\n%s", err, out)
	}
}

// TestStartSingleNodeRestart: a store bootstrapped by the first start
// keeps its cluster and its data across a restart (after SIGTERM drains
// the node); a directory holding something else is refused.
func TestStartSingleNodeRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	sqlAddr, listen := freeAddr(t, "127.0.0.1"), freeAddr(t, "127.0.0.1")
	start := func() *nodeProc {
		n := &nodeProc{store: dir, listen: listen, sql: sqlAddr, http: freeAddr(t, "127.0.0.1")}
		n.proc = startProc(t, "single", nil, "start-single-node", "--insecure", "--store", dir,
			"--listen-addr", listen, "--sql-addr", sqlAddr, "--http-addr", n.http)
		n.waitReady(t)
		return n
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := start()
	c, err := pgx.Connect(ctx, n.url())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE kept (k INT PRIMARY KEY, v TEXT)", "INSERT INTO kept VALUES (1, 'one'), (2, 'two')"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Close(ctx)
	first := clusterLine(n.out.String())
	if err := n.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := n.exited(30 * time.Second); err != nil {
		t.Fatalf("after SIGINT: %v", err)
	}

	n = start()
	if second := clusterLine(n.out.String()); first == "" || second != first {
		t.Fatalf("cluster changed across a restart: %q -> %q", first, second)
	}
	c, err = pgx.Connect(ctx, n.url())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var count int
	var v string
	if err := c.QueryRow(ctx, "SELECT count(*), max(v) FROM kept").Scan(&count, &v); err != nil || count != 2 || v != "two" {
		t.Fatalf("after restart: %d rows, max %q, %v", count, v, err)
	}

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "start-single-node", "--insecure", "--store", other, "--listen-addr", freeAddr(t, "127.0.0.1"),
		"--sql-addr", freeAddr(t, "127.0.0.1"), "--http-addr", freeAddr(t, "127.0.0.1"))
	if err == nil || !strings.Contains(out, "no Meridian store") {
		t.Fatalf("started on a directory that is not a store: %v\n%s", err, out)
	}
}

// clusterLine returns the "cluster:" line a node prints when it runs.
func clusterLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "cluster:") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// TestStartBadInput: bad flags and stores are refused with a clear error
// and a non-zero exit, and nothing is written to the store.
func TestStartBadInput(t *testing.T) {
	addrs := func() []string {
		return []string{"--listen-addr", freeAddr(t, "127.0.0.1"), "--sql-addr", freeAddr(t, "127.0.0.1"), "--http-addr", freeAddr(t, "127.0.0.1")}
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"malformed locality", []string{"start", "--insecure", "--join", "127.0.0.1:1", "--locality", "region"}, "malformed locality"},
		{"duplicate tier", []string{"start", "--insecure", "--join", "127.0.0.1:1", "--locality", "region=a,region=b"}, "appears twice"},
		{"no security mode", []string{"start", "--join", "127.0.0.1:1"}, "--insecure"},
		{"no join", []string{"start", "--insecure"}, "--join is required"},
		{"unreachable join list", []string{"start", "--insecure", "--join", freeAddr(t, "127.0.0.1"), "--join-timeout", "2s"}, "answered within"},
		{"bad cache", []string{"start", "--insecure", "--join", "127.0.0.1:1", "--cache", "lots"}, "--cache"},
		{"bad max-sql-memory", []string{"start", "--insecure", "--join", "127.0.0.1:1", "--max-sql-memory=abc"}, `--max-sql-memory "abc": want a size`},
		{"bad max-go-memory", []string{"start-single-node", "--max-go-memory", "0"}, `--max-go-memory "0": want a size`},
		{"max-sql-memory share too large", []string{"start-single-node", "--max-sql-memory", "95%"}, "--max-sql-memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "store")
			args := append(append(tc.args, "--store", store), addrs()...)
			out, err := runCLI(t, args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("want an error naming %q, got %v:\n%s", tc.want, err, out)
			}
			if _, err := os.Stat(store); !os.IsNotExist(err) {
				t.Fatalf("the store directory was created: %v", err)
			}
		})
	}

	// A store of another cluster is refused.
	a := newProcCluster(t, 1)
	a.startAll()
	b := newProcCluster(t, 1)
	b.startAll()
	a.nodes[0].kill()
	out, err := runCLI(t, "start", "--insecure", "--store", a.nodes[0].store, "--join", b.nodes[0].listen,
		"--listen-addr", a.nodes[0].listen, "--sql-addr", a.nodes[0].sql, "--http-addr", a.nodes[0].http)
	if err == nil || !strings.Contains(out, "belongs to cluster") {
		t.Fatalf("a store of another cluster: %v\n%s", err, out)
	}
}

// TestCLIHelp: every command answers --help.
func TestCLIHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"start", "--help"}, {"start-single-node", "--help"}, {"init", "--help"}, {"node", "ls", "--help"},
		{"node", "drain", "--help"}, {"node", "decommission", "--help"}, {"sql", "--help"}, {"cert", "create-ca", "--help"},
		{"demo", "--help"}, {"version"},
	} {
		out, err := runCLI(t, args...)
		if err != nil || len(out) == 0 {
			t.Errorf("meridian %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, err := runCLI(t, "sql", "--insecure", "--host", "127.0.0.1:1", "-e", "SELECT 1")
	if err == nil {
		t.Fatalf("sql against nothing succeeded:\n%s", out)
	}
}
