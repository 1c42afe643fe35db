package sql

import (
	"fmt"
	"testing"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// TestSyntaxErrorPosition: the grammar's syntax errors read as
// PostgreSQL's, with the place of the token in the whole query string.
func TestSyntaxErrorPosition(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"selec 1", `syntax error at or near "selec" @1`},
		{"select 1 +;", `syntax error at or near ";" @11`},
		{"select 1 +", `syntax error at end of input @11`},
		{"select 1; select é from t where;", `syntax error at or near ";" @32`},
		{"SELECT 'first line'\n' - next line' /* c */\n' - third line'\n\tAS x;", `syntax error at or near "' - third line'" @44`},
		{"select 1 + -- comment\n", `syntax error at end of input @23`},
	} {
		_, err := parseSQL(tc.query)
		got := "no error"
		if err != nil {
			got = fmt.Sprintf("%s @%d", err.Error(), pgerror.PositionOf(err))
			if c := pgerror.CodeOf(err); c != pgerror.CodeSyntaxError {
				got += " code " + string(c)
			}
		}
		if got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.query, got, tc.want)
		}
	}
}
