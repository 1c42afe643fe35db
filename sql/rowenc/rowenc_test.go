package rowenc_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// TestDatumKeyOrder checks that key encodings sort as their values do and
// decode to them.
func TestDatumKeyOrder(t *testing.T) {
	for _, tc := range []struct {
		typ    *types.T
		sorted []tree.Datum
	}{
		{types.Int, []tree.Datum{tree.DNull, tree.NewDInt(-5), tree.NewDInt(0), tree.NewDInt(7)}},
		{types.Float, []tree.Datum{tree.DNull, tree.NewDFloat(-1.5), tree.NewDFloat(0), tree.NewDFloat(2.25)}},
		{types.String, []tree.Datum{tree.DNull, tree.NewDString(""), tree.NewDString("a"), tree.NewDString("ab"), tree.NewDString("b")}},
		{types.Bool, []tree.Datum{tree.DNull, tree.DBoolFalse, tree.DBoolTrue}},
	} {
		var prev []byte
		for i, d := range tc.sorted {
			if !rowenc.KeyEncodable(tc.typ) {
				t.Fatalf("%s: not encodable", tc.typ)
			}
			key, err := rowenc.EncodeDatum(nil, d)
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && bytes.Compare(prev, key) >= 0 {
				t.Errorf("%s: %s does not sort after its predecessor", tc.typ, d)
			}
			prev = key
			rest, got, err := rowenc.DecodeDatum(key, tc.typ)
			if err != nil || len(rest) != 0 || got.String() != d.String() {
				t.Errorf("%s: %s decoded as %v (rest %x, err %v)", tc.typ, d, got, rest, err)
			}
		}
	}
}

// TestRowRoundTrip stores a row as its key and value, and reads it back,
// with a secondary index entry that leads back to the primary key.
func TestRowRoundTrip(t *testing.T) {
	d := &catalog.TableDescriptor{ID: 100, Name: "t", PrimaryKey: []int{0}, Columns: []catalog.ColumnDescriptor{
		catalog.ColumnDescriptor{ID: 1, Name: "a"}.WithType(types.Int),
		catalog.ColumnDescriptor{ID: 2, Name: "b", Nullable: true}.WithType(types.String),
		catalog.ColumnDescriptor{ID: 3, Name: "c", Nullable: true}.WithType(types.Float),
	}}
	idx, err := d.AddIndex("", []string{"b"}, false)
	if err != nil {
		t.Fatal(err)
	}
	row := tree.Datums{tree.NewDInt(42), tree.NewDString("x"), tree.DNull}
	key, err := rowenc.RowKey(d, row)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(key, d.IndexPrefix()) {
		t.Fatalf("row key %x outside the primary index %x", key, d.IndexPrefix())
	}
	val, err := rowenc.RowValue(d, row)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rowenc.DecodeRow(d, key, val)
	if err != nil {
		t.Fatal(err)
	}
	if (&tree.DTuple{D: got}).String() != (&tree.DTuple{D: row}).String() {
		t.Fatalf("decoded %v, stored %v", got, row)
	}
	ikey, err := rowenc.IndexKey(d, idx, row)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := rowenc.PrimaryKeyFromIndexKey(d, idx, ikey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pk, key) {
		t.Fatalf("index entry %x leads to %x, not the row's key %x", ikey, pk, key)
	}
}

func TestDatumsSize(t *testing.T) {
	small := tree.Datums{tree.NewDInt(1)}
	wide := tree.Datums{tree.NewDInt(1), tree.NewDString(strings.Repeat("x", 1000)), tree.DNull}
	if s := rowenc.DatumsSize(small); s <= rowenc.RowOverhead || s > 100 {
		t.Fatalf("a one-int row: %d bytes", s)
	}
	if s := rowenc.DatumsSize(wide); s < 1000+rowenc.RowOverhead+3*rowenc.DatumOverhead {
		t.Fatalf("a row with a 1000-byte string: %d bytes", s)
	}
	if rowenc.DatumsSize(nil) != rowenc.RowOverhead {
		t.Fatalf("an empty row: %d bytes", rowenc.DatumsSize(nil))
	}
	if k := rowenc.KeySize("abc"); k < 3 {
		t.Fatalf("key size %d", k)
	}
}
