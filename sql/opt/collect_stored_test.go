package opt

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// TestAddStoredMatchesAdd: statistics collected from the stored pairs
// (AddStored, which takes key encodings from the bytes where it can) equal
// those collected from the decoded rows (Add), for every kind of column:
// a decimal primary key (also stored in the value, with its scale),
// integers, strings, timestamps, decimals of varying scale (1.5 and 1.50
// are one value), JSON, arrays, intervals, NULLs, and a dropped column's
// leftover value.
func TestAddStoredMatchesAdd(t *testing.T) {
	d := &catalog.TableDescriptor{ID: 60, Name: "s", PrimaryKey: []int{0, 1}}
	cols := []*types.T{types.Decimal, types.Int, types.String, types.Timestamp, types.Decimal,
		types.Jsonb, types.IntArray, types.Interval, types.Int}
	for i, typ := range cols {
		d.Columns = append(d.Columns, catalog.ColumnDescriptor{ID: uint32(i + 1), Name: fmt.Sprintf("c%d", i)}.WithType(typ))
	}
	dec := func(s string) tree.Datum {
		v, _, err := apd.NewFromString(s)
		if err != nil {
			t.Fatal(err)
		}
		return &tree.DDecimal{Decimal: *v}
	}
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var rows []tree.Datums
	for i := range 3000 {
		j, err := json.ParseJSON(fmt.Sprintf(`{"a": %d}`, i%7))
		if err != nil {
			t.Fatal(err)
		}
		arr := tree.NewDArray(types.Int)
		_ = arr.Append(tree.NewDInt(tree.DInt(i % 5)))
		row := tree.Datums{
			dec(fmt.Sprintf("%d.%d0", i/10, i%10)), tree.NewDInt(tree.DInt(i % 3)), tree.NewDString(fmt.Sprint("s", i%11)),
			tree.MustMakeDTimestamp(at.Add(time.Duration(i%13)*time.Hour), time.Microsecond),
			dec([]string{"1.5", "1.50", "2", "2.000"}[i%4]), tree.NewDJSON(j), arr,
			&tree.DInterval{Duration: duration.MakeDuration(int64(i%4)*1e9, int64(i%2), 0)}, tree.NewDInt(tree.DInt(i % 17)),
		}
		if i%5 == 0 {
			row[2], row[4], row[5], row[6], row[7] = tree.DNull, tree.DNull, tree.DNull, tree.DNull, tree.DNull
		}
		rows = append(rows, row)
	}
	type kv struct{ k, v []byte }
	var stored []kv
	for _, row := range rows {
		k, err := rowenc.RowKey(d, row)
		if err != nil {
			t.Fatal(err)
		}
		v, err := rowenc.RowValue(d, row)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, kv{k, v})
	}
	// The last column dropped after the rows were written: its values
	// stay in the stored rows, and neither collection counts them.
	d.Columns = d.Columns[:len(d.Columns)-1]

	byRow, byStored := NewCollector(d), NewCollector(d)
	for _, p := range stored {
		row, err := rowenc.DecodeRow(d, p.k, p.v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := byRow.Add(row); err != nil {
			t.Fatal(err)
		}
		if _, err := byStored.AddStored(p.k, p.v); err != nil {
			t.Fatal(err)
		}
	}
	want, got := byRow.Finish(1), byStored.Finish(1)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("from the stored pairs:\n%v\nfrom the decoded rows:\n%v", got, want)
	}
	if c := got.Column(5); c.Distinct != 2 {
		t.Errorf("decimals 1.5, 1.50, 2, 2.000: %d distinct, want 2", c.Distinct)
	}
	if c := got.Column(8); c.Distinct != 4 {
		t.Errorf("intervals: %d distinct, want 4", c.Distinct)
	}
}
