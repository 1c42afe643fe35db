package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/lease"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
	"github.com/meridiandb/meridian/sql/vtable"
)

// addCheck type-checks a CHECK expression over d's columns and adds it,
// named name or as PostgreSQL names it: <table>_<column>_check when the
// expression names one column, <table>_check otherwise (wherever it was
// declared).
func (b schemaChanger) addCheck(d *catalog.TableDescriptor, name string, expr tree.Expr) error {
	if _, err := b.typeCheckCheck(d, expr); err != nil {
		return err
	}
	if name == "" {
		base := d.Name
		if cols := sem.ExprColumns(expr); len(cols) == 1 {
			base += "_" + cols[0]
		}
		name = d.FreeConstraintName(base + "_check")
	} else if d.HasConstraint(name) {
		return pgerror.Newf("42710", "constraint %q for relation %q already exists", name, d.Name)
	}
	d.Checks = append(d.Checks, catalog.CheckConstraint{Name: name, Expr: tree.Serialize(expr)})
	return nil
}

// typeCheckCheck type-checks a CHECK expression over d's columns.
func (b *builder) typeCheckCheck(d *catalog.TableDescriptor, expr tree.Expr) (tree.TypedExpr, error) {
	var bad error
	tree.WalkExprConst(sem.ExprVisitor(func(e tree.Expr) {
		switch e.(type) {
		case *tree.Subquery:
			bad = pgerror.New("0A000", "cannot use subquery in check constraint")
		}
	}), expr)
	if bad != nil {
		return nil, bad
	}
	te, err := b.typeCheck(expr, &scope{cols: resultColumns(d)}, types.AnyElement)
	if err != nil {
		return nil, err
	}
	if te.ResolvedType().Family() != types.BoolFamily && te.ResolvedType().Family() != types.UnknownFamily {
		return nil, pgerror.Newf("42804", "argument of CHECK must be type boolean, not type %s", te.ResolvedType().SQLStandardName())
	}
	return te, nil
}

// compiledChecks returns d's CHECK expressions type-checked over its
// columns, compiling them once per descriptor read.
func compiledChecks(d *catalog.TableDescriptor, ctx context.Context, txn kvapi.Txn) ([]tree.TypedExpr, error) {
	if d.CheckExprs != nil || len(d.Checks) == 0 {
		return d.CheckExprs, nil
	}
	b := newBuilder(ctx, txn, nil, 0, nil)
	out := make([]tree.TypedExpr, len(d.Checks))
	for i, c := range d.Checks {
		e, err := sem.ParseExpr(c.Expr)
		if err != nil {
			return nil, err
		}
		if out[i], err = b.typeCheckCheck(d, e); err != nil {
			return nil, err
		}
	}
	d.CheckExprs = out
	return out, nil
}

// enforceChecks fails with 23514 if row makes one of d's CHECK
// constraints false.
func enforceChecks(d *catalog.TableDescriptor, r *runner, row tree.Datums) error {
	if len(d.Checks) == 0 {
		return nil
	}
	exprs, err := compiledChecks(d, r.ctx, r.txn)
	if err != nil {
		return err
	}
	for i, e := range exprs {
		v, err := r.evalIn(e, row)
		if err != nil {
			return err
		}
		if v == tree.DBoolFalse {
			return pgerror.WithDetail(
				pgerror.Newf("23514", "new row for relation %q violates check constraint %q", d.Name, d.Checks[i].Name),
				fmt.Sprintf("Failing row contains %s.", formatRow(row)))
		}
	}
	return nil
}

// checkDef is pg_get_constraintdef of a CHECK: PostgreSQL parenthesizes
// the whole expression (and each operation in it, as the formatter does).
func checkDef(c catalog.CheckConstraint) string {
	return "CHECK ((" + vtable.DisplayExpr(c.Expr) + "))"
}

func referenceAction(a tree.ReferenceAction) string {
	switch a {
	case tree.Restrict:
		return "RESTRICT"
	case tree.Cascade:
		return "CASCADE"
	case tree.SetNull:
		return "SET NULL"
	case tree.SetDefault:
		return "SET DEFAULT"
	}
	return ""
}

