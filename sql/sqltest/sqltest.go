// Package sqltest runs SQL logic test files (datadriven, in
// sql/testdata/logic) over any PostgreSQL connection: Meridian's SQL layer
// on an in-memory DB, a real cluster, or PostgreSQL itself.
//
// Commands:
//
//	exec           run the statements (simple protocol); prints ok or the error
//	query          run one query (simple protocol, text values); prints the
//	               column names, then one line per row ("NULL" for NULL),
//	               then the command tag
//	queryx args=.. run one query with parameters (extended protocol, pgx's
//	               binary formats); values printed with %v
//
// Errors print as "error <SQLSTATE>: <message>" and compare by SQLSTATE
// only: the files record PostgreSQL's messages. A block with the argument
// pg-differs is one where Meridian deliberately differs from PostgreSQL;
// RunAgainstPostgres skips it.
//
// exec with the argument notices also prints the NOTICEs (and warnings)
// the statements sent, each with its DETAIL and HINT, before ok or the
// error, and prints an error with its DETAIL and HINT, compared exactly:
// for messages that are the point of the test (DROP ... CASCADE's). The
// connection must have been made with RecordNotices as its OnNotice.
package sqltest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Run runs every file under dir, each on a fresh connection from connect
// (which should give each file a fresh database).
func Run(t *testing.T, dir string, connect func(t *testing.T, path string) *pgx.Conn, skipPGDiffers bool) {
	datadriven.Walk(t, dir, func(t *testing.T, path string) {
		c := connect(t, path)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if skipPGDiffers && d.HasArg("pg-differs") {
				return d.Expected
			}
			if d.Cmd == "exec" && d.HasArg("notices") {
				return RunCmd(t, c, d)
			}
			return sameError(RunCmd(t, c, d), d.Expected)
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

// RunCmd runs one datadriven command on c and returns its output.
func RunCmd(t *testing.T, c *pgx.Conn, d *datadriven.TestData) string {
	ctx := context.Background()
	switch d.Cmd {
	case "exec":
		if d.HasArg("notices") {
			takeNotices(c.PgConn())
			_, err := c.PgConn().Exec(ctx, d.Input).ReadAll()
			out := takeNotices(c.PgConn())
			if err != nil {
				return out + verboseErrString(err)
			}
			return out + "ok"
		}
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

// notices are the notices each connection made with RecordNotices has
// received and exec notices has not printed yet.
var notices struct {
	sync.Mutex
	by map[*pgconn.PgConn]*strings.Builder
}

// RecordNotices is an OnNotice handler (pgconn.Config) that keeps the
// connection's notices for exec's notices argument.
func RecordNotices(c *pgconn.PgConn, n *pgconn.Notice) {
	notices.Lock()
	defer notices.Unlock()
	if notices.by == nil {
		notices.by = map[*pgconn.PgConn]*strings.Builder{}
	}
	b := notices.by[c]
	if b == nil {
		b = &strings.Builder{}
		notices.by[c] = b
	}
	b.WriteString(n.Severity + ": " + n.Message + "\n")
	if n.Detail != "" {
		b.WriteString("DETAIL: " + n.Detail + "\n")
	}
	if n.Hint != "" {
		b.WriteString("HINT: " + n.Hint + "\n")
	}
}

// takeNotices returns (and forgets) c's notices so far.
func takeNotices(c *pgconn.PgConn) string {
	notices.Lock()
	defer notices.Unlock()
	b := notices.by[c]
	if b == nil {
		return ""
	}
	delete(notices.by, c)
	return b.String()
}

// verboseErrString is errString with the error's HINT too.
func verboseErrString(err error) string {
	s := errString(err)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Hint != "" {
		s += "\nHINT: " + pe.Hint
	}
	return s
}
