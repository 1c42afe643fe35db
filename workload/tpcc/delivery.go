package tpcc

import (
	"context"
	"math"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
)

type deliveryInput struct {
	w       int
	carrier int
}

// deliveryInput draws the terminal's input (clause 2.7.1).
func (t *terminal) deliveryInput() deliveryInput {
	return deliveryInput{w: t.w, carrier: t.gen.uniform(1, 10)}
}

// delivery is the Delivery transaction (clause 2.7.4), run as one database
// transaction for all ten districts. It returns how many districts had no
// order to deliver (the spec asks for those to be counted).
func delivery(ctx context.Context, tx pgx.Tx, in deliveryInput) (skipped int, err error) {
	now := hlc.PhysicalNow()
	for d := 1; d <= districtsPerWH; d++ {
		var oID int
		// FOR UPDATE: under READ COMMITTED a concurrent Delivery that took
		// the same order makes this one move on to the next.
		err := tx.QueryRow(ctx,
			`SELECT no_o_id FROM new_order WHERE no_w_id = $1 AND no_d_id = $2
			 ORDER BY no_o_id LIMIT 1 FOR UPDATE`, in.w, d).Scan(&oID)
		if errors.Is(err, pgx.ErrNoRows) {
			skipped++
			continue
		} else if err != nil {
			return 0, errors.Wrap(err, "delivery: oldest new order")
		}
		tag, err := tx.Exec(ctx, `DELETE FROM new_order WHERE no_w_id = $1 AND no_d_id = $2 AND no_o_id = $3`, in.w, d, oID)
		if err != nil {
			return 0, errors.Wrap(err, "delivery: new_order")
		}
		if tag.RowsAffected() != 1 {
			return 0, errors.AssertionFailedf("delivery: new order %d/%d/%d vanished under its lock", in.w, d, oID)
		}
		var cID int
		if err := tx.QueryRow(ctx,
			`UPDATE orders SET o_carrier_id = $1 WHERE o_w_id = $2 AND o_d_id = $3 AND o_id = $4 RETURNING o_c_id`,
			in.carrier, in.w, d, oID).Scan(&cID); err != nil {
			return 0, errors.Wrap(err, "delivery: orders")
		}
		rows, err := tx.Query(ctx,
			`UPDATE order_line SET ol_delivery_d = $1 WHERE ol_w_id = $2 AND ol_d_id = $3 AND ol_o_id = $4
			 RETURNING ol_amount`, now, in.w, d, oID)
		if err != nil {
			return 0, errors.Wrap(err, "delivery: order_line")
		}
		amounts, err := pgx.CollectRows(rows, pgx.RowTo[float64])
		if err != nil {
			return 0, errors.Wrap(err, "delivery: order_line")
		}
		var total int64
		for _, a := range amounts {
			total += int64(math.Round(a * 100))
		}
		if _, err := tx.Exec(ctx,
			`UPDATE customer SET c_balance = c_balance + $1, c_delivery_cnt = c_delivery_cnt + 1
			 WHERE c_w_id = $2 AND c_d_id = $3 AND c_id = $4`, dec(total, 2), in.w, d, cID); err != nil {
			return 0, errors.Wrap(err, "delivery: customer")
		}
	}
	return skipped, nil
}
