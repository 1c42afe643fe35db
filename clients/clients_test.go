// Package clients runs real PostgreSQL clients — psql, pgx, lib/pq,
// psycopg2, node-postgres, JDBC, pgbench and GORM — against one Meridian
// node started in this process and serving pgwire over TCP. Each client
// runs a smoke program of ours that reads values back, round-trips types
// and checks the SQLSTATE of a deliberate error.
//
// A client that is not installed fails the test under CI (CI set in the
// environment, as .ci/run does) and is skipped, with a message, elsewhere.
package clients

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/liveness"
	"github.com/meridiandb/meridian/server"
)

// node is the one Meridian node every client of the run talks to; each
// client works in a database of its own.
var node struct {
	once sync.Once
	addr string // host:port of its SQL listener
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopNode()
	os.Exit(code)
}

var stopNode = func() {}

// startNode starts the node on first use: a single node that bootstraps
// its own cluster, on a temporary store, SQL on a loopback port.
func startNode() (string, error) {
	node.once.Do(func() {
		dir, err := os.MkdirTemp("", "meridian-clients-")
		if err != nil {
			node.err = err
			return
		}
		ln, err := server.Listen("127.0.0.1:0")
		if err != nil {
			node.err = err
			return
		}
		sqlLn, err := server.Listen("127.0.0.1:0")
		if err != nil {
			node.err = err
			return
		}
		n, err := server.Start(server.Config{
			StoreDir: dir, Listener: ln, SQLListener: sqlLn, Bootstrap: true, ReplicationFactor: 1,
			Store:    kvserver.StoreConfig{RaftTickInterval: 20 * time.Millisecond, LeaseDuration: 2 * time.Second},
			Liveness: liveness.Config{LivenessDuration: 2 * time.Second, TickInterval: 20 * time.Millisecond, HeartbeatTimeout: time.Second},
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			node.err = err
			return
		}
		stopNode = func() { n.Stop(); _ = os.RemoveAll(dir) }
		node.addr = n.SQLAddr()
	})
	return node.addr, node.err
}

// newDatabase creates a database for one client and returns its URL.
// The first connection waits for the node to serve SQL.
func newDatabase(t *testing.T, name string) string {
	t.Helper()
	addr, err := startNode()
	if err != nil {
		t.Fatalf("starting the node: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var c *pgx.Conn
	for {
		if c, err = pgx.Connect(ctx, "postgres://root@"+addr+"/defaultdb?sslmode=disable"); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("connecting to the node: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer c.Close(ctx)
	// Dropped first: go test -count=2 runs each client again.
	for _, q := range []string{"DROP DATABASE IF EXISTS " + name + " CASCADE", "CREATE DATABASE " + name} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return fmt.Sprintf("postgres://root@%s/%s?sslmode=disable", addr, name)
}

// requireTool returns the path of an installed program, or fails the test
// under CI and skips it elsewhere.
func requireTool(t *testing.T, name, installedBy string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, fmt.Sprintf("%s is not installed (%s)", name, installedBy))
	}
	return p
}

// requireFile is requireTool for a file (a jar, a module directory).
func requireFile(t *testing.T, path, installedBy string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, fmt.Sprintf("%s is missing (%s)", path, installedBy))
	}
}

func missing(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI must install every client", msg)
	}
	t.Skipf("SKIPPED, client not installed: %s — .ci/run installs it; under CI=1 this fails", msg)
}

// run runs a client program with a deadline and returns its combined
// output; a non-zero exit fails the test with that output.
func run(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runOut(timeout, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
	return out
}

// runOut runs a program and returns its combined output and error.
func runOut(timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