// addForeignKey adds to child a foreign key over cols referencing parent
// (child itself for a self-reference) at refCols (its primary key when
// empty), checked as PostgreSQL checks it, and records it on parent. The
// caller writes both descriptors.
func (b schemaChanger) addForeignKey(child, parent *catalog.TableDescriptor, name string, cols, refCols []string, actions tree.ReferenceActions, match tree.CompositeKeyMatchMethod) (*catalog.ForeignKey, error) {
	if match == tree.MatchFull || match == tree.MatchPartial {
		return nil, pgerror.Unsupported("MATCH FULL and MATCH PARTIAL are not supported yet")
	}
	if !parent.IsTable() {
		return nil, pgerror.Newf("42809", "referenced relation %q is not a table", parent.Name)
	}
	if len(refCols) == 0 {
		for _, i := range parent.PrimaryKey {
			refCols = append(refCols, parent.Columns[i].Name)
		}
		if parent.Columns[parent.PrimaryKey[0]].Hidden {
			return nil, pgerror.Newf("42830", "there is no primary key for referenced table %q", parent.Name)
		}
	}
	if len(cols) != len(refCols) {
		return nil, pgerror.New("42830", "number of referencing and referenced columns for foreign key disagree")
	}
	for i := range cols {
		ci, pi := child.ColumnIndex(cols[i]), parent.ColumnIndex(refCols[i])
		if ci < 0 {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q referenced in foreign key constraint does not exist", cols[i])
		}
		if pi < 0 {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q referenced in foreign key constraint does not exist", refCols[i])
		}
		ct, pt := child.Columns[ci].Type(), parent.Columns[pi].Type()
		if ct.Family() != pt.Family() && !(ct.Family() == types.DecimalFamily && pt.Family() == types.IntFamily) &&
			!(ct.Family() == types.IntFamily && pt.Family() == types.DecimalFamily) {
			return nil, pgerror.WithDetail(
				pgerror.Newf("42804", "foreign key constraint %q cannot be implemented", name),
				fmt.Sprintf("Key columns %q and %q are of incompatible types: %s and %s.", cols[i], refCols[i], ct.SQLStandardName(), pt.SQLStandardName()))
		}
	}
	if parent.UniqueKeyOn(refCols) == nil {
		return nil, pgerror.Newf("42830", "there is no unique constraint matching given keys for referenced table %q", parent.Name)
	}
	if name == "" {
		name = child.FreeConstraintName(child.Name + "_" + strings.Join(cols, "_") + "_fkey")
	} else if child.HasConstraint(name) {
		return nil, pgerror.Newf("42710", "constraint %q for relation %q already exists", name, child.Name)
	}
	child.ForeignKeys = append(child.ForeignKeys, catalog.ForeignKey{
		Name: name, Columns: cols, RefTable: parent.ID, RefColumns: refCols,
		OnDelete: referenceAction(actions.Delete), OnUpdate: referenceAction(actions.Update),
	})
	parent.InboundFKs = append(parent.InboundFKs, catalog.InboundFK{Table: child.ID, Name: name})
	return &child.ForeignKeys[len(child.ForeignKeys)-1], nil
}

// fkValues are row's values of cols, and whether one is NULL (then the
// foreign key does not apply: MATCH SIMPLE).
func fkValues(row tree.Datums, cols []int) (tree.Datums, bool) {
	vals := make(tree.Datums, len(cols))
	for i, c := range cols {
		if row[c] == tree.DNull {
			return nil, true
		}
		vals[i] = row[c]
	}
	return vals, false
}

// keyText shows names and values as PostgreSQL's error details do.
func namesText(names []string, vals tree.Datums) string {
	var vs []string
	for _, v := range vals {
		vs = append(vs, sem.DatumText(v))
	}
	return "(" + strings.Join(names, ", ") + ")=(" + strings.Join(vs, ", ") + ")"
}

