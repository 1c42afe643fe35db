package tpcc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/workload"
)

// The five transactions, as the report names them.
const (
	txNewOrder    = "new_order"
	txPayment     = "payment"
	txOrderStatus = "order_status"
	txDelivery    = "delivery"
	txStockLevel  = "stock_level"
)

var txNames = []string{txNewOrder, txPayment, txOrderStatus, txDelivery, txStockLevel}

// mix is the share of each transaction, in percent (clause 5.2.3 gives
// the minimums for the last four; New-Order takes the rest).
var mix = map[string]int{txNewOrder: 45, txPayment: 43, txOrderStatus: 4, txDelivery: 4, txStockLevel: 4}

// keying and mean think times (clauses 5.2.5.2 and 5.2.5.4).
var (
	keyingTime = map[string]time.Duration{
		txNewOrder: 18 * time.Second, txPayment: 3 * time.Second, txOrderStatus: 2 * time.Second,
		txDelivery: 2 * time.Second, txStockLevel: 2 * time.Second,
	}
	thinkTime = map[string]time.Duration{
		txNewOrder: 12 * time.Second, txPayment: 12 * time.Second, txOrderStatus: 10 * time.Second,
		txDelivery: 5 * time.Second, txStockLevel: 5 * time.Second,
	}
)

// MaxTpmCPerWarehouse is the highest tpmC a warehouse's ten terminals can
// reach with the keying and think times; efficiency is measured against it.
const MaxTpmCPerWarehouse = 12.86

// RunConfig configures `workload run tpcc`.
type RunConfig struct {
	URLs []string
	// Warehouses to drive; 0 means every loaded warehouse.
	Warehouses int
	Duration   time.Duration
	Ramp       time.Duration
	// Workers defaults to 10 per warehouse (the spec's terminals).
	Workers int
	// Wait applies keying and think times; without it workers run
	// transactions back to back.
	Wait bool
	// Isolation is an isolation level for every transaction ("" keeps the
	// server's default).
	Isolation string
	// Seed makes the terminals' choices reproducible; 0 draws one.
	Seed uint64
	// Live, when set, gets a line every second.
	Live io.Writer
}

// runConfig is what terminals share.
type runConfig struct {
	warehouses int
	wait       bool
	txOpts     pgx.TxOptions
	consts     Constants
}

// Report is the outcome of a run.
type Report struct {
	Warehouses int     `json:"warehouses"`
	Workers    int     `json:"workers"`
	Wait       bool    `json:"wait"`
	Seed       uint64  `json:"seed"`
	Duration   float64 `json:"duration_s"`
	// TpmC is completed New-Orders per minute, the deliberately rolled back
	// 1% included (they are completed transactions, clause 2.4.2.3).
	TpmC float64 `json:"tpmC"`
	// Efficiency is TpmC against MaxTpmCPerWarehouse × Warehouses, in
	// percent; meaningful only with wait.
	Efficiency        float64             `json:"efficiency_pct"`
	NewOrderRollbacks int64               `json:"new_order_rollbacks"`
	DeliverySkipped   int64               `json:"delivery_skipped_districts"`
	Errors            int64               `json:"errors"`
	Retries           int64               `json:"retries"`
	Transactions      []workload.OpReport `json:"transactions"`
	// FirstError is the first failed transaction's error, if any.
	FirstError string `json:"first_error,omitempty"`
}

