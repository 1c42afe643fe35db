package rowenc_test

import (
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/rowenc"
)

func sampleArrays(t testing.TB) []*tree.DArray {
	dec, err := tree.ParseDDecimal("2.50")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(typ *types.T, ds ...tree.Datum) *tree.DArray {
		a := tree.NewDArray(typ)
		for _, d := range ds {
			if err := a.Append(d); err != nil {
				t.Fatal(err)
			}
		}
		return a
	}
	return []*tree.DArray{
		mk(types.Int4, tree.NewDInt(1), tree.DNull, tree.NewDInt(-3)),
		mk(types.String, tree.NewDString("a,b"), tree.NewDString(""), tree.DNull),
		mk(types.Decimal, dec, tree.DNull),
		mk(types.Bool),
		mk(types.Bytes, tree.NewDBytes("\x00\xff")),
		// Two and three dimensions (the second layout).
		pgarray.Build(types.Int4, []int{2, 2}, tree.Datums{tree.NewDInt(1), tree.DNull, tree.NewDInt(3), tree.NewDInt(4)}),
		pgarray.Build(types.String, []int{1, 2, 1}, tree.Datums{tree.NewDString("a"), tree.NewDString("")}),
		// Lower bounds other than 1 (the third layout).
		pgarray.BuildBounded(types.Int4, []int{3}, []int{0}, tree.Datums{tree.NewDInt(1), tree.DNull, tree.NewDInt(3)}),
		pgarray.BuildBounded(types.Int4, []int{2, 1}, []int{-5, 1}, tree.Datums{tree.NewDInt(1), tree.NewDInt(2)}),
		pgarray.BuildBounded(types.String, []int{1}, []int{1<<31 - 2}, tree.Datums{tree.NewDString("x")}),
	}
}

// TestArrayValueRoundTrip: arrays decode as they were stored (a
// numeric's scale kept in a row value), a dropped array column's value
// can be skipped (encoding.PeekLength), and every truncation is an error.
func TestArrayValueRoundTrip(t *testing.T) {
	for _, a := range sampleArrays(t) {
		typ := types.MakeArray(a.ParamTyp)
		if !rowenc.Storable(typ) || rowenc.KeyEncodable(typ) {
			t.Fatalf("%s: storable %v, key-encodable %v", typ, rowenc.Storable(typ), rowenc.KeyEncodable(typ))
		}
		for _, value := range []bool{true, false} {
			var b []byte
			var err error
			if value {
				b, err = rowenc.EncodeValueDatum(nil, a)
			} else {
				b, err = rowenc.EncodeDatum(nil, a)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n, err := encoding.PeekLength(b); err != nil || n != len(b) {
				t.Errorf("%s: PeekLength %d, %v; want %d", typ, n, err, len(b))
			}
			decode := rowenc.DecodeDatum
			if value {
				decode = rowenc.DecodeValueDatum
			}
			rest, got, err := decode(b, typ)
			// The key encoding normalizes a numeric's scale (2.50 = 2.5).
			exact := value || a.ParamTyp.Family() != types.DecimalFamily
			if err != nil || len(rest) != 0 || (exact && got.String() != a.String()) ||
				pgarray.DimsText(got.(*tree.DArray)) != pgarray.DimsText(a) {
				t.Errorf("%s: decoded %v (rest %d, %v), want %s", typ, got, len(rest), err, a)
			}
			for i := 1; i < len(b); i++ {
				if _, _, err := decode(b[:i], typ); err == nil {
					t.Errorf("%s: %d of %d bytes decoded", typ, i, len(b))
				}
			}
		}
	}
}

// FuzzDecodeArrayValue: corrupt bytes decode or fail with an error,
// never panic or allocate without bound.
func FuzzDecodeArrayValue(f *testing.F) {
	for _, a := range sampleArrays(f) {
		b, err := rowenc.EncodeValueDatum(nil, a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(a.ParamTyp.Family()))
	}
	elems := []*types.T{types.Int4, types.String, types.Decimal, types.Bool, types.Bytes, types.Float, types.Date, types.Uuid, types.Timestamp}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		typ := types.MakeArray(elems[int(which)%len(elems)])
		_, _, _ = rowenc.DecodeValueDatum(b, typ)
		_, _, _ = rowenc.DecodeDatum(b, typ)
	})
}

// TestArrayStoredBeforeBounds: arrays stored in the layouts that came
// before lower bounds (bytes written by that code) decode as they did,
// and arrays of lower bounds 1 are still written so.
func TestArrayStoredBeforeBounds(t *testing.T) {
	typ := types.MakeArray(types.Int4)
	for enc, want := range map[string]string{
		"\x16\x01\x8b\x89\x00\xff\x87\xfd\x00\x01": "ARRAY[1,NULL,-3]",
		"\x16\x02\x8a\x89\x8a\x89\x8a\x00\x01":     "ARRAY[ARRAY[1],ARRAY[2]]",
	} {
		rest, got, err := rowenc.DecodeValueDatum([]byte(enc), typ)
		if err != nil || len(rest) != 0 || got.String() != want || pgarray.HasBounds(got.(*tree.DArray)) {
			t.Errorf("%q: %v %v, want %s", enc, got, err, want)
			continue
		}
		if b, err := rowenc.EncodeValueDatum(nil, got); err != nil || string(b) != enc {
			t.Errorf("%s re-encoded as %q, %v; want %q", want, b, err, enc)
		}
	}
}
