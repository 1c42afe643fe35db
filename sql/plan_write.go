package sql

import (
	"fmt"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// writeReturn is what the write nodes share: whether they return the rows
// they wrote (for a RETURNING clause above them) and those rows' columns.
type writeReturn struct {
	returning  bool
	returnCols []resultColumn
}

func (w *writeReturn) columns() []resultColumn { return w.returnCols }

// insertNode writes the rows of its source, each a full row of the table
// (the builder fills defaults and orders columns). It returns the rows it
// wrote when the statement has RETURNING, else nothing.
type insertNode struct {
	writeReturn
	desc       *catalog.TableDescriptor
	src        planNode
	onConflict *onConflict // nil: a conflict is an error

	// For the batched path: rows written and not yet returned, and
	// whether the source is used up.
	out     []tree.Datums
	srcDone bool
	// pending are source rows read ahead and put back (pull).
	pending []tree.Datums
	// affected are the primary keys of the rows this statement inserted
	// or updated, which ON CONFLICT DO UPDATE may not update again.
	affected map[string]bool
}

// noteAffected records that the statement wrote row.
func (n *insertNode) noteAffected(row tree.Datums) error {
	if n.onConflict == nil || n.onConflict.doNothing {
		return nil
	}
	key, err := rowenc.RowKey(n.desc, row)
	if err != nil {
		return err
	}
	if n.affected == nil {
		n.affected = map[string]bool{}
	}
	n.affected[string(key)] = true
	return nil
}

// affectedTwice refuses a DO UPDATE of a row this statement inserted or
// updated already, as PostgreSQL does (21000).
func (n *insertNode) affectedTwice(existing tree.Datums) error {
	key, err := rowenc.RowKey(n.desc, existing)
	if err != nil {
		return err
	}
	if n.affected[string(key)] {
		return pgerror.WithHint(pgerror.New("21000", "ON CONFLICT DO UPDATE command cannot affect row a second time"),
			"Ensure that no rows proposed for insertion within the same command have duplicate constrained values.")
	}
	return nil
}

func (n *insertNode) explain() (string, []*planNode) {
	return "insert into " + n.desc.Name, []*planNode{&n.src}
}

// insertBatch is how many rows a plain INSERT or COPY checks and writes
// per KV batch: one round trip per range for the existence checks and one
// for the writes, instead of two per row.
const insertBatch = 256

// onConflict is an INSERT's ON CONFLICT clause.
type onConflict struct {
	doNothing bool
	// arbiter is the constraint whose conflicts the clause handles; nil
	// (DO NOTHING only) handles every unique constraint's.
	arbiter *arbiter
	// For DO UPDATE: the columns set and their expressions, over the
	// existing row followed by the proposed one (EXCLUDED), and the
	// optional WHERE over the same.
	setCols  []int
	setExprs []tree.TypedExpr
	where    tree.TypedExpr
}

// arbiter names a unique constraint: the primary key, or a unique index.
type arbiter struct {
	index *catalog.IndexDescriptor // nil: the primary key
}

// prepareRow completes a source row (generated columns) and checks it.
func (n *insertNode) prepareRow(r *runner, row tree.Datums) error {
	if err := fillGenerated(n.desc, r, row); err != nil {
		return err
	}
	if err := checkRow(n.desc, row); err != nil {
		return err
	}
	return enforceChecks(n.desc, r, row)
}

func (n *insertNode) next(r *runner) (tree.Datums, error) {
	if n.onConflict == nil && !n.desc.HasUniqueIndex() {
		return n.nextBatched(r)
	}
	if !n.srcDone && n.deferrableDoNothing(r) {
		// Decided on the first call: one row, or the usual path.
		n.srcDone = true
		if done, err := n.doNothingDeferred(r); done || err != nil {
			return nil, err
		}
	}
	for {
		row, err := n.pull(r)
		if err != nil || row == nil {
			return nil, err
		}
		if err := n.prepareRow(r, row); err != nil {
			return nil, err
		}
		if oc := n.onConflict; oc != nil {
			existing, err := findConflict(n.desc, r, row, oc.arbiter)
			if err != nil {
				return nil, err
			}
			if existing != nil {
				if oc.doNothing {
					continue
				}
				if err := n.affectedTwice(existing); err != nil {
					return nil, err
				}
				updated, err := n.upsert(r, oc, existing, row)
				if err != nil {
					return nil, err
				}
				if updated == nil {
					continue // the WHERE of DO UPDATE said no
				}
				if err := n.noteAffected(updated); err != nil {
					return nil, err
				}
				r.wrote(n.desc, 1)
				if n.returning {
					return updated, nil
				}
				continue
			}
		}
		key, err := rowenc.RowKey(n.desc, row)
		if err != nil {
			return nil, err
		}
		// findConflict has read the primary key already when it is an
		// arbiter (of ON CONFLICT without one, every unique constraint is):
		// nothing there, since the transaction wrote nothing in between.
		if oc := n.onConflict; oc == nil || (oc.arbiter != nil && oc.arbiter.index != nil) {
			old, err := r.txn.Get(r.ctx, key)
			if err != nil {
				return nil, err
			}
			if old != nil {
				return nil, duplicateKeyError(n.desc, row)
			}
		}
		if err := putRow(n.desc, r, key, row); err != nil {
			return nil, err
		}
		if err := n.noteAffected(row); err != nil {
			return nil, err
		}
		if err := updateIndexes(n.desc, r, nil, row); err != nil {
			return nil, err
		}
		if err := checkForeignKeys(n.desc, r, nil, row); err != nil {
			return nil, err
		}
		r.wrote(n.desc, 1)
		if n.returning {
			return row, nil
		}
	}
}

// nextBatched inserts the source's rows insertBatch at a time: a row whose
// key exists (in the table or earlier in the statement) is 23505, as on
// the row-by-row path.
func (n *insertNode) nextBatched(r *runner) (tree.Datums, error) {
	for {
		if len(n.out) > 0 {
			row := n.out[0]
			n.out = n.out[1:]
			return row, nil
		}
		if n.srcDone {
			return nil, nil
		}
		var rows []tree.Datums
		var keys [][]byte
		seen := map[string]bool{}
		for len(rows) < insertBatch {
			row, err := n.src.next(r)
			if err != nil {
				return nil, err
			}
			if row == nil {
				n.srcDone = true
				break
			}
			if err := n.prepareRow(r, row); err != nil {
				return nil, err
			}
			key, err := rowenc.RowKey(n.desc, row)
			if err != nil {
				return nil, err
			}
			if seen[string(key)] {
				return nil, duplicateKeyError(n.desc, row)
			}
			seen[string(key)] = true
			rows, keys = append(rows, row), append(keys, key)
		}
		if len(rows) == 0 {
			return nil, nil
		}
		// The rows' keys must be free: read first, or, in a statement
		// that commits right after, checked where they are written
		// (insert_deferred.go).
		ai, deferred := r.absentInserter()
		var existing [][]byte
		if !deferred {
			var err error
			if existing, err = r.txn.GetMany(r.ctx, keys); err != nil {
				return nil, err
			}
		}
		kvs := make([]kvapi.KeyValue, 0, len(rows)*(1+len(n.desc.Indexes)))
		var primary []kvapi.KeyValue
		for i, row := range rows {
			if existing != nil && existing[i] != nil {
				return nil, duplicateKeyError(n.desc, row)
			}
			v, err := rowenc.RowValue(n.desc, row)
			if err != nil {
				return nil, err
			}
			if deferred {
				primary = append(primary, kvapi.KeyValue{Key: keys[i], Value: v})
			} else {
				kvs = append(kvs, kvapi.KeyValue{Key: keys[i], Value: v})
			}
			for j := range n.desc.Indexes {
				iks, err := indexEntries(n.desc, &n.desc.Indexes[j], r, row)
				if err != nil {
					return nil, err
				}
				for _, ik := range iks {
					kvs = append(kvs, kvapi.KeyValue{Key: ik, Value: []byte{0}})
				}
			}
		}
		if deferred {
			r.deferInsert(n.desc)
			if err := ai.InsertAbsent(r.ctx, primary); err != nil {
				return nil, err
			}
		}
		if err := r.txn.PutMany(r.ctx, kvs); err != nil {
			return nil, err
		}
		// Foreign keys are checked once the batch is written, so that its
		// rows may reference each other (a tree inserted at once).
		if err := checkForeignKeysBatch(n.desc, r, rows); err != nil {
			return nil, err
		}
		r.wrote(n.desc, len(rows))
		if n.returning {
			n.out = rows
		}
	}
}

// findConflict returns the existing row that row would conflict with in
// the arbiter's constraint (nil: in any unique constraint), or nil.
func findConflict(d *catalog.TableDescriptor, r *runner, row tree.Datums, arb *arbiter) (tree.Datums, error) {
	if arb == nil || arb.index == nil {
		key, err := rowenc.RowKey(d, row)
		if err != nil {
			return nil, err
		}
		v, err := r.txn.Get(r.ctx, key)
		if err != nil || v != nil {
			if err != nil {
				return nil, err
			}
			return rowenc.DecodeRow(d, key, v)
		}
		if arb != nil {
			return nil, nil
		}
	}
	for i := range d.Indexes {
		idx := &d.Indexes[i]
		if !idx.Unique || (arb != nil && arb.index != idx) || hasNull(row, idx.Columns) {
			continue
		}
		if ok, err := inIndex(d, idx, r, row); err != nil {
			return nil, err
		} else if !ok {
			continue // a partial index the row is not in
		}
		prefix, err := rowenc.IndexValuesPrefix(d, idx, row)
		if err != nil {
			return nil, err
		}
		kvs, err := r.txn.Scan(r.ctx, prefix, catalog.PrefixEnd(prefix), 1)
		if err != nil {
			return nil, err
		}
		if len(kvs) == 0 {
			continue
		}
		pk, err := rowenc.PrimaryKeyFromIndexKey(d, idx, kvs[0].Key)
		if err != nil {
			return nil, err
		}
		v, err := r.txn.Get(r.ctx, pk)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, errors.AssertionFailedf("table %q: index %q entry names a missing row", d.Name, idx.Name)
		}
		return rowenc.DecodeRow(d, pk, v)
	}
	return nil, nil
}

