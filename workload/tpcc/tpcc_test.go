package tpcc

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/workload"
	"github.com/meridiandb/meridian/workload/pgtest"
)

// TestTPCCPostgres loads one warehouse into a fresh PostgreSQL database,
// checks it, runs 20 s with and then without wait times, and checks again
// after each run.
func TestTPCCPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "tpcc")
	ctx := context.Background()

	res, err := Init(ctx, InitConfig{URLs: []string{url}, Warehouses: 1, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d rows in %s", res.Rows, res.Elapsed)
	mustCheck(t, url)
	checkLoad(t, url)

	var live bytes.Buffer
	r, err := Run(ctx, RunConfig{URLs: []string{url}, Duration: 20 * time.Second, Wait: true, Seed: 7, Live: &live})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, r)
	// Ten terminals keying 18 s per New-Order complete only a few in 20 s:
	// the figure must be plausible, not precise. Seed 7 deals New-Order
	// first to some terminals, so some complete.
	no := r.Transactions[0]
	if no.Name != txNewOrder || no.Count < 1 || no.Count > 20 {
		t.Errorf("new-orders with wait: %d, want 1..20", no.Count)
	}
	if want := 100 * r.TpmC / MaxTpmCPerWarehouse; r.Efficiency != want || r.Efficiency <= 0 {
		t.Errorf("efficiency %.2f, want %.2f > 0", r.Efficiency, want)
	}
	if r.Errors != 0 {
		t.Errorf("%d errors with wait (first: %s)", r.Errors, r.FirstError)
	}
	if n := strings.Count(live.String(), "\n"); n < 15 {
		t.Errorf("%d live lines in 20 s, want about 20:\n%s", n, live.String())
	}
	mustCheck(t, url)

	r, err = Run(ctx, RunConfig{URLs: []string{url, url}, Duration: 20 * time.Second, Wait: false, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, r)
	var total int64
	for _, tx := range r.Transactions {
		total += tx.Count
		if tx.Count == 0 {
			t.Errorf("no %s completed without wait", tx.Name)
		}
	}
	// The deck keeps the mix exact over every 100 cards.
	for _, tx := range r.Transactions {
		share := 100 * float64(tx.Count) / float64(total)
		if d := share - float64(mix[tx.Name]); d < -3 || d > 3 {
			t.Errorf("%s is %.1f%% of the mix, want %d%% ± 3", tx.Name, share, mix[tx.Name])
		}
	}
	if r.Errors != 0 {
		t.Errorf("%d errors without wait (first: %s)", r.Errors, r.FirstError)
	}
	mustCheck(t, url)
}

func logReport(t *testing.T, r *Report) {
	t.Helper()
	var b bytes.Buffer
	r.WriteText(&b)
	t.Log(b.String())
}

func mustCheck(t *testing.T, url string) {
	t.Helper()
	res, err := Check(context.Background(), url)
	if err != nil {
		if res != nil {
			t.Fatalf("%v\n%s", err, strings.Join(res.Violations, "\n"))
		}
		t.Fatal(err)
	}
}

// checkLoad verifies the load's cardinalities and distributions against
// clause 4.3.3.1.
func checkLoad(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	counts := map[string]int64{
		"warehouse": 1, "district": 10, "customer": 30_000, "history": 30_000, "orders": 30_000,
		"new_order": 9_000, "item": 100_000, "stock": 100_000,
	}
	for table, want := range counts {
		var got int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s has %d rows, want %d", table, got, want)
		}
	}
	var lines int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM order_line").Scan(&lines); err != nil {
		t.Fatal(err)
	}
	if lines < 30_000*9 || lines > 30_000*11 {
		t.Errorf("%d order lines, want about 300,000", lines)
	}
	shares := []struct {
		what, sql string
		lo, hi    float64
	}{
		{"bad credit", "SELECT avg(CASE WHEN c_credit = 'BC' THEN 1.0 ELSE 0 END) FROM customer", 0.09, 0.11},
		{"ORIGINAL items", "SELECT avg(CASE WHEN i_data LIKE '%ORIGINAL%' THEN 1.0 ELSE 0 END) FROM item", 0.09, 0.11},
		{"ORIGINAL stock", "SELECT avg(CASE WHEN s_data LIKE '%ORIGINAL%' THEN 1.0 ELSE 0 END) FROM stock", 0.09, 0.11},
		{"delivered orders", "SELECT avg(CASE WHEN o_carrier_id IS NULL THEN 0 ELSE 1.0 END) FROM orders", 0.69, 0.71},
		{"distinct last names", "SELECT count(DISTINCT c_last) / 1000.0 FROM customer", 1, 1},
	}
	for _, s := range shares {
		var got float64
		if err := conn.QueryRow(ctx, s.sql).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got < s.lo || got > s.hi {
			t.Errorf("%s: %.4f, want in [%.2f, %.2f]", s.what, got, s.lo, s.hi)
		}
	}
}

// TestBadInput: a database without the schema is a clear error.
func TestNoSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "tpcc_empty")
	ctx := context.Background()
	_, err := Run(ctx, RunConfig{URLs: []string{url}, Duration: time.Second})
	if !errors.Is(err, workload.ErrNoSchema) {
		t.Fatalf("run on an empty database: %v, want ErrNoSchema", err)
	}
	_, err = Check(ctx, url)
	if !errors.Is(err, workload.ErrNoSchema) {
		t.Fatalf("check on an empty database: %v, want ErrNoSchema", err)
	}
	if msg := workload.UserError(err); !strings.Contains(msg, "workload init tpcc") || strings.Contains(msg, "\n") {
		t.Errorf("message %q should be one line naming `workload init tpcc`", msg)
	}
}
