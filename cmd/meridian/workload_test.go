package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/stop/leaktest"
	"github.com/meridiandb/meridian/workload/pgtest"
)

func TestMain(m *testing.M) { leaktest.VerifyNoLeaks(m) }

// cli runs `meridian workload args…` in process.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runWorkload(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// oneLineError asserts that stderr is one line that mentions want, with no
// stack trace or panic.
func oneLineError(t *testing.T, stderr, want string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) ||
		strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") || strings.Contains(stderr, ".go:") {
		t.Errorf("stderr should be one line mentioning %q, got:\n%s", want, stderr)
	}
}

func TestWorkloadBadInput(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback refuses connections; no server needed.
	code, _, stderr := cli(t, "run", "tpcc", "--duration", "1s", "postgres://meridian:meridian@127.0.0.1:1/x?sslmode=disable")
	if code != exitError {
		t.Errorf("unreachable URL: exit %d, want %d", code, exitError)
	}
	oneLineError(t, stderr, "connection refused")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "nosuch"}, "unknown command"},
		{[]string{"run", "kv", "--duration", "1s"}, "give at least one database URL"},
		{[]string{"run", "kv", "--nosuchflag", "postgres://x"}, "flag provided but not defined"},
		{[]string{"run", "tpcc", "--isolation", "snapshot", "--duration", "1s", "postgres://127.0.0.1:1/x"}, "unknown isolation level"},
	} {
		code, _, stderr := cli(t, tc.args...)
		if code == exitOK || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure mentioning %q", tc.args, code, stderr, tc.want)
		}
	}

	server := pgtest.ServerURL(t)
	wrong := strings.Replace(server, "meridian:meridian@", "meridian:wrong@", 1)
	if wrong == server {
		t.Fatalf("cannot make a wrong password out of %s", server)
	}
	code, _, stderr = cli(t, "init", "bank", wrong)
	if code != exitError {
		t.Errorf("wrong password: exit %d, want %d", code, exitError)
	}
	oneLineError(t, stderr, "password authentication failed")
	if strings.Contains(stderr, ":wrong@") {
		t.Errorf("the password leaked into the message: %s", stderr)
	}

	empty := pgtest.NewDatabase(t, "cli_empty")
	for _, args := range [][]string{
		{"run", "tpcc", "--duration", "1s", empty},
		{"check", "tpcc", empty},
		{"run", "kv95", "--duration", "1s", empty},
		{"run", "bank", "--duration", "1s", empty},
		{"check", "bank", empty},
	} {
		code, _, stderr := cli(t, args...)
		if code != exitError {
			t.Errorf("%v on an empty database: exit %d, want %d", args[:2], code, exitError)
		}
		oneLineError(t, stderr, "meridian workload init")
	}
}

// TestWorkloadCLI drives kv and bank through the command line, flags after
// the URL and JSON reports included, and shows that a broken TPC-C
// database makes check exit with the violation code.
func TestWorkloadCLI(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "cli")
	steps := [][]string{
		{"init", "kv", url, "--rows", "1000", "--cycle-length", "2000"},
		{"check", "kv", url},
		{"init", "bank", "--accounts", "50", url},
		{"check", "bank", url},
	}
	for _, args := range steps {
		if code, out, stderr := cli(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
	}
	for _, args := range [][]string{
		{"run", "kv95", url, "--duration", "2s", "--cycle-length", "2000", "--json"},
		{"run", "bank", url, "--duration", "2s", "--workers", "2", "--json"},
	} {
		code, out, stderr := cli(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
		var report struct {
			Errors int64 `json:"errors"`
			Ops    []struct {
				Count int64 `json:"count"`
			} `json:"operations"`
		}
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			t.Fatalf("%v: stdout is not one JSON report: %v\n%s", args, err, out)
		}
		if report.Errors != 0 || len(report.Ops) != 2 || report.Ops[0].Count == 0 {
			t.Errorf("%v: report %s", args, out)
		}
	}

	if code, out, stderr := cli(t, "init", "tpcc", "--warehouses", "1", "--method", "insert", url); code != exitOK {
		t.Fatalf("init tpcc: exit %d\n%s%s", code, out, stderr)
	} else if !strings.Contains(stderr, "100%") {
		t.Errorf("no finished progress bar on stderr: %q", stderr)
	}
	if code, out, stderr := cli(t, "check", "tpcc", url); code != exitOK {
		t.Fatalf("check tpcc: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := cli(t, "init", "tpcc", url); code != exitError || !strings.Contains(stderr, "--drop") {
		t.Errorf("init over an existing schema: exit %d, %q; want an error suggesting --drop", code, stderr)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE warehouse SET w_ytd = w_ytd + 0.01; DELETE FROM order_line WHERE ol_o_id = 5 AND ol_d_id = 3"); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := cli(t, "check", "tpcc", url)
	if code != exitViolation {
		t.Errorf("check of a broken database: exit %d, want %d\n%s%s", code, exitViolation, out, stderr)
	}
	oneLineError(t, stderr, "3.3.2.1")
	if !strings.Contains(out, "VIOLATION 3.3.2.4") {
		t.Errorf("the lost order lines are not reported:\n%s", out)
	}
}
