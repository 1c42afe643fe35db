package sql

import (
	"testing"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// TestRewriteVariadic: VARIADIC becomes the marker call only where it
// starts a call's last argument, never inside strings, comments, quoted
// identifiers or a routine's parameter list.
func TestRewriteVariadic(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"select concat(variadic a)", "select concat(meridian__variadic( a))"},
		{"select concat_ws(',', VARIADIC array[1,2])", "select concat_ws(',', meridian__variadic( array[1,2]))"},
		{"select f(variadic x order by y)", "select f(meridian__variadic( x) order by y)"},
		{"select f(variadic g(variadic a), )", "select f(variadic g(variadic a), )"},
		{"select f(a, variadic g(b, variadic c))", "select f(a, meridian__variadic( g(b, meridian__variadic( c))))"},
		{"select s.f(variadic x /* ) */)", "select s.f(meridian__variadic( x) /* ) */)"},
		{`select "F"(variadic x)`, `select "F"(meridian__variadic( x))`},
		{"select 'f(variadic x)', $$f(variadic x)$$, $t$ variadic $t$ -- f(variadic x)", "select 'f(variadic x)', $$f(variadic x)$$, $t$ variadic $t$ -- f(variadic x)"},
		{`select E'\'f(variadic x)'`, `select E'\'f(variadic x)'`},
		{`select "variadic" from t`, `select "variadic" from t`},
		{"select greatest(variadic a)", "select greatest(variadic a)"},
		{"select (variadic a)", "select (variadic a)"},
		{"create function f(variadic xs int[]) returns int language sql as 'select 1'", "create function f(IN xs int[]) returns int language sql as 'select 1'"},
		{"drop function if exists s.f(variadic int[])", "drop function if exists s.f(IN int[])"},
		{"drop function g(int), f(variadic int[])", "drop function g(int), f(IN int[])"},
		{"select f(variadic a); select g(variadic b)", "select f(meridian__variadic( a)); select g(meridian__variadic( b))"},
	} {
		got, _, err := rewriteVariadic(c.in)
		if c.out == c.in && err != nil {
			// Left for the grammar (a comma after the argument is ours).
			continue
		}
		if err != nil || got != c.out {
			t.Errorf("rewriteVariadic(%q) = %q, %v; want %q", c.in, got, err, c.out)
		}
	}
	_, params, err := rewriteVariadic("select 1; create function f(a int default g(1, 2), b int, VARIADIC c int[]) returns int language sql as 'select 1'")
	if err != nil || len(params) != 1 || params[0] != (variadicParam{stmt: 1, param: 2}) {
		t.Errorf("VARIADIC parameter: %v, %v; want statement 1's parameter 2", params, err)
	}
	_, _, err = rewriteVariadic("select concat(variadic array[1], 2)")
	if pgerror.CodeOf(err) != pgerror.CodeSyntaxError || pgerror.PositionOf(err) != 32 {
		t.Errorf("VARIADIC before another argument: %v at %d, want a syntax error at 32", err, pgerror.PositionOf(err))
	}
}
