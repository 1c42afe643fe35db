package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/workload"
	"github.com/meridiandb/meridian/workload/bank"
	"github.com/meridiandb/meridian/workload/kv"
	"github.com/meridiandb/meridian/workload/tpcc"
)

// Exit codes of `meridian workload`.
const (
	exitOK        = 0
	exitError     = 1 // the work could not be done: connection, schema, SQL
	exitUsage     = 2
	exitViolation = 3 // a consistency check or invariant failed
)

const workloadUsage = `usage: meridian workload <init|run|check> <tpcc|kv|bank> [flags] URL...

Drives any PostgreSQL-wire endpoint (Meridian, PostgreSQL, CockroachDB).
Connections are spread over every URL given; tables go into each URL's
database. Flags may come before or after the URLs; add -h for a list.

  init tpcc --warehouses N [--fks] [--drop]     create and load TPC-C
  run tpcc --duration D [--warehouses N] [--workers C] [--wait=false] [--ramp R] [--json]
  check tpcc URL                                TPC-C consistency conditions 3.3.2.1-5
  init kv [--rows N]        run kv --read-percent P (or run kv0, run kv95)   check kv URL
  init bank [--accounts N]  run bank                                         check bank URL

Exit status: 0 ok, 1 error, 2 bad usage, 3 consistency violation.
`

func newWorkloadCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "workload (init|run|check) (tpcc|kv|bank) [flags] URL...",
		Short: "load and run TPC-C, kv and bank against PostgreSQL-wire endpoints",
		// The workload commands parse their own flags (see workloadUsage).
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if code := runWorkload(ctx, args, os.Stdout, os.Stderr); code != 0 {
				return exitCode{code: code}
			}
			return nil
		},
	}
}

