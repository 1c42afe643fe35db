package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// CheckConstraint is a CHECK constraint: a boolean expression over a
// table's row, which a row written must not make false (NULL passes, as
// in PostgreSQL).
type CheckConstraint struct {
	Name string `json:"name"`
	// Expr is the expression's SQL text; it names columns, so it survives
	// other columns being added or dropped.
	Expr string `json:"expr"`
}

// addCheck type-checks a CHECK expression over d's columns and adds it,
// named name or as PostgreSQL names it: <table>_<column>_check when the
// expression names one column, <table>_check otherwise (wherever it was
// declared).
func (b *builder) addCheck(d *TableDescriptor, name string, expr tree.Expr) error {
	if _, err := b.typeCheckCheck(d, expr); err != nil {
		return err
	}
	if name == "" {
		base := d.Name
		if cols := exprColumns(expr); len(cols) == 1 {
			base += "_" + cols[0]
		}
		name = d.freeConstraintName(base + "_check")
	} else if d.hasConstraint(name) {
		return pgerror.Newf("42710", "constraint %q for relation %q already exists", name, d.Name)
	}
	d.Checks = append(d.Checks, CheckConstraint{Name: name, Expr: tree.Serialize(expr)})
	return nil
}

// typeCheckCheck type-checks a CHECK expression over d's columns.
func (b *builder) typeCheckCheck(d *TableDescriptor, expr tree.Expr) (tree.TypedExpr, error) {
	var bad error
	tree.WalkExprConst(exprVisitor(func(e tree.Expr) {
		switch e.(type) {
		case *tree.Subquery:
			bad = pgerror.New("0A000", "cannot use subquery in check constraint")
		}
	}), expr)
	if bad != nil {
		return nil, bad
	}
	te, err := b.typeCheck(expr, &scope{cols: d.resultColumns()}, types.AnyElement)
	if err != nil {
		return nil, err
	}
	if te.ResolvedType().Family() != types.BoolFamily && te.ResolvedType().Family() != types.UnknownFamily {
		return nil, pgerror.Newf("42804", "argument of CHECK must be type boolean, not type %s", te.ResolvedType().SQLStandardName())
	}
	return te, nil
}

// exprVisitor adapts a function to tree.Visitor, visiting every node.
type exprVisitor func(tree.Expr)

func (f exprVisitor) VisitPre(e tree.Expr) (bool, tree.Expr) { f(e); return true, e }
func (f exprVisitor) VisitPost(e tree.Expr) tree.Expr        { return e }

