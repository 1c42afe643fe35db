package sql_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/sql/sqltest"
)

// TestImplicitTxn: the statements of a pipeline or a query string commit
// together or not at all, as in PostgreSQL (see sqltest).
func TestImplicitTxn(t *testing.T) {
	c, _ := startSQL(t)
	sqltest.CheckImplicitTxns(t, c, "implicit_txn")
}

// TestImplicitTxnAgainstPostgres runs the same checks on PostgreSQL 15.
func TestImplicitTxnAgainstPostgres(t *testing.T) {
	url := freshPostgresDB(t, "implicit_txn")
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	sqltest.CheckImplicitTxns(t, c, "implicit_txn")
}
