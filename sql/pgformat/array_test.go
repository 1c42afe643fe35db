package pgformat_test

import (
	"testing"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgformat"
)

func testArrays(t testing.TB) map[*types.T]*tree.DArray {
	ints := tree.NewDArray(types.Int4)
	for _, d := range []tree.Datum{tree.NewDInt(1), tree.DNull, tree.NewDInt(-3)} {
		if err := ints.Append(d); err != nil {
			t.Fatal(err)
		}
	}
	strs := tree.NewDArray(types.String)
	for _, d := range []tree.Datum{tree.NewDString("a b"), tree.NewDString(""), tree.NewDString("NULL"), tree.NewDString(`x"y`)} {
		if err := strs.Append(d); err != nil {
			t.Fatal(err)
		}
	}
	return map[*types.T]*tree.DArray{
		types.MakeArray(types.Int4):   ints,
		types.MakeArray(types.String): strs,
		types.MakeArray(types.Float):  tree.NewDArray(types.Float),
		// int4[] again (another key), of two dimensions.
		types.MakeArray(types.Int4): pgarray.Build(types.Int4, []int{2, 3}, tree.Datums{
			tree.NewDInt(1), tree.NewDInt(2), tree.DNull, tree.NewDInt(4), tree.NewDInt(5), tree.NewDInt(6)}),
	}
}

// TestArrayBinaryRoundTrip sends arrays in the binary format (array_send)
// and reads them back as parameters (array_recv).
func TestArrayBinaryRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for typ, a := range testArrays(t) {
		b, err := pgformat.EncodeBinary(a, typ)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		got, err := pgformat.DecodeParam(b, typ, 1, tree.NewParseContext(now))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if got.String() != a.String() {
			t.Errorf("%s: sent %s, read %s", typ, a, got)
		}
		// Every truncation is an error, not a panic.
		for i := 0; i < len(b); i++ {
			if _, err := pgformat.DecodeParam(b[:i], typ, 1, tree.NewParseContext(now)); err == nil {
				t.Errorf("%s: %d of %d bytes decoded", typ, i, len(b))
			}
		}
	}
}

// FuzzDecodeArrayBinary: arbitrary bytes as a binary int4[] or text[]
// parameter decode or fail with an error, never panic.
func FuzzDecodeArrayBinary(f *testing.F) {
	for typ, a := range testArrays(f) {
		b, err := pgformat.EncodeBinary(a, typ)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, typ.ArrayContents().Family() == types.StringFamily)
	}
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte, text bool) {
		typ := types.MakeArray(types.Int4)
		if text {
			typ = types.MakeArray(types.String)
		}
		_, _ = pgformat.DecodeParam(b, typ, 1, tree.NewParseContext(now))
	})
}

// TestArrayBinaryLowerBounds: array_send writes each dimension's lower
// bound (PostgreSQL's layout, which pgx reads) and array_recv keeps it.
func TestArrayBinaryLowerBounds(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	typ := types.MakeArray(types.Int4)
	a := pgarray.BuildBounded(types.Int4, []int{2, 1}, []int{-1, 5}, tree.Datums{tree.NewDInt(7), tree.NewDInt(8)})
	b, err := pgformat.EncodeBinary(a, typ)
	if err != nil {
		t.Fatal(err)
	}
	// ndims 2, no NULLs, int4's OID, then (length, lower bound) a dimension.
	want := []byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 5}
	if string(b[:len(want)]) != string(want) {
		t.Errorf("header % x, want % x", b[:len(want)], want)
	}
	got, err := pgformat.DecodeParam(b, typ, 1, tree.NewParseContext(now))
	if err != nil {
		t.Fatal(err)
	}
	if d := pgarray.DimsText(got.(*tree.DArray)); d != "[-1:0][5:5]" || got.String() != a.String() {
		t.Errorf("read %s %s", d, got)
	}
	if s := string(pgformat.EncodeText(got)); s != "[-1:0][5:5]={{7},{8}}" {
		t.Errorf("text %s", s)
	}
}
