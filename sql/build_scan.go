package sql

import (
	"bytes"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// A scan's access path: the primary-key span or the secondary index whose
// leading columns the filter fixes most (a rule; there are no statistics).

// scan builds the scan of desc filtered by where (nil: none).
func (b *builder) scan(desc *catalog.TableDescriptor, sc *scope, where *tree.Where) (*scanNode, error) {
	n := &scanNode{desc: desc, cols: sc.cols, locking: b.locking, noWait: b.lockNoWait}
	if where == nil {
		return n, nil
	}
	filter, err := b.typeCheckBool(where.Expr, sc, "WHERE")
	if err != nil {
		return nil, err
	}
	n.filter = filter
	chooseIndex(n)
	if n.index != nil {
		costIndex(n, b.tableEstimate(desc))
	}
	return n, nil
}

// keySpan narrows a scan of the index whose keys start with prefix and
// then hold the values of cols: to the prefix of cols that equality
// conjuncts of filter fix (col = constant or parameter), and within it to
// the bounds that range conjuncts (<, <=, >, >=) put on the next column.
// It returns the span's function (nil: no narrowing), how many columns
// equalities fix, and whether a range narrows the next one. The span is
// a superset of the rows the filter keeps: the filter still applies to
// every row read.
func keySpan(desc *catalog.TableDescriptor, prefix []byte, cols []int, filter tree.TypedExpr) (func(r *runner) ([]byte, []byte, error), int, bool) {
	eq := map[int]tree.TypedExpr{}
	type bound struct {
		e         tree.TypedExpr
		inclusive bool
	}
	lower, upper := map[int][]bound{}, map[int][]bound{}
	for _, c := range conjuncts(filter) {
		if rc, ok := c.(*tree.RangeCond); ok && !rc.Not && !rc.Symmetric {
			// x BETWEEN a AND b: x >= a and x <= b.
			if v, isVar := rc.TypedLeftFrom().(*tree.IndexedVar); isVar && !hasVars(rc.TypedFrom()) && !hasVars(rc.TypedTo()) {
				lower[v.Idx] = append(lower[v.Idx], bound{rc.TypedFrom(), true})
				upper[v.Idx] = append(upper[v.Idx], bound{rc.TypedTo(), true})
			}
			continue
		}
		x, ok := c.(*tree.ComparisonExpr)
		if !ok {
			continue
		}
		l, r := x.TypedLeft(), x.TypedRight()
		op := x.Operator.Symbol
		v, isVar := l.(*tree.IndexedVar)
		other := r
		if !isVar || hasVars(r) {
			if v, isVar = r.(*tree.IndexedVar); !isVar || hasVars(l) {
				continue
			}
			other = l
			// col on the right: flip the comparison.
			switch op {
			case treecmp.LT:
				op = treecmp.GT
			case treecmp.LE:
				op = treecmp.GE
			case treecmp.GT:
				op = treecmp.LT
			case treecmp.GE:
				op = treecmp.LE
			}
		}
		switch op {
		case treecmp.EQ:
			eq[v.Idx] = other
		case treecmp.GT, treecmp.GE:
			lower[v.Idx] = append(lower[v.Idx], bound{other, op == treecmp.GE})
		case treecmp.LT, treecmp.LE:
			upper[v.Idx] = append(upper[v.Idx], bound{other, op == treecmp.LE})
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
	var lo, hi []bound
	if len(fixed) < len(cols) && rangeEncodable(desc.Columns[cols[len(fixed)]].Type()) {
		next := cols[len(fixed)]
		lo, hi = lower[next], upper[next]
	}
	if len(fixed) == 0 && len(lo) == 0 && len(hi) == 0 {
		return nil, 0, false
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
			if d, err = sem.CastDatum(r.eval, d, col.Type()); err != nil {
				// A value the column cannot hold matches no row; the
				// filter would say the same.
				return nil, nil, nil //nolint:nilerr
			}
			if key, err = rowenc.EncodeDatum(key, d); err != nil {
				return nil, nil, err
			}
		}
		start, end := key, catalog.PrefixEnd(key)
		if len(lo)+len(hi) == 0 {
			return start, end, nil
		}
		colType := desc.Columns[cols[len(fixed)]].Type()
		// encode is key with the bound's value next, or ok false when the
		// bound cannot narrow exactly (a value of another type: a cast
		// could round it) and is left to the filter.
		encode := func(b bound) (k []byte, null, ok bool, err error) {
			d, err := r.evalIn(b.e, nil)
			if err != nil {
				return nil, false, false, err
			}
			if d == tree.DNull {
				return nil, true, true, nil
			}
			if d.ResolvedType().Family() != colType.Family() || d.ResolvedType().Oid() == oid.T_json {
				return nil, false, false, nil
			}
			k, err = rowenc.EncodeDatum(append([]byte(nil), key...), d)
			return k, false, err == nil, err
		}
		for _, b := range lo {
			k, null, ok, err := encode(b)
			if err != nil || null {
				return nil, nil, err // < NULL matches nothing
			}
			if !ok {
				continue
			}
			if !b.inclusive {
				k = catalog.PrefixEnd(k) // past every key with that value
			}
			if bytes.Compare(k, start) > 0 {
				start = k
			}
		}
		for _, b := range hi {
			k, null, ok, err := encode(b)
			if err != nil || null {
				return nil, nil, err
			}
			if !ok {
				continue
			}
			if b.inclusive {
				k = catalog.PrefixEnd(k)
			}
			if bytes.Compare(k, end) < 0 {
				end = k
			}
		}
		if bytes.Compare(start, end) >= 0 {
			return nil, nil, nil // an empty range
		}
		return start, end, nil
	}, len(fixed), len(lo)+len(hi) > 0
}

// rangeEncodable reports whether a column's key encoding orders its values
// as SQL compares them, so that a range on them is a key range. jsonb's
// does (rowenc/json.go orders keys as PostgreSQL's jsonb btree, which
// the comparison operators follow); json has no ordering.
func rangeEncodable(t *types.T) bool {
	switch t.Family() {
	case types.IntFamily, types.StringFamily, types.DateFamily, types.TimestampFamily, types.TimestampTZFamily,
		types.TimeFamily, types.TimeTZFamily, types.IntervalFamily:
		return true
	case types.JsonFamily:
		return t.Oid() == oid.T_jsonb
	}
	return false
}

// chooseIndex points a scan with a filter at the access path that reads
// the fewest rows it can tell: a primary-key prefix if the filter fixes
// one, else the secondary index whose leading columns it fixes most.
func chooseIndex(n *scanNode) {
	n.span, n.index, n.pkFixed, n.point, n.indexOnly, n.inverted = nil, nil, 0, false, false, nil
	if n.filter == nil {
		return
	}
	if f, err := substituteExprColumns(n.desc, n.filter); err == nil {
		n.filter = f
	}
	// Each column an equality fixes counts two, a range on the next one.
	score := func(k int, ranged bool) int {
		if ranged {
			return 2*k + 1
		}
		return 2 * k
	}
	best := 0
	if f, k, ranged := keySpan(n.desc, n.desc.IndexPrefix(), n.desc.PrimaryKey, n.filter); f != nil {
		n.span, n.pkFixed = f, k
		if k == len(n.desc.PrimaryKey) {
			n.point = true
			return // a point read: nothing beats it
		}
		best = score(k, ranged) + 1 // the primary key wins ties
	}
	for i := range n.desc.Indexes {
		idx := &n.desc.Indexes[i]
		if idx.Inverted() || !predicateImplied(n.desc, idx, n.filter) {
			continue // a partial index without every row the filter keeps
		}
		if f, k, ranged := keySpan(n.desc, n.desc.IndexPrefixOf(idx.ID), idx.Columns, n.filter); f != nil && score(k, ranged) >= best {
			n.span, n.index, n.pkFixed, best = f, idx, 0, score(k, ranged)+1
		}
	}
	if best > 0 {
		return
	}
	// Nothing narrows a key: an inverted index may narrow containment.
	if chooseInvertedIndex(n) {
		return
	}
	// Nor that: a partial index whose predicate the filter implies still
	// holds fewer rows than the table.
	for i := range n.desc.Indexes {
		idx := &n.desc.Indexes[i]
		if idx.Predicate != "" && !idx.Inverted() && predicateImplied(n.desc, idx, n.filter) {
			prefix := n.desc.IndexPrefixOf(idx.ID)
			n.span = func(*runner) ([]byte, []byte, error) { return prefix, catalog.PrefixEnd(prefix), nil }
			n.index = idx
			return
		}
	}
}

func hasVars(e tree.Expr) bool {
	found := false
	tree.WalkExprConst(varFinder{&found}, e)
	return found
}

// hasCorrelatedSubquery reports whether e holds a correlated subquery.
func hasCorrelatedSubquery(e tree.Expr) bool {
	found := false
	_, _ = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
		if sq, ok := x.(*tree.Subquery); ok && sq.Idx == correlatedSubquery {
			found = true
		}
		return !found, x, nil
	})
	return found
}

type varFinder struct{ found *bool }

func (v varFinder) VisitPre(e tree.Expr) (bool, tree.Expr) {
	if iv, ok := e.(*tree.IndexedVar); ok && iv.Idx < sem.OuterBase {
		// (An outer query's column is a constant for one run of a
		// correlated subquery: k = outer.x fixes a key span.)
		*v.found = true
		return false, e
	}
	if sq, ok := e.(*tree.Subquery); ok && sq.Idx == correlatedSubquery {
		// It reads the row too, through its outer columns.
		*v.found = true
		return false, e
	}
	return !*v.found, e
}
func (v varFinder) VisitPost(e tree.Expr) tree.Expr { return e }
