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
	if _, err := parseInts("[0:1]={1,2}"); pgerror.CodeOf(err) != pgerror.CodeFeatureNotSupported {
		t.Errorf("lower bound 0: %v", err)
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
