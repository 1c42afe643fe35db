package sem_test

import (
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

func TestFormatType(t *testing.T) {
	for _, tc := range []struct {
		typ  *types.T
		want string
	}{
		{types.Int, "bigint"},
		{types.MakeVarChar(20), "character varying(20)"},
		{types.MakeDecimal(10, 2), "numeric(10,2)"},
		{types.TimestampTZ, "timestamp with time zone"},
		{types.MakeArray(types.Int4), "integer[]"},
	} {
		if got := sem.FormatType(tc.typ.Oid(), sem.Typmod(tc.typ)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.typ, got, tc.want)
		}
	}
}

func TestParseExprCodes(t *testing.T) {
	e, err := sem.ParseExpr("a + 1 > b")
	if err != nil {
		t.Fatal(err)
	}
	if cols := sem.ExprColumns(e); len(cols) != 2 || cols[0] != "a" || cols[1] != "b" {
		t.Errorf("columns %v", cols)
	}
	if _, err := sem.ParseExpr("a +"); pgerror.CodeOf(err) != pgerror.CodeSyntaxError {
		t.Errorf("syntax error has code %s: %v", pgerror.CodeOf(err), err)
	}
}