// parentHas reports whether parent has a row whose refCols are vals.
func parentHas(r *runner, parent *catalog.TableDescriptor, refCols []string, vals tree.Datums) (bool, error) {
	key, isRow, err := parentKey(r, parent, refCols, vals)
	if err != nil {
		return false, err
	}
	if isRow {
		v, err := r.txn.Get(r.ctx, key)
		return v != nil, err
	}
	kvs, err := r.txn.Scan(r.ctx, key, catalog.PrefixEnd(key), 1)
	return len(kvs) > 0, err
}

// parentKey is where parent's row with refCols = vals is: its row key
// (isRow) when refCols are the primary key, else the prefix of its entry
// in the unique index over them.
func parentKey(r *runner, parent *catalog.TableDescriptor, refCols []string, vals tree.Datums) (key []byte, isRow bool, _ error) {
	uk := parent.UniqueKeyOn(refCols)
	// The key's values in the key's column order.
	keyVals := make(tree.Datums, len(uk.Cols))
	for i, o := range uk.Cols {
		for j, n := range refCols {
			if parent.Columns[o].Name == n {
				v, err := sem.CastDatum(r.eval, vals[j], parent.Columns[o].Type())
				if err != nil {
					return nil, false, err
				}
				keyVals[i] = v
			}
		}
	}
	full := make(tree.Datums, len(parent.Columns))
	for i := range full {
		full[i] = tree.DNull
	}
	for i, o := range uk.Cols {
		full[o] = keyVals[i]
	}
	if uk.Index == nil {
		key, err := rowenc.RowKey(parent, full)
		return key, true, err
	}
	prefix, err := rowenc.IndexValuesPrefix(parent, uk.Index, full)
	return prefix, false, err
}

// checkForeignKeysBatch is checkForeignKeys for rows just inserted, with
// the parents referenced by primary key read in one batch per foreign
// key (a bulk load checks thousands of rows at a time).
func checkForeignKeysBatch(d *catalog.TableDescriptor, r *runner, rows []tree.Datums) error {
	for i := range d.ForeignKeys {
		fk := &d.ForeignKeys[i]
		cols := d.Ordinals(fk.Columns)
		parent, err := r.descByID(fk.RefTable)
		if err != nil {
			return err
		}
		var keys [][]byte
		var which []int
		seen := map[string]bool{}
		for j, row := range rows {
			vals, null := fkValues(row, cols)
			if null {
				continue
			}
			key, isRow, err := parentKey(r, parent, fk.RefColumns, vals)
			if err != nil {
				return err
			}
			if !isRow {
				// A unique index: one scan per row.
				if err := checkForeignKeys(d, r, nil, row); err != nil {
					return err
				}
				continue
			}
			if !seen[string(key)] {
				seen[string(key)] = true
				keys, which = append(keys, key), append(which, j)
			}
		}
		got, err := r.txn.GetMany(r.ctx, keys)
		if err != nil {
			return err
		}
		for k, v := range got {
			if v == nil {
				vals, _ := fkValues(rows[which[k]], cols)
				return pgerror.WithDetail(
					pgerror.Newf("23503", "insert or update on table %q violates foreign key constraint %q", d.Name, fk.Name),
					fmt.Sprintf("Key %s is not present in table %q.", namesText(fk.Columns, vals), parent.Name))
			}
		}
	}
	return nil
}

// checkForeignKeys fails with 23503 if newRow (of d) references a row its
// foreign keys' tables do not have. oldRow, for an update, skips the keys
// whose columns did not change.
func checkForeignKeys(d *catalog.TableDescriptor, r *runner, oldRow, newRow tree.Datums) error {
	for i := range d.ForeignKeys {
		fk := &d.ForeignKeys[i]
		cols := d.Ordinals(fk.Columns)
		vals, null := fkValues(newRow, cols)
		if null {
			continue
		}
		if oldRow != nil {
			if old, _ := fkValues(oldRow, cols); old != nil && sameDatums(r, old, vals) {
				continue
			}
		}
		parent, err := r.descByID(fk.RefTable)
		if err != nil {
			return err
		}
		ok, err := parentHas(r, parent, fk.RefColumns, vals)
		if err != nil {
			return err
		}
		if !ok {
			return pgerror.WithDetail(
				pgerror.Newf("23503", "insert or update on table %q violates foreign key constraint %q", d.Name, fk.Name),
				fmt.Sprintf("Key %s is not present in table %q.", namesText(fk.Columns, vals), parent.Name))
		}
	}
	return nil
}

