package tpcc

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/workload"
)

// InitConfig configures `workload init tpcc`.
type InitConfig struct {
	URLs       []string
	Warehouses int
	// FKs adds the foreign keys after the load.
	FKs bool
	// Drop drops existing TPC-C tables first; without it, existing tables
	// are an error.
	Drop bool
	// Method is "copy" (COPY FROM STDIN, the default) or "insert"
	// (multi-row INSERT), for servers without COPY.
	Method string
	// Concurrency is the number of parallel loaders (default 4).
	Concurrency int
	// Seed makes the data reproducible; 0 draws one.
	Seed uint64
	// Progress, when set, gets the progress bar.
	Progress io.Writer
}

// InitResult says what was loaded.
type InitResult struct {
	Rows      int64
	Elapsed   time.Duration
	Constants Constants
	Seed      uint64
}

// Init creates the TPC-C schema and loads it per clause 4.3.3.1.
func Init(ctx context.Context, cfg InitConfig) (InitResult, error) {
	if cfg.Warehouses < 1 {
		return InitResult{}, errors.New("--warehouses must be at least 1")
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 4
	}
	switch cfg.Method {
	case "":
		cfg.Method = "copy"
	case "copy", "insert":
	default:
		return InitResult{}, errors.Newf("unknown load method %q (want copy or insert)", cfg.Method)
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	conns, err := workload.Connect(ctx, cfg.URLs, cfg.Concurrency)
	if err != nil {
		return InitResult{}, err
	}
	defer conns.Close()
	pool := conns.Pool(0)

	if err := createSchema(ctx, pool, cfg.Drop); err != nil {
		return InitResult{}, err
	}
	consts := NewLoadConstants(rand.New(rand.NewPCG(cfg.Seed, 0)))
	start := hlc.PhysicalNow()
	l := &loader{cfg: cfg, consts: consts, now: start}
	planned := l.plan()
	var bar *workload.Progress
	if cfg.Progress != nil {
		bar = workload.StartProgress(cfg.Progress, "loading tpcc", l.total, start)
		l.bar = bar
	}
	tasks := make([]func(context.Context) error, len(planned))
	for i, t := range planned {
		tasks[i] = func(ctx context.Context) error { return t(ctx, conns.Pool(i)) }
	}
	err = workload.Parallel(ctx, cfg.Concurrency, tasks)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return InitResult{}, errors.Wrap(err, "loading tpcc")
	}
	post := append([]string(nil), indexes...)
	if cfg.FKs {
		post = append(post, foreignKeys...)
	}
	post = append(post,
		fmt.Sprintf("INSERT INTO %s (name, value) VALUES ('warehouses', %d), ('c_last_load', %d)",
			metaTable, cfg.Warehouses, consts.CLast))
	for _, stmt := range post {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			return InitResult{}, errors.Wrapf(err, "%s", firstWords(stmt))
		}
	}
	// Fresh statistics, so that PostgreSQL plans the run well; servers
	// without ANALYZE just skip it.
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil && workload.SQLState(err) != "42601" &&
		workload.SQLState(err) != "0A000" {
		return InitResult{}, errors.Wrap(err, "ANALYZE")
	}
	return InitResult{Rows: l.rows.Load(), Elapsed: time.Since(start), Constants: consts, Seed: cfg.Seed}, nil
}

func firstWords(stmt string) string {
	f := strings.Fields(stmt)
	if len(f) > 4 {
		f = f[:4]
	}
	return strings.Join(f, " ")
}

func createSchema(ctx context.Context, pool *pgxpool.Pool, drop bool) error {
	if drop {
		for _, name := range tableNames() {
			if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+name+" CASCADE"); err != nil {
				return errors.Wrapf(err, "dropping %s", name)
			}
		}
	}
	create := func(name, stmt string) error {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			if workload.SQLState(err) == "42P07" {
				return errors.Newf("table %s already exists: pass --drop to replace the TPC-C tables, or use another database", name)
			}
			return errors.Wrapf(err, "creating %s", name)
		}
		return nil
	}
	for _, t := range tables {
		if err := create(t.name, t.create); err != nil {
			return err
		}
	}
	return create(metaTable, metaCreate)
}

// loader generates and loads the rows. Each task has its own generator,
// seeded from the load's seed and the task's place, so a seed reproduces
// the data whatever the concurrency.
type loader struct {
	cfg    InitConfig
	consts Constants
	now    time.Time
	total  int64
	rows   atomic.Int64
	bar    *workload.Progress
}

type task = func(ctx context.Context, pool *pgxpool.Pool) error

func (l *loader) gen(kind, a, b int) *gen {
	return newGen(l.cfg.Seed, uint64(kind)<<48|uint64(a)<<24|uint64(b), l.consts)
}

