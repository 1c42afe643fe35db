// Package kv is the key-value workload as CockroachDB defines it: one table
// kv (k BIGINT PRIMARY KEY, v BYTEA), and workers that read or write
// batches of keys. kv0 writes only (--read-percent 0); kv95 reads 95% of the
// time. Keys are drawn uniformly or by a zipfian law (theta 0.99) over
// --cycle-length indexes, and are either the indexes themselves
// (--sequential: writes walk the keyspace in order) or the indexes
// scrambled over the whole int64 range.
package kv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/workload"
)

const (
	table   = "kv"
	create  = `CREATE TABLE kv (k bigint NOT NULL PRIMARY KEY, v bytea NOT NULL)`
	opRead  = "read"
	opWrite = "write"
)

// Options are the key and value choices shared by init and run; init's
// preloaded rows use the same mapping of indexes to keys as the run.
type Options struct {
	// Sequential makes keys the indexes themselves, written in order.
	Sequential bool
	// Distribution is "uniform" (the default) or "zipfian".
	Distribution string
	// CycleLength is the number of distinct keys (default 1,000,000).
	CycleLength int64
	// MinBlockBytes and MaxBlockBytes bound a value's size (default 1).
	MinBlockBytes, MaxBlockBytes int
}

func (o *Options) validate() error {
	switch o.Distribution {
	case "":
		o.Distribution = "uniform"
	case "uniform", "zipfian":
	default:
		return errors.Newf("unknown key distribution %q (want uniform or zipfian)", o.Distribution)
	}
	if o.CycleLength == 0 {
		o.CycleLength = 1_000_000
	}
	if o.CycleLength < 1 {
		return errors.New("--cycle-length must be at least 1")
	}
	if o.MinBlockBytes == 0 && o.MaxBlockBytes == 0 {
		o.MinBlockBytes, o.MaxBlockBytes = 1, 1
	}
	if o.MinBlockBytes < 1 || o.MaxBlockBytes < o.MinBlockBytes {
		return errors.Newf("value size: want 1 <= --min-block-bytes (%d) <= --max-block-bytes (%d)",
			o.MinBlockBytes, o.MaxBlockBytes)
	}
	return nil
}

func (o *Options) key(index uint64) int64 {
	if o.Sequential {
		return int64(index)
	}
	return scramble(index)
}

