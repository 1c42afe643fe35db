package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
	"github.com/meridiandb/meridian/sql/vtable"
)

// Expression indexes, CREATE INDEX ON t (lower(name)): each key
// expression is kept as a hidden generated column of the table (computed
// whenever a row is written, like a generated column, and stored with
// the row), which the index keys on like any column. A scan's filter
// that contains the expression itself reads that column instead, so that
// WHERE lower(name) = 'x' fixes the index's key as name = 'x' would an
// index on name. The hidden column goes with the last index using it.

// exprColumnPrefix starts the names of expression indexes' columns:
// hidden, and not a name PostgreSQL users write.
const exprColumnPrefix = "meridian_index_expr_"

// addExprColumn adds to d the hidden column that holds expr's value for
// an index key, or finds the one already there for the same expression,
// and returns its name. added reports a new column, whose values the
// caller backfills.
func (b *builder) addExprColumn(d *catalog.TableDescriptor, expr tree.Expr, method string) (name string, added bool, err error) {
	te, err := checkRowExpr(expr, indexExprKind, func(e tree.Expr) (tree.TypedExpr, error) {
		return b.typeCheck(e, &scope{cols: resultColumns(d)}, types.AnyElement)
	})
	if err != nil {
		return "", false, err
	}
	text := tree.Serialize(expr)
	for _, c := range d.Columns {
		if c.IsExprColumn() && c.Generated == text {
			return c.Name, false, nil
		}
	}
	t := te.ResolvedType()
	if t.Family() == types.UnknownFamily {
		t = types.String
	}
	n := 1
	for d.ColumnIndex(fmt.Sprintf("%s%d", exprColumnPrefix, n)) >= 0 {
		n++
	}
	d.NextColumnID++
	col := catalog.ColumnDescriptor{ID: d.NextColumnID, Name: fmt.Sprintf("%s%d", exprColumnPrefix, n), Nullable: true,
		Hidden: true, Generated: text}.WithType(t)
	if method != catalog.MethodGIN {
		if err := col.CheckKeyable(); err != nil {
			return "", false, err
		}
	}
	d.Columns = append(d.Columns, col)
	d.GeneratedExprs = nil
	return col.Name, true, nil
}

// backfillExprColumns writes, for every row of d, the values of the
// expression columns at ordinals from first on (just added).
func backfillExprColumns(d *catalog.TableDescriptor, first int, r *runner) error {
	old := *d
	old.Columns = append([]catalog.ColumnDescriptor{}, d.Columns[:first]...)
	old.GeneratedExprs = nil
	scan := &scanNode{desc: &old, cols: resultColumns(&old)}
	for {
		row, err := scan.next(r)
		if err != nil || row == nil {
			return err
		}
		full := append(append(tree.Datums{}, row...), make(tree.Datums, len(d.Columns)-first)...)
		for i := first; i < len(full); i++ {
			full[i] = tree.DNull
		}
		if err := fillGenerated(d, r, full); err != nil {
			return err
		}
		key, err := rowenc.RowKey(d, full)
		if err != nil {
			return err
		}
		if err := putRow(d, r, key, full); err != nil {
			return err
		}
	}
}

// indexExprName is the word PostgreSQL makes an index's default name of
// for an expression column: the function's name for a call, else "expr".
func indexExprName(e tree.Expr) string {
	if f, ok := e.(*tree.FuncExpr); ok {
		return strings.ToLower(f.Func.String())
	}
	return "expr"
}

// substituteExprColumns replaces in a filter over d's columns each
// expression an expression index keys on by its hidden column, so that
// index selection sees a column compared (the values are the same: the
// column holds the expression's value for the row).
func substituteExprColumns(d *catalog.TableDescriptor, filter tree.TypedExpr) (tree.TypedExpr, error) {
	has := false
	for i := range d.Columns {
		has = has || d.Columns[i].IsExprColumn()
	}
	if !has || filter == nil {
		return filter, nil
	}
	// Compiled when the statement resolved the table (prepareIndexes).
	exprs, err := compiledGenerated(d, context.Background(), nil)
	if err != nil {
		return nil, err
	}
	byText := map[string]int{}
	for i, e := range exprs {
		if e != nil && d.Columns[i].IsExprColumn() {
			byText[tree.Serialize(e)] = i
		}
	}
	out, _ := tree.WalkExpr(exprSubstituter{byText: byText, cols: d.Columns}, filter)
	return out.(tree.TypedExpr), nil
}

type exprSubstituter struct {
	byText map[string]int
	cols   []catalog.ColumnDescriptor
}

func (v exprSubstituter) VisitPre(e tree.Expr) (bool, tree.Expr) {
	if te, ok := e.(tree.TypedExpr); ok {
		if _, isVar := e.(*tree.IndexedVar); !isVar {
			if i, ok := v.byText[tree.Serialize(te)]; ok {
				return false, tree.NewTypedOrdinalReference(i, v.cols[i].Type())
			}
		}
	}
	return true, e
}

func (v exprSubstituter) VisitPost(e tree.Expr) tree.Expr { return e }

// indexColumnSQL is how pg_get_indexdef shows index column c of d: its
// name, or an expression column's expression (parenthesized unless it is
// a function call, as PostgreSQL prints it).
func indexColumnSQL(d *catalog.TableDescriptor, c int) string {
	col := &d.Columns[c]
	if !col.IsExprColumn() {
		return tree.NameString(col.Name)
	}
	shown := vtable.DisplayExpr(col.Generated)
	if e, err := sem.ParseExpr(col.Generated); err == nil {
		if _, ok := e.(*tree.FuncExpr); ok {
			return shown
		}
	}
	return "((" + shown + "))"
}

