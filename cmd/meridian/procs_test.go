package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// The multi-process tests run the real binary, built once per test run.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// meridianBin builds the meridian binary into a temporary directory.
func meridianBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "meridian-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "meridian")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.Newf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t testing.TB, host string) string {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		// A port is free until a process binds it: the kernel may hand
		// it out again before then, to another of the same cluster's
		// nodes (seen: one node's HTTP port was another's gRPC port).
		if _, taken := handedOut.LoadOrStore(addr, true); !taken {
			return addr
		}
	}
}

// handedOut are the addresses freeAddr returned in this test binary.
var handedOut sync.Map

// syncBuffer is a buffer written by a process and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is one running meridian process.
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error
}

// startProc starts the binary with args (and extra environment).
func startProc(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(meridianBin(t), args...)
	cmd.Env = append(os.Environ(), env...)
	return startCmd(t, name, cmd)
}

// startProcIn starts the binary with args inside network namespace ns.
func startProcIn(t testing.TB, name, ns string, args ...string) *proc {
	t.Helper()
	return startCmd(t, name, exec.Command("ip", append([]string{"netns", "exec", ns, meridianBin(t)}, args...)...))
}

func startCmd(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, name: name, done: make(chan struct{}), cmd: cmd}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", p.name, tail(p.out.String(), 60))
		}
	})
	return p
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// kill ends the process at once (SIGKILL) and waits for it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// exited waits up to timeout for the process to exit and returns its
// error (nil: exit code 0).
func (p *proc) exited(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return errors.Newf("%s did not exit within %s", p.name, timeout)
	}
}

// runCLI runs the binary to completion and returns its combined output.
func runCLI(t testing.TB, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, meridianBin(t), args...).CombinedOutput()
	return string(out), err
}

// nodeProc is a node process and its addresses.
type nodeProc struct {
	*proc
	store, listen, sql, http string
}

// procCluster is nodes started as separate processes on loopback.
type procCluster struct {
	t     testing.TB
	dir   string
	nodes []*nodeProc
	// extra flags every node gets.
	flags []string
}

// newProcCluster prepares n nodes (not started) with their own ports.
func newProcCluster(t testing.TB, n int, flags ...string) *procCluster {
	c := &procCluster{t: t, dir: t.TempDir(), flags: flags}
	for i := range n {
		c.nodes = append(c.nodes, &nodeProc{
			store:  filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)),
			listen: freeAddr(t, "127.0.0.1"), sql: freeAddr(t, "127.0.0.1"), http: freeAddr(t, "127.0.0.1"),
		})
	}
	return c
}

func (c *procCluster) joinList() string {
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.listen)
	}
	return strings.Join(addrs, ",")
}

// start starts node i (again) with `meridian start`.
func (c *procCluster) start(i int) *nodeProc {
	n := c.nodes[i]
	args := append([]string{"start", "--insecure", "--store", n.store, "--listen-addr", n.listen,
		"--sql-addr", n.sql, "--http-addr", n.http, "--join", c.joinList()}, c.flags...)
	n.proc = startProc(c.t, fmt.Sprintf("n%d", i+1), nil, args...)
	return n
}

// startAll starts every node, inits the cluster through node 1 and waits
// until every node is ready.
func (c *procCluster) startAll() {
	c.t.Helper()
	for i := range c.nodes {
		c.start(i)
	}
	if out, err := runCLI(c.t, "init", "--insecure", "--host", c.nodes[0].listen); err != nil {
		c.t.Fatalf("init: %v\n%s", err, out)
	}
	for _, n := range c.nodes {
		n.waitReady(c.t)
	}
}

// waitReady waits until the node's /health?ready=1 answers 200.
func (n *nodeProc) waitReady(t testing.TB) {
	t.Helper()
	waitUntil(t, time.Minute, func() error {
		resp, err := http.Get("http://" + n.http + "/health?ready=1")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return errors.Newf("%s: %s", resp.Status, b)
		}
		return nil
	})
}

func (n *nodeProc) url() string {
	return "postgresql://root@" + n.sql + "/defaultdb?sslmode=disable"
}

// nodeLS runs `meridian node ls --format json` through node i.
func (c *procCluster) nodeLS(i int) ([]nodeRow, error) {
	out, err := runCLI(c.t, "node", "ls", "--insecure", "--host", c.nodes[i].listen, "--format", "json")
	if err != nil {
		return nil, errors.Newf("node ls: %v: %s", err, out)
	}
	var rows []nodeRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		return nil, errors.Newf("node ls: %v: %s", err, out)
	}
	return rows, nil
}

// waitFullyReplicated waits until every live node holds the same number
// of replicas, want nodes are live, and every range has a leaseholder:
// with want ≤ 3 every range then has a replica on every node.
func (c *procCluster) waitFullyReplicated(via, want int) {
	c.t.Helper()
	waitUntil(c.t, 2*time.Minute, func() error {
		rows, err := c.nodeLS(via)
		if err != nil {
			return err
		}
		live, ranges, leases := 0, int32(-1), int32(0)
		for _, r := range rows {
			if !r.Live {
				continue
			}
			live++
			leases += r.Leases
			if ranges >= 0 && r.Ranges != ranges {
				return errors.Newf("replica counts differ: %+v", rows)
			}
			ranges = r.Ranges
		}
		if live != want || leases != ranges {
			return errors.Newf("%d live nodes (want %d), %d leases over %d ranges: %+v", live, want, leases, ranges, rows)
		}
		return nil
	})
}

// waitUntil polls cond until it holds, failing the test after timeout.
func waitUntil(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := hlc.PhysicalNow().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if hlc.PhysicalNow().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		tm := time.NewTimer(50 * time.Millisecond)
		<-tm.C
	}
}