// runWorkload runs `meridian workload` with args (after "workload") and
// returns the exit code; it writes reports to stdout and everything else to
// stderr.
func runWorkload(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, workloadUsage)
		if len(args) >= 1 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
			return exitUsage
		}
		return exitOK
	}
	verb, name := args[0], args[1]
	w := &workloadCmd{ctx: ctx, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("meridian workload "+verb+" "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var run func(urls []string) error
	switch verb + " " + name {
	case "init tpcc":
		run = w.initTPCC(fs)
	case "run tpcc":
		run = w.runTPCC(fs)
	case "check tpcc":
		run = w.check(fs, "tpcc")
	case "init kv":
		run = w.initKV(fs)
	case "run kv", "run kv0", "run kv95":
		run = w.runKV(fs, name)
	case "check kv":
		run = w.check(fs, "kv")
	case "init bank":
		run = w.initBank(fs)
	case "run bank":
		run = w.runBank(fs)
	case "check bank":
		run = w.check(fs, "bank")
	default:
		fmt.Fprintf(stderr, "meridian workload: unknown command %q\n\n%s", verb+" "+name, workloadUsage)
		return exitUsage
	}
	urls, err := parseInterleaved(fs, args[2:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage // the flag package has said why
	}
	if len(urls) == 0 {
		fmt.Fprintf(stderr, "meridian workload %s %s: give at least one database URL, "+
			"e.g. postgres://user:password@127.0.0.1:5432/db?sslmode=disable\n", verb, name)
		return exitUsage
	}
	if err := run(urls); err != nil {
		fmt.Fprintf(stderr, "meridian workload %s %s: %s\n", verb, name, workload.UserError(err))
		if errors.Is(err, workload.ErrViolation) {
			return exitViolation
		}
		return exitError
	}
	return exitOK
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

type workloadCmd struct {
	ctx            context.Context
	stdout, stderr io.Writer
}

// report writes a run's report: JSON on stdout with --json, text otherwise.
func (w *workloadCmd) report(asJSON bool, text func(io.Writer), js func(io.Writer) error) error {
	if asJSON {
		return js(w.stdout)
	}
	text(w.stdout)
	return nil
}

// live is where the live lines go: stderr when stdout carries JSON.
func (w *workloadCmd) live(asJSON bool) io.Writer {
	if asJSON {
		return w.stderr
	}
	return w.stdout
}

func (w *workloadCmd) initTPCC(fs *flag.FlagSet) func([]string) error {
	cfg := tpcc.InitConfig{}
	fs.IntVar(&cfg.Warehouses, "warehouses", 1, "number of warehouses")
	fs.BoolVar(&cfg.FKs, "fks", false, "add the foreign keys after the load")
	fs.BoolVar(&cfg.Drop, "drop", false, "drop existing TPC-C tables first")
	fs.StringVar(&cfg.Method, "method", "copy", "load with copy (COPY FROM STDIN) or insert (multi-row INSERT)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 4, "parallel loaders")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0: draw one)")
	return func(urls []string) error {
		cfg.URLs, cfg.Progress = urls, w.stderr
		res, err := tpcc.Init(w.ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(w.stdout, "loaded %d warehouse(s), %d rows in %.1fs (seed %d, C_LAST load constant %d)\n",
			cfg.Warehouses, res.Rows, res.Elapsed.Seconds(), res.Seed, res.Constants.CLast)
		return nil
	}
}

func (w *workloadCmd) runTPCC(fs *flag.FlagSet) func([]string) error {
	cfg := tpcc.RunConfig{}
	var asJSON bool
	fs.IntVar(&cfg.Warehouses, "warehouses", 0, "warehouses to drive (0: all loaded)")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Minute, "measured time, after the ramp")
	fs.DurationVar(&cfg.Ramp, "ramp", 0, "time to stagger the workers' starts over, not measured")
	fs.IntVar(&cfg.Workers, "workers", 0, "concurrent workers (0: 10 per warehouse, the spec's terminals)")
	fs.BoolVar(&cfg.Wait, "wait", true, "apply keying and think times (false: run back to back)")
	fs.StringVar(&cfg.Isolation, "isolation", "", "serializable, repeatable-read or read-committed (default: the server's)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0: draw one)")
	fs.BoolVar(&asJSON, "json", false, "print the final report as JSON on stdout (live lines go to stderr)")
	return func(urls []string) error {
		cfg.URLs, cfg.Live = urls, w.live(asJSON)
		r, err := tpcc.Run(w.ctx, cfg)
		if err != nil {
			return err
		}
		return w.report(asJSON, r.WriteText, r.WriteJSON)
	}
}

func (w *workloadCmd) check(fs *flag.FlagSet, name string) func([]string) error {
	return func(urls []string) error {
		if len(urls) != 1 {
			return errors.Newf("check takes one URL, got %d", len(urls))
		}
		switch name {
		case "tpcc":
			res, err := tpcc.Check(w.ctx, urls[0])
			if res != nil {
				res.WriteText(w.stdout)
			}
			return err
		case "kv":
			res, err := kv.Check(w.ctx, urls[0])
			if err == nil {
				fmt.Fprintf(w.stdout, "ok: kv has %d rows\n", res.Rows)
			}
			return err
		default:
			res, err := bank.Check(w.ctx, urls[0])
			if err == nil {
				fmt.Fprintf(w.stdout, "ok: %d accounts, total balance %d\n", res.Accounts, res.Accounts*bank.InitialBalance)
			}
			return err
		}
	}
}

func kvOptions(fs *flag.FlagSet, o *kv.Options) {
	fs.BoolVar(&o.Sequential, "sequential", false, "keys are 0, 1, 2, … and writes take them in order (default: scrambled over int64)")
	fs.Int64Var(&o.CycleLength, "cycle-length", 1_000_000, "number of distinct keys")
	fs.IntVar(&o.MinBlockBytes, "min-block-bytes", 1, "smallest value, in bytes")
	fs.IntVar(&o.MaxBlockBytes, "max-block-bytes", 1, "largest value, in bytes")
}

func (w *workloadCmd) initKV(fs *flag.FlagSet) func([]string) error {
	cfg := kv.InitConfig{}
	kvOptions(fs, &cfg.Options)
	fs.Int64Var(&cfg.Rows, "rows", 0, "rows to preload (keys of indexes 0 to rows-1)")
	fs.BoolVar(&cfg.Drop, "drop", false, "drop an existing kv table first")
	return func(urls []string) error {
		cfg.URLs, cfg.Progress = urls, w.stderr
		n, err := kv.Init(w.ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(w.stdout, "created kv with %d rows\n", n)
		return nil
	}
}

func (w *workloadCmd) runKV(fs *flag.FlagSet, name string) func([]string) error {
	cfg := kv.RunConfig{}
	var asJSON bool
	kvOptions(fs, &cfg.Options)
	defaultRead := 0
	if name == "kv95" {
		defaultRead = 95
	}
	fs.IntVar(&cfg.ReadPercent, "read-percent", defaultRead, "percentage of operations that read (kv0: 0, kv95: 95)")
	fs.StringVar(&cfg.Distribution, "distribution", "uniform", "key distribution: uniform or zipfian")
	fs.IntVar(&cfg.Batch, "batch", 1, "keys per statement")
	fs.IntVar(&cfg.Workers, "workers", 8, "concurrent workers")
	fs.DurationVar(&cfg.Duration, "duration", time.Minute, "measured time, after the ramp")
	fs.DurationVar(&cfg.Ramp, "ramp", 0, "time to stagger the workers' starts over, not measured")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0: draw one)")
	fs.BoolVar(&asJSON, "json", false, "print the final report as JSON on stdout (live lines go to stderr)")
	return func(urls []string) error {
		cfg.URLs, cfg.Live = urls, w.live(asJSON)
		r, err := kv.Run(w.ctx, cfg)
		if err != nil {
			return err
		}
		return w.report(asJSON, r.WriteText, r.WriteJSON)
	}
}

func (w *workloadCmd) initBank(fs *flag.FlagSet) func([]string) error {
	cfg := bank.InitConfig{}
	fs.IntVar(&cfg.Accounts, "accounts", 1000, "number of accounts")
	fs.BoolVar(&cfg.Drop, "drop", false, "drop an existing bank table first")
	return func(urls []string) error {
		cfg.URLs = urls
		if err := bank.Init(w.ctx, cfg); err != nil {
			return err
		}
		fmt.Fprintf(w.stdout, "created %d accounts of %d\n", cfg.Accounts, bank.InitialBalance)
		return nil
	}
}

func (w *workloadCmd) runBank(fs *flag.FlagSet) func([]string) error {
	cfg := bank.RunConfig{}
	var asJSON bool
	fs.IntVar(&cfg.Workers, "workers", 8, "concurrent workers")
	fs.IntVar(&cfg.MaxTransfer, "max-transfer", 100, "largest amount moved by one transfer")
	fs.DurationVar(&cfg.Duration, "duration", time.Minute, "measured time, after the ramp")
	fs.DurationVar(&cfg.Ramp, "ramp", 0, "time to stagger the workers' starts over, not measured")
	fs.StringVar(&cfg.Isolation, "isolation", "", "serializable, repeatable-read or read-committed (default: the server's)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0: draw one)")
	fs.BoolVar(&asJSON, "json", false, "print the final report as JSON on stdout (live lines go to stderr)")
	return func(urls []string) error {
		cfg.URLs, cfg.Live = urls, w.live(asJSON)
		r, err := bank.Run(w.ctx, cfg)
		if r != nil {
			if rerr := w.report(asJSON, r.WriteText, r.WriteJSON); rerr != nil && err == nil {
				err = rerr
			}
		}
		return err
	}
}
