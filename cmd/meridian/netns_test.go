package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
)

// netHost is one test host: a network namespace with its own address on
// a bridge in the test's namespace.
type netHost struct {
	ns, ip string
}

// netLab makes hosts in network namespaces joined by a bridge, and removes
// them at the end of the test. It skips the test where namespaces cannot
// be made (not root, no iproute2).
type netLab struct {
	t      *testing.T
	bridge string
	subnet string
	hosts  []netHost
	// delay reports whether netem delays are in place.
	delay bool
}

func ipCmd(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return errors.Newf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func newNetLab(t *testing.T, hosts int, delay time.Duration) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root: skipped")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("network namespaces need iproute2's ip command (Debian package iproute2): skipped")
	}
	id := rand.IntN(1 << 20)
	lab := &netLab{t: t, bridge: fmt.Sprintf("mbr%05x", id), subnet: fmt.Sprintf("10.%d.%d", 100+rand.IntN(100), rand.IntN(250))}
	if err := ipCmd("ip", "link", "add", lab.bridge, "type", "bridge"); err != nil {
		t.Skipf("cannot make a bridge here: %v: skipped", err)
	}
	t.Cleanup(lab.close)
	must := func(args ...string) {
		t.Helper()
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	must("ip", "addr", "add", lab.subnet+".254/24", "dev", lab.bridge)
	must("ip", "link", "set", lab.bridge, "up")
	lab.delay = delay > 0
	for i := range hosts {
		h := netHost{ns: fmt.Sprintf("mns%05x-%d", id, i), ip: fmt.Sprintf("%s.%d", lab.subnet, i+1)}
		veth, peer := fmt.Sprintf("mv%05x%d", id, i), fmt.Sprintf("mp%05x%d", id, i)
		if err := ipCmd("ip", "netns", "add", h.ns); err != nil {
			t.Skipf("cannot make network namespaces here: %v: skipped", err)
		}
		lab.hosts = append(lab.hosts, h)
		must("ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
		must("ip", "link", "set", peer, "netns", h.ns)
		must("ip", "link", "set", veth, "master", lab.bridge)
		must("ip", "link", "set", veth, "up")
		must("ip", "netns", "exec", h.ns, "ip", "addr", "add", h.ip+"/24", "dev", peer)
		must("ip", "netns", "exec", h.ns, "ip", "link", "set", peer, "up")
		must("ip", "netns", "exec", h.ns, "ip", "link", "set", "lo", "up")
		if lab.delay {
			// Every packet a host sends waits delay: between two hosts,
			// delay each way.
			if err := ipCmd("ip", "netns", "exec", h.ns, "tc", "qdisc", "add", "dev", peer, "root", "netem", "delay", delay.String()); err != nil {
				t.Logf("NO DELAY: netem is not available on this kernel (%v); the hosts talk without added latency", err)
				lab.delay = false
			}
		}
	}
	return lab
}

func (lab *netLab) close() {
	for _, h := range lab.hosts {
		_ = ipCmd("ip", "netns", "del", h.ns)
	}
	_ = ipCmd("ip", "link", "del", lab.bridge)
}

// TestClusterNetns: three nodes on three hosts (network namespaces with
// their own addresses, joined by a bridge, with a 20 ms netem delay on
// every host's link where the kernel has netem) form a cluster and serve
// SQL to clients in every namespace.
func TestClusterNetns(t *testing.T) {
	lab := newNetLab(t, 3, 20*time.Millisecond)
	dir := t.TempDir()
	var joins []string
	for _, h := range lab.hosts {
		joins = append(joins, h.ip+":26357")
	}
	var nodes []*nodeProc
	for i, h := range lab.hosts {
		n := &nodeProc{store: fmt.Sprintf("%s/n%d", dir, i+1), listen: h.ip + ":26357", sql: h.ip + ":26257", http: h.ip + ":8080"}
		n.proc = startProcIn(t, fmt.Sprintf("n%d@%s", i+1, h.ns), h.ns, "start", "--insecure", "--store", n.store,
			"--listen-addr", n.listen, "--sql-addr", n.sql, "--http-addr", n.http, "--join", strings.Join(joins, ","),
			"--locality", fmt.Sprintf("region=r%d,zone=z%d", i+1, i+1), "--liveness-duration", "3s")
		nodes = append(nodes, n)
	}
	if out, err := runCLI(t, "init", "--insecure", "--host", nodes[0].listen); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	for _, n := range nodes {
		n.waitReady(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, nodes[0].url())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{"CREATE TABLE hosts (k INT PRIMARY KEY, v TEXT)", "INSERT INTO hosts VALUES (1, 'a'), (2, 'b')"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// A client in every namespace reads through the node of the next one.
	for i, h := range lab.hosts {
		target := nodes[(i+1)%len(nodes)]
		start := hlc.PhysicalNow()
		out, err := exec.CommandContext(ctx, "ip", "netns", "exec", h.ns, meridianBin(t), "sql", "--insecure", "--host", target.sql,
			"-e", "SELECT count(*) FROM hosts").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "2") {
			t.Fatalf("client in %s via %s: %v\n%s", h.ns, target.sql, err, out)
		}
		t.Logf("client in %s read through %s in %s", h.ns, target.sql, hlc.PhysicalNow().Sub(start).Round(time.Millisecond))
	}
	waitUntil(t, time.Minute, func() error {
		rows, err := (&procCluster{t: t, nodes: nodes}).nodeLS(2)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if !r.Live || !strings.HasPrefix(r.Locality, "region=r") {
				return errors.Newf("node ls: %+v", rows)
			}
		}
		return nil
	})
	t.Logf("three hosts %v, netem delay in place: %v", joins, lab.delay)
}
