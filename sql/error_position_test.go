package sql_test

import (
	"context"
	"github.com/cockroachdb/errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestErrorPosition: errors of the simple protocol carry the place in the
// query that PostgreSQL gives (psql's LINE n: and caret): a literal that
// does not read as its type, a column or relation that does not exist;
// none when the text occurs twice or the statement is a utility one.
func TestErrorPosition(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.PgConn().Exec(ctx, "CREATE TABLE ep (k INT PRIMARY KEY, b BOOL)").ReadAll(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		code  string
		pos   int32
	}{
		{"SELECT 'abc'::int", "22P02", 8},
		{"SELECT bool 'yeah' AS error", "22P02", 13},
		{"INSERT INTO ep VALUES (1, 'maybe')", "22P02", 27},
		{"SELECT '9223372036854775808'::int8", "22003", 8},
		{"SELECT nosuch FROM ep", "42703", 8},
		{"SELECT é.k, nosuch FROM ep é", "42703", 13}, // characters, not bytes
		{"SELECT k FROM nosuchtable", "42P01", 15},
		{"SELECT 'x'::int, 'x'::int", "22P02", 0}, // twice: no place
		{"SELECT nosuch, nosuch FROM ep", "42703", 0},
		{"DROP TABLE nosuchtable", "42P01", 0},           // a utility statement
		{"SELECT '  tru e '::text::boolean", "22P02", 0}, // a text value's cast
	} {
		_, err := c.PgConn().Exec(ctx, tc.query).ReadAll()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Position != tc.pos {
			t.Errorf("%s: want SQLSTATE %s at %d, got %v (position %d)", tc.query, tc.code, tc.pos, err, func() int32 {
				if pe != nil {
					return pe.Position
				}
				return -1
			}())
		}
	}
}
