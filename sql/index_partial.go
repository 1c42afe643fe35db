package sql

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// Partial indexes, CREATE INDEX ... WHERE predicate, as PostgreSQL has
// them: a row has an entry only while the predicate is true for it, so a
// unique partial index is unique among those rows only, and a scan may
// use the index only when its filter implies the predicate: each of the
// predicate's conjuncts is one of the filter's, an IS NOT NULL that a
// comparison of the filter implies, or a comparison of a column with a
// constant that one of the filter implies (score > 20 implies score >
// 10), as PostgreSQL's predicate_implied_by proves them for btree
// operators.

// checkPredicate type-checks a partial index's predicate over d's
// columns.
func (b *builder) checkPredicate(d *catalog.TableDescriptor, pred tree.Expr) (tree.TypedExpr, error) {
	return checkRowExpr(pred, indexPredKind, func(e tree.Expr) (tree.TypedExpr, error) {
		return b.typeCheckBool(e, &scope{cols: resultColumns(d)}, "WHERE")
	})
}

// compiledPredicate is idx's predicate type-checked over d's columns (nil
// for an index of every row), compiled once per descriptor read.
func compiledPredicate(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, ctx context.Context, txn kvapi.Txn) (tree.TypedExpr, error) {
	if idx.Predicate == "" {
		return nil, nil
	}
	if e, ok := d.PredicateExprs[idx.ID]; ok {
		return e, nil
	}
	e, err := sem.ParseExpr(idx.Predicate)
	if err != nil {
		return nil, err
	}
	te, err := newBuilder(ctx, txn, nil, 0, nil).typeCheckBool(e, &scope{cols: resultColumns(d)}, "WHERE")
	if err != nil {
		return nil, err
	}
	if d.PredicateExprs == nil {
		d.PredicateExprs = map[uint32]tree.TypedExpr{}
	}
	d.PredicateExprs[idx.ID] = te
	return te, nil
}

// inIndex reports whether row has an entry in idx: always, unless idx is
// partial and its predicate is not true for the row.
func inIndex(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, r *runner, row tree.Datums) (bool, error) {
	if idx.Predicate == "" {
		return true, nil
	}
	pred, err := compiledPredicate(d, idx, r.ctx, r.txn)
	if err != nil {
		return false, err
	}
	v, err := r.evalIn(pred, row)
	return v == tree.DBoolTrue, err
}

// indexEntry is row's key in idx, nil if the row has no entry there.
func indexEntry(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, r *runner, row tree.Datums) ([]byte, error) {
	if ok, err := inIndex(d, idx, r, row); err != nil || !ok {
		return nil, err
	}
	return rowenc.IndexKey(d, idx, row)
}

// predicateImplied reports whether filter implies idx's predicate, so
// that a scan with filter may read idx: every row the filter keeps has an
// entry.
func predicateImplied(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, filter tree.TypedExpr) bool {
	if idx.Predicate == "" {
		return true
	}
	if filter == nil {
		return false
	}
	pred, err := compiledPredicate(d, idx, context.Background(), nil)
	if err != nil {
		return false
	}
	have := map[string]bool{}
	notNull := map[int]bool{}
	for _, c := range conjuncts(filter) {
		have[tree.Serialize(c)] = true
		// A comparison with a strict operator is true only for non-NULL
		// operands.
		if x, ok := c.(*tree.ComparisonExpr); ok {
			switch x.Operator.Symbol {
			case treecmp.EQ, treecmp.LT, treecmp.LE, treecmp.GT, treecmp.GE, treecmp.NE:
				for _, side := range []tree.TypedExpr{x.TypedLeft(), x.TypedRight()} {
					if v, ok := side.(*tree.IndexedVar); ok {
						notNull[v.Idx] = true
					}
				}
			}
		}
	}
	filterConjuncts := conjuncts(filter)
	for _, c := range conjuncts(pred) {
		if have[tree.Serialize(c)] {
			continue
		}
		if x, ok := c.(*tree.IsNotNullExpr); ok {
			if v, ok := x.TypedInnerExpr().(*tree.IndexedVar); ok && notNull[v.Idx] {
				continue
			}
		}
		if p, ok := constComparison(c); ok {
			implied := false
			for _, f := range filterConjuncts {
				if fc, ok := constComparison(f); ok && fc.col == p.col && comparisonImplies(fc, p) {
					implied = true
					break
				}
			}
			if implied {
				continue
			}
		}
		return false
	}
	return true
}

// colComparison is a comparison of column col with a constant: col op
// val.
type colComparison struct {
	col int
	op  treecmp.ComparisonOperatorSymbol
	val tree.Datum
}

// constComparison reads e as a column compared with a constant (either
// way round).
func constComparison(e tree.TypedExpr) (colComparison, bool) {
	x, ok := e.(*tree.ComparisonExpr)
	if !ok {
		return colComparison{}, false
	}
	op := x.Operator.Symbol
	switch op {
	case treecmp.EQ, treecmp.NE, treecmp.LT, treecmp.LE, treecmp.GT, treecmp.GE:
	default:
		return colComparison{}, false
	}
	l, r := x.TypedLeft(), x.TypedRight()
	if v, ok := l.(*tree.IndexedVar); ok {
		if d, ok := r.(tree.Datum); ok && d != tree.DNull {
			return colComparison{v.Idx, op, d}, true
		}
	}
	if v, ok := r.(*tree.IndexedVar); ok {
		if d, ok := l.(tree.Datum); ok && d != tree.DNull {
			flip := map[treecmp.ComparisonOperatorSymbol]treecmp.ComparisonOperatorSymbol{
				treecmp.LT: treecmp.GT, treecmp.LE: treecmp.GE, treecmp.GT: treecmp.LT, treecmp.GE: treecmp.LE,
				treecmp.EQ: treecmp.EQ, treecmp.NE: treecmp.NE}
			return colComparison{v.Idx, flip[op], d}, true
		}
	}
	return colComparison{}, false
}

// comparisonImplies reports whether f (col fop a) implies p (col pop b)
// for every value of the column, comparing constants of one type family.
func comparisonImplies(f, p colComparison) bool {
	if f.val.ResolvedType().Family() != p.val.ResolvedType().Family() {
		return false
	}
	c, err := (&sem.EvalCtx{Ctx: context.Background()}).Compare(f.val, p.val)
	if err != nil {
		return false
	}
	switch p.op {
	case treecmp.GT:
		return (f.op == treecmp.GT && c >= 0) || ((f.op == treecmp.GE || f.op == treecmp.EQ) && c > 0)
	case treecmp.GE:
		return (f.op == treecmp.GT || f.op == treecmp.GE || f.op == treecmp.EQ) && c >= 0
	case treecmp.LT:
		return (f.op == treecmp.LT && c <= 0) || ((f.op == treecmp.LE || f.op == treecmp.EQ) && c < 0)
	case treecmp.LE:
		return (f.op == treecmp.LT || f.op == treecmp.LE || f.op == treecmp.EQ) && c <= 0
	case treecmp.EQ:
		return f.op == treecmp.EQ && c == 0
	case treecmp.NE:
		switch f.op {
		case treecmp.EQ:
			return c != 0
		case treecmp.GT:
			return c >= 0
		case treecmp.GE:
			return c > 0
		case treecmp.LT:
			return c <= 0
		case treecmp.LE:
			return c < 0
		}
	}
	return false
}
