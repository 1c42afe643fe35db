package tpcc

import (
	"context"
	"fmt"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/hlc"
)

type paymentInput struct {
	w, d    int
	cW, cD  int
	cID     int    // when byName is false
	cLast   string // when byName is true
	byName  bool
	hAmount int64 // cents
}

// paymentInput draws the terminal's input (clause 2.5.1): 85% of customers
// are of the home warehouse, 15% remote (when there is another warehouse);
// 60% are chosen by last name.
func (t *terminal) paymentInput() paymentInput {
	g := t.gen
	in := paymentInput{w: t.w, d: g.uniform(1, districtsPerWH)}
	if t.cfg.warehouses > 1 && g.uniform(1, 100) > 85 {
		in.cW, in.cD = g.otherWarehouse(t.w, t.cfg.warehouses), g.uniform(1, districtsPerWH)
	} else {
		in.cW, in.cD = in.w, in.d
	}
	if g.uniform(1, 100) <= 60 {
		in.byName, in.cLast = true, lastName(g.lastNameNum())
	} else {
		in.cID = g.customerID()
	}
	in.hAmount = int64(g.uniform(100, 500_000))
	return in
}

// customerByName returns the C_ID of the customer in the middle (position
// n/2 rounded up, clause 2.5.2.2) of those named last, sorted by C_FIRST.
func customerByName(ctx context.Context, tx pgx.Tx, w, d int, last string) (int, error) {
	rows, err := tx.Query(ctx,
		`SELECT c_id FROM customer WHERE c_w_id = $1 AND c_d_id = $2 AND c_last = $3 ORDER BY c_first`, w, d, last)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, errors.Newf("no customer named %s in warehouse %d district %d", last, w, d)
	}
	return ids[(len(ids)-1)/2], nil
}

// payment is the Payment transaction (clause 2.5.2).
func payment(ctx context.Context, tx pgx.Tx, in paymentInput) error {
	amount := dec(in.hAmount, 2)
	var wName, dName string
	var street1, street2, city, state, zip string
	if err := tx.QueryRow(ctx,
		`UPDATE warehouse SET w_ytd = w_ytd + $1 WHERE w_id = $2
		 RETURNING w_name, w_street_1, w_street_2, w_city, w_state, w_zip`, amount, in.w).
		Scan(&wName, &street1, &street2, &city, &state, &zip); err != nil {
		return errors.Wrap(err, "payment: warehouse")
	}
	if err := tx.QueryRow(ctx,
		`UPDATE district SET d_ytd = d_ytd + $1 WHERE d_w_id = $2 AND d_id = $3
		 RETURNING d_name, d_street_1, d_street_2, d_city, d_state, d_zip`, amount, in.w, in.d).
		Scan(&dName, &street1, &street2, &city, &state, &zip); err != nil {
		return errors.Wrap(err, "payment: district")
	}
	cID := in.cID
	if in.byName {
		var err error
		if cID, err = customerByName(ctx, tx, in.cW, in.cD, in.cLast); err != nil {
			return errors.Wrap(err, "payment: customer by name")
		}
	}
	// A bad-credit customer's C_DATA gets the payment prepended, kept to
	// 500 characters (clause 2.5.2.2).
	note := fmt.Sprintf("%d %d %d %d %d %d.%02d | ", cID, in.cD, in.cW, in.d, in.w, in.hAmount/100, in.hAmount%100)
	var credit string
	var balance float64
	if err := tx.QueryRow(ctx,
		`UPDATE customer SET c_balance = c_balance - $1, c_ytd_payment = c_ytd_payment + $1,
		   c_payment_cnt = c_payment_cnt + 1,
		   c_data = CASE WHEN c_credit = 'BC' THEN substr($2 || c_data, 1, 500) ELSE c_data END
		 WHERE c_w_id = $3 AND c_d_id = $4 AND c_id = $5
		 RETURNING c_credit, c_balance`, amount, note, in.cW, in.cD, cID).
		Scan(&credit, &balance); err != nil {
		return errors.Wrap(err, "payment: customer")
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO history (h_c_id, h_c_d_id, h_c_w_id, h_d_id, h_w_id, h_date, h_amount, h_data)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		cID, in.cD, in.cW, in.d, in.w, hlc.PhysicalNow(), amount, wName+"    "+dName); err != nil {
		return errors.Wrap(err, "payment: history")
	}
	return nil
}
