package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestSecureCluster: certificates made by `meridian cert`, three nodes
// started with --certs-dir (mutual TLS between them), `meridian init` and
// `node ls` with a client certificate; SQL needs TLS and authentication:
// without a client certificate a connection is refused, with one it works.
// A user created by root logs in with its password (SCRAM-SHA-256) through
// any node; a wrong password and an unknown user are refused alike
// (28P01), a NOLOGIN role with 28000, and a password over plaintext not
// at all. A client certificate's user must be a role.
func TestSecureCluster(t *testing.T) {
	dir := t.TempDir()
	certs, caKey := filepath.Join(dir, "certs"), filepath.Join(dir, "safe", "ca.key")
	for _, args := range [][]string{
		{"cert", "create-ca", "--certs-dir", certs, "--ca-key", caKey},
		{"cert", "create-node", "127.0.0.1", "localhost", "--certs-dir", certs, "--ca-key", caKey},
		{"cert", "create-client", "root", "--certs-dir", certs, "--ca-key", caKey},
	} {
		if out, err := runCLI(t, args...); err != nil {
			t.Fatalf("meridian %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := runCLI(t, "cert", "create-ca", "--certs-dir", certs, "--ca-key", caKey); err == nil {
		t.Fatalf("a second create-ca overwrote the CA:\n%s", out)
	}
	c := newProcCluster(t, 3)
	var joins []string
	for _, n := range c.nodes {
		joins = append(joins, n.listen)
	}
	for i, n := range c.nodes {
		n.proc = startProc(t, "secure", nil, "start", "--certs-dir", certs, "--store", n.store, "--listen-addr", n.listen,
			"--sql-addr", n.sql, "--http-addr", n.http, "--join", strings.Join(joins, ","), "--liveness-duration", "3s")
		_ = i
	}
	if out, err := runCLI(t, "init", "--insecure", "--host", c.nodes[0].listen, "--timeout", "5s"); err == nil {
		t.Fatalf("init without TLS succeeded against a secure node:\n%s", out)
	}
	if out, err := runCLI(t, "init", "--certs-dir", certs, "--host", c.nodes[0].listen); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	for _, n := range c.nodes {
		n.waitReady(t)
	}
	out, err := runCLI(t, "node", "ls", "--certs-dir", certs, "--host", c.nodes[1].listen)
	if err != nil || !strings.Contains(out, "(3 rows)") {
		t.Fatalf("node ls: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := func(i int, params string) string {
		return "postgresql://root@" + c.nodes[i].sql + "/defaultdb?" + params
	}
	withCert := "sslmode=verify-full&sslrootcert=" + certs + "/ca.crt&sslcert=" + certs + "/client.root.crt&sslkey=" + certs + "/client.root.key"
	for _, params := range []string{"sslmode=disable", "sslmode=require", "sslmode=verify-full&sslrootcert=" + certs + "/ca.crt"} {
		if conn, err := pgx.Connect(ctx, url(0, params)); err == nil {
			_ = conn.Close(ctx)
			t.Fatalf("connected with %s: no client certificate, no password", params)
		} else {
			t.Logf("refused with %s: %v", params, err)
		}
	}
	c1, err := pgx.Connect(ctx, url(0, withCert))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close(ctx)
	for _, q := range []string{"CREATE TABLE s (k INT PRIMARY KEY)", "INSERT INTO s VALUES (1), (2), (3)"} {
		if _, err := c1.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c2, err := pgx.Connect(ctx, url(2, withCert))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	var n int
	if err := c2.QueryRow(ctx, "SELECT count(*) FROM s").Scan(&n); err != nil || n != 3 {
		t.Fatalf("read through node 3: %d rows, %v", n, err)
	}
	if out, err := runCLI(t, "sql", "--certs-dir", certs, "--host", c.nodes[1].sql, "-e", "SELECT count(*) FROM s"); err != nil || !strings.Contains(out, "3") {
		t.Fatalf("meridian sql with a client certificate: %v\n%s", err, out)
	}

	// alice reads s by a grant (privileges are enforced).
	for _, q := range []string{"CREATE USER alice PASSWORD 's3cret'", "CREATE ROLE bob PASSWORD 's3cret'", "GRANT SELECT ON s TO alice"} {
		if _, err := c1.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	withPassword := func(i int, user, pw, sslmode string) string {
		return "postgresql://" + user + ":" + pw + "@" + c.nodes[i].sql + "/defaultdb?sslmode=" + sslmode + "&sslrootcert=" + certs + "/ca.crt"
	}
	alice, err := pgx.Connect(ctx, withPassword(1, "alice", "s3cret", "verify-full"))
	if err != nil {
		t.Fatalf("alice with her password: %v", err)
	}
	defer alice.Close(ctx)
	var who string
	if err := alice.QueryRow(ctx, "SELECT current_user, count(*) FROM s").Scan(&who, &n); err != nil || who != "alice" || n != 3 {
		t.Fatalf("alice's query: %s, %d rows, %v", who, n, err)
	}
	for _, tc := range []struct{ user, pw, sslmode, code string }{
		{"alice", "wrong", "verify-full", "28P01"},
		{"mallory", "s3cret", "verify-full", "28P01"},
		{"bob", "s3cret", "verify-full", "28000"}, // CREATE ROLE: NOLOGIN
		{"alice", "s3cret", "disable", ""},        // no TLS, no connection
	} {
		conn, err := pgx.Connect(ctx, withPassword(2, tc.user, tc.pw, tc.sslmode))
		if err == nil {
			_ = conn.Close(ctx)
			t.Fatalf("%s/%s with sslmode=%s connected", tc.user, tc.pw, tc.sslmode)
		}
		var pe *pgconn.PgError
		if tc.code != "" && (!errors.As(err, &pe) || pe.Code != tc.code) {
			t.Fatalf("%s/%s: %v, want SQLSTATE %s", tc.user, tc.pw, err, tc.code)
		}
		t.Logf("%s/%s with sslmode=%s refused: %v", tc.user, tc.pw, tc.sslmode, err)
	}

	// A client certificate authenticates a user, who must still be a
	// role that may log in.
	if out, err := runCLI(t, "cert", "create-client", "carol", "--certs-dir", certs, "--ca-key", caKey); err != nil {
		t.Fatalf("create-client carol: %v\n%s", err, out)
	}
	carolURL := "postgresql://carol@" + c.nodes[0].sql + "/defaultdb?sslmode=verify-full&sslrootcert=" + certs + "/ca.crt&sslcert=" + certs + "/client.carol.crt&sslkey=" + certs + "/client.carol.key"
	var pe *pgconn.PgError
	if conn, err := pgx.Connect(ctx, carolURL); err == nil || !errors.As(err, &pe) || pe.Code != "28000" {
		if err == nil {
			_ = conn.Close(ctx)
		}
		t.Fatalf("carol's certificate without a role: %v, want 28000", err)
	}
	if _, err := c1.Exec(ctx, "CREATE USER carol"); err != nil {
		t.Fatal(err)
	}
	carol, err := pgx.Connect(ctx, carolURL)
	if err != nil {
		t.Fatalf("carol's certificate once she is a user: %v", err)
	}
	_ = carol.Close(ctx)
}
