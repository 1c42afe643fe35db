package catalog_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/memkv"
)

// TestDescriptorLifecycle creates, reads, lists, renames and drops tables
// through the catalog alone.
func TestDescriptorLifecycle(t *testing.T) {
	ctx := context.Background()
	txn, err := memkv.New().NewTxn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	newTable := func(name string) *catalog.TableDescriptor {
		d := &catalog.TableDescriptor{Name: name, ParentID: 1, Schema: "public", PrimaryKey: []int{0}, NextColumnID: 2, Columns: []catalog.ColumnDescriptor{
			catalog.ColumnDescriptor{ID: 1, Name: "k"}.WithType(types.Int),
			catalog.ColumnDescriptor{ID: 2, Name: "v", Nullable: true}.WithType(types.MakeVarChar(10)),
		}}
		if err := catalog.CreateTable(ctx, txn, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b := newTable("a"), newTable("b")
	if a.ID == b.ID || a.ID < 100 {
		t.Fatalf("IDs %d and %d", a.ID, b.ID)
	}
	got, err := catalog.MustGetTable(ctx, txn, catalog.RelKey{DB: 1, Schema: "public", Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != b.ID || got.Columns[1].Type().SQLString() != "VARCHAR(10)" || got.ColumnIndex("v") != 1 {
		t.Fatalf("read back %+v", got)
	}
	if err := catalog.RenameTable(ctx, txn, got, "c"); err != nil {
		t.Fatal(err)
	}
	if d, err := catalog.GetTable(ctx, txn, catalog.RelKey{DB: 1, Schema: "public", Name: "b"}); err != nil || d != nil {
		t.Fatalf("old name still resolves: %v %v", d, err)
	}
	if d, err := catalog.GetTableByID(ctx, txn, b.ID); err != nil || d.Name != "c" {
		t.Fatalf("by ID after rename: %v %v", d, err)
	}
	if err := catalog.DropTable(ctx, txn, a); err != nil {
		t.Fatal(err)
	}
	all, err := catalog.ListTables(ctx, txn, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != "c" {
		t.Fatalf("tables after drop: %v", all)
	}
	if _, err := catalog.MustGetTable(ctx, txn, catalog.RelKey{DB: 1, Schema: "public", Name: "a"}); err == nil {
		t.Fatal("dropped table still resolves")
	}
}
