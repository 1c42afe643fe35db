// Package workload holds what the workloads behind `meridian workload` share:
// connections spread over several PostgreSQL-wire endpoints, transactions
// retried on serialization failures, latency histograms, the live line and
// the final report, and the parallel loader with its progress bar.
//
// The workloads themselves live in subpackages (tpcc, kv, bank). They speak
// only the PostgreSQL dialect through pgx, so the same binary measures
// Meridian and anything it is compared with (PostgreSQL, CockroachDB).
//
// Errors a user sees come out of UserError: one line that says what failed
// and, where we can tell, what to do about it.
package workload

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrViolation marks a failed consistency or invariant check; the CLI exits
// with a distinct code for it.
var ErrViolation = errors.New("consistency check failed")

// ErrNoSchema marks a database that lacks the tables a workload needs.
var ErrNoSchema = errors.New("workload schema missing")

// DefaultConnectTimeout applies unless the URL sets connect_timeout.
const DefaultConnectTimeout = 10 * time.Second

// Conns is one connection pool per endpoint. Worker i uses Pool(i), so
// workers are spread round-robin over every URL given. It is safe for
// concurrent use.
type Conns struct {
	urls  []string
	pools []*pgxpool.Pool
}

// Connect opens a pool of up to maxConnsPerURL connections to each URL and
// checks that every endpoint answers. On failure nothing is left open.
func Connect(ctx context.Context, urls []string, maxConnsPerURL int) (*Conns, error) {
	if len(urls) == 0 {
		return nil, errors.New("no database URL given")
	}
	if maxConnsPerURL < 1 {
		maxConnsPerURL = 1
	}
	c := &Conns{urls: urls}
	for _, u := range urls {
		cfg, err := pgxpool.ParseConfig(u)
		if err != nil {
			c.Close()
			return nil, errors.Newf("invalid database URL %q: %s", Redact(u), oneLine(err.Error()))
		}
		cfg.MaxConns = int32(maxConnsPerURL)
		cfg.MinConns = 0
		// An unreachable host fails within seconds, not a TCP timeout.
		if cfg.ConnConfig.ConnectTimeout == 0 {
			cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			c.Close()
			return nil, errors.Wrapf(err, "connecting to %s", Redact(u))
		}
		c.pools = append(c.pools, pool)
		if err := pool.Ping(ctx); err != nil {
			c.Close()
			return nil, errors.Wrapf(err, "connecting to %s", Redact(u))
		}
	}
	return c, nil
}

// Pool returns the pool worker i uses.
func (c *Conns) Pool(i int) *pgxpool.Pool { return c.pools[i%len(c.pools)] }

// Len returns the number of endpoints.
func (c *Conns) Len() int { return len(c.pools) }

// Close closes every pool and waits for their connections to close.
func (c *Conns) Close() {
	for _, p := range c.pools {
		p.Close()
	}
	c.pools = nil
}

// Redact hides the password in a URL for messages.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "xxxxx")
	}
	return p.String()
}

// SQLState returns the SQLSTATE of the first PostgreSQL error in err's
// chain, or "".
func SQLState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// IsRetryable reports whether err asks the client to retry the whole
// transaction: a serialization failure (40001) or a deadlock (40P01).
func IsRetryable(err error) bool {
	switch SQLState(err) {
	case "40001", "40P01":
		return true
	}
	return false
}

// IsFatal reports whether err means that carrying on is pointless: the
// schema is wrong or missing, the statement is not supported, or the server
// refuses our credentials. Connection errors are not fatal: with several
// endpoints a node may restart under a run, and they are counted instead.
func IsFatal(err error) bool {
	s := SQLState(err)
	if len(s) < 2 {
		return false
	}
	switch s[:2] {
	case "0A", "28", "3D", "42":
		return true
	}
	return false
}

// UserError turns err into the one line a user sees: what failed, and for
// the common cases (unreachable server, bad password, missing database or
// schema) what to do.
func UserError(err error) string {
	if err == nil {
		return ""
	}
	msg := oneLine(err.Error())
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case "28P01", "28000":
			return msg + " (check the user and password in the URL)"
		case "3D000":
			return msg + " (create the database first, or name another in the URL)"
		case "42P01":
			if !errors.Is(err, ErrNoSchema) {
				return msg + " (run `meridian workload init` first)"
			}
		}
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) && strings.Contains(msg, "connect: connection refused") {
		return msg + " (is the server running and listening there?)"
	}
	return msg
}

// oneLine folds a multi-line message into one line. pgx reports a failed
// connection as a header ending in ":" and one line per attempt (with
// sslmode=prefer, a refused TLS attempt first): the last attempt says why.
func oneLine(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	switch {
	case len(lines) == 0:
		return s
	case len(lines) == 1:
		return lines[0]
	case strings.HasSuffix(lines[0], ":"):
		return lines[0] + " " + lines[len(lines)-1]
	}
	return strings.Join(lines, "; ")
}

// TableExists reports whether the database behind pool has a table named
// name that the user can read. It asks the table itself, not a catalog, so
// that it works on any PostgreSQL-wire server.
func TableExists(ctx context.Context, pool *pgxpool.Pool, name string) (bool, error) {
	_, err := pool.Exec(ctx, "SELECT 1 FROM "+pgx.Identifier{name}.Sanitize()+" LIMIT 1")
	if err == nil {
		return true, nil
	}
	if SQLState(err) == "42P01" {
		return false, nil
	}
	return false, err
}

// RequireTables fails with ErrNoSchema unless every table exists.
func RequireTables(ctx context.Context, pool *pgxpool.Pool, workload string, tables ...string) error {
	for _, t := range tables {
		ok, err := TableExists(ctx, pool, t)
		if err != nil {
			return err
		}
		if !ok {
			return errors.Mark(errors.Newf(
				"the database has no %s schema (table %q is missing): run `meridian workload init %s` first",
				workload, t, workload), ErrNoSchema)
		}
	}
	return nil
}