// exprColumns lists the column names an expression refers to, in order of
// first appearance.
func exprColumns(expr tree.Expr) []string {
	var out []string
	seen := map[string]bool{}
	tree.WalkExprConst(exprVisitor(func(e tree.Expr) {
		if n, ok := e.(*tree.UnresolvedName); ok && !n.Star {
			c := n.Parts[0]
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}), expr)
	return out
}

// hasConstraint reports whether d has a constraint (key, unique index,
// check or foreign key) named name.
func (d *TableDescriptor) hasConstraint(name string) bool {
	if name == d.Name+"_pkey" || d.findIndex(name) >= 0 {
		return true
	}
	for _, c := range d.Checks {
		if c.Name == name {
			return true
		}
	}
	for _, fk := range d.ForeignKeys {
		if fk.Name == name {
			return true
		}
	}
	return false
}

// freeConstraintName is base, or base followed by the first number that
// makes it unused, as PostgreSQL picks.
func (d *TableDescriptor) freeConstraintName(base string) string {
	name := base
	for i := 1; d.hasConstraint(name); i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	return name
}

// compiledChecks returns d's CHECK expressions type-checked over its
// columns, compiling them once per descriptor read.
func (d *TableDescriptor) compiledChecks(ctx context.Context, txn kvapi.Txn) ([]tree.TypedExpr, error) {
	if d.checkExprs != nil || len(d.Checks) == 0 {
		return d.checkExprs, nil
	}
	b := newBuilder(ctx, txn, 0, nil)
	out := make([]tree.TypedExpr, len(d.Checks))
	for i, c := range d.Checks {
		e, err := parseExpr(c.Expr)
		if err != nil {
			return nil, err
		}
		if out[i], err = b.typeCheckCheck(d, e); err != nil {
			return nil, err
		}
	}
	d.checkExprs = out
	return out, nil
}

// enforceChecks fails with 23514 if row makes one of d's CHECK
// constraints false.
func (d *TableDescriptor) enforceChecks(r *runner, row tree.Datums) error {
	if len(d.Checks) == 0 {
		return nil
	}
	exprs, err := d.compiledChecks(r.ctx, r.txn)
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
func checkDef(c CheckConstraint) string {
	return "CHECK ((" + displayExpr(c.Expr) + "))"
}

// ForeignKey is a FOREIGN KEY constraint of the table holding it (the
// referencing table): its Columns' values, when none is NULL (MATCH
// SIMPLE), must be those of a row of RefTable's RefColumns, which are its
// primary key or a unique index's columns.
type ForeignKey struct {
	Name       string   `json:"name"`
	Columns    []string `json:"columns"`
	RefTable   uint32   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
	// OnDelete and OnUpdate are the referential actions: "" (NO ACTION),
	// RESTRICT, CASCADE, SET NULL or SET DEFAULT.
	OnDelete string `json:"on_delete,omitempty"`
	OnUpdate string `json:"on_update,omitempty"`
}

// InboundFK names a foreign key of another table (or of this one) that
// references this table, so that deletes and updates here can find it.
type InboundFK struct {
	Table uint32 `json:"table"`
	Name  string `json:"name"`
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
func (b *builder) addForeignKey(child, parent *TableDescriptor, name string, cols, refCols []string, actions tree.ReferenceActions, match tree.CompositeKeyMatchMethod) (*ForeignKey, error) {
	if match == tree.MatchFull || match == tree.MatchPartial {
		return nil, unsupported("MATCH FULL and MATCH PARTIAL are not supported yet")
	}
	if !parent.isTable() {
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
		ci, pi := child.columnIndex(cols[i]), parent.columnIndex(refCols[i])
		if ci < 0 {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q referenced in foreign key constraint does not exist", cols[i])
		}
		if pi < 0 {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q referenced in foreign key constraint does not exist", refCols[i])
		}
		ct, pt := child.Columns[ci].typ, parent.Columns[pi].typ
		if ct.Family() != pt.Family() && !(ct.Family() == types.DecimalFamily && pt.Family() == types.IntFamily) &&
			!(ct.Family() == types.IntFamily && pt.Family() == types.DecimalFamily) {
			return nil, pgerror.WithDetail(
				pgerror.Newf("42804", "foreign key constraint %q cannot be implemented", name),
				fmt.Sprintf("Key columns %q and %q are of incompatible types: %s and %s.", cols[i], refCols[i], ct.SQLStandardName(), pt.SQLStandardName()))
		}
	}
	if parent.uniqueKeyOn(refCols) == nil {
		return nil, pgerror.Newf("42830", "there is no unique constraint matching given keys for referenced table %q", parent.Name)
	}
	if name == "" {
		name = child.freeConstraintName(child.Name + "_" + strings.Join(cols, "_") + "_fkey")
	} else if child.hasConstraint(name) {
		return nil, pgerror.Newf("42710", "constraint %q for relation %q already exists", name, child.Name)
	}
	child.ForeignKeys = append(child.ForeignKeys, ForeignKey{
		Name: name, Columns: cols, RefTable: parent.ID, RefColumns: refCols,
		OnDelete: referenceAction(actions.Delete), OnUpdate: referenceAction(actions.Update),
	})
	parent.InboundFKs = append(parent.InboundFKs, InboundFK{Table: child.ID, Name: name})
	return &child.ForeignKeys[len(child.ForeignKeys)-1], nil
}

// uniqueKey is a unique constraint a foreign key can reference: the
// primary key (index nil) or a unique index.
type uniqueKey struct {
	index *IndexDescriptor
	cols  []int
}

// uniqueKeyOn finds the primary key or unique index over exactly cols (in
// any order, as PostgreSQL accepts), nil if there is none.
func (d *TableDescriptor) uniqueKeyOn(cols []string) *uniqueKey {
	same := func(ords []int) bool {
		if len(ords) != len(cols) {
			return false
		}
		for _, c := range cols {
			found := false
			for _, o := range ords {
				if d.Columns[o].Name == c {
					found = true
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	if same(d.PrimaryKey) {
		return &uniqueKey{cols: d.PrimaryKey}
	}
	for i := range d.Indexes {
		if idx := &d.Indexes[i]; idx.Unique && same(idx.Columns) {
			return &uniqueKey{index: idx, cols: idx.Columns}
		}
	}
	return nil
}

// ordinals maps column names to d's ordinals.
func (d *TableDescriptor) ordinals(names []string) []int {
	out := make([]int, len(names))
	for i, n := range names {
		out[i] = d.columnIndex(n)
	}
	return out
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
		vs = append(vs, datumText(v))
	}
	return "(" + strings.Join(names, ", ") + ")=(" + strings.Join(vs, ", ") + ")"
}

// parentHas reports whether parent has a row whose refCols are vals.
func parentHas(r *runner, parent *TableDescriptor, refCols []string, vals tree.Datums) (bool, error) {
	key, isRow, err := parentKey(r, parent, refCols, vals)
	if err != nil {
		return false, err
	}
	if isRow {
		v, err := r.txn.Get(r.ctx, key)
		return v != nil, err
	}
	kvs, err := r.txn.Scan(r.ctx, key, prefixEnd(key), 1)
	return len(kvs) > 0, err
}

// parentKey is where parent's row with refCols = vals is: its row key
// (isRow) when refCols are the primary key, else the prefix of its entry
// in the unique index over them.
func parentKey(r *runner, parent *TableDescriptor, refCols []string, vals tree.Datums) (key []byte, isRow bool, _ error) {
	uk := parent.uniqueKeyOn(refCols)
	// The key's values in the key's column order.
	keyVals := make(tree.Datums, len(uk.cols))
	for i, o := range uk.cols {
		for j, n := range refCols {
			if parent.Columns[o].Name == n {
				v, err := castDatum(r.eval, vals[j], parent.Columns[o].typ)
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
	for i, o := range uk.cols {
		full[o] = keyVals[i]
	}
	if uk.index == nil {
		key, err := parent.rowKey(full)
		return key, true, err
	}
	prefix, err := parent.indexValuesPrefix(uk.index, full)
	return prefix, false, err
}

// checkForeignKeysBatch is checkForeignKeys for rows just inserted, with
// the parents referenced by primary key read in one batch per foreign
// key (a bulk load checks thousands of rows at a time).
func (d *TableDescriptor) checkForeignKeysBatch(r *runner, rows []tree.Datums) error {
	for i := range d.ForeignKeys {
		fk := &d.ForeignKeys[i]
		cols := d.ordinals(fk.Columns)
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
				if err := d.checkForeignKeys(r, nil, row); err != nil {
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
func (d *TableDescriptor) checkForeignKeys(r *runner, oldRow, newRow tree.Datums) error {
	for i := range d.ForeignKeys {
		fk := &d.ForeignKeys[i]
		cols := d.ordinals(fk.Columns)
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
		c, err := r.eval.compare(a[i], b[i])
		if err != nil || c != 0 {
			return false
		}
	}
	return true
}

// descByID reads a descriptor for a statement, once.
func (r *runner) descByID(id uint32) (*TableDescriptor, error) {
	if d := r.descs[id]; d != nil {
		return d, nil
	}
	d, err := getTableByID(r.ctx, r.txn, id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, pgerror.Newf(pgerror.CodeUndefinedTable, "table with ID %d does not exist", id)
	}
	if r.descs == nil {
		r.descs = map[uint32]*TableDescriptor{}
	}
	r.descs[id] = d
	return d, nil
}

// referencingRows returns child's rows whose fk columns are vals: by a
// prefix scan of the primary key or of a secondary index that starts
// with those columns, else by a scan of the whole table.
func referencingRows(r *runner, child *TableDescriptor, fk *ForeignKey, vals tree.Datums) ([]tree.Datums, error) {
	cols := child.ordinals(fk.Columns)
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
	var index *IndexDescriptor
	prefixOf := func(start []byte) ([]byte, error) {
		var err error
		for i, c := range cols {
			v, cerr := castDatum(r.eval, vals[i], child.Columns[c].typ)
			if cerr != nil {
				return nil, cerr
			}
			if start, err = encodeDatum(start, v); err != nil {
				return nil, err
			}
		}
		return start, nil
	}
	if leads(child.PrimaryKey) {
		span = func(*runner) ([]byte, []byte, error) {
			p, err := prefixOf(child.indexPrefix())
			return p, prefixEnd(p), err
		}
	} else {
		for i := range child.Indexes {
			if idx := &child.Indexes[i]; leads(idx.Columns) {
				index = idx
				span = func(*runner) ([]byte, []byte, error) {
					p, err := prefixOf(child.indexPrefixOf(idx.ID))
					return p, prefixEnd(p), err
				}
				break
			}
		}
	}
	scan := &scanNode{desc: child, cols: child.resultColumns(), span: span, index: index}
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
func (d *TableDescriptor) onParentChange(r *runner, oldRow, newRow tree.Datums) error {
	for _, in := range d.InboundFKs {
		child, err := r.descByID(in.Table)
		if err != nil {
			return err
		}
		if child.ID == d.ID {
			child = d
		}
		var fk *ForeignKey
		for i := range child.ForeignKeys {
			if child.ForeignKeys[i].Name == in.Name {
				fk = &child.ForeignKeys[i]
			}
		}
		if fk == nil {
			continue
		}
		refCols := d.ordinals(fk.RefColumns)
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
		cols := child.ordinals(fk.Columns)
		for _, row := range rows {
			switch {
			case action == "CASCADE" && newRow == nil:
				if err := child.deleteRow(r, row); err != nil {
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
						v, err := child.columnDefault(r, c)
						if err != nil {
							return err
						}
						updated[c] = v
					}
				}
				if err := child.rewriteRow(r, row, updated); err != nil {
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
func (d *TableDescriptor) columnDefault(r *runner, c int) (tree.Datum, error) {
	if d.Columns[c].Default == "" {
		return tree.DNull, nil
	}
	e, err := parseExpr(d.Columns[c].Default)
	if err != nil {
		return nil, err
	}
	te, err := newBuilder(r.ctx, r.txn, 0, nil).typeCheck(e, &scope{}, d.Columns[c].typ)
	if err != nil {
		return nil, err
	}
	v, err := r.evalIn(te, nil)
	if err != nil {
		return nil, err
	}
	return castDatum(r.eval, v, d.Columns[c].typ)
}

// deleteRow deletes row of d, its index entries, and applies the foreign
// keys that reference it.
func (d *TableDescriptor) deleteRow(r *runner, row tree.Datums) error {
	if err := d.onParentChange(r, row, nil); err != nil {
		return err
	}
	key, err := d.rowKey(row)
	if err != nil {
		return err
	}
	if err := r.txn.Del(r.ctx, key); err != nil {
		return err
	}
	return d.updateIndexes(r, row, nil)
}

// fkDef is pg_get_constraintdef of a foreign key.
func fkDef(fk *ForeignKey, parent string) string {
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

// removeInbound forgets foreign key name of table child.
func (d *TableDescriptor) removeInbound(child uint32, name string) {
	kept := d.InboundFKs[:0]
	for _, in := range d.InboundFKs {
		if in.Table != child || in.Name != name {
			kept = append(kept, in)
		}
	}
	d.InboundFKs = kept
}

// validateCheck fails with 23514 if a row of d makes check i false.
func validateCheck(d *TableDescriptor, i int, r *runner) error {
	d.checkExprs = nil
	exprs, err := d.compiledChecks(r.ctx, r.txn)
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
func (b *builder) alterAddForeignKey(d *TableDescriptor, def *tree.ForeignKeyConstraintTableDef, r *runner) error {
	parent := d
	if name := string(def.Table.ObjectName); name != d.Name {
		p, err := mustGetTable(b.ctx, b.txn, name)
		if err != nil {
			return err
		}
		parent = p
	}
	fk, err := b.addForeignKey(d, parent, string(def.Name), nameStrings(def.FromCols), nameStrings(def.ToCols), def.Actions, def.Match)
	if err != nil {
		return err
	}
	// The rows already there are checked a thousand at a time, only
	// against the new key.
	only := *d
	only.ForeignKeys = []ForeignKey{*fk}
	var batch []tree.Datums
	if err := forEachRow(r, d, func(row tree.Datums) error {
		if batch = append(batch, row); len(batch) < 1000 {
			return nil
		}
		err := only.checkForeignKeysBatch(r, batch)
		batch = batch[:0]
		return err
	}); err != nil {
		return err
	}
	if err := only.checkForeignKeysBatch(r, batch); err != nil {
		return err
	}
	if parent != d {
		return putDescriptor(b.ctx, b.txn, parent)
	}
	return nil
}

// dropConstraint is ALTER TABLE ... DROP CONSTRAINT of a CHECK or a
// foreign key.
func (b *builder) dropConstraint(d *TableDescriptor, c *tree.AlterTableDropConstraint) error {
	name := string(c.Constraint)
	for i, ck := range d.Checks {
		if ck.Name == name {
			d.Checks = append(d.Checks[:i], d.Checks[i+1:]...)
			d.checkExprs = nil
			return nil
		}
	}
	for i, fk := range d.ForeignKeys {
		if fk.Name != name {
			continue
		}
		d.ForeignKeys = append(d.ForeignKeys[:i], d.ForeignKeys[i+1:]...)
		if fk.RefTable == d.ID {
			d.removeInbound(d.ID, name)
			return nil
		}
		return b.unlinkInbound(fk.RefTable, d.ID, name)
	}
	if d.hasConstraint(name) {
		return unsupported("dropping constraint %q (a key or unique index) is not supported yet: drop the index instead", name)
	}
	if c.IfExists {
		return nil
	}
	return pgerror.Newf("42704", "constraint %q of relation %q does not exist", name, d.Name)
}

// renameInConstraints follows a column rename in d's CHECK expressions
// and foreign keys, and in the foreign keys of other tables that
// reference the column.
func (b *builder) renameInConstraints(d *TableDescriptor, from, to string) error {
	for i, ck := range d.Checks {
		e, err := parseExpr(ck.Expr)
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
	d.checkExprs = nil
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
		child, err := getTableByID(b.ctx, b.txn, in.Table)
		if err != nil || child == nil {
			return err
		}
		for i := range child.ForeignKeys {
			if child.ForeignKeys[i].Name == in.Name {
				rename(child.ForeignKeys[i].RefColumns)
			}
		}
		if err := putDescriptor(b.ctx, b.txn, child); err != nil {
			return err
		}
	}
	return nil
}
