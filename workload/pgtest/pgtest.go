// Package pgtest gives tests a fresh PostgreSQL database of their own on the
// server named by MERIDIAN_TEST_PG_URL (which .ci/run starts and exports).
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
)

// EnvVar names the server's URL.
const EnvVar = "MERIDIAN_TEST_PG_URL"

var seq atomic.Int64

// ServerURL returns the server's URL, or skips the test when none is set.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		t.Skip(EnvVar + " is not set: these tests need a PostgreSQL server; .ci/run starts one " +
			"(or run `. .ci/postgres.sh; start_postgres` as root)")
	}
	return u
}

// NewDatabase creates a database with a unique name on the test server and
// returns its URL; the database is dropped when the test ends.
func NewDatabase(t testing.TB, prefix string) string {
	t.Helper()
	server := ServerURL(t)
	name := fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), hlc.PhysicalNow().UnixNano()%1_000_000, seq.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connecting to %s: %v", server, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("connecting to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	return WithDatabase(t, server, name)
}

// WithDatabase returns u with its database replaced by name.
func WithDatabase(t testing.TB, u, name string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parsing %s: %v", u, err)
	}
	p.Path = "/" + name
	return p.String()
}