func sameDatums(r *runner, a, b tree.Datums) bool {
	for i := range a {
		c, err := r.eval.Compare(a[i], b[i])
		if err != nil || c != 0 {
			return false
		}
	}
	return true
}

// descByID reads a descriptor for a statement, once: from the node's
// leases in the steady state, as the statement's own tables are.
func (r *runner) descByID(id uint32) (*catalog.TableDescriptor, error) {
	if d := r.descs[id]; d != nil {
		return d, nil
	}
	d, err := lease.TableByID(r.ctx, r.txn, id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, pgerror.Newf(pgerror.CodeUndefinedTable, "table with ID %d does not exist", id)
	}
	if r.descs == nil {
		r.descs = map[uint32]*catalog.TableDescriptor{}
	}
	r.descs[id] = d
	return d, nil
}

// referencingRows returns child's rows whose fk columns are vals: by a
// prefix scan of the primary key or of a secondary index that starts
// with those columns, else by a scan of the whole table.
func referencingRows(r *runner, child *catalog.TableDescriptor, fk *catalog.ForeignKey, vals tree.Datums) ([]tree.Datums, error) {
	cols := child.Ordinals(fk.Columns)
	leads := func(idxCols []int) bool {
		if len(idxCols) < len(cols) {
			return false
		}
		for i, c := range cols {
			if idxCols[i] != c {
				return false
			}
		}
		return true
	}
	var span func(*runner) ([]byte, []byte, error)
	var index *catalog.IndexDescriptor
	prefixOf := func(start []byte) ([]byte, error) {
		var err error
		for i, c := range cols {
			v, cerr := sem.CastDatum(r.eval, vals[i], child.Columns[c].Type())
			if cerr != nil {
				return nil, cerr
			}
			if start, err = rowenc.EncodeDatum(start, v); err != nil {
				return nil, err
			}
		}
		return start, nil
	}
	if leads(child.PrimaryKey) {
		span = func(*runner) ([]byte, []byte, error) {
			p, err := prefixOf(child.IndexPrefix())
			return p, catalog.PrefixEnd(p), err
		}
	} else {
		for i := range child.Indexes {
			if idx := &child.Indexes[i]; idx.Predicate == "" && !idx.Inverted() && leads(idx.Columns) {
				index = idx
				span = func(*runner) ([]byte, []byte, error) {
					p, err := prefixOf(child.IndexPrefixOf(idx.ID))
					return p, catalog.PrefixEnd(p), err
				}
				break
			}
		}
	}
	scan := &scanNode{desc: child, cols: resultColumns(child), span: span, index: index}
	var out []tree.Datums
	for {
		row, err := scan.next(r)
		if err != nil {
			return nil, err
		}
		if row == nil {
			return out, nil
		}
		if got, null := fkValues(row, cols); !null && sameDatums(r, got, vals) {
			out = append(out, row)
		}
	}
}

