package sql

import (
	"testing"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// TestStripParallel: the PARALLEL clause of CREATE FUNCTION and CREATE
// PROCEDURE is checked as PostgreSQL checks it and blanked out, its place
// kept; elsewhere, in strings and bodies, the words stay.
func TestStripParallel(t *testing.T) {
	for _, tc := range []struct{ in, out, code string }{
		{in: "create function f(int) returns int as 'select 1' language sql parallel safe",
			out: "create function f(int) returns int as 'select 1' language sql              "},
		{in: "CREATE OR REPLACE FUNCTION f() RETURNS int PARALLEL RESTRICTED IMMUTABLE AS $$ select 'parallel safe' $$ LANGUAGE sql;\nselect 'parallel safe'",
			out: "CREATE OR REPLACE FUNCTION f() RETURNS int                     IMMUTABLE AS $$ select 'parallel safe' $$ LANGUAGE sql;\nselect 'parallel safe'"},
		{in: `create procedure p() language sql parallel "unsafe" as 'select 1'`,
			out: `create procedure p() language sql                   as 'select 1'`},
		{in: "select parallel from t", out: "select parallel from t"},
		{in: "vacuum (parallel 2) t", out: "vacuum (parallel 2) t"},
		{in: "create function f() returns int language sql parallel 'safe' as 'select 1'",
			out: "create function f() returns int language sql parallel 'safe' as 'select 1'"},
		{in: "create function f() returns int language sql parallel foo as 'select 1'", code: "42601"},
		{in: `create function f() returns int language sql parallel "SAFE" as 'select 1'`, code: "42601"},
		{in: "create function f() returns int language sql parallel safe parallel unsafe as 'select 1'", code: "42601"},
	} {
		got, err := stripParallel(tc.in)
		if tc.code != "" {
			if err == nil || string(pgerror.CodeOf(err)) != tc.code {
				t.Errorf("%s: %q %v, want %s", tc.in, got, err, tc.code)
			}
			continue
		}
		if err != nil || got != tc.out {
			t.Errorf("%s:\n got %q %v\nwant %q", tc.in, got, err, tc.out)
		}
	}
}
