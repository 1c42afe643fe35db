package catalog_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/memkv"
)

// TestStatisticsLifecycle: a table's statistics are stored, read back,
// listed, replaced, refused when corrupt, and removed with the table.
func TestStatisticsLifecycle(t *testing.T) {
	ctx := context.Background()
	txn, err := memkv.New().NewTxn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := &catalog.TableDescriptor{Name: "s", ParentID: 1, Schema: "public", PrimaryKey: []int{0}, NextColumnID: 1, Columns: []catalog.ColumnDescriptor{
		catalog.ColumnDescriptor{ID: 1, Name: "k"}.WithType(types.Int),
	}}
	if err := catalog.CreateTable(ctx, txn, d); err != nil {
		t.Fatal(err)
	}
	if s, err := catalog.GetStatistics(ctx, txn, d.ID); err != nil || s != nil {
		t.Fatalf("before ANALYZE: %v %v", s, err)
	}
	want := &catalog.TableStatistics{Name: "x", RowCount: 7, Columns: []catalog.ColumnStatistics{{ColumnID: 1, Distinct: 7, Histogram: [][]byte{{0x89}}}}}
	if err := catalog.PutStatistics(ctx, txn, d.ID, want); err != nil {
		t.Fatal(err)
	}
	got, err := catalog.GetStatistics(ctx, txn, d.ID)
	if err != nil || got.RowCount != 7 || got.Column(1).Distinct != 7 || got.Column(2) != nil || string(got.Column(1).Histogram[0]) != "\x89" {
		t.Fatalf("read back %+v %v", got, err)
	}
	all, err := catalog.ListStatistics(ctx, txn)
	if err != nil || len(all) != 1 || all[d.ID].Name != "x" {
		t.Fatalf("listed %v %v", all, err)
	}
	if err := catalog.DropTable(ctx, txn, d); err != nil {
		t.Fatal(err)
	}
	if s, err := catalog.GetStatistics(ctx, txn, d.ID); err != nil || s != nil {
		t.Fatalf("after DROP TABLE: %v %v", s, err)
	}
	// A corrupt record is an error, not a plan built on garbage.
	if err := txn.Put(ctx, append([]byte{0x04, 'S'}, 0x89), []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.GetStatistics(ctx, txn, 1); err == nil {
		t.Fatal("corrupt statistics read without an error")
	}
}