// onParentChange applies the foreign keys that reference d to a row of d
// being deleted (newRow nil) or updated: NO ACTION and RESTRICT fail
// while a referencing row exists; CASCADE deletes or updates the
// referencing rows; SET NULL and SET DEFAULT set their columns.
func onParentChange(d *catalog.TableDescriptor, r *runner, oldRow, newRow tree.Datums) error {
	for _, in := range d.InboundFKs {
		child, err := r.descByID(in.Table)
		if err != nil {
			return err
		}
		if child.ID == d.ID {
			child = d
		}
		var fk *catalog.ForeignKey
		for i := range child.ForeignKeys {
			if child.ForeignKeys[i].Name == in.Name {
				fk = &child.ForeignKeys[i]
			}
		}
		if fk == nil {
			continue
		}
		refCols := d.Ordinals(fk.RefColumns)
		oldVals, null := fkValues(oldRow, refCols)
		if null {
			continue
		}
		var newVals tree.Datums
		if newRow != nil {
			if newVals, _ = fkValues(newRow, refCols); newVals != nil && sameDatums(r, oldVals, newVals) {
				continue // the referenced key did not change
			}
		}
		rows, err := referencingRows(r, child, fk, oldVals)
		if err != nil || len(rows) == 0 {
			if err != nil {
				return err
			}
			continue
		}
		action := fk.OnDelete
		if newRow != nil {
			action = fk.OnUpdate
		}
		cols := child.Ordinals(fk.Columns)
		for _, row := range rows {
			switch {
			case action == "CASCADE" && newRow == nil:
				if err := deleteRow(child, r, row); err != nil {
					return err
				}
			case action == "CASCADE" || action == "SET NULL" || action == "SET DEFAULT":
				updated := append(tree.Datums{}, row...)
				for i, c := range cols {
					switch action {
					case "CASCADE":
						if newVals == nil {
							updated[c] = tree.DNull
						} else {
							updated[c] = newVals[i]
						}
					case "SET NULL":
						updated[c] = tree.DNull
					default:
						v, err := columnDefault(child, r, c)
						if err != nil {
							return err
						}
						updated[c] = v
					}
				}
				if err := rewriteRow(child, r, row, updated); err != nil {
					return err
				}
			default:
				verb := "update or delete"
				return pgerror.WithDetail(
					pgerror.Newf("23503", "%s on table %q violates foreign key constraint %q on table %q", verb, d.Name, fk.Name, child.Name),
					fmt.Sprintf("Key %s is still referenced from table %q.", namesText(fk.RefColumns, oldVals), child.Name))
			}
		}
	}
	return nil
}

// columnDefault evaluates column c's default (NULL without one).
func columnDefault(d *catalog.TableDescriptor, r *runner, c int) (tree.Datum, error) {
	if d.Columns[c].Default == "" {
		return tree.DNull, nil
	}
	e, err := sem.ParseExpr(d.Columns[c].Default)
	if err != nil {
		return nil, err
	}
	te, err := newBuilder(r.ctx, r.txn, nil, 0, nil).typeCheck(e, &scope{}, d.Columns[c].Type())
	if err != nil {
		return nil, err
	}
	v, err := r.evalIn(te, nil)
	if err != nil {
		return nil, err
	}
	return sem.CastDatum(r.eval, v, d.Columns[c].Type())
}

// deleteRow deletes row of d, its index entries, and applies the foreign
// keys that reference it.
func deleteRow(d *catalog.TableDescriptor, r *runner, row tree.Datums) error {
	if err := onParentChange(d, r, row, nil); err != nil {
		return err
	}
	key, err := rowenc.RowKey(d, row)
	if err != nil {
		return err
	}
	if err := r.txn.Del(r.ctx, key); err != nil {
		return err
	}
	return updateIndexes(d, r, row, nil)
}

