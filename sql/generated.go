package sql

import (
	"context"
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// Generated columns, GENERATED ALWAYS AS (expr) STORED, as PostgreSQL 15
// has them: the value is computed from the row's other columns whenever
// the row is written (INSERT, UPDATE, ON CONFLICT DO UPDATE, COPY, a
// foreign key's action), and stored. A write may give such a column only
// DEFAULT (428C9 otherwise). The expression may name the table's other
// columns but no generated one, and must be immutable.

const codeGeneratedAlways pgerror.Code = "428C9"

// rowExprKind is what an expression over a row's columns is for, which
// names it in PostgreSQL's messages.
type rowExprKind struct {
	name, plural string // "index expression", "index expressions"
	volatile     string // the message for a function that is not immutable
}

var (
	generatedExprKind = rowExprKind{"column generation expression", "column generation expressions", "generation expression is not immutable"}
	indexExprKind     = rowExprKind{"index expression", "index expressions", "functions in index expression must be marked IMMUTABLE"}
	indexPredKind     = rowExprKind{"index predicate", "index predicates", "functions in index predicate must be marked IMMUTABLE"}
)

// checkRowExpr refuses in expr, for kind, what PostgreSQL refuses: a
// subquery, an aggregate, a window function; and, after type-checking
// (by check), a function that is not immutable.
func checkRowExpr(expr tree.Expr, kind rowExprKind, check func(tree.Expr) (tree.TypedExpr, error)) (tree.TypedExpr, error) {
	var bad error
	tree.WalkExprConst(sem.ExprVisitor(func(e tree.Expr) {
		if bad != nil {
			return
		}
		switch x := e.(type) {
		case *tree.Subquery:
			bad = pgerror.Newf(pgerror.CodeFeatureNotSupported, "cannot use subquery in %s", kind.name)
		case *tree.FuncExpr:
			if isAggregate(x) {
				bad = pgerror.Newf("42803", "aggregate functions are not allowed in %s", kind.plural)
			} else if x.WindowDef != nil {
				bad = pgerror.Newf("42P20", "window functions are not allowed in %s", kind.plural)
			}
		}
	}), expr)
	if bad != nil {
		return nil, bad
	}
	te, err := check(expr)
	if err != nil {
		return nil, err
	}
	tree.WalkExprConst(sem.ExprVisitor(func(e tree.Expr) {
		if f, ok := e.(*tree.FuncExpr); ok && bad == nil {
			if o := f.ResolvedOverload(); o != nil && o.Volatility > volatility.Immutable {
				bad = pgerror.New("42P17", kind.volatile)
			}
		}
	}), te)
	return te, bad
}

// checkGeneratedExpr type-checks column c's generation expression over
// d's columns and refuses what PostgreSQL refuses in one.
func (b *builder) checkGeneratedExpr(d *catalog.TableDescriptor, c int, expr tree.Expr) (tree.TypedExpr, error) {
	var bad error
	tree.WalkExprConst(sem.ExprVisitor(func(e tree.Expr) {
		if x, ok := e.(*tree.UnresolvedName); ok && bad == nil && !x.Star {
			if i := d.ColumnIndex(x.Parts[0]); i >= 0 && d.Columns[i].Generated != "" {
				bad = pgerror.WithDetail(pgerror.Newf("42P17", "cannot use generated column %q in column generation expression", x.Parts[0]),
					"A generated column cannot reference another generated column.")
			}
		}
	}), expr)
	if bad != nil {
		return nil, bad
	}
	te, err := checkRowExpr(expr, generatedExprKind, func(e tree.Expr) (tree.TypedExpr, error) {
		return b.typeCheck(e, &scope{cols: resultColumns(d)}, d.Columns[c].Type())
	})
	if err != nil {
		return nil, err
	}
	if !castsTo(te.ResolvedType(), d.Columns[c].Type()) {
		return nil, pgerror.WithHint(pgerror.Newf("42804", "column %q is of type %s but default expression is of type %s",
			d.Columns[c].Name, d.Columns[c].Type().SQLStandardName(), te.ResolvedType().SQLStandardName()),
			"You will need to rewrite or cast the expression.")
	}
	return te, nil
}

// castsTo reports whether a value of type from is assigned to a column of
// type to without an explicit cast (an approximation of PostgreSQL's
// assignment casts: the same family, numbers among themselves, anything
// to text).
func castsTo(from, to *types.T) bool {
	if from.Family() == types.UnknownFamily || from.Family() == to.Family() || to.Family() == types.StringFamily {
		return true
	}
	num := func(t *types.T) bool {
		f := t.Family()
		return f == types.IntFamily || f == types.FloatFamily || f == types.DecimalFamily
	}
	return num(from) && num(to)
}

// compiledGenerated returns, per column of d, its generation expression
// type-checked over d's columns (nil for a column that is not generated),
// compiled once per descriptor read.
func compiledGenerated(d *catalog.TableDescriptor, ctx context.Context, txn kvapi.Txn) ([]tree.TypedExpr, error) {
	if d.GeneratedExprs != nil {
		return d.GeneratedExprs, nil
	}
	b := newBuilder(ctx, txn, nil, 0, nil)
	out := make([]tree.TypedExpr, len(d.Columns))
	for i, c := range d.Columns {
		if c.Generated == "" {
			continue
		}
		e, err := sem.ParseExpr(c.Generated)
		if err != nil {
			return nil, err
		}
		if out[i], err = b.typeCheck(e, &scope{cols: resultColumns(d)}, c.Type()); err != nil {
			return nil, err
		}
	}
	d.GeneratedExprs = out
	return out, nil
}

// fillGenerated computes row's generated columns from its other ones.
func fillGenerated(d *catalog.TableDescriptor, r *runner, row tree.Datums) error {
	if !d.HasGenerated() {
		return nil
	}
	exprs, err := compiledGenerated(d, r.ctx, r.txn)
	if err != nil {
		return err
	}
	// Each expression reads only columns that are not generated, so the
	// order does not matter; the values are computed from the row as the
	// write left it.
	vals := make(tree.Datums, len(row))
	for i, e := range exprs {
		if e == nil {
			continue
		}
		v, err := r.evalIn(e, row)
		if err != nil {
			return err
		}
		if vals[i], err = sem.CastDatum(r.eval, v, d.Columns[i].Type()); err != nil {
			return err
		}
	}
	for i, e := range exprs {
		if e != nil {
			row[i] = vals[i]
		}
	}
	return nil
}

// refuseGeneratedInsert is PostgreSQL's error for a value other than
// DEFAULT given to a generated column by INSERT.
func refuseGeneratedInsert(desc *catalog.TableDescriptor, targets []int, ins *tree.Insert) error {
	if ins.DefaultValues() {
		return nil
	}
	for j, t := range targets {
		c := &desc.Columns[t]
		if c.Generated == "" {
			continue
		}
		if insertGivesValue(ins, j) {
			return pgerror.WithDetail(pgerror.Newf(codeGeneratedAlways, "cannot insert a non-DEFAULT value into column %q", c.Name),
				fmt.Sprintf("Column %q is a generated column.", c.Name))
		}
	}
	return nil
}

// refuseGeneratedUpdate is PostgreSQL's error for SET of a generated
// column to anything but DEFAULT.
func refuseGeneratedUpdate(c *catalog.ColumnDescriptor, e tree.Expr) error {
	if _, ok := e.(tree.DefaultVal); ok || c.Generated == "" {
		return nil
	}
	return pgerror.WithDetail(pgerror.Newf(codeGeneratedAlways, "column %q can only be updated to DEFAULT", c.Name),
		fmt.Sprintf("Column %q is a generated column.", c.Name))
}

// generatedDependents are the generated columns of d whose expression
// names column name.
func generatedDependents(d *catalog.TableDescriptor, name string) ([]string, error) {
	var out []string
	for _, c := range d.Columns {
		if c.Generated == "" || c.Hidden {
			continue // an expression index's column: see indexUsesColumn
		}
		e, err := sem.ParseExpr(c.Generated)
		if err != nil {
			return nil, err
		}
		if containsString(sem.ExprColumns(e), name) {
			out = append(out, c.Name)
		}
	}
	return out, nil
}

// renameColumnInExpr is expression text with column from renamed to.
func renameColumnInExpr(text, from, to string) (string, error) {
	e, err := sem.ParseExpr(text)
	if err != nil {
		return "", err
	}
	e, err = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
		if n, ok := x.(*tree.UnresolvedName); ok && !n.Star && n.NumParts == 1 && n.Parts[0] == from {
			return false, &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{to}}, nil
		}
		return true, x, nil
	})
	if err != nil {
		return "", err
	}
	return tree.Serialize(e), nil
}
