package bank

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/workload"
	"github.com/meridiandb/meridian/workload/pgtest"
)

// TestBankPostgres: init, check, transfer for 20 s under the server's
// default isolation (PostgreSQL's READ COMMITTED, safe thanks to FOR
// UPDATE), check again; then break the invariant by hand and see the check
// fail.
func TestBankPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "bank")
	ctx := context.Background()
	// Few accounts: transfers contend, and some are refused.
	if err := Init(ctx, InitConfig{URLs: []string{url}, Accounts: 20}); err != nil {
		t.Fatal(err)
	}
	if res, err := Check(ctx, url); err != nil || res.Accounts != 20 {
		t.Fatalf("check after init: %+v, %v", res, err)
	}
	r, err := Run(ctx, RunConfig{URLs: []string{url}, Duration: 20 * time.Second, Workers: 6, MaxTransfer: 400})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	t.Log(b.String())
	if r.Ops[0].Count < 100 || r.Errors != 0 || r.Audits < 10 {
		t.Fatalf("%d transfers, %d audits, %d errors (%s)", r.Ops[0].Count, r.Audits, r.Errors, r.FirstError)
	}
	if _, err := Check(ctx, url); err != nil {
		t.Fatal(err)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE bank SET balance = balance + 1 WHERE id = 3"); err != nil {
		t.Fatal(err)
	}
	res, err := Check(ctx, url)
	if !errors.Is(err, workload.ErrViolation) || len(res.Violations) != 1 {
		t.Fatalf("check after a lost cent: %+v, %v; want one violation", res, err)
	}
}

func TestBankNoSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "bank_empty")
	_, err := Run(context.Background(), RunConfig{URLs: []string{url}, Duration: time.Second})
	if !errors.Is(err, workload.ErrNoSchema) {
		t.Fatalf("run on an empty database: %v, want ErrNoSchema", err)
	}
}
