// Package bank is the bank workload: accounts that start with equal
// balances, and workers that move money between two random accounts. Each
// transfer reads both balances and writes back the new ones it computed, so
// a lost update, a dirty read or a partial commit changes the total; the
// invariant (the total is what it was, no balance is negative, no account
// is missing) is audited during the run and checked at its end.
package bank

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/workload"
)

// InitialBalance is every account's balance after init.
const InitialBalance = 1000

const (
	table      = "bank"
	create     = `CREATE TABLE bank (id integer NOT NULL PRIMARY KEY, balance bigint NOT NULL)`
	opTransfer = "transfer"
	opAudit    = "audit"
)

// InitConfig configures `workload init bank`.
type InitConfig struct {
	URLs []string
	// Accounts defaults to 1,000.
	Accounts int
	Drop     bool
}

// Init creates the accounts.
func Init(ctx context.Context, cfg InitConfig) error {
	if cfg.Accounts == 0 {
		cfg.Accounts = 1000
	}
	if cfg.Accounts < 2 {
		return errors.New("--accounts must be at least 2")
	}
	conns, err := workload.Connect(ctx, cfg.URLs, 1)
	if err != nil {
		return err
	}
	defer conns.Close()
	pool := conns.Pool(0)
	if cfg.Drop {
		if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS bank"); err != nil {
			return errors.Wrap(err, "dropping bank")
		}
	}
	if _, err := pool.Exec(ctx, create); err != nil {
		if workload.SQLState(err) == "42P07" {
			return errors.New("table bank already exists: pass --drop to replace it, or use another database")
		}
		return errors.Wrap(err, "creating bank")
	}
	// Multi-row INSERTs rather than COPY: a few thousand rows, and the
	// simplest statement every server speaks.
	const batch = 1000
	for lo := 0; lo < cfg.Accounts; lo += batch {
		hi := min(lo+batch, cfg.Accounts)
		args := make([]any, 0, 2*(hi-lo))
		sql := "INSERT INTO bank (id, balance) VALUES "
		for i := lo; i < hi; i++ {
			if i > lo {
				sql += ", "
			}
			sql += fmt.Sprintf("($%d, $%d)", 2*(i-lo)+1, 2*(i-lo)+2)
			args = append(args, i, InitialBalance)
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			return errors.Wrap(err, "loading bank")
		}
	}
	return nil
}

// RunConfig configures `workload run bank`.
type RunConfig struct {
	URLs           []string
	Duration, Ramp time.Duration
	// Workers defaults to 8.
	Workers int
	// MaxTransfer bounds a transfer's amount (default 100).
	MaxTransfer int
	Isolation   string
	Seed        uint64
	Live        io.Writer
}

// Report is the outcome of a run.
type Report struct {
	Workers  int     `json:"workers"`
	Duration float64 `json:"duration_s"`
	// Insufficient counts transfers refused for lack of funds (committed
	// without change).
	Insufficient int64               `json:"insufficient_funds"`
	Audits       int64               `json:"audits"`
	Errors       int64               `json:"errors"`
	Retries      int64               `json:"retries"`
	Ops          []workload.OpReport `json:"operations"`
	FirstError   string              `json:"first_error,omitempty"`
	// Violations lists every failed audit, during the run and after it.
	Violations []string `json:"violations,omitempty"`
}

