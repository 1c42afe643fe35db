package pgarray_test

import (
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
)

func parseInts(s string) (*tree.DArray, error) {
	return pgarray.Parse(s, types.Int4, func(el string) (tree.Datum, error) {
		d, err := tree.ParseDInt(el)
		return d, err
	})
}

// TestParse reads array literals as array_in does: shapes, quoting,
// dimensions given first, and its DETAILs for malformed ones.
func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"{}":                   "ARRAY[]",
		" { 1 , NULL } ":       "ARRAY[1,NULL]",
		"{{1,2},{3,4}}":        "ARRAY[ARRAY[1,2],ARRAY[3,4]]",
		`{{"1"},{ 2 }}`:        "ARRAY[ARRAY[1],ARRAY[2]]",
		"[1:2][1:1]={{1},{2}}": "ARRAY[ARRAY[1],ARRAY[2]]",
		"{{{1}},{{2}}}":        "ARRAY[ARRAY[ARRAY[1]],ARRAY[ARRAY[2]]]",
	} {
		a, err := parseInts(in)
		if err != nil || a.String() != want {
			t.Errorf("%q: %v, %v; want %s", in, a, err, want)
		}
	}
	for in, detail := range map[string]string{
		"{1,2":        "Unexpected end of input.",
		"{{1,2},{3}}": "Multidimensional arrays must have sub-arrays with matching dimensions.",
		"{{1,2},3}":   "Unexpected array element.",
		"{{},{}}":     `Unexpected "}" character.`,
		"{1,,2}":      `Unexpected "," character.`,
		"{1} x":       "Junk after closing right brace.",
		"1":           `Array value must start with "{" or dimension information.`,
		"[1:2]={1}":   "Specified array dimensions do not match array contents.",
		"[1:2={1,2}":  `Missing "]" after array dimensions.`,
		`{"a"b}`:      "Unexpected array element.",
	} {
		_, err := parseInts(in)
		if pgerror.CodeOf(err) != pgerror.CodeInvalidTextRepresentation || pgerror.DetailOf(err) != detail {
			t.Errorf("%q: %v (%s); want DETAIL %s", in, err, pgerror.DetailOf(err), detail)
		}
	}
	for in, want := range map[string]string{
		"[0:1]={1,2}":                   "[0:1]",
		" [2:3] [-1:0] = {{1,2},{3,4}}": "[2:3][-1:0]",
		"[1:2]={1,2}":                   "",
		"[2147483646:2147483646]={1}":   "[2147483646:2147483646]",
	} {
		a, err := parseInts(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		got := ""
		if pgarray.HasBounds(a) {
			got = pgarray.DimsText(a)
		}
		if got != want {
			t.Errorf("%q: bounds %q, want %q", in, got, want)
		}
	}
	for in, code := range map[string]pgerror.Code{
		"[2147483647:2147483647]={1}": pgerror.CodeProgramLimitExceeded,
		"[2:1]={}":                    pgarray.CodeArraySubscript,
		"[ 0:1]={1,2}":                pgerror.CodeInvalidTextRepresentation,
		"[0 :1]={1,2}":                pgerror.CodeInvalidTextRepresentation,
	} {
		if _, err := parseInts(in); pgerror.CodeOf(err) != code {
			t.Errorf("%q: %v, want %s", in, err, code)
		}
	}
}

// TestBoundsKept: the lower bounds follow an array through MapLeaves,
// Cat and Stack as PostgreSQL's, and a copy never changes the original.
func TestBoundsKept(t *testing.T) {
	a, err := parseInts("[0:1]={1,2}")
	if err != nil {
		t.Fatal(err)
	}
	m, err := pgarray.MapLeaves(a, types.Int, func(d tree.Datum) (tree.Datum, error) { return d, nil })
	if err != nil || pgarray.DimsText(m) != "[0:1]" {
		t.Errorf("MapLeaves: %v %v", pgarray.DimsText(m), err)
	}
	if u := pgarray.Unbounded(a); pgarray.HasBounds(u) || !pgarray.HasBounds(a) {
		t.Errorf("Unbounded changed the original or kept the bounds")
	}
	one, _ := parseInts("{3}")
	for _, c := range []struct {
		x, y *tree.DArray
		want string
	}{{a, one, "[0:2]"}, {one, a, "[1:3]"}} {
		got, err := pgarray.Cat(types.Int4, c.x, c.y)
		if err != nil || pgarray.DimsText(got) != c.want {
			t.Errorf("Cat: %v %v, want %s", pgarray.DimsText(got), err, c.want)
		}
	}
	s, err := pgarray.Stack(types.Int4, tree.Datums{a, a})
	if err != nil || pgarray.DimsText(s) != "[1:2][0:1]" {
		t.Errorf("Stack: %v %v", pgarray.DimsText(s), err)
	}
	if _, err := pgarray.Stack(types.Int4, tree.Datums{a, pgarray.Unbounded(a)}); pgerror.CodeOf(err) != pgarray.CodeArraySubscript {
		t.Errorf("Stack of different bounds: %v", err)
	}
}

// TestShape: Dims, Flat and Build agree, and Stack and Cat refuse
// arrays of different shapes.
func TestShape(t *testing.T) {
	flat := tree.Datums{tree.NewDInt(1), tree.NewDInt(2), tree.NewDInt(3), tree.NewDInt(4), tree.NewDInt(5), tree.NewDInt(6)}
	a := pgarray.Build(types.Int4, []int{3, 2}, flat)
	if d := pgarray.Dims(a); len(d) != 2 || d[0] != 3 || d[1] != 2 || pgarray.Cardinality(a) != 6 {
		t.Fatalf("dims %v", d)
	}
	if got := pgarray.Flat(a); len(got) != 6 || got[5] != flat[5] {
		t.Fatalf("flat %v", got)
	}
	if _, err := pgarray.Stack(types.Int4, tree.Datums{a, pgarray.Build(types.Int4, []int{2, 3}, flat)}); pgerror.CodeOf(err) != pgarray.CodeArraySubscript {
		t.Errorf("stack of different shapes: %v", err)
	}
	if _, err := pgarray.Cat(types.Int4, a, pgarray.Build(types.Int4, []int{3}, flat[:3])); pgerror.CodeOf(err) != pgarray.CodeArraySubscript {
		t.Errorf("cat of incompatible arrays: %v", err)
	}
	c, err := pgarray.Cat(types.Int4, a, pgarray.Build(types.Int4, []int{2}, flat[:2]))
	if err != nil || c.String() != "ARRAY[ARRAY[1,2],ARRAY[3,4],ARRAY[5,6],ARRAY[1,2]]" {
		t.Errorf("cat: %v, %v", c, err)
	}
}