// plan lists the load's tasks and counts the rows they will write.
func (l *loader) plan() []task {
	var tasks []task
	const itemChunk = 10_000
	for lo := 1; lo <= numItems; lo += itemChunk {
		tasks = append(tasks, l.items(lo, lo+itemChunk-1))
	}
	l.total += numItems
	for w := 1; w <= l.cfg.Warehouses; w++ {
		tasks = append(tasks, l.warehouse(w))
		l.total += 1 + districtsPerWH
		for lo := 1; lo <= numItems; lo += itemChunk {
			tasks = append(tasks, l.stock(w, lo, lo+itemChunk-1))
		}
		l.total += numItems
		for d := 1; d <= districtsPerWH; d++ {
			tasks = append(tasks, l.customers(w, d))
			l.total += 2 * customersPerDistrict
			// The order lines' counts are drawn here so that the bar
			// knows the total.
			g := l.gen(5, w, d)
			olCnt := make([]int, ordersPerDistrict+1)
			for o := 1; o <= ordersPerDistrict; o++ {
				olCnt[o] = g.uniform(5, 15)
				l.total += int64(olCnt[o])
			}
			l.total += ordersPerDistrict + (ordersPerDistrict - firstNewOrder + 1)
			tasks = append(tasks, l.orders(w, d, olCnt))
		}
	}
	return tasks
}

// insertRows bounds a multi-row INSERT: PostgreSQL takes at most 65,535
// parameters per statement.
const insertRows = 500

