package opt

import (
	"bytes"
	"sort"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// Selectivities assumed where the statistics say nothing better
// (PostgreSQL's defaults: DEFAULT_EQ_SEL, DEFAULT_INEQ_SEL).
const (
	defaultEq    = 0.005
	defaultRange = 1.0 / 3
	defaultOther = 1.0 / 3
)

// TableEstimate estimates the rows of a scan of one table: its statistics
// and how the scan's filter names its columns.
type TableEstimate struct {
	Stats *catalog.TableStatistics
	Desc  *catalog.TableDescriptor
}

// Rows is the table's row count by its statistics.
func (t TableEstimate) Rows() float64 { return float64(t.Stats.RowCount) }

// column returns the statistics of the table's column at ordinal i (a
// filter's column reference), nil if none.
func (t TableEstimate) column(i int) *catalog.ColumnStatistics {
	if t.Desc == nil || t.Stats == nil || i < 0 || i >= len(t.Desc.Columns) {
		return nil
	}
	return t.Stats.Column(t.Desc.Columns[i].ID)
}

// Selectivity estimates the share of the table's rows that filter (over
// its columns, by ordinal; nil: none) keeps.
func (t TableEstimate) Selectivity(filter tree.TypedExpr) float64 {
	if filter == nil {
		return 1
	}
	return clamp(t.selectivity(filter))
}

// DefaultSelectivity estimates the share of rows filter keeps where no
// statistics describe its columns (over a join, an aggregation): the
// defaults alone.
func DefaultSelectivity(filter tree.TypedExpr) float64 { return TableEstimate{}.Selectivity(filter) }

func (t TableEstimate) selectivity(e tree.TypedExpr) float64 {
	switch x := e.(type) {
	case *tree.AndExpr:
		return t.selectivity(x.TypedLeft()) * t.selectivity(x.TypedRight())
	case *tree.OrExpr:
		a, b := t.selectivity(x.TypedLeft()), t.selectivity(x.TypedRight())
		return a + b - a*b
	case *tree.NotExpr:
		return 1 - t.selectivity(x.TypedInnerExpr())
	case *tree.ParenExpr:
		return t.selectivity(x.TypedInnerExpr())
	case *tree.IsNullExpr:
		if cs, ok := t.columnOf(x.TypedInnerExpr()); ok {
			return t.nullFraction(cs)
		}
	case *tree.IsNotNullExpr:
		if cs, ok := t.columnOf(x.TypedInnerExpr()); ok {
			return 1 - t.nullFraction(cs)
		}
	case *tree.ComparisonExpr:
		return t.comparison(x)
	case *tree.DBool:
		if *x {
			return 1
		}
		return 0
	}
	return defaultOther
}

func (t TableEstimate) comparison(x *tree.ComparisonExpr) float64 {
	l, r := x.TypedLeft(), x.TypedRight()
	op := x.Operator.Symbol
	lc, lok := t.columnOf(l)
	rc, rok := t.columnOf(r)
	if !lok && rok {
		l, r, lc, rc, lok, rok = r, l, rc, lc, rok, lok
		op = flip(op)
	}
	if !lok {
		return defaultOther
	}
	switch op {
	case treecmp.EQ, treecmp.IsNotDistinctFrom:
		if rok {
			return t.nonNull(lc) * t.nonNull(rc) / float64(max(lc.Distinct, rc.Distinct, 1))
		}
		if d, ok := r.(tree.Datum); ok && d != tree.DNull {
			return t.eqValue(lc, d)
		}
		return t.eq(lc)
	case treecmp.NE, treecmp.IsDistinctFrom:
		return t.nonNull(lc) - t.eq(lc)
	case treecmp.In:
		if tup, ok := r.(*tree.DTuple); ok {
			return min(float64(len(tup.D))*t.eq(lc), t.nonNull(lc))
		}
		return defaultOther
	case treecmp.LT, treecmp.LE, treecmp.GT, treecmp.GE:
		d, ok := r.(tree.Datum)
		if !ok || rok || len(lc.Histogram) == 0 {
			return defaultRange
		}
		v, err := rowenc.EncodeDatum(nil, d)
		if err != nil || d == tree.DNull {
			return defaultRange
		}
		below := belowFraction(lc.Histogram, v, op == treecmp.LE || op == treecmp.GT)
		if op == treecmp.GT || op == treecmp.GE {
			below = 1 - below
		}
		return t.nonNull(lc) * below
	}
	return defaultOther
}

// columnOf returns the statistics of the column e is (a bare column
// reference).
func (t TableEstimate) columnOf(e tree.TypedExpr) (*catalog.ColumnStatistics, bool) {
	v, ok := e.(*tree.IndexedVar)
	if !ok {
		return nil, false
	}
	cs := t.column(v.Idx)
	return cs, cs != nil
}

func (t TableEstimate) nullFraction(cs *catalog.ColumnStatistics) float64 {
	if t.Stats.RowCount == 0 {
		return 0
	}
	return float64(cs.Nulls) / float64(t.Stats.RowCount)
}

func (t TableEstimate) nonNull(cs *catalog.ColumnStatistics) float64 { return 1 - t.nullFraction(cs) }

// eq is the share of rows equal to one value of the column.
func (t TableEstimate) eq(cs *catalog.ColumnStatistics) float64 {
	if cs.Distinct == 0 {
		return 0
	}
	return t.nonNull(cs) / float64(cs.Distinct)
}

// eqValue is the share of rows equal to d. A value that bounds several
// of the histogram's equi-depth buckets fills about that many buckets'
// worth of the sample (a frequent value); any other value is at most one
// bucket's worth, and at most its share of the distinct values.
func (t TableEstimate) eqValue(cs *catalog.ColumnStatistics, d tree.Datum) float64 {
	n := len(cs.Histogram)
	v, err := rowenc.EncodeDatum(nil, d)
	if n == 0 || err != nil {
		return t.eq(cs)
	}
	same := 0
	for _, b := range cs.Histogram {
		if bytes.Equal(b, v) {
			same++
		}
	}
	if same >= 2 {
		return t.nonNull(cs) * float64(same) / float64(n)
	}
	return min(t.eq(cs), t.nonNull(cs)/float64(n))
}

// belowFraction is the share of a histogram's values below v (at or
// below it with inclusive): the whole buckets whose upper bound is
// below, and half of the next.
func belowFraction(bounds [][]byte, v []byte, inclusive bool) float64 {
	n := len(bounds)
	i := sort.Search(n, func(i int) bool {
		c := bytes.Compare(bounds[i], v)
		return c > 0 || (c == 0 && !inclusive)
	})
	// Half of the bucket v falls in; past the last bound, half of the
	// last (the sample may have missed the largest values): never 0 or
	// all, which would make every later estimate 0 or the whole table.
	return (float64(min(i, n-1)) + 0.5) / float64(n)
}

func flip(op treecmp.ComparisonOperatorSymbol) treecmp.ComparisonOperatorSymbol {
	switch op {
	case treecmp.LT:
		return treecmp.GT
	case treecmp.LE:
		return treecmp.GE
	case treecmp.GT:
		return treecmp.LT
	case treecmp.GE:
		return treecmp.LE
	}
	return op
}

func clamp(s float64) float64 { return min(max(s, 0), 1) }

// JoinSelectivity estimates the share of pairs of rows (a from ta's, b
// from tb's) that a.ca = b.cb keeps: each value meets its equal, about
// 1/max(distinct) of the other side.
func JoinSelectivity(ta TableEstimate, ca int, tb TableEstimate, cb int) float64 {
	a, b := ta.column(ca), tb.column(cb)
	if a == nil || b == nil {
		return defaultEq
	}
	return ta.nonNull(a) * tb.nonNull(b) / float64(max(a.Distinct, b.Distinct, 1))
}
