package sql_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestIntegerLiteralIsInt4: a select list's integer literal is an
// integer (OID 23) when it fits in 32 bits, a bigint (20) otherwise, as
// PostgreSQL describes them, in both protocols and read back in binary.
func TestIntegerLiteralIsInt4(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
		rows, err := c.Query(ctx, "SELECT 1 AS a, -2147483648 AS b, 2147483648 AS c, 1 + 1 AS d", mode)
		if err != nil {
			t.Fatal(err)
		}
		var oids []uint32
		for _, f := range rows.FieldDescriptions() {
			oids = append(oids, f.DataTypeOID)
		}
		var a, b int32
		var cc, d int64
		for rows.Next() {
			if err := rows.Scan(&a, &b, &cc, &d); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if want := []uint32{23, 23, 20, 23}; len(oids) != 4 || oids[0] != want[0] || oids[1] != want[1] || oids[2] != want[2] || oids[3] != want[3] {
			t.Fatalf("mode %v: column OIDs %v, want %v", mode, oids, want)
		}
		if a != 1 || b != -2147483648 || cc != 2147483648 || d != 2 {
			t.Fatalf("mode %v: read %d %d %d %d", mode, a, b, cc, d)
		}
	}
}