func (o *Options) value(r *rand.Rand) []byte {
	b := make([]byte, o.MinBlockBytes+r.IntN(o.MaxBlockBytes-o.MinBlockBytes+1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// InitConfig configures `workload init kv`.
type InitConfig struct {
	URLs []string
	Options
	// Rows preloads this many keys, indexes 0 to Rows-1 (default none).
	Rows int64
	Drop bool
	// Progress, when set, gets the progress bar.
	Progress io.Writer
}

// Init creates the kv table and preloads cfg.Rows rows.
func Init(ctx context.Context, cfg InitConfig) (int64, error) {
	if err := cfg.validate(); err != nil {
		return 0, err
	}
	if cfg.Rows < 0 || cfg.Rows > cfg.CycleLength {
		return 0, errors.Newf("--rows %d must be in [0, --cycle-length %d]", cfg.Rows, cfg.CycleLength)
	}
	conns, err := workload.Connect(ctx, cfg.URLs, 4)
	if err != nil {
		return 0, err
	}
	defer conns.Close()
	pool := conns.Pool(0)
	if cfg.Drop {
		if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS kv"); err != nil {
			return 0, errors.Wrap(err, "dropping kv")
		}
	}
	if _, err := pool.Exec(ctx, create); err != nil {
		if workload.SQLState(err) == "42P07" {
			return 0, errors.New("table kv already exists: pass --drop to replace it, or use another database")
		}
		return 0, errors.Wrap(err, "creating kv")
	}
	if cfg.Rows == 0 {
		return 0, nil
	}
	var bar *workload.Progress
	if cfg.Progress != nil {
		bar = workload.StartProgress(cfg.Progress, "loading kv", cfg.Rows, hlc.PhysicalNow())
		defer bar.Finish()
	}
	const chunk = 10_000
	var tasks []func(context.Context) error
	for lo := int64(0); lo < cfg.Rows; lo += chunk {
		hi := min(lo+chunk, cfg.Rows)
		tasks = append(tasks, func(ctx context.Context) error {
			r := rand.New(rand.NewPCG(uint64(lo), 1))
			i := lo
			src := pgx.CopyFromFunc(func() ([]any, error) {
				if i == hi {
					return nil, nil
				}
				i++
				if bar != nil {
					bar.Add(1)
				}
				return []any{cfg.key(uint64(i - 1)), cfg.value(r)}, nil
			})
			_, err := conns.Pool(int(lo/chunk)).CopyFrom(ctx, pgx.Identifier{table}, []string{"k", "v"}, src)
			return errors.Wrap(err, "loading kv")
		})
	}
	if err := workload.Parallel(ctx, 4, tasks); err != nil {
		return 0, err
	}
	return cfg.Rows, nil
}

// RunConfig configures `workload run kv`.
type RunConfig struct {
	URLs []string
	Options
	Duration, Ramp time.Duration
	// Workers defaults to 8.
	Workers int
	// ReadPercent is the share of operations that read (kv95: 95).
	ReadPercent int
	// Batch is the number of keys per statement (default 1).
	Batch int
	Seed  uint64
	Live  io.Writer
}

// Report is the outcome of a run.
type Report struct {
	ReadPercent  int                 `json:"read_percent"`
	Batch        int                 `json:"batch"`
	Workers      int                 `json:"workers"`
	Distribution string              `json:"distribution"`
	Sequential   bool                `json:"sequential"`
	Duration     float64             `json:"duration_s"`
	OpsPerSec    float64             `json:"ops_per_second"`
	Errors       int64               `json:"errors"`
	Retries      int64               `json:"retries"`
	Ops          []workload.OpReport `json:"operations"`
	FirstError   string              `json:"first_error,omitempty"`
}

// Run runs the kv workload.
func Run(ctx context.Context, cfg RunConfig) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Duration <= 0 {
		return nil, errors.New("--duration must be positive")
	}
	if cfg.ReadPercent < 0 || cfg.ReadPercent > 100 {
		return nil, errors.Newf("--read-percent %d must be in [0, 100]", cfg.ReadPercent)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 1
	}
	if cfg.Batch < 1 || cfg.Batch > 10_000 {
		return nil, errors.Newf("--batch %d must be in [1, 10000]", cfg.Batch)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 8
	}
	if cfg.Workers < 1 {
		return nil, errors.New("--workers must be at least 1")
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	conns, err := workload.Connect(ctx, cfg.URLs, (cfg.Workers+len(cfg.URLs)-1)/len(cfg.URLs))
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	if err := workload.RequireTables(ctx, conns.Pool(0), "kv", table); err != nil {
		return nil, err
	}
	var zipf *zipfian
	if cfg.Distribution == "zipfian" {
		zipf = newZipfian(uint64(cfg.CycleLength), zipfTheta)
	}
	var seq atomic.Uint64
	stats := workload.NewStats(opRead, opWrite)
	var firstErr atomic.Pointer[string]
	elapsed, err := workload.Run(ctx, stats, workload.RunOptions{
		Workers: cfg.Workers, Duration: cfg.Duration, Ramp: cfg.Ramp, Live: cfg.Live,
	}, func(ctx context.Context, id int, stop <-chan struct{}) error {
		r := rand.New(rand.NewPCG(cfg.Seed, uint64(id)))
		pool := conns.Pool(id)
		index := func() uint64 {
			if zipf != nil {
				return zipf.draw(r)
			}
			return r.Uint64N(uint64(cfg.CycleLength))
		}
		keys := make([]int64, 0, cfg.Batch)
		args := make([]any, 0, 2*cfg.Batch)
		for !workload.Stopped(ctx, stop) {
			op := opWrite
			if r.IntN(100) < cfg.ReadPercent {
				op = opRead
			}
			keys = keys[:0]
			for range cfg.Batch {
				i := index()
				if op == opWrite && cfg.Sequential {
					i = (seq.Add(1) - 1) % uint64(cfg.CycleLength)
				}
				keys = append(keys, cfg.key(i))
			}
			// Sorted and unique: PostgreSQL refuses to upsert a row twice
			// in one statement, and a fixed lock order avoids deadlocks.
			slices.Sort(keys)
			keys = slices.Compact(keys)
			args = args[:0]
			var sql string
			if op == opRead {
				for _, k := range keys {
					args = append(args, k)
				}
				sql = "SELECT k, v FROM kv WHERE k IN (" + placeholders(len(keys), 1) + ")"
			} else {
				for _, k := range keys {
					args = append(args, k, cfg.value(r))
				}
				sql = "INSERT INTO kv (k, v) VALUES " + placeholders(len(keys), 2) +
					" ON CONFLICT (k) DO UPDATE SET v = excluded.v"
			}
			start := hlc.PhysicalNow()
			retries, err := workload.Retry(ctx, func() error {
				if op == opRead {
					rows, err := pool.Query(ctx, sql, args...)
					if err != nil {
						return err
					}
					for rows.Next() {
					}
					return rows.Err()
				}
				_, err := pool.Exec(ctx, sql, args...)
				return err
			})
			switch {
			case err == nil:
				stats.Record(op, time.Since(start), retries)
			case ctx.Err() != nil:
				return nil
			default:
				stats.RecordError(op, retries)
				msg := op + ": " + workload.UserError(err)
				firstErr.CompareAndSwap(nil, &msg)
				if workload.IsFatal(err) {
					return errors.Wrap(err, op)
				}
				workload.Sleep(ctx, stop, 100*time.Millisecond)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := &Report{
		ReadPercent: cfg.ReadPercent, Batch: cfg.Batch, Workers: cfg.Workers, Distribution: cfg.Distribution,
		Sequential: cfg.Sequential, Duration: elapsed.Seconds(), Ops: stats.Report(elapsed),
	}
	var count int64
	count, rep.Errors, rep.Retries = workload.Totals(rep.Ops)
	if elapsed > 0 {
		rep.OpsPerSec = float64(count) / elapsed.Seconds()
	}
	if p := firstErr.Load(); p != nil {
		rep.FirstError = *p
	}
	return rep, nil
}

// placeholders is "($1), ($2)" for rows of width 1, "($1, $2), ($3, $4)"
// for width 2, and so on.
func placeholders(rows, width int) string {
	var b strings.Builder
	if width == 1 {
		for i := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", i+1)
		}
		return b.String()
	}
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range width {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", i*width+c+1)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// CheckResult describes the table.
type CheckResult struct {
	Rows int64
}

// Check verifies that the kv table exists and that every value is
// non-empty (the workload never writes an empty one).
func Check(ctx context.Context, url string) (*CheckResult, error) {
	conns, err := workload.Connect(ctx, []string{url}, 1)
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	pool := conns.Pool(0)
	if err := workload.RequireTables(ctx, pool, "kv", table); err != nil {
		return nil, err
	}
	var res CheckResult
	var empty int64
	if err := pool.QueryRow(ctx,
		`SELECT count(*), count(CASE WHEN length(v) = 0 THEN 1 END) FROM kv`).Scan(&res.Rows, &empty); err != nil {
		return nil, errors.Wrap(err, "checking kv")
	}
	if empty > 0 {
		return &res, errors.Mark(errors.Newf("%d kv rows have an empty value", empty), workload.ErrViolation)
	}
	return &res, nil
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) {
	order := "random"
	if r.Sequential {
		order = "sequential"
	}
	fmt.Fprintf(w, "\nkv: %d%% reads, batch %d, %s %s keys, %d worker(s), %.1fs measured\n",
		r.ReadPercent, r.Batch, r.Distribution, order, r.Workers, r.Duration)
	workload.WriteOpTable(w, r.Ops)
	fmt.Fprintf(w, "errors %d, retries %d\n", r.Errors, r.Retries)
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	fmt.Fprintf(w, "%.1f operations per second\n", r.OpsPerSec)
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
