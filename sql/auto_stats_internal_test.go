package sql

import (
	"context"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/memkv"
)

// TestAutoStatsSetting: a background collection with
// sql.stats.automatic_collection.enabled off stores nothing; on, it
// stores the table's statistics under __auto__; of a dropped table,
// nothing and no error.
func TestAutoStatsSetting(t *testing.T) {
	ctx := context.Background()
	db := memkv.New()
	ex := NewExecutor(db, hlc.PhysicalNow)
	a := &autoStats{ex: ex}
	run := func(fn func(txn kvapi.Txn) error) {
		t.Helper()
		if err := kvapi.RunTxn(ctx, db, 0, 0, fn); err != nil {
			t.Fatal(err)
		}
	}
	d := &catalog.TableDescriptor{Name: "t", ParentID: 1, Schema: "public", PrimaryKey: []int{0}, NextColumnID: 1,
		Columns: []catalog.ColumnDescriptor{catalog.ColumnDescriptor{ID: 1, Name: "k"}.WithType(types.Int)}}
	run(func(txn kvapi.Txn) error { return catalog.CreateTable(ctx, txn, d) })
	stats := func() *catalog.TableStatistics {
		var s *catalog.TableStatistics
		run(func(txn kvapi.Txn) (err error) { s, err = catalog.GetStatistics(ctx, txn, d.ID); return err })
		return s
	}
	run(func(txn kvapi.Txn) error { return catalog.PutSetting(ctx, txn, autoStatsSetting, "false") })
	if found, err := a.refresh(ctx, d.ID); err != nil || !found || stats() != nil {
		t.Fatalf("setting off: found %v, err %v, statistics %+v", found, err, stats())
	}
	run(func(txn kvapi.Txn) error { return catalog.PutSetting(ctx, txn, autoStatsSetting, "true") })
	if found, err := a.refresh(ctx, d.ID); err != nil || !found || stats() == nil || stats().Name != autoStatsName {
		t.Fatalf("setting on: found %v, err %v, statistics %+v", found, err, stats())
	}
	run(func(txn kvapi.Txn) error { return catalog.DropTable(ctx, txn, d) })
	if found, err := a.refresh(ctx, d.ID); err != nil || !found {
		t.Fatalf("dropped table: found %v, err %v", found, err)
	}
}
