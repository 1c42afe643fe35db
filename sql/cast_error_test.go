package sql_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestCastErrorNamesWidth: a literal that does not parse as the integer
// type it is cast to names that type as PostgreSQL does (logic files
// compare errors by SQLSTATE only; node-postgres's smoke program compares
// the message). The type checker said bigint for every width.
func TestCastErrorNamesWidth(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	for q, want := range map[string]string{
		"SELECT 'x'::int":            `invalid input syntax for type integer: "x"`,
		"SELECT 1 + 'x'::int4":       `invalid input syntax for type integer: "x"`,
		"SELECT 'x'::smallint":       `invalid input syntax for type smallint: "x"`,
		"SELECT CAST('y' AS bigint)": `invalid input syntax for type bigint: "y"`,
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
			_, err := c.Exec(ctx, q, mode)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "22P02" || pe.Message != want {
				t.Errorf("%s (%v): %v, want 22P02 %s", q, mode, err, want)
			}
		}
	}
}