// dropUnusedExprColumns drops the expression columns no index keys on.
func (b schemaChanger) dropUnusedExprColumns(d *catalog.TableDescriptor) error {
	for i := len(d.Columns) - 1; i >= 0; i-- {
		if !d.Columns[i].IsExprColumn() {
			continue
		}
		used := false
		for _, idx := range d.Indexes {
			for _, c := range idx.Columns {
				used = used || c == i
			}
		}
		if !used {
			removeColumn(d, i)
		}
	}
	d.GeneratedExprs = nil
	return nil
}

// removeColumn takes column ordinal i out of d (its stored values are
// skipped on read), moving the ordinals after it down.
func removeColumn(d *catalog.TableDescriptor, i int) {
	d.Columns = append(d.Columns[:i], d.Columns[i+1:]...)
	shift := func(cols []int) {
		for k, col := range cols {
			if col > i {
				cols[k] = col - 1
			}
		}
	}
	shift(d.PrimaryKey)
	for k := range d.Indexes {
		shift(d.Indexes[k].Columns)
		shift(d.Indexes[k].Include)
	}
	d.GeneratedExprs, d.PredicateExprs = nil, nil
}

// indexUsesColumn names the index of d that column name is in (a key,
// INCLUDE, a partial index's predicate or an expression index's key
// expression), "" if none.
func indexUsesColumn(d *catalog.TableDescriptor, i int) (string, error) {
	name := d.Columns[i].Name
	for _, idx := range d.Indexes {
		for _, c := range append(append([]int{}, idx.Columns...), idx.Include...) {
			if c == i {
				return idx.Name, nil
			}
			if d.Columns[c].IsExprColumn() {
				e, err := sem.ParseExpr(d.Columns[c].Generated)
				if err != nil {
					return "", err
				}
				if containsString(sem.ExprColumns(e), name) {
					return idx.Name, nil
				}
			}
		}
		if idx.Predicate != "" {
			e, err := sem.ParseExpr(idx.Predicate)
			if err != nil {
				return "", err
			}
			if containsString(sem.ExprColumns(e), name) {
				return idx.Name, nil
			}
		}
	}
	return "", nil
}

// addIndexDef adds to d an index of the given key columns and
// expressions, INCLUDE columns and WHERE predicate (nil: none), adding
// (and, with r, backfilling) the expression columns it needs. method is
// the access method (IndexDescriptor.Method); a GIN index's operator
// class is checked against its column's type here. Its entries are the
// caller's to write.
func (b *builder) addIndexDef(d *catalog.TableDescriptor, name string, elems tree.IndexElemList, include tree.NameList,
	where tree.Expr, unique bool, method string, r *runner) (*catalog.IndexDescriptor, error) {
	var cols, nameParts []string
	firstNew := len(d.Columns)
	for _, c := range elems {
		if c.Expr == nil {
			cols = append(cols, string(c.Column))
			nameParts = append(nameParts, string(c.Column))
			continue
		}
		col, _, err := b.addExprColumn(d, c.Expr, method)
		if err != nil {
			return nil, err
		}
		cols = append(cols, col)
		nameParts = append(nameParts, indexExprName(c.Expr))
	}
	var pred string
	if where != nil {
		if _, err := b.checkPredicate(d, where); err != nil {
			return nil, err
		}
		pred = tree.Serialize(where)
	}
	if name == "" {
		// PostgreSQL's name: the table, the key columns (expressions by
		// their function's name, "expr" otherwise), _idx or _key, made
		// unique with a number.
		suffix := "idx"
		if unique {
			suffix = "key"
		}
		base := d.Name + "_" + strings.Join(nameParts, "_")
		name = base + "_" + suffix
		for n := 1; d.FindIndex(name) >= 0 || name == d.Name+"_pkey"; n++ {
			name = fmt.Sprintf("%s_%s%d", base, suffix, n)
		}
	}
	if method != catalog.MethodGIN {
		for _, c := range cols {
			if i := d.ColumnIndex(c); i >= 0 {
				if err := catalog.CheckIndexable(d.Columns[i].Type()); err != nil {
					return nil, err
				}
			}
		}
	}
	idx, err := d.AddIndexOf(name, cols, unique, method)
	if err != nil {
		return nil, err
	}
	if method == catalog.MethodGIN {
		if idx.OpClass, err = ginOpClass(d.Columns[idx.Columns[0]].Type(), string(elems[0].OpClass)); err != nil {
			return nil, err
		}
	}
	for _, c := range include {
		i := d.ColumnIndex(string(c))
		if i < 0 || d.Columns[i].Hidden {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q does not exist", c)
		}
		idx.Include = append(idx.Include, i)
	}
	idx.Predicate = pred
	if r != nil && len(d.Columns) > firstNew {
		if err := backfillExprColumns(d, firstNew, r); err != nil {
			return nil, err
		}
	}
	return idx, nil
}

// prepareIndexes compiles, in the statement's transaction, the
// expressions index selection reads from d's descriptor: its expression
// columns' and its partial indexes' predicates.
func (b *builder) prepareIndexes(d *catalog.TableDescriptor) error {
	if d.HasGenerated() {
		if _, err := compiledGenerated(d, b.ctx, b.txn); err != nil {
			return err
		}
	}
	for i := range d.Indexes {
		if _, err := compiledPredicate(d, &d.Indexes[i], b.ctx, b.txn); err != nil {
			return err
		}
	}
	return nil
}
