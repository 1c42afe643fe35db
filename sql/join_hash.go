package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// hashKeys are what a hash join matches on: left[i] (over the left row)
// equals right[i] (over the right row) in every pair the join keeps. The
// join condition is still evaluated on each pair the buckets offer; the
// key only narrows the candidates, so it must never separate two values
// that = calls equal.
type hashKeys struct {
	left, right []tree.TypedExpr
}

// bucket is the right rows of one key value and their positions in
// rightRows.
type bucket struct {
	rows []tree.Datums
	at   []int
}

// chooseMethod picks how the join finds a left row's partners: by key
// lookup when the right side is one table whose whole primary key the
// condition fixes from the left row (not for a join that keeps unmatched
// right rows: it never reads the right side whole), else by hash when
// the condition equates columns of the two sides, else by nested loop.
func (n *joinNode) chooseMethod() {
	n.lookup, n.hash = nil, nil
	if n.on == nil {
		return
	}
	if rs, ok := n.right.(*scanNode); ok && !n.kind.keepsRight() {
		if n.lookup = lookupKey(rs.desc, n.on, n.leftCols); n.lookup != nil {
			return
		}
	}
	n.hash = equiColumns(n.on, n.leftCols, len(n.cols))
}

// equiColumns returns the equalities among on's conjuncts between an
// expression of the left side's columns (below leftCols) and one of the
// right side's (below width; not an outer query's); nil if there are
// none.
func equiColumns(on tree.TypedExpr, leftCols, width int) *hashKeys {
	var k hashKeys
	for _, c := range conjuncts(on) {
		cmp, ok := c.(*tree.ComparisonExpr)
		if !ok || cmp.Operator.Symbol != treecmp.EQ {
			continue
		}
		a, b := cmp.TypedLeft(), cmp.TypedRight()
		if !onlyVarsBelow(a, leftCols) {
			a, b = b, a
		}
		_, _, aVars := varRange(a)
		bLo, bHi, bVars := varRange(b)
		if !aVars || !bVars || !onlyVarsBelow(a, leftCols) || bLo < leftCols || bHi >= width ||
			!hashable(a.ResolvedType(), b.ResolvedType()) {
			continue
		}
		k.left = append(k.left, a)
		k.right = append(k.right, shiftVars(b, -leftCols))
	}
	if len(k.left) == 0 {
		return nil
	}
	return &k
}

// hashable reports whether values of types a and b that = calls equal
// always have the same key encoding: the same family, one whose equality
// is its encoding's (not char(n), which ignores trailing blanks, nor a
// collation's).
func hashable(a, b *types.T) bool {
	if a.Family() != b.Family() {
		return false
	}
	switch a.Family() {
	case types.IntFamily, types.FloatFamily, types.DecimalFamily, types.BoolFamily, types.BytesFamily,
		types.DateFamily, types.TimestampFamily, types.TimestampTZFamily, types.UuidFamily, types.OidFamily,
		types.IntervalFamily:
		return true
	case types.StringFamily:
		return a.Oid() != oid.T_bpchar && b.Oid() != oid.T_bpchar
	case types.JsonFamily:
		// jsonb's key is equal exactly when = says so (1.0 = 1); json
		// has no equality.
		return a.Oid() == oid.T_jsonb && b.Oid() == oid.T_jsonb
	}
	return false
}

// key encodes the values of exprs over row; ok is false when one is
// NULL, which = matches with nothing.
func (h *hashKeys) key(r *runner, exprs []tree.TypedExpr, row tree.Datums) (key []byte, ok bool, err error) {
	for _, e := range exprs {
		d, err := r.evalIn(e, row)
		if err != nil {
			return nil, false, err
		}
		if d == tree.DNull {
			return nil, false, nil
		}
		if key, err = rowenc.EncodeDatum(key, d); err != nil {
			return nil, false, err
		}
	}
	return key, true, nil
}

// buildBuckets hashes the right rows by their key columns; a row with a
// NULL key joins no left row (it still counts as unmatched for a right or
// full join).
func (n *joinNode) buildBuckets(r *runner) error {
	n.buckets = make(map[string]*bucket, len(n.rightRows))
	for i, row := range n.rightRows {
		key, ok, err := n.hash.key(r, n.hash.right, row)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		b := n.buckets[string(key)]
		if b == nil {
			size := rowenc.KeySize(string(key)) + bucketSize
			if err := r.grow(size); err != nil {
				return err
			}
			n.bucketBytes += size
			b = &bucket{}
			n.buckets[string(key)] = b
		}
		if err := r.grow(rowRefSize); err != nil {
			return err
		}
		n.bucketBytes += rowRefSize
		b.rows, b.at = append(b.rows, row), append(b.at, i)
	}
	return nil
}

// bucketSize and rowRefSize are a bucket's and one row's share of the hash
// table's memory, for the budget.
const (
	bucketSize = 64
	rowRefSize = 32
)
