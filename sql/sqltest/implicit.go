package sqltest

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CheckImplicitTxns checks, on c, the implicit transactions of the
// PostgreSQL protocol: the statements of a pipeline (pgx's SendBatch: the
// extended protocol up to one Sync) or of a multi-statement query string
// outside a transaction block commit together at the end, and an error
// rolls all of them back; COMMIT and BEGIN among them act as in
// PostgreSQL. It runs the same against PostgreSQL itself. table is a name
// for the table it creates.
func CheckImplicitTxns(t *testing.T, c *pgx.Conn, table string) {
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	rows := func() string {
		t.Helper()
		r, err := c.Query(ctx, "SELECT k FROM "+table+" ORDER BY k")
		if err != nil {
			t.Fatal(err)
		}
		ks, err := pgx.CollectRows(r, pgx.RowTo[int32])
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(ks)
	}
	// batch sends the statements in one pipeline and returns the first
	// error's SQLSTATE ("" if none).
	batch := func(stmts ...string) string {
		t.Helper()
		b := &pgx.Batch{}
		for _, s := range stmts {
			b.Queue(s)
		}
		err := c.SendBatch(ctx, b).Close()
		return codeOf(err)
	}
	simple := func(sql string) string {
		t.Helper()
		_, err := c.PgConn().Exec(ctx, sql).ReadAll()
		return codeOf(err)
	}
	expect := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: got %q, want %q", what, got, want)
		}
	}
	ins := func(k int) string { return fmt.Sprintf("INSERT INTO %s VALUES (%d)", table, k) }

	exec("DROP TABLE IF EXISTS " + table)
	exec("CREATE TABLE " + table + " (k INT PRIMARY KEY)")

	// A pipeline that fails rolls back its earlier statements.
	expect("failing batch", batch(ins(1), ins(2), ins(1)), "23505")
	expect("after the failing batch", rows(), "[]")
	expect("status", string(c.PgConn().TxStatus()), "I")
	// One that succeeds commits them all.
	expect("batch", batch(ins(1), ins(2)), "")
	expect("after the batch", rows(), "[1 2]")
	// So does a query string.
	expect("failing query string", simple(ins(3)+"; "+ins(4)+"; "+ins(1)), "23505")
	expect("after the failing query string", rows(), "[1 2]")
	expect("query string", simple(ins(3)+"; "+ins(4)), "")
	expect("after the query string", rows(), "[1 2 3 4]")
	// COMMIT in an implicit transaction commits what came before (with a
	// warning); what follows is a new implicit transaction.
	expect("query string with COMMIT", simple(ins(5)+"; COMMIT; "+ins(6)+"; "+ins(1)), "23505")
	expect("after COMMIT", rows(), "[1 2 3 4 5]")
	expect("batch with COMMIT", batch(ins(6), "COMMIT", ins(7), ins(1)), "23505")
	expect("after the batch with COMMIT", rows(), "[1 2 3 4 5 6]")
	// BEGIN turns the implicit transaction into a block, which takes in
	// the statements before it and stays open after the pipeline.
	expect("batch with BEGIN", batch(ins(7), "BEGIN", ins(8)), "")
	expect("status after the batch with BEGIN", string(c.PgConn().TxStatus()), "T")
	exec("ROLLBACK")
	expect("after ROLLBACK of the block", rows(), "[1 2 3 4 5 6]")
	expect("query string with BEGIN", simple(ins(7)+"; BEGIN; "+ins(8)), "")
	expect("status after the query string with BEGIN", string(c.PgConn().TxStatus()), "T")
	exec("COMMIT")
	expect("after COMMIT of the block", rows(), "[1 2 3 4 5 6 7 8]")
	// A pipeline in a block: an error fails the block, which is rolled
	// back as a whole.
	exec("BEGIN")
	expect("batch in a block", batch(ins(9), ins(1)), "23505")
	expect("status after the failing batch in a block", string(c.PgConn().TxStatus()), "E")
	exec("ROLLBACK")
	// A block begun and committed inside one pipeline, then a failure: the
	// block's statements stay.
	expect("batch with a block", batch("BEGIN", ins(9), "COMMIT", ins(10), ins(1)), "23505")
	expect("after the batch with a block", rows(), "[1 2 3 4 5 6 7 8 9]")
	// SAVEPOINT needs a block, not an implicit transaction.
	expect("SAVEPOINT in a query string", simple(ins(10)+"; SAVEPOINT s"), "25P01")
	expect("after SAVEPOINT", rows(), "[1 2 3 4 5 6 7 8 9]")
	exec("DROP TABLE " + table)
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return err.Error()
}