// write loads the rows next produces (nil ends them) into table.
func (l *loader) write(ctx context.Context, pool *pgxpool.Pool, table string, cols []string, next func() []any) error {
	if l.cfg.Method == "copy" {
		src := pgx.CopyFromFunc(func() ([]any, error) {
			row := next()
			if row != nil {
				l.count(1)
			}
			return row, nil
		})
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{table}, cols, src); err != nil {
			return errors.Wrapf(err, "loading %s", table)
		}
		return nil
	}
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	args := make([]any, 0, insertRows*len(cols))
	var sb strings.Builder
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		sb.Reset()
		sb.WriteString(head)
		n := len(args) / len(cols)
		for r := range n {
			if r > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for c := range cols {
				if c > 0 {
					sb.WriteString(", ")
				}
				sb.WriteByte('$')
				sb.WriteString(itoa(r*len(cols) + c + 1))
			}
			sb.WriteByte(')')
		}
		if _, err := pool.Exec(ctx, sb.String(), args...); err != nil {
			return errors.Wrapf(err, "loading %s", table)
		}
		l.count(int64(n))
		args = args[:0]
		return nil
	}
	for row := next(); row != nil; row = next() {
		args = append(args, row...)
		if len(args) == insertRows*len(cols) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (l *loader) count(n int64) {
	l.rows.Add(n)
	if l.bar != nil {
		l.bar.Add(n)
	}
}

// dec is the exact decimal v × 10^-scale.
func dec(v int64, scale int32) pgtype.Numeric {
	return pgtype.Numeric{Int: big.NewInt(v), Exp: -scale, Valid: true}
}

// rowsOf turns a row function over [lo, hi] into a row source.
func rowsOf(lo, hi int, row func(i int) []any) func() []any {
	i := lo
	return func() []any {
		if i > hi {
			return nil
		}
		i++
		return row(i - 1)
	}
}

var (
	itemCols      = []string{"i_id", "i_im_id", "i_name", "i_price", "i_data"}
	warehouseCols = []string{"w_id", "w_name", "w_street_1", "w_street_2", "w_city", "w_state", "w_zip", "w_tax", "w_ytd"}
	districtCols  = []string{"d_id", "d_w_id", "d_name", "d_street_1", "d_street_2", "d_city", "d_state", "d_zip",
		"d_tax", "d_ytd", "d_next_o_id"}
	stockCols = []string{"s_i_id", "s_w_id", "s_quantity",
		"s_dist_01", "s_dist_02", "s_dist_03", "s_dist_04", "s_dist_05",
		"s_dist_06", "s_dist_07", "s_dist_08", "s_dist_09", "s_dist_10",
		"s_ytd", "s_order_cnt", "s_remote_cnt", "s_data"}
	customerCols = []string{"c_id", "c_d_id", "c_w_id", "c_first", "c_middle", "c_last",
		"c_street_1", "c_street_2", "c_city", "c_state", "c_zip", "c_phone", "c_since", "c_credit",
		"c_credit_lim", "c_discount", "c_balance", "c_ytd_payment", "c_payment_cnt", "c_delivery_cnt", "c_data"}
	historyCols = []string{"h_c_id", "h_c_d_id", "h_c_w_id", "h_d_id", "h_w_id", "h_date", "h_amount", "h_data"}
	ordersCols  = []string{"o_id", "o_d_id", "o_w_id", "o_c_id", "o_entry_d", "o_carrier_id", "o_ol_cnt", "o_all_local"}
	olCols      = []string{"ol_o_id", "ol_d_id", "ol_w_id", "ol_number", "ol_i_id", "ol_supply_w_id",
		"ol_delivery_d", "ol_quantity", "ol_amount", "ol_dist_info"}
	newOrderCols = []string{"no_o_id", "no_d_id", "no_w_id"}
)

// badCreditPercent is the share of customers with C_CREDIT = "BC": 10% in
// clause 4.3.3.1.
const badCreditPercent = 10

func (l *loader) items(lo, hi int) task {
	return func(ctx context.Context, pool *pgxpool.Pool) error {
		g := l.gen(1, lo, 0)
		return l.write(ctx, pool, "item", itemCols, rowsOf(lo, hi, func(i int) []any {
			return []any{i, g.uniform(1, 10_000), g.aString(14, 24), dec(int64(g.uniform(100, 10_000)), 2), g.data()}
		}))
	}
}

func (l *loader) warehouse(w int) task {
	return func(ctx context.Context, pool *pgxpool.Pool) error {
		g := l.gen(2, w, 0)
		err := l.write(ctx, pool, "warehouse", warehouseCols, rowsOf(w, w, func(int) []any {
			return []any{w, g.aString(6, 10), g.aString(10, 20), g.aString(10, 20), g.aString(10, 20),
				g.state(), g.zip(), dec(int64(g.uniform(0, 2000)), 4), dec(300_000_00, 2)}
		}))
		if err != nil {
			return err
		}
		return l.write(ctx, pool, "district", districtCols, rowsOf(1, districtsPerWH, func(d int) []any {
			return []any{d, w, g.aString(6, 10), g.aString(10, 20), g.aString(10, 20), g.aString(10, 20),
				g.state(), g.zip(), dec(int64(g.uniform(0, 2000)), 4), dec(30_000_00, 2), ordersPerDistrict + 1}
		}))
	}
}

func (l *loader) stock(w, lo, hi int) task {
	return func(ctx context.Context, pool *pgxpool.Pool) error {
		g := l.gen(3, w, lo)
		return l.write(ctx, pool, "stock", stockCols, rowsOf(lo, hi, func(i int) []any {
			row := make([]any, 0, len(stockCols))
			row = append(row, i, w, g.uniform(10, 100))
			for range 10 {
				row = append(row, g.aString(24, 24))
			}
			return append(row, 0, 0, 0, g.data())
		}))
	}
}

func (l *loader) customers(w, d int) task {
	return func(ctx context.Context, pool *pgxpool.Pool) error {
		g := l.gen(4, w, d)
		err := l.write(ctx, pool, "customer", customerCols, rowsOf(1, customersPerDistrict, func(c int) []any {
			// The first 1,000 customers take every last name once; the
			// others draw theirs with the load's C (clause 4.3.3.1).
			last := c - 1
			if c > 1000 {
				last = g.lastNameNum()
			}
			credit := "GC"
			if g.r.IntN(100) < badCreditPercent {
				credit = "BC"
			}
			return []any{c, d, w, g.aString(8, 16), "OE", lastName(last),
				g.aString(10, 20), g.aString(10, 20), g.aString(10, 20), g.state(), g.zip(), g.nString(16, 16),
				l.now, credit, dec(50_000_00, 2), dec(int64(g.uniform(0, 5000)), 4), dec(-10_00, 2), dec(10_00, 2),
				1, 0, g.aString(300, 500)}
		}))
		if err != nil {
			return err
		}
		return l.write(ctx, pool, "history", historyCols, rowsOf(1, customersPerDistrict, func(c int) []any {
			return []any{c, d, w, d, w, l.now, dec(10_00, 2), g.aString(12, 24)}
		}))
	}
}

func (l *loader) orders(w, d int, olCnt []int) task {
	return func(ctx context.Context, pool *pgxpool.Pool) error {
		g := l.gen(6, w, d)
		// Customers place the orders in a random permutation (clause
		// 4.3.3.1), so each has exactly one.
		perm := g.permutation(customersPerDistrict)
		err := l.write(ctx, pool, "orders", ordersCols, rowsOf(1, ordersPerDistrict, func(o int) []any {
			var carrier any
			if o < firstNewOrder {
				carrier = g.uniform(1, 10)
			}
			return []any{o, d, w, perm[o-1], l.now, carrier, olCnt[o], 1}
		}))
		if err != nil {
			return err
		}
		o, n := 1, 0
		err = l.write(ctx, pool, "order_line", olCols, func() []any {
			if n++; n > olCnt[o] {
				o, n = o+1, 1
			}
			if o > ordersPerDistrict {
				return nil
			}
			var delivered any
			amount := dec(0, 2)
			if o < firstNewOrder {
				delivered = l.now
			} else {
				amount = dec(int64(g.uniform(1, 999_999)), 2)
			}
			return []any{o, d, w, n, g.uniform(1, numItems), w, delivered, 5, amount, g.aString(24, 24)}
		})
		if err != nil {
			return err
		}
		return l.write(ctx, pool, "new_order", newOrderCols, rowsOf(firstNewOrder, ordersPerDistrict, func(o int) []any {
			return []any{o, d, w}
		}))
	}
}
