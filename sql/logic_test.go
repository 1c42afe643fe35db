package sql_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/memkv"
	"github.com/meridiandb/meridian/sql/sqltest"
	"github.com/meridiandb/meridian/stop"
)

// startSQL serves a fresh SQL executor over an in-memory DB through a real
// pgwire server on loopback and returns a pgx connection to it.
func startSQL(t testing.TB) (*pgx.Conn, string) {
	t.Helper()
	return serveSQL(t, sql.NewExecutor(memkv.New(), hlc.PhysicalNow))
}

// serveSQL serves ex through a real pgwire server on loopback and returns
// a pgx connection to it.
func serveSQL(t testing.TB, ex *sql.Executor) (*pgx.Conn, string) {
	t.Helper()
	st := stop.NewStopper()
	t.Cleanup(st.Stop)
	srv, err := pgwire.NewServer(pgwire.Config{Executor: ex}, st)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); err != nil {
		t.Fatal(err)
	}
	url := "postgres://test@" + ln.Addr().String() + "/defaultdb?sslmode=disable"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = sqltest.RecordNotices
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c, url
}

// TestLogic runs the files of testdata/logic (see package sqltest)
// through pgwire, on an in-memory DB.
func TestLogic(t *testing.T) {
	sqltest.Run(t, "testdata/logic", func(t *testing.T, path string) *pgx.Conn {
		c, _ := startSQL(t)
		return c
	}, false)
}

// TestLogicAgainstPostgres runs the same files against a real PostgreSQL
// 15 (MERIDIAN_TEST_PG_URL, which .ci/run provides), each file in a fresh
// database: the expected outputs are PostgreSQL's behaviour, not merely
// ours.
func TestLogicAgainstPostgres(t *testing.T) {
	url := os.Getenv("MERIDIAN_TEST_PG_URL")
	if url == "" {
		t.Skip("MERIDIAN_TEST_PG_URL not set (.ci/run starts a PostgreSQL and sets it)")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	sqltest.Run(t, "testdata/logic", func(t *testing.T, path string) *pgx.Conn {
		db := "logic_" + strings.NewReplacer("/", "_", "-", "_", ".", "_").Replace(filepath.Base(path))
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Database = db
		cfg.OnNotice = sqltest.RecordNotices
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(ctx) })
		if _, err := c.Exec(ctx, "SET TimeZone = 'UTC'"); err != nil {
			t.Fatal(err)
		}
		return c
	}, true)
}
