package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// A scan's access path: the primary-key span or the secondary index whose
// leading columns the filter fixes most (a rule; there are no statistics).

// scan builds the scan of desc filtered by where (nil: none).
func (b *builder) scan(desc *catalog.TableDescriptor, sc *scope, where *tree.Where) (*scanNode, error) {
	n := &scanNode{desc: desc, cols: sc.cols, locking: b.locking}
	if where == nil {
		return n, nil
	}
	filter, err := b.typeCheckBool(where.Expr, sc, "WHERE")
	if err != nil {
		return nil, err
	}
	n.filter = filter
	chooseIndex(n)
	return n, nil
}

// pkSpan narrows a scan to the primary-key prefix that equality
// conjuncts of filter fix (col = constant or parameter), or returns nil
// when they fix none. The filter is still applied to every row read.
func pkSpan(desc *catalog.TableDescriptor, filter tree.TypedExpr) func(r *runner) ([]byte, []byte, error) {
	f, _ := keySpan(desc, desc.IndexPrefix(), desc.PrimaryKey, filter)
	return f
}

// keySpan narrows a scan of the index whose keys start with prefix and
// then hold the values of cols to the prefix of cols that equality
// conjuncts of filter fix; it returns how many columns that is (0: no
// narrowing, and a nil function).
func keySpan(desc *catalog.TableDescriptor, prefix []byte, cols []int, filter tree.TypedExpr) (func(r *runner) ([]byte, []byte, error), int) {
	eq := map[int]tree.TypedExpr{}
	for _, c := range conjuncts(filter) {
		x, ok := c.(*tree.ComparisonExpr)
		if !ok || x.Operator.Symbol != treecmp.EQ {
			continue
		}
		l, r := x.TypedLeft(), x.TypedRight()
		if v, ok := l.(*tree.IndexedVar); ok && !hasVars(r) {
			eq[v.Idx] = r
		} else if v, ok := r.(*tree.IndexedVar); ok && !hasVars(l) {
			eq[v.Idx] = l
		}
	}
	var fixed []tree.TypedExpr
	for _, c := range cols {
		e, ok := eq[c]
		if !ok {
			break
		}
		fixed = append(fixed, e)
	}
	if len(fixed) == 0 {
		return nil, 0
	}
	return func(r *runner) ([]byte, []byte, error) {
		key := append([]byte(nil), prefix...)
		for i, e := range fixed {
			d, err := r.evalIn(e, nil)
			if err != nil {
				return nil, nil, err
			}
			if d == tree.DNull {
				return nil, nil, nil // = NULL matches nothing
			}
			col := desc.Columns[cols[i]]
			if d, err = castDatum(r.eval, d, col.Type()); err != nil {
				// A value the column cannot hold matches no row; the
				// filter would say the same.
				return nil, nil, nil //nolint:nilerr
			}
			if key, err = rowenc.EncodeDatum(key, d); err != nil {
				return nil, nil, err
			}
		}
		return key, catalog.PrefixEnd(key), nil
	}, len(fixed)
}

// chooseIndex points a scan with a filter at the access path that reads
// the fewest rows it can tell: a primary-key prefix if the filter fixes
// one, else the secondary index whose leading columns it fixes most.
func chooseIndex(n *scanNode) {
	n.span, n.index = nil, nil
	if n.filter == nil {
		return
	}
	if f, k := keySpan(n.desc, n.desc.IndexPrefix(), n.desc.PrimaryKey, n.filter); k > 0 {
		n.span = f
		if k == len(n.desc.PrimaryKey) {
			return // a point read: nothing beats it
		}
	}
	best := 0
	if n.span != nil {
		best = 1 // a primary-key prefix wins ties
	}
	for i := range n.desc.Indexes {
		idx := &n.desc.Indexes[i]
		if f, k := keySpan(n.desc, n.desc.IndexPrefixOf(idx.ID), idx.Columns, n.filter); k > best {
			n.span, n.index, best = f, idx, k
		}
	}
}

func hasVars(e tree.Expr) bool {
	found := false
	tree.WalkExprConst(varFinder{&found}, e)
	return found
}

type varFinder struct{ found *bool }

func (v varFinder) VisitPre(e tree.Expr) (bool, tree.Expr) {
	if _, ok := e.(*tree.IndexedVar); ok {
		*v.found = true
		return false, e
	}
	return !*v.found, e
}
func (v varFinder) VisitPost(e tree.Expr) tree.Expr { return e }