// upsert applies DO UPDATE to the existing row; nil when its WHERE
// refuses.
func (n *insertNode) upsert(r *runner, oc *onConflict, existing, proposed tree.Datums) (tree.Datums, error) {
	both := append(append(tree.Datums{}, existing...), proposed...)
	if ok, err := r.passes(oc.where, both); err != nil || !ok {
		return nil, err
	}
	newRow := append(tree.Datums{}, existing...)
	for i, c := range oc.setCols {
		d, err := r.evalIn(oc.setExprs[i], both)
		if err != nil {
			return nil, err
		}
		if newRow[c], err = sem.CastDatum(r.eval, d, n.desc.Columns[c].Type()); err != nil {
			return nil, err
		}
	}
	if err := rewriteRow(n.desc, r, existing, newRow); err != nil {
		return nil, err
	}
	return newRow, nil
}

// rewriteRow replaces oldRow by newRow: NOT NULL checked, the row moved if
// its primary key changed (23505 if the new key is taken), its index
// entries updated.
func rewriteRow(d *catalog.TableDescriptor, r *runner, oldRow, newRow tree.Datums) error {
	if err := fillGenerated(d, r, newRow); err != nil {
		return err
	}
	if err := checkRow(d, newRow); err != nil {
		return err
	}
	if err := enforceChecks(d, r, newRow); err != nil {
		return err
	}
	if err := checkForeignKeys(d, r, oldRow, newRow); err != nil {
		return err
	}
	oldKey, err := rowenc.RowKey(d, oldRow)
	if err != nil {
		return err
	}
	newKey, err := rowenc.RowKey(d, newRow)
	if err != nil {
		return err
	}
	if string(oldKey) != string(newKey) {
		// The primary key changed: the row moves.
		existing, err := r.txn.Get(r.ctx, newKey)
		if err != nil {
			return err
		}
		if existing != nil {
			return duplicateKeyError(d, newRow)
		}
		if err := r.txn.Del(r.ctx, oldKey); err != nil {
			return err
		}
	}
	if err := putRow(d, r, newKey, newRow); err != nil {
		return err
	}
	if err := updateIndexes(d, r, oldRow, newRow); err != nil {
		return err
	}
	// Rows referencing the old key follow it (or refuse it) once the new
	// row is in place, so that a cascaded update finds its new parent.
	return onParentChange(d, r, oldRow, newRow)
}

