package sql

import (
	"slices"

	"github.com/meridiandb/meridian/sql/catalog"
)

// viewDeps collects what a view's query reads while it is planned: the
// relations it names and the columns of theirs it uses, which the view
// then depends on (pg_depend's rows of its rewrite rule, and what DROP
// ... RESTRICT refuses).
type viewDeps struct {
	rels map[uint32]bool
	// cols are (relation ID, attnum) pairs.
	cols map[[2]uint32]bool
}

func newViewDeps() *viewDeps {
	return &viewDeps{rels: map[uint32]bool{}, cols: map[[2]uint32]bool{}}
}

// noteColumn records that the query uses column c, when it is a
// relation's (a table's or a view's) and columns are being collected.
func (v *viewDeps) noteColumn(c resultColumn) {
	if v == nil || c.tableID == 0 || c.attr == 0 {
		return
	}
	v.cols[[2]uint32{c.tableID, uint32(c.attr)}] = true
}

// record stores the collected dependencies in view d: the relations by
// ID, the columns by their IDs (which, unlike attnums, survive the
// dropping of other columns).
func (v *viewDeps) record(b schemaChanger, d *catalog.TableDescriptor) error {
	d.DependsOn = d.DependsOn[:0]
	for id := range v.rels {
		d.DependsOn = append(d.DependsOn, id)
	}
	slices.Sort(d.DependsOn)
	d.DependsOnColumns = nil
	descs := map[uint32]*catalog.TableDescriptor{}
	for k := range v.cols {
		rel := descs[k[0]]
		if rel == nil {
			var err error
			if rel, err = catalog.GetTableByID(b.ctx, b.txn, k[0]); err != nil {
				return err
			}
			if rel == nil {
				continue
			}
			descs[k[0]] = rel
		}
		if i := int(k[1]) - 1; i < len(rel.Columns) {
			d.DependsOnColumns = append(d.DependsOnColumns, catalog.ColumnRef{Table: k[0], Column: rel.Columns[i].ID})
		}
	}
	slices.SortFunc(d.DependsOnColumns, func(a, b catalog.ColumnRef) int {
		if a.Table != b.Table {
			return int(a.Table) - int(b.Table)
		}
		return int(a.Column) - int(b.Column)
	})
	return nil
}
