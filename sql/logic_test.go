package sql_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/memkv"
	"github.com/meridiandb/meridian/stop"
)

// startSQL serves a fresh SQL executor over an in-memory DB through a real
// pgwire server on loopback and returns a pgx connection to it.
func startSQL(t testing.TB) (*pgx.Conn, string) {
	t.Helper()
	st := stop.NewStopper()
	t.Cleanup(st.Stop)
	ex := sql.NewExecutor(memkv.New(), hlc.PhysicalNow)
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
	url := "postgres://test@" + ln.Addr().String() + "/db?sslmode=disable"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c, url
}

// TestLogic runs the datadriven files in testdata/logic through pgwire:
//
//	exec           run the statements (simple protocol); prints ok or the error
//	query          run one query (simple protocol, text values); prints the
//	               column names, then one line per row ("NULL" for NULL)
//	queryx a=..    run one query with parameters $1.. (extended protocol,
//	               pgx's binary formats); values printed with %v
func TestLogic(t *testing.T) {
	datadriven.Walk(t, "testdata/logic", func(t *testing.T, path string) {
		c, _ := startSQL(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return sameError(runLogicCmd(t, c, d), d.Expected)
		})
	})
}

// TestLogicAgainstPostgres runs the same files against a real PostgreSQL
// 15 (MERIDIAN_TEST_PG_URL, which .ci/run provides), each file in a fresh
// database, and checks that PostgreSQL gives the expected output too: the
// expectations are PostgreSQL's behaviour, not merely ours. Errors compare
// by SQLSTATE only (messages may differ); a block whose arguments include
// pg-differs is skipped, with the difference explained in the file.
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
	datadriven.Walk(t, "testdata/logic", func(t *testing.T, path string) {
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
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close(ctx) }()
		if _, err := c.Exec(ctx, "SET TimeZone = 'UTC'"); err != nil {
			t.Fatal(err)
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.HasArg("pg-differs") {
				return d.Expected
			}
			return sameError(runLogicCmd(t, c, d), d.Expected)
		})
	})
}

// sameError makes two errors with the same SQLSTATE compare equal: the
// files record PostgreSQL's messages, and ours may be worded differently.
func sameError(got, expected string) string {
	if strings.HasPrefix(got, "error ") && strings.HasPrefix(expected, "error ") && code(got) == code(expected) {
		return expected
	}
	return got
}

func code(s string) string {
	s = strings.TrimPrefix(s, "error ")
	if i := strings.Index(s, ":"); i >= 0 {
		return s[:i]
	}
	return s
}

func runLogicCmd(t *testing.T, c *pgx.Conn, d *datadriven.TestData) string {
	ctx := context.Background()
	switch d.Cmd {
	case "exec":
		mrr := c.PgConn().Exec(ctx, d.Input)
		_, err := mrr.ReadAll()
		if err != nil {
			return errString(err)
		}
		return "ok"
	case "query":
		mrr := c.PgConn().Exec(ctx, d.Input)
		res, err := mrr.ReadAll()
		if err != nil {
			return errString(err)
		}
		last := res[len(res)-1]
		var b strings.Builder
		var names []string
		for _, f := range last.FieldDescriptions {
			names = append(names, f.Name)
		}
		b.WriteString(strings.Join(names, " | ") + "\n")
		for _, row := range last.Rows {
			var vals []string
			for _, v := range row {
				if v == nil {
					vals = append(vals, "NULL")
				} else {
					vals = append(vals, string(v))
				}
			}
			b.WriteString(strings.Join(vals, " | ") + "\n")
		}
		b.WriteString(last.CommandTag.String() + "\n")
		return b.String()
	case "queryx":
		var args []any
		for _, a := range d.CmdArgs {
			if a.Key == "pg-differs" {
				continue
			}
			for _, v := range a.Vals {
				args = append(args, v)
			}
		}
		rows, err := c.Query(ctx, d.Input, args...)
		if err != nil {
			return errString(err)
		}
		var b strings.Builder
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return errString(err)
			}
			var s []string
			for _, v := range vals {
				s = append(s, fmt.Sprintf("%v", v))
			}
			b.WriteString(strings.Join(s, " | ") + "\n")
		}
		if err := rows.Err(); err != nil {
			return errString(err)
		}
		b.WriteString(rows.CommandTag().String() + "\n")
		return b.String()
	}
	t.Fatalf("unknown command %s", d.Cmd)
	return ""
}

func errString(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		s := fmt.Sprintf("error %s: %s", pe.Code, pe.Message)
		if pe.Detail != "" {
			s += "\nDETAIL: " + pe.Detail
		}
		return s
	}
	return "error: " + err.Error()
}
