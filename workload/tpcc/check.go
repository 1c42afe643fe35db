package tpcc

import (
	"context"
	"fmt"
	"math/big"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/meridiandb/meridian/workload"
)

// CheckResult lists the consistency conditions checked and the violations
// found.
type CheckResult struct {
	Checked    []string
	Violations []string
}

// conditions are the consistency conditions of clause 3.3.2 that Check
// verifies.
var conditions = []string{
	"3.3.2.1 W_YTD = sum(D_YTD)",
	"3.3.2.2 D_NEXT_O_ID - 1 = max(O_ID) = max(NO_O_ID)",
	"3.3.2.3 max(NO_O_ID) - min(NO_O_ID) + 1 = count(new_order)",
	"3.3.2.4 sum(O_OL_CNT) = count(order_line)",
	"3.3.2.5 count(orders with O_CARRIER_ID null) = count(new_order)",
}

// maxViolations bounds the violations listed, per condition.
const maxViolations = 10

type district struct{ w, d int }

// Check verifies the consistency conditions on the database at url, in one
// read-only snapshot. It returns an error marked workload.ErrViolation when
// a condition fails, with the result listing each violation.
func Check(ctx context.Context, url string) (*CheckResult, error) {
	conns, err := workload.Connect(ctx, []string{url}, 1)
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	pool := conns.Pool(0)
	// Only the nine tables: Check also verifies databases other tools
	// loaded.
	if err := workload.RequireTables(ctx, pool, "tpcc", tpccTables()...); err != nil {
		return nil, err
	}
	var res *CheckResult
	// A serializable database may ask even a read-only transaction to
	// run again (40001), say when it starts inside the uncertainty window
	// of writes that just committed: retry it as any transaction.
	_, err = workload.RunTx(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			res = &CheckResult{Checked: conditions}
			return check(ctx, tx, res)
		})
	if err != nil {
		return nil, errors.Wrap(err, "checking tpcc")
	}
	if len(res.Violations) > 0 {
		return res, errors.Mark(errors.Newf("%d TPC-C consistency violation(s), the first: %s",
			len(res.Violations), res.Violations[0]), workload.ErrViolation)
	}
	return res, nil
}

