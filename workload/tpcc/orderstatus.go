package tpcc

import (
	"context"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
)

type orderStatusInput struct {
	w, d   int
	cID    int
	cLast  string
	byName bool
}

// orderStatusInput draws the terminal's input (clause 2.6.1): 60% by last
// name.
func (t *terminal) orderStatusInput() orderStatusInput {
	g := t.gen
	in := orderStatusInput{w: t.w, d: g.uniform(1, districtsPerWH)}
	if g.uniform(1, 100) <= 60 {
		in.byName, in.cLast = true, lastName(g.lastNameNum())
	} else {
		in.cID = g.customerID()
	}
	return in
}

// orderStatus is the Order-Status transaction (clause 2.6.2): a customer's
// balance and the lines of their last order.
func orderStatus(ctx context.Context, tx pgx.Tx, in orderStatusInput) error {
	cID := in.cID
	if in.byName {
		var err error
		if cID, err = customerByName(ctx, tx, in.w, in.d, in.cLast); err != nil {
			return errors.Wrap(err, "order-status: customer by name")
		}
	}
	var balance float64
	var first, middle, last string
	if err := tx.QueryRow(ctx,
		`SELECT c_balance, c_first, c_middle, c_last FROM customer WHERE c_w_id = $1 AND c_d_id = $2 AND c_id = $3`,
		in.w, in.d, cID).Scan(&balance, &first, &middle, &last); err != nil {
		return errors.Wrap(err, "order-status: customer")
	}
	var oID int
	var entry time.Time
	var carrier *int
	if err := tx.QueryRow(ctx,
		`SELECT o_id, o_entry_d, o_carrier_id FROM orders WHERE o_w_id = $1 AND o_d_id = $2 AND o_c_id = $3
		 ORDER BY o_id DESC LIMIT 1`, in.w, in.d, cID).Scan(&oID, &entry, &carrier); err != nil {
		return errors.Wrap(err, "order-status: last order")
	}
	rows, err := tx.Query(ctx,
		`SELECT ol_i_id, ol_supply_w_id, ol_quantity, ol_amount, ol_delivery_d FROM order_line
		 WHERE ol_w_id = $1 AND ol_d_id = $2 AND ol_o_id = $3`, in.w, in.d, oID)
	if err != nil {
		return errors.Wrap(err, "order-status: order lines")
	}
	var n int
	for rows.Next() {
		var item, supplyW, quantity int
		var amount float64
		var delivered *time.Time
		if err := rows.Scan(&item, &supplyW, &quantity, &amount, &delivered); err != nil {
			rows.Close()
			return errors.Wrap(err, "order-status: order lines")
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return errors.Wrap(err, "order-status: order lines")
	}
	if n == 0 {
		return errors.Newf("order-status: order %d of warehouse %d district %d has no lines", oID, in.w, in.d)
	}
	return nil
}
