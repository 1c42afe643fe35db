package vtable_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/memkv"
	"github.com/meridiandb/meridian/sql/vtable"
)

// TestTablesMatchTheirColumns reads a few virtual tables over a catalog
// holding one table with an index, and checks every row has as many
// values as its table has columns, of the declared types.
func TestTablesMatchTheirColumns(t *testing.T) {
	ctx := context.Background()
	txn, err := memkv.New().NewTxn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := catalog.Bootstrap(ctx, txn); err != nil {
		t.Fatal(err)
	}
	db, err := catalog.MustGetDatabase(ctx, txn, catalog.DefaultDatabase)
	if err != nil {
		t.Fatal(err)
	}
	d := &catalog.TableDescriptor{Name: "t", ParentID: db.ID, Schema: catalog.PublicSchema, PrimaryKey: []int{0}, NextColumnID: 2, Columns: []catalog.ColumnDescriptor{
		catalog.ColumnDescriptor{ID: 1, Name: "k"}.WithType(types.Int),
		catalog.ColumnDescriptor{ID: 2, Name: "v", Nullable: true, Default: "'x':::STRING"}.WithType(types.String),
	}}
	if _, err := d.AddIndex("", []string{"v"}, true); err != nil {
		t.Fatal(err)
	}
	if err := catalog.CreateTable(ctx, txn, d); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pg_catalog.pg_class", "pg_catalog.pg_attribute", "pg_catalog.pg_index",
		"pg_catalog.pg_constraint", "pg_catalog.pg_type", "information_schema.columns", "information_schema.tables"} {
		schema, table, _ := strings.Cut(name, ".")
		vt, ok := vtable.Lookup(schema, table)
		if !ok {
			t.Fatalf("%s: not found", name)
		}
		rows, err := vt.Rows(ctx, &vtable.Env{Txn: txn, DB: db})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rows) == 0 {
			t.Errorf("%s: no rows", name)
		}
		for _, row := range rows {
			if len(row) != len(vt.Cols) {
				t.Fatalf("%s: row %v has %d values for %d columns", name, row, len(row), len(vt.Cols))
			}
			for i, v := range row {
				if v.ResolvedType().Family() != types.UnknownFamily && v.ResolvedType().Family() != vt.Cols[i].Typ.Family() {
					t.Errorf("%s.%s: %s value %s", name, vt.Cols[i].Name, v.ResolvedType(), v)
				}
			}
		}
	}
	if _, ok := vtable.Lookup("", "pg_class"); !ok {
		t.Error("pg_catalog is not on the search path")
	}
}