// updateIndexes replaces a row's secondary index entries: oldRow's (nil
// for an insert) by newRow's (nil for a delete), checking unique indexes.
func updateIndexes(d *catalog.TableDescriptor, r *runner, oldRow, newRow tree.Datums) error {
	for i := range d.Indexes {
		idx := &d.Indexes[i]
		if idx.Inverted() {
			if err := updateInvertedIndex(d, idx, r, oldRow, newRow); err != nil {
				return err
			}
			continue
		}
		var oldKey, newKey []byte
		var err error
		if oldRow != nil {
			if oldKey, err = indexEntry(d, idx, r, oldRow); err != nil {
				return err
			}
		}
		if newRow != nil {
			if newKey, err = indexEntry(d, idx, r, newRow); err != nil {
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
			prefix, err := rowenc.IndexValuesPrefix(d, idx, newRow)
			if err != nil {
				return err
			}
			kvs, err := r.txn.Scan(r.ctx, prefix, catalog.PrefixEnd(prefix), 1)
			if err != nil {
				return err
			}
			if len(kvs) > 0 {
				return uniqueViolation(d, idx.Name, idx.Columns, newRow)
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
	writeReturn
	desc     *catalog.TableDescriptor
	src      planNode
	setCols  []int
	setExprs []tree.TypedExpr
	// joined: the source's rows are target rows joined to FROM's (UPDATE
	// ... FROM); the target row is their prefix, and a target row joined
	// more than once is updated once, by its first join, as in PostgreSQL.
	joined bool
	done   map[string]bool
}

func (n *updateNode) explain() (string, []*planNode) {
	return "update " + n.desc.Name, []*planNode{&n.src}
}

func (n *updateNode) next(r *runner) (tree.Datums, error) {
	for {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		joinedRow := row
		row, first, err := targetRow(r, n.desc, n.joined, &n.done, row)
		if err != nil {
			return nil, err
		}
		if !first {
			continue
		}
		if changed, err := r.changedByStatement(n.desc, row); err != nil || changed {
			if err != nil {
				return nil, err
			}
			continue
		}
		newRow := append(tree.Datums{}, row...)
		values, err := n.setValues(r, joinedRow)
		if err != nil {
			return nil, err
		}
		for i, c := range n.setCols {
			if newRow[c], err = sem.CastDatum(r.eval, values[i], n.desc.Columns[c].Type()); err != nil {
				return nil, err
			}
		}
		if err := rewriteRow(n.desc, r, row, newRow); err != nil {
			return nil, err
		}
		r.wrote(n.desc, 1)
		if n.returning {
			return newRow, nil
		}
	}
}

// setValues evaluates the SET expressions over a source row.
func (n *updateNode) setValues(r *runner, joinedRow tree.Datums) (tree.Datums, error) {
	out := make(tree.Datums, len(n.setExprs))
	for i, e := range n.setExprs {
		d, err := r.evalIn(e, joinedRow)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// deleteNode deletes the rows of its source.
type deleteNode struct {
	writeReturn
	desc *catalog.TableDescriptor
	src  planNode
	// joined: the source's rows are target rows joined to USING's (see
	// updateNode.joined).
	joined bool
	done   map[string]bool
}

func (n *deleteNode) explain() (string, []*planNode) {
	return "delete from " + n.desc.Name, []*planNode{&n.src}
}

// targetRow is the row of d an UPDATE or DELETE source row stands for:
// itself, or when joined (FROM, USING) its prefix, and first is false
// when that row was already seen in *seen (by primary key), as a target
// row joined more than once is changed once. The keys seen are charged to
// r's memory account.
func targetRow(r *runner, d *catalog.TableDescriptor, joined bool, seen *map[string]bool, row tree.Datums) (_ tree.Datums, first bool, _ error) {
	if !joined {
		return row, true, nil
	}
	row = row[:len(d.Columns)]
	key, err := rowenc.RowKey(d, row)
	if err != nil {
		return nil, false, err
	}
	if *seen == nil {
		*seen = map[string]bool{}
	}
	if (*seen)[string(key)] {
		return row, false, nil
	}
	if err := r.grow(rowenc.KeySize(string(key))); err != nil {
		return nil, false, err
	}
	(*seen)[string(key)] = true
	return row, true, nil
}

func (n *deleteNode) next(r *runner) (tree.Datums, error) {
	for {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		row, first, err := targetRow(r, n.desc, n.joined, &n.done, row)
		if err != nil {
			return nil, err
		}
		if !first {
			continue
		}
		if changed, err := r.changedByStatement(n.desc, row); err != nil || changed {
			if err != nil {
				return nil, err
			}
			continue
		}
		if err := deleteRow(n.desc, r, row); err != nil {
			return nil, err
		}
		r.wrote(n.desc, 1)
		if n.returning {
			return row, nil
		}
	}
}

// checkRow enforces NOT NULL.
func checkRow(d *catalog.TableDescriptor, row tree.Datums) error {
	for i := range d.Columns {
		if row[i] == tree.DNull && !d.Columns[i].Nullable {
			return pgerror.WithDetail(
				pgerror.Newf("23502", "null value in column %q of relation %q violates not-null constraint", d.Columns[i].Name, d.Name),
				fmt.Sprintf("Failing row contains %s.", formatRow(row)))
		}
	}
	return nil
}

func putRow(d *catalog.TableDescriptor, r *runner, key []byte, row tree.Datums) error {
	v, err := rowenc.RowValue(d, row)
	if err != nil {
		return err
	}
	return r.txn.Put(r.ctx, key, v)
}

func duplicateKeyError(d *catalog.TableDescriptor, row tree.Datums) error {
	return uniqueViolation(d, d.Name+"_pkey", d.PrimaryKey, row)
}

func uniqueViolation(d *catalog.TableDescriptor, name string, cols []int, row tree.Datums) error {
	return pgerror.WithDetail(
		pgerror.Newf(pgerror.CodeUniqueViolation, "duplicate key value violates unique constraint %q", name),
		fmt.Sprintf("Key %s already exists.", keyText(d, cols, row)))
}

// keyText shows a key's columns and values as PostgreSQL's error details
// do: (a, b)=(1, x).
func keyText(d *catalog.TableDescriptor, cols []int, row tree.Datums) string {
	var names, vals string
	for j, i := range cols {
		if j > 0 {
			names += ", "
			vals += ", "
		}
		if d.Columns[i].IsExprColumn() {
			names += indexColumnSQL(d, i)
		} else {
			names += d.Columns[i].Name
		}
		vals += sem.DatumText(row[i])
	}
	return "(" + names + ")=(" + vals + ")"
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
			s += sem.DatumText(d)
		}
	}
	return s + ")"
}

// fullRowNode turns its source's rows (values for some columns of a
// table) into full rows: defaults for the others, every value cast to its
// column's type.
type fullRowNode struct {
	desc     *catalog.TableDescriptor
	src      planNode
	srcIdx   []int // per table column: its position in the source, or -1
	defaults []tree.TypedExpr
}

func (n *fullRowNode) columns() []resultColumn { return resultColumns(n.desc) }

func (n *fullRowNode) explain() (string, []*planNode) {
	return "fill defaults and casts for " + n.desc.Name, []*planNode{&n.src}
}

func (n *fullRowNode) next(r *runner) (tree.Datums, error) {
	in, err := n.src.next(r)
	if err != nil || in == nil {
		return nil, err
	}
	row := make(tree.Datums, len(n.desc.Columns))
	for i := range row {
		var d tree.Datum = tree.DNull
		if j := n.srcIdx[i]; j >= 0 && in[j] != nil {
			d = in[j]
		} else if n.defaults[i] != nil {
			if d, err = r.evalIn(n.defaults[i], nil); err != nil {
				return nil, err
			}
		}
		if row[i], err = sem.CastDatum(r.eval, d, n.desc.Columns[i].Type()); err != nil {
			return nil, err
		}
	}
	return row, nil
}