func check(ctx context.Context, tx pgx.Tx, res *CheckResult) error {
	violate := func(cond int, format string, args ...any) {
		res.Violations = append(res.Violations, conditions[cond][:7]+": "+fmt.Sprintf(format, args...))
	}

	// 3.3.2.1, compared exactly as decimals.
	wYTD := map[int]*big.Rat{}
	if err := queryEach(ctx, tx, `SELECT w_id, w_ytd FROM warehouse`, func(r pgx.Rows) error {
		var w int
		var ytd pgtype.Numeric
		if err := r.Scan(&w, &ytd); err != nil {
			return err
		}
		wYTD[w] = rat(ytd)
		return nil
	}); err != nil {
		return err
	}
	dYTD := map[int]*big.Rat{}
	if err := queryEach(ctx, tx, `SELECT d_w_id, sum(d_ytd) FROM district GROUP BY d_w_id`, func(r pgx.Rows) error {
		var w int
		var sum pgtype.Numeric
		if err := r.Scan(&w, &sum); err != nil {
			return err
		}
		dYTD[w] = rat(sum)
		return nil
	}); err != nil {
		return err
	}
	if len(wYTD) == 0 {
		violate(0, "no warehouses")
	}
	n := 0
	for w, ytd := range wYTD {
		if sum, ok := dYTD[w]; (!ok || sum.Cmp(ytd) != 0) && n < maxViolations {
			n++
			violate(0, "warehouse %d: W_YTD %s, sum(D_YTD) %s", w, ytd.FloatString(2), ratString(sum))
		}
	}

	// Per district: D_NEXT_O_ID, max(O_ID), sum(O_OL_CNT), undelivered
	// orders; max/min/count of new_order; count of order_line.
	type facts struct {
		next, maxO, olCnt, undelivered int64
		maxNO, minNO, countNO          int64
		lines                          int64
	}
	per := map[district]*facts{}
	get := func(w, d int) *facts {
		f := per[district{w, d}]
		if f == nil {
			f = &facts{next: -1}
			per[district{w, d}] = f
		}
		return f
	}
	scans := []struct {
		sql string
		set func(f *facts, v []int64)
	}{
		{`SELECT d_w_id, d_id, d_next_o_id FROM district`,
			func(f *facts, v []int64) { f.next = v[0] }},
		{`SELECT o_w_id, o_d_id, max(o_id), sum(o_ol_cnt), count(*) - count(o_carrier_id) FROM orders GROUP BY o_w_id, o_d_id`,
			func(f *facts, v []int64) { f.maxO, f.olCnt, f.undelivered = v[0], v[1], v[2] }},
		{`SELECT no_w_id, no_d_id, max(no_o_id), min(no_o_id), count(*) FROM new_order GROUP BY no_w_id, no_d_id`,
			func(f *facts, v []int64) { f.maxNO, f.minNO, f.countNO = v[0], v[1], v[2] }},
		{`SELECT ol_w_id, ol_d_id, count(*) FROM order_line GROUP BY ol_w_id, ol_d_id`,
			func(f *facts, v []int64) { f.lines = v[0] }},
	}
	for _, s := range scans {
		if err := queryEach(ctx, tx, s.sql, func(r pgx.Rows) error {
			v := make([]int64, len(r.FieldDescriptions()))
			dst := make([]any, len(v))
			for i := range v {
				dst[i] = &v[i]
			}
			if err := r.Scan(dst...); err != nil {
				return err
			}
			s.set(get(int(v[0]), int(v[1])), v[2:])
			return nil
		}); err != nil {
			return err
		}
	}
	var c2, c3, c4, c5 int
	for k, f := range per {
		if f.next < 0 {
			if c2++; c2 <= maxViolations {
				violate(1, "warehouse %d district %d: orders without a district row", k.w, k.d)
			}
			continue
		}
		if f.next-1 != f.maxO || (f.countNO > 0 && f.maxNO != f.maxO) {
			if c2++; c2 <= maxViolations {
				violate(1, "warehouse %d district %d: D_NEXT_O_ID-1 %d, max(O_ID) %d, max(NO_O_ID) %d",
					k.w, k.d, f.next-1, f.maxO, f.maxNO)
			}
		}
		if f.countNO > 0 && f.maxNO-f.minNO+1 != f.countNO {
			if c3++; c3 <= maxViolations {
				violate(2, "warehouse %d district %d: max(NO_O_ID) %d - min(NO_O_ID) %d + 1 != count %d",
					k.w, k.d, f.maxNO, f.minNO, f.countNO)
			}
		}
		if f.olCnt != f.lines {
			if c4++; c4 <= maxViolations {
				violate(3, "warehouse %d district %d: sum(O_OL_CNT) %d, count(order_line) %d", k.w, k.d, f.olCnt, f.lines)
			}
		}
		if f.undelivered != f.countNO {
			if c5++; c5 <= maxViolations {
				violate(4, "warehouse %d district %d: %d undelivered orders, %d new_order rows",
					k.w, k.d, f.undelivered, f.countNO)
			}
		}
	}
	if len(per) == 0 {
		violate(1, "no districts")
	}
	return nil
}

func queryEach(ctx context.Context, tx pgx.Tx, sql string, fn func(pgx.Rows) error) error {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return errors.Wrapf(err, "%s", sql)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return errors.Wrapf(err, "%s", sql)
		}
	}
	return errors.Wrapf(rows.Err(), "%s", sql)
}

// rat is n as an exact rational (0 for NULL).
func rat(n pgtype.Numeric) *big.Rat {
	r := new(big.Rat)
	if !n.Valid || n.Int == nil {
		return r
	}
	r.SetInt(n.Int)
	if n.Exp > 0 {
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.Exp)), nil)))
	} else if n.Exp < 0 {
		r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n.Exp)), nil)))
	}
	return r
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "none"
	}
	return r.FloatString(2)
}

// WriteText writes the result for people.
func (r *CheckResult) WriteText(w interface{ Write([]byte) (int, error) }) {
	for _, c := range r.Checked {
		fmt.Fprintf(w, "checked %s\n", c)
	}
	for _, v := range r.Violations {
		fmt.Fprintf(w, "VIOLATION %s\n", v)
	}
	if len(r.Violations) == 0 {
		fmt.Fprintln(w, "ok: no violations")
	}
}