// fkDef is pg_get_constraintdef of a foreign key.
func fkDef(fk *catalog.ForeignKey, parent string) string {
	s := fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %s(%s)", strings.Join(fk.Columns, ", "), parent, strings.Join(fk.RefColumns, ", "))
	if fk.OnUpdate != "" {
		s += " ON UPDATE " + fk.OnUpdate
	}
	if fk.OnDelete != "" {
		s += " ON DELETE " + fk.OnDelete
	}
	return s
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// validateCheck fails with 23514 if a row of d makes check i false.
func validateCheck(d *catalog.TableDescriptor, i int, r *runner) error {
	d.CheckExprs = nil
	exprs, err := compiledChecks(d, r.ctx, r.txn)
	if err != nil {
		return err
	}
	return forEachRow(r, d, func(row tree.Datums) error {
		v, err := r.evalIn(exprs[i], row)
		if err != nil {
			return err
		}
		if v == tree.DBoolFalse {
			return pgerror.Newf("23514", "check constraint %q of relation %q is violated by some row", d.Checks[i].Name, d.Name)
		}
		return nil
	})
}

// alterAddForeignKey is ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY:
// the rows already there must satisfy it.
func (b schemaChanger) alterAddForeignKey(d *catalog.TableDescriptor, def *tree.ForeignKeyConstraintTableDef, r *runner) error {
	parent := d
	p, err := b.names.mustFind(b.ctx, b.txn, &def.Table)
	if err != nil {
		return err
	}
	if err := b.priv.checkTable(p, catalog.PrivReferences); err != nil {
		return err
	}
	if p.ID != d.ID {
		parent = p
	}
	fk, err := b.addForeignKey(d, parent, string(def.Name), nameStrings(def.FromCols), nameStrings(def.ToCols), def.Actions, def.Match)
	if err != nil {
		return err
	}
	// The rows already there are checked a thousand at a time, only
	// against the new key.
	only := *d
	only.ForeignKeys = []catalog.ForeignKey{*fk}
	var batch []tree.Datums
	if err := forEachRow(r, d, func(row tree.Datums) error {
		if batch = append(batch, row); len(batch) < 1000 {
			return nil
		}
		err := checkForeignKeysBatch(&only, r, batch)
		batch = batch[:0]
		return err
	}); err != nil {
		return err
	}
	if err := checkForeignKeysBatch(&only, r, batch); err != nil {
		return err
	}
	if parent != d {
		return catalog.PutDescriptor(b.ctx, b.txn, parent)
	}
	return nil
}

// dropConstraint is ALTER TABLE ... DROP CONSTRAINT of a CHECK or a
// foreign key.
func (b schemaChanger) dropConstraint(d *catalog.TableDescriptor, c *tree.AlterTableDropConstraint) error {
	name := string(c.Constraint)
	for i, ck := range d.Checks {
		if ck.Name == name {
			d.Checks = append(d.Checks[:i], d.Checks[i+1:]...)
			d.CheckExprs = nil
			return nil
		}
	}
	for i, fk := range d.ForeignKeys {
		if fk.Name != name {
			continue
		}
		d.ForeignKeys = append(d.ForeignKeys[:i], d.ForeignKeys[i+1:]...)
		if fk.RefTable == d.ID {
			d.RemoveInbound(d.ID, name)
			return nil
		}
		return b.unlinkInbound(fk.RefTable, d.ID, name)
	}
	if d.HasConstraint(name) {
		return pgerror.Unsupported("dropping constraint %q (a key or unique index) is not supported yet: drop the index instead", name)
	}
	if c.IfExists {
		return nil
	}
	return pgerror.Newf("42704", "constraint %q of relation %q does not exist", name, d.Name)
}

// renameInConstraints follows a column rename in d's CHECK expressions
// and foreign keys, and in the foreign keys of other tables that
// reference the column.
func (b schemaChanger) renameInConstraints(d *catalog.TableDescriptor, from, to string) error {
	for i, ck := range d.Checks {
		e, err := sem.ParseExpr(ck.Expr)
		if err != nil {
			return err
		}
		e, err = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
			if n, ok := x.(*tree.UnresolvedName); ok && !n.Star && n.NumParts == 1 && n.Parts[0] == from {
				return false, &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{to}}, nil
			}
			return true, x, nil
		})
		if err != nil {
			return err
		}
		d.Checks[i].Expr = tree.Serialize(e)
	}
	d.CheckExprs = nil
	rename := func(l []string) {
		for i := range l {
			if l[i] == from {
				l[i] = to
			}
		}
	}
	for i := range d.ForeignKeys {
		rename(d.ForeignKeys[i].Columns)
		if d.ForeignKeys[i].RefTable == d.ID {
			rename(d.ForeignKeys[i].RefColumns)
		}
	}
	for _, in := range d.InboundFKs {
		if in.Table == d.ID {
			continue
		}
		child, err := catalog.GetTableByID(b.ctx, b.txn, in.Table)
		if err != nil || child == nil {
			return err
		}
		for i := range child.ForeignKeys {
			if child.ForeignKeys[i].Name == in.Name {
				rename(child.ForeignKeys[i].RefColumns)
			}
		}
		if err := catalog.PutDescriptor(b.ctx, b.txn, child); err != nil {
			return err
		}
	}
	return nil
}
