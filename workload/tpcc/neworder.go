package tpcc

import (
	"context"
	"math"
	"sort"
	"strings"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
)

// errRollback is New-Order's deliberate rollback on an unused item number
// (clause 2.4.2.3). It counts as a completed New-Order.
var errRollback = errors.New("new-order rolled back: item number is not valid")

type orderLine struct {
	number   int // OL_NUMBER: the line's place in the input
	itemID   int
	supplyW  int
	quantity int
}

type newOrderInput struct {
	w, d, c  int
	lines    []orderLine
	allLocal bool
}

// newOrderInput draws the terminal's input (clause 2.4.1).
func (t *terminal) newOrderInput() newOrderInput {
	g := t.gen
	in := newOrderInput{w: t.w, d: g.uniform(1, districtsPerWH), c: g.customerID(), allLocal: true}
	n := g.uniform(5, 15)
	rollback := g.uniform(1, 100) == 1
	in.lines = make([]orderLine, n)
	for i := range in.lines {
		ol := orderLine{number: i + 1, itemID: g.itemID(), supplyW: t.w, quantity: g.uniform(1, 10)}
		if i == n-1 && rollback {
			ol.itemID = invalidItemID
		}
		// 1% of lines come from another warehouse, when there is one.
		if t.cfg.warehouses > 1 && g.uniform(1, 100) == 1 {
			ol.supplyW = g.otherWarehouse(t.w, t.cfg.warehouses)
			in.allLocal = false
		}
		in.lines[i] = ol
	}
	// Stock rows are locked in one global order (item, then warehouse) so
	// that concurrent New-Orders cannot deadlock; the unused item number
	// sorts last, so the rollback comes after the other lines' work.
	sort.Slice(in.lines, func(i, j int) bool {
		a, b := in.lines[i], in.lines[j]
		if a.itemID != b.itemID {
			return a.itemID < b.itemID
		}
		return a.supplyW < b.supplyW
	})
	return in
}

// otherWarehouse is a uniformly random warehouse other than w.
func (g *gen) otherWarehouse(w, n int) int {
	o := g.uniform(1, n-1)
	if o >= w {
		o++
	}
	return o
}

// stockDistCol is the S_DIST_xx column of district d.
func stockDistCol(d int) string {
	return "s_dist_" + string([]byte{byte('0' + d/10), byte('0' + d%10)})
}

// newOrder is the New-Order transaction (clause 2.4.2).
func newOrder(ctx context.Context, tx pgx.Tx, in newOrderInput) error {
	var wTax, dTax, cDiscount float64
	var nextOID int
	var cLast, cCredit string
	// The district first, then the warehouse (as CockroachDB's TPC-C
	// does; the clause's profile reads the warehouse first, and the order
	// of reads is free): a new order waits here behind a payment's write
	// of the district, and a read of the warehouse before that wait would
	// then have to be refreshed past the payment's write of the warehouse
	// (w_ytd), which fails it, under serializable isolation, with a retry.
	if err := tx.QueryRow(ctx,
		`UPDATE district SET d_next_o_id = d_next_o_id + 1 WHERE d_w_id = $1 AND d_id = $2 RETURNING d_tax, d_next_o_id`,
		in.w, in.d).Scan(&dTax, &nextOID); err != nil {
		return errors.Wrap(err, "new-order: district")
	}
	if err := tx.QueryRow(ctx, `SELECT w_tax FROM warehouse WHERE w_id = $1`, in.w).Scan(&wTax); err != nil {
		return errors.Wrap(err, "new-order: warehouse")
	}
	oID := nextOID - 1
	if err := tx.QueryRow(ctx,
		`SELECT c_discount, c_last, c_credit FROM customer WHERE c_w_id = $1 AND c_d_id = $2 AND c_id = $3`,
		in.w, in.d, in.c).Scan(&cDiscount, &cLast, &cCredit); err != nil {
		return errors.Wrap(err, "new-order: customer")
	}
	allLocal := 0
	if in.allLocal {
		allLocal = 1
	}
	entry := hlc.PhysicalNow()
	if _, err := tx.Exec(ctx,
		`INSERT INTO orders (o_id, o_d_id, o_w_id, o_c_id, o_entry_d, o_carrier_id, o_ol_cnt, o_all_local)
		 VALUES ($1, $2, $3, $4, $5, NULL, $6, $7)`,
		oID, in.d, in.w, in.c, entry, len(in.lines), allLocal); err != nil {
		return errors.Wrap(err, "new-order: orders")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO new_order (no_o_id, no_d_id, no_w_id) VALUES ($1, $2, $3)`,
		oID, in.d, in.w); err != nil {
		return errors.Wrap(err, "new-order: new_order")
	}

	stockSQL := `UPDATE stock SET
  s_quantity = CASE WHEN s_quantity >= $1 + 10 THEN s_quantity - $1 ELSE s_quantity - $1 + 91 END,
  s_ytd = s_ytd + $1, s_order_cnt = s_order_cnt + 1, s_remote_cnt = s_remote_cnt + $2
WHERE s_i_id = $3 AND s_w_id = $4 RETURNING s_data, ` + stockDistCol(in.d)
	args := make([]any, 0, len(in.lines)*10)
	for _, ol := range in.lines {
		var price float64
		var iName, iData string
		err := tx.QueryRow(ctx, `SELECT i_price, i_name, i_data FROM item WHERE i_id = $1`, ol.itemID).
			Scan(&price, &iName, &iData)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRollback
		} else if err != nil {
			return errors.Wrap(err, "new-order: item")
		}
		remote := 0
		if ol.supplyW != in.w {
			remote = 1
		}
		var sData, sDist string
		if err := tx.QueryRow(ctx, stockSQL, ol.quantity, remote, ol.itemID, ol.supplyW).Scan(&sData, &sDist); err != nil {
			return errors.Wrap(err, "new-order: stock")
		}
		// The brand-generic flag (both data contain "ORIGINAL") and the
		// order's total are only shown to the terminal; we skip them.
		amount := int64(ol.quantity) * int64(math.Round(price*100))
		args = append(args, oID, in.d, in.w, ol.number, ol.itemID, ol.supplyW, ol.quantity, dec(amount, 2), sDist)
	}
	// Every line in one statement: fewer round trips, same rows.
	var sb strings.Builder
	sb.WriteString(`INSERT INTO order_line (ol_o_id, ol_d_id, ol_w_id, ol_number, ol_i_id, ol_supply_w_id,
  ol_quantity, ol_amount, ol_dist_info) VALUES `)
	for i := range in.lines {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range 9 {
			if c > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('$')
			sb.WriteString(itoa(i*9 + c + 1))
		}
		sb.WriteByte(')')
	}
	if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
		return errors.Wrap(err, "new-order: order_line")
	}
	return nil
}
