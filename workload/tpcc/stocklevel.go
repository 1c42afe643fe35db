package tpcc

import (
	"context"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
)

type stockLevelInput struct {
	w, d      int
	threshold int
}

// stockLevelInput draws the terminal's input (clause 2.8.1): its own
// district and a threshold in [10, 20].
func (t *terminal) stockLevelInput() stockLevelInput {
	return stockLevelInput{w: t.w, d: t.d, threshold: t.gen.uniform(10, 20)}
}

// stockLevel is the Stock-Level transaction (clause 2.8.2): how many of the
// items of the district's last 20 orders are low in stock.
func stockLevel(ctx context.Context, tx pgx.Tx, in stockLevelInput) error {
	var next int
	if err := tx.QueryRow(ctx, `SELECT d_next_o_id FROM district WHERE d_w_id = $1 AND d_id = $2`, in.w, in.d).
		Scan(&next); err != nil {
		return errors.Wrap(err, "stock-level: district")
	}
	var low int
	if err := tx.QueryRow(ctx,
		`SELECT count(DISTINCT s_i_id) FROM order_line JOIN stock ON s_i_id = ol_i_id AND s_w_id = ol_w_id
		 WHERE ol_w_id = $1 AND ol_d_id = $2 AND ol_o_id < $3 AND ol_o_id >= $4 AND s_quantity < $5`,
		in.w, in.d, next, next-20, in.threshold).Scan(&low); err != nil {
		return errors.Wrap(err, "stock-level: stock")
	}
	return nil
}