// Run moves money for cfg.Duration and audits the invariant. It returns a
// report and, when the invariant broke, an error marked
// workload.ErrViolation.
func Run(ctx context.Context, cfg RunConfig) (*Report, error) {
	if cfg.Duration <= 0 {
		return nil, errors.New("--duration must be positive")
	}
	if cfg.Workers == 0 {
		cfg.Workers = 8
	}
	if cfg.Workers < 1 {
		return nil, errors.New("--workers must be at least 1")
	}
	if cfg.MaxTransfer == 0 {
		cfg.MaxTransfer = 100
	}
	if cfg.MaxTransfer < 1 {
		return nil, errors.New("--max-transfer must be at least 1")
	}
	txOpts := pgx.TxOptions{}
	var err error
	if txOpts.IsoLevel, err = workload.IsoLevel(cfg.Isolation); err != nil {
		return nil, err
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	conns, err := workload.Connect(ctx, cfg.URLs, (cfg.Workers+len(cfg.URLs)-1)/len(cfg.URLs))
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	pool := conns.Pool(0)
	if err := workload.RequireTables(ctx, pool, "bank", table); err != nil {
		return nil, err
	}
	var accounts int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM bank").Scan(&accounts); err != nil {
		return nil, errors.Wrap(err, "counting accounts")
	}
	if accounts < 2 {
		return nil, errors.Newf("the bank has %d account(s): run `meridian workload init bank --drop` again", accounts)
	}
	if res, err := audit(ctx, pool); err != nil || len(res) > 0 {
		if err == nil {
			err = errors.Mark(errors.Newf("the bank is inconsistent before the run: %s", res[0]), workload.ErrViolation)
		}
		return nil, err
	}

	stats := workload.NewStats(opTransfer, opAudit)
	var insufficient, audits atomic.Int64
	var firstErr atomic.Pointer[string]
	var violations violationLog
	elapsed, err := workload.Run(ctx, stats, workload.RunOptions{
		Workers: cfg.Workers, Duration: cfg.Duration, Ramp: cfg.Ramp, Live: cfg.Live,
	}, func(ctx context.Context, id int, stop <-chan struct{}) error {
		r := rand.New(rand.NewPCG(cfg.Seed, uint64(id)))
		pool := conns.Pool(id)
		lastAudit := hlc.PhysicalNow()
		fail := func(op string, retries int, err error) error {
			stats.RecordError(op, retries)
			msg := op + ": " + workload.UserError(err)
			firstErr.CompareAndSwap(nil, &msg)
			if workload.IsFatal(err) {
				return errors.Wrap(err, op)
			}
			workload.Sleep(ctx, stop, 100*time.Millisecond)
			return nil
		}
		for !workload.Stopped(ctx, stop) {
			// Worker 0 audits about once a second, between its transfers.
			if id == 0 && time.Since(lastAudit) >= time.Second {
				lastAudit = hlc.PhysicalNow()
				start := lastAudit
				var found []string
				retries, err := workload.Retry(ctx, func() error {
					var err error
					found, err = audit(ctx, pool)
					return err
				})
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					if err := fail(opAudit, retries, err); err != nil {
						return err
					}
					continue
				}
				if stats.Record(opAudit, time.Since(start), retries) {
					audits.Add(1)
				}
				violations.add(found)
				continue
			}
			from := r.IntN(accounts)
			to := r.IntN(accounts - 1)
			if to >= from {
				to++
			}
			amount := int64(1 + r.IntN(cfg.MaxTransfer))
			start := hlc.PhysicalNow()
			var refused bool
			retries, err := workload.RunTx(ctx, pool, txOpts, func(tx pgx.Tx) error {
				var err error
				refused, err = transfer(ctx, tx, from, to, amount)
				return err
			})
			switch {
			case err == nil:
				if stats.Record(opTransfer, time.Since(start), retries) && refused {
					insufficient.Add(1)
				}
			case ctx.Err() != nil:
				return nil
			default:
				if err := fail(opTransfer, retries, err); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The final audit, after every transfer has finished.
	found, err := audit(ctx, pool)
	if err != nil {
		return nil, errors.Wrap(err, "final audit")
	}
	violations.add(found)
	rep := &Report{
		Workers: cfg.Workers, Duration: elapsed.Seconds(), Insufficient: insufficient.Load(),
		Audits: audits.Load(), Ops: stats.Report(elapsed), Violations: violations.list(),
	}
	_, rep.Errors, rep.Retries = workload.Totals(rep.Ops)
	if p := firstErr.Load(); p != nil {
		rep.FirstError = *p
	}
	if len(rep.Violations) > 0 {
		return rep, errors.Mark(errors.Newf("bank invariant broken: %s", rep.Violations[0]), workload.ErrViolation)
	}
	return rep, nil
}

// transfer moves amount from one account to another unless the first has
// too little; it reports whether it refused. The balances are read under
// lock (FOR UPDATE, in id order so that transfers cannot deadlock) and the
// new ones written as values, not increments: if the database lost an
// update, the total would show it.
func transfer(ctx context.Context, tx pgx.Tx, from, to int, amount int64) (refused bool, err error) {
	rows, err := tx.Query(ctx, `SELECT id, balance FROM bank WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`, from, to)
	if err != nil {
		return false, err
	}
	balance := map[int]int64{}
	var id int
	var b int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &b}, func() error { balance[id] = b; return nil }); err != nil {
		return false, err
	}
	if len(balance) != 2 {
		return false, errors.Newf("accounts %d and %d: found %d of them", from, to, len(balance))
	}
	if balance[from] < amount {
		return true, nil
	}
	for _, u := range [2]struct {
		id      int
		balance int64
	}{{from, balance[from] - amount}, {to, balance[to] + amount}} {
		if _, err := tx.Exec(ctx, `UPDATE bank SET balance = $1 WHERE id = $2`, u.balance, u.id); err != nil {
			return false, err
		}
	}
	return false, nil
}

// audit checks the invariant in one statement (one snapshot): the total is
// InitialBalance per account, no balance is negative, and the ids are
// exactly 0 to count-1.
func audit(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	var count, sum, minBalance, minID, maxID int64
	if err := pool.QueryRow(ctx,
		`SELECT count(*), coalesce(sum(balance), 0), coalesce(min(balance), 0), coalesce(min(id), 0), coalesce(max(id), -1) FROM bank`).
		Scan(&count, &sum, &minBalance, &minID, &maxID); err != nil {
		return nil, err
	}
	var found []string
	if sum != count*InitialBalance {
		found = append(found, fmt.Sprintf("total balance %d, want %d (%d accounts of %d)", sum, count*InitialBalance, count, InitialBalance))
	}
	if minBalance < 0 {
		found = append(found, fmt.Sprintf("a balance is negative (%d)", minBalance))
	}
	if count > 0 && (minID != 0 || maxID != count-1) {
		found = append(found, fmt.Sprintf("ids span [%d, %d] for %d accounts: accounts are missing", minID, maxID, count))
	}
	return found, nil
}

// violationLog collects audit failures. It is safe for concurrent use.
type violationLog struct {
	mu struct {
		sync.Mutex
		found []string
	}
}

func (v *violationLog) add(found []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.mu.found = append(v.mu.found, found...)
}

func (v *violationLog) list() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.mu.found...)
}