// Run runs the TPC-C transaction mix and reports tpmC and latencies.
func Run(ctx context.Context, cfg RunConfig) (*Report, error) {
	if cfg.Duration <= 0 {
		return nil, errors.New("--duration must be positive")
	}
	txOpts := pgx.TxOptions{}
	var err error
	if txOpts.IsoLevel, err = workload.IsoLevel(cfg.Isolation); err != nil {
		return nil, err
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	// Connect with one connection first to read what the load chose.
	conns, err := workload.Connect(ctx, cfg.URLs, 1)
	if err != nil {
		return nil, err
	}
	loaded, cLastLoad, err := readMeta(ctx, conns.Pool(0))
	conns.Close()
	if err != nil {
		return nil, err
	}
	if cfg.Warehouses == 0 {
		cfg.Warehouses = loaded
	}
	if cfg.Warehouses < 1 || cfg.Warehouses > loaded {
		return nil, errors.Newf("--warehouses %d: the database has %d warehouses loaded", cfg.Warehouses, loaded)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 10 * cfg.Warehouses
	}
	if cfg.Workers < 1 {
		return nil, errors.New("--workers must be at least 1")
	}
	perURL := (cfg.Workers + len(cfg.URLs) - 1) / len(cfg.URLs)
	if conns, err = workload.Connect(ctx, cfg.URLs, perURL); err != nil {
		return nil, err
	}
	defer conns.Close()

	rc := &runConfig{
		warehouses: cfg.Warehouses, wait: cfg.Wait, txOpts: txOpts,
		consts: NewRunConstants(rand.New(rand.NewPCG(cfg.Seed, math.MaxUint64)), cLastLoad),
	}
	stats := workload.NewStats(txNames...)
	var rollbacks, skipped atomic.Int64
	var firstErr atomic.Pointer[string]
	opts := workload.RunOptions{
		Workers: cfg.Workers, Duration: cfg.Duration, Ramp: cfg.Ramp, Live: cfg.Live,
		LiveSuffix: func(elapsed time.Duration) string {
			no := stats.Report(elapsed)[0].Count
			return fmt.Sprintf("tpmC %.1f", float64(no)/elapsed.Minutes())
		},
	}
	elapsed, err := workload.Run(ctx, stats, opts, func(ctx context.Context, id int, stop <-chan struct{}) error {
		t := newTerminal(id, rc, conns.Pool(id), cfg.Seed)
		for !workload.Stopped(ctx, stop) {
			name := t.next()
			if rc.wait && !workload.Sleep(ctx, stop, keyingTime[name]) {
				return nil
			}
			start := hlc.PhysicalNow()
			retries, skip, err := t.run(ctx, name)
			d := time.Since(start)
			switch {
			case err == nil || errors.Is(err, errRollback):
				if stats.Record(name, d, retries) {
					if err != nil {
						rollbacks.Add(1)
					}
					skipped.Add(int64(skip))
				}
			case ctx.Err() != nil:
				return nil
			default:
				stats.RecordError(name, retries)
				msg := name + ": " + workload.UserError(err)
				firstErr.CompareAndSwap(nil, &msg)
				if workload.IsFatal(err) {
					return errors.Wrap(err, name)
				}
				// Don't spin against a server that fails everything.
				workload.Sleep(ctx, stop, 100*time.Millisecond)
			}
			if rc.wait && !workload.Sleep(ctx, stop, t.think(name)) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := &Report{
		Warehouses: cfg.Warehouses, Workers: cfg.Workers, Wait: cfg.Wait, Seed: cfg.Seed,
		Duration: elapsed.Seconds(), NewOrderRollbacks: rollbacks.Load(), DeliverySkipped: skipped.Load(),
		Transactions: stats.Report(elapsed),
	}
	_, r.Errors, r.Retries = workload.Totals(r.Transactions)
	if elapsed > 0 {
		r.TpmC = float64(r.Transactions[0].Count) / elapsed.Minutes()
		r.Efficiency = 100 * r.TpmC / (MaxTpmCPerWarehouse * float64(cfg.Warehouses))
	}
	if p := firstErr.Load(); p != nil {
		r.FirstError = *p
	}
	return r, nil
}

// readMeta reads what the load recorded.
func readMeta(ctx context.Context, pool *pgxpool.Pool) (warehouses, cLastLoad int, err error) {
	if err := workload.RequireTables(ctx, pool, "tpcc", tableNames()...); err != nil {
		return 0, 0, err
	}
	rows, err := pool.Query(ctx, "SELECT name, value FROM "+metaTable)
	if err != nil {
		return 0, 0, errors.Wrap(err, "reading "+metaTable)
	}
	warehouses, cLastLoad = -1, -1
	var name string
	var value int
	_, err = pgx.ForEachRow(rows, []any{&name, &value}, func() error {
		switch name {
		case "warehouses":
			warehouses = value
		case "c_last_load":
			cLastLoad = value
		}
		return nil
	})
	if err != nil {
		return 0, 0, errors.Wrap(err, "reading "+metaTable)
	}
	if warehouses < 1 || cLastLoad < 0 {
		return 0, 0, errors.Mark(errors.Newf(
			"%s is incomplete (an interrupted load?): run `meridian workload init tpcc --drop` again", metaTable),
			workload.ErrNoSchema)
	}
	return warehouses, cLastLoad, nil
}

// terminal is one emulated terminal (or, without wait, one worker): a home
// warehouse, a district for Stock-Level, its own random source and deck of
// transaction cards. It is not safe for concurrent use.
type terminal struct {
	w, d int
	cfg  *runConfig
	pool *pgxpool.Pool
	gen  *gen
	deck []string
	pos  int
}

// newTerminal places terminal id: terminals fill warehouses round-robin,
// then districts, so 10 per warehouse cover each district once.
func newTerminal(id int, cfg *runConfig, pool *pgxpool.Pool, seed uint64) *terminal {
	t := &terminal{
		w: id%cfg.warehouses + 1, d: (id/cfg.warehouses)%districtsPerWH + 1,
		cfg: cfg, pool: pool, gen: newGen(seed, uint64(id), cfg.consts),
	}
	for _, name := range txNames {
		for range mix[name] {
			t.deck = append(t.deck, name)
		}
	}
	t.pos = len(t.deck)
	return t
}

// next draws the next transaction from a shuffled deck of 100 cards, which
// keeps the mix exact over every 100 transactions (clause 5.2.4.2 allows
// it).
func (t *terminal) next() string {
	if t.pos == len(t.deck) {
		t.gen.r.Shuffle(len(t.deck), func(i, j int) { t.deck[i], t.deck[j] = t.deck[j], t.deck[i] })
		t.pos = 0
	}
	t.pos++
	return t.deck[t.pos-1]
}

// think draws a think time: negative exponential with the transaction's
// mean, capped at ten times the mean (clause 5.2.5.4).
func (t *terminal) think(name string) time.Duration {
	return thinkDuration(t.gen.r.Float64(), thinkTime[name])
}

func thinkDuration(u float64, mean time.Duration) time.Duration {
	if u <= 0 {
		u = math.SmallestNonzeroFloat64
	}
	d := time.Duration(-math.Log(u) * float64(mean))
	return min(d, 10*mean)
}

// run draws the input of one transaction and runs it, retrying
// serialization failures.
func (t *terminal) run(ctx context.Context, name string) (retries, skipped int, err error) {
	var fn func(pgx.Tx) error
	switch name {
	case txNewOrder:
		in := t.newOrderInput()
		fn = func(tx pgx.Tx) error { return newOrder(ctx, tx, in) }
	case txPayment:
		in := t.paymentInput()
		fn = func(tx pgx.Tx) error { return payment(ctx, tx, in) }
	case txOrderStatus:
		in := t.orderStatusInput()
		fn = func(tx pgx.Tx) error { return orderStatus(ctx, tx, in) }
	case txDelivery:
		in := t.deliveryInput()
		fn = func(tx pgx.Tx) error {
			var err error
			skipped, err = delivery(ctx, tx, in)
			return err
		}
	case txStockLevel:
		in := t.stockLevelInput()
		fn = func(tx pgx.Tx) error { return stockLevel(ctx, tx, in) }
	}
	retries, err = workload.RunTx(ctx, t.pool, t.cfg.txOpts, fn)
	return retries, skipped, err
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) {
	mode := "with keying and think times"
	if !r.Wait {
		mode = "without wait times"
	}
	fmt.Fprintf(w, "\nTPC-C: %d warehouse(s), %d worker(s) %s, %.1fs measured (seed %d)\n",
		r.Warehouses, r.Workers, mode, r.Duration, r.Seed)
	workload.WriteOpTable(w, r.Transactions)
	fmt.Fprintf(w, "new-order rollbacks (invalid item): %d; delivery: %d district(s) with nothing to deliver\n",
		r.NewOrderRollbacks, r.DeliverySkipped)
	fmt.Fprintf(w, "errors %d, retries %d\n", r.Errors, r.Retries)
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	eff := fmt.Sprintf("efficiency %.1f%% of %.2f tpmC per warehouse", r.Efficiency, MaxTpmCPerWarehouse)
	if !r.Wait {
		eff += " (not meaningful without wait times)"
	}
	fmt.Fprintf(w, "tpmC %.1f, %s\n", r.TpmC, eff)
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
