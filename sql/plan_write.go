package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// insertNode writes the rows of its source, each a full row of the table
// (the builder fills defaults and orders columns). It returns the rows it
// wrote when the statement has RETURNING, else nothing.
type insertNode struct {
	desc       *TableDescriptor
	src        planNode
	doNothing  bool // ON CONFLICT DO NOTHING
	returning  bool
	returnCols []resultColumn
}

func (n *insertNode) columns() []resultColumn { return n.returnCols }

func (n *insertNode) next(r *runner) (tree.Datums, error) {
	for {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		if err := n.desc.checkRow(row); err != nil {
			return nil, err
		}
		key, err := n.desc.rowKey(row)
		if err != nil {
			return nil, err
		}
		old, err := r.txn.Get(r.ctx, key)
		if err != nil {
			return nil, err
		}
		if old != nil {
			if n.doNothing {
				continue
			}
			return nil, n.desc.duplicateKeyError(row)
		}
		if err := n.desc.putRow(r, key, row); err != nil {
			return nil, err
		}
		if err := n.desc.updateIndexes(r, nil, row); err != nil {
			return nil, err
		}
		r.rowsAffected++
		if n.returning {
			return row, nil
		}
	}
}

// updateIndexes replaces a row's secondary index entries: oldRow's (nil
// for an insert) by newRow's (nil for a delete), checking unique indexes.
func (d *TableDescriptor) updateIndexes(r *runner, oldRow, newRow tree.Datums) error {
	for i := range d.Indexes {
		idx := &d.Indexes[i]
		var oldKey, newKey []byte
		var err error
		if oldRow != nil {
			if oldKey, err = d.indexKey(idx, oldRow); err != nil {
				return err
			}
		}
		if newRow != nil {
			if newKey, err = d.indexKey(idx, newRow); err != nil {
				return err
			}
		}
		if string(oldKey) == string(newKey) {
			continue
		}
		if oldKey != nil {
			if err := r.txn.Del(r.ctx, oldKey); err != nil {
				return err
			}
		}
		if newKey == nil {
			continue
		}
		if idx.Unique && !hasNull(newRow, idx.Columns) {
			prefix, err := d.indexValuesPrefix(idx, newRow)
			if err != nil {
				return err
			}
			kvs, err := r.txn.Scan(r.ctx, prefix, prefixEnd(prefix), 1)
			if err != nil {
				return err
			}
			if len(kvs) > 0 {
				return d.uniqueViolation(idx.Name, idx.Columns, newRow)
			}
		}
		if err := r.txn.Put(r.ctx, newKey, []byte{0}); err != nil {
			return err
		}
	}
	return nil
}

func hasNull(row tree.Datums, cols []int) bool {
	for _, c := range cols {
		if row[c] == tree.DNull {
			return true
		}
	}
	return false
}

// updateNode rewrites the rows of its source (full table rows) with new
// values for some columns.
type updateNode struct {
	desc       *TableDescriptor
	src        planNode
	setCols    []int
	setExprs   []tree.TypedExpr
	returning  bool
	returnCols []resultColumn
}

func (n *updateNode) columns() []resultColumn { return n.returnCols }

func (n *updateNode) next(r *runner) (tree.Datums, error) {
	for {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		newRow := append(tree.Datums{}, row...)
		for i, c := range n.setCols {
			d, err := r.evalIn(n.setExprs[i], row)
			if err != nil {
				return nil, err
			}
			if newRow[c], err = castDatum(r.eval, d, n.desc.Columns[c].typ); err != nil {
				return nil, err
			}
		}
		if err := n.desc.checkRow(newRow); err != nil {
			return nil, err
		}
		oldKey, err := n.desc.rowKey(row)
		if err != nil {
			return nil, err
		}
		newKey, err := n.desc.rowKey(newRow)
		if err != nil {
			return nil, err
		}
		if string(oldKey) != string(newKey) {
			// The primary key changed: the row moves.
			existing, err := r.txn.Get(r.ctx, newKey)
			if err != nil {
				return nil, err
			}
			if existing != nil {
				return nil, n.desc.duplicateKeyError(newRow)
			}
			if err := r.txn.Del(r.ctx, oldKey); err != nil {
				return nil, err
			}
		}
		if err := n.desc.putRow(r, newKey, newRow); err != nil {
			return nil, err
		}
		if err := n.desc.updateIndexes(r, row, newRow); err != nil {
			return nil, err
		}
		r.rowsAffected++
		if n.returning {
			return newRow, nil
		}
	}
}

// deleteNode deletes the rows of its source.
type deleteNode struct {
	desc       *TableDescriptor
	src        planNode
	returning  bool
	returnCols []resultColumn
}

func (n *deleteNode) columns() []resultColumn { return n.returnCols }

func (n *deleteNode) next(r *runner) (tree.Datums, error) {
	for {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		key, err := n.desc.rowKey(row)
		if err != nil {
			return nil, err
		}
		if err := r.txn.Del(r.ctx, key); err != nil {
			return nil, err
		}
		if err := n.desc.updateIndexes(r, row, nil); err != nil {
			return nil, err
		}
		r.rowsAffected++
		if n.returning {
			return row, nil
		}
	}
}

// checkRow enforces NOT NULL.
func (d *TableDescriptor) checkRow(row tree.Datums) error {
	for i := range d.Columns {
		if row[i] == tree.DNull && !d.Columns[i].Nullable {
			return pgerror.WithDetail(
				pgerror.Newf("23502", "null value in column %q of relation %q violates not-null constraint", d.Columns[i].Name, d.Name),
				fmt.Sprintf("Failing row contains %s.", formatRow(row)))
		}
	}
	return nil
}

func (d *TableDescriptor) putRow(r *runner, key []byte, row tree.Datums) error {
	v, err := d.rowValue(row)
	if err != nil {
		return err
	}
	return r.txn.Put(r.ctx, key, v)
}

func (d *TableDescriptor) duplicateKeyError(row tree.Datums) error {
	return d.uniqueViolation(d.Name+"_pkey", d.PrimaryKey, row)
}

func (d *TableDescriptor) uniqueViolation(name string, cols []int, row tree.Datums) error {
	var names, vals string
	for j, i := range cols {
		if j > 0 {
			names += ", "
			vals += ", "
		}
		names += d.Columns[i].Name
		vals += datumText(row[i])
	}
	return pgerror.WithDetail(
		pgerror.Newf(pgerror.CodeUniqueViolation, "duplicate key value violates unique constraint %q", name),
		fmt.Sprintf("Key (%s)=(%s) already exists.", names, vals))
}

func formatRow(row tree.Datums) string {
	s := "("
	for i, d := range row {
		if i > 0 {
			s += ", "
		}
		if d == tree.DNull {
			s += "null"
		} else {
			s += datumText(d)
		}
	}
	return s + ")"
}