// CheckResult describes the bank.
type CheckResult struct {
	Accounts   int64
	Violations []string
}

// Check audits the invariant; it returns an error marked
// workload.ErrViolation when it is broken.
func Check(ctx context.Context, url string) (*CheckResult, error) {
	conns, err := workload.Connect(ctx, []string{url}, 1)
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	pool := conns.Pool(0)
	if err := workload.RequireTables(ctx, pool, "bank", table); err != nil {
		return nil, err
	}
	res := &CheckResult{}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM bank").Scan(&res.Accounts); err != nil {
		return nil, errors.Wrap(err, "checking bank")
	}
	if res.Violations, err = audit(ctx, pool); err != nil {
		return nil, errors.Wrap(err, "checking bank")
	}
	if len(res.Violations) > 0 {
		return res, errors.Mark(errors.Newf("bank invariant broken: %s", res.Violations[0]), workload.ErrViolation)
	}
	return res, nil
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "\nbank: %d worker(s), %.1fs measured\n", r.Workers, r.Duration)
	workload.WriteOpTable(w, r.Ops)
	fmt.Fprintf(w, "transfers refused for insufficient funds %d; audits %d\n", r.Insufficient, r.Audits)
	fmt.Fprintf(w, "errors %d, retries %d\n", r.Errors, r.Retries)
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	for _, v := range r.Violations {
		fmt.Fprintf(w, "VIOLATION %s\n", v)
	}
	if len(r.Violations) == 0 {
		fmt.Fprintln(w, "invariant held: total balance unchanged, no negative balance, no account missing")
	}
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
