package sql

import (
	"math"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// The ordered-set aggregates percentile_cont, percentile_disc and mode,
// written f(direct args) WITHIN GROUP (ORDER BY x), as PostgreSQL 15
// computes them. The builder types them itself (orderedSetAgg): the
// aggregated value is x, the fraction (percentile's direct argument) is
// evaluated with each row and the value of the group's rows is used
// (PostgreSQL evaluates it once per group; it may not depend on the
// rows). The rows are buffered and sorted as an aggregate's ORDER BY
// (replayOrdered), so the implementations below see x in order, NULLs
// left out.

var orderedSetAggs = map[string]bool{"percentile_cont": true, "percentile_disc": true, "mode": true}

// The overloads only make the names aggregates for the builder, which
// types the calls (orderedSetAgg).
var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"percentile_cont": {sem.AggOverload(types.Float, types.Float, "percentile_cont")},
	"percentile_disc": {sem.AggOverload(types.Float, types.Float, "percentile_disc")},
	"mode":            {sem.AggOverload(nil, types.Float, "mode")},
})

func init() {
	for _, k := range []sem.AggKind{"percentile_cont", "percentile_disc", "mode"} {
		moreAggs[k] = aggImpl{
			add: func(r *runner, s *moreAggState, a aggSpec, d tree.Datum) error {
				if err := r.grow(int64(d.Size())); err != nil {
					return err
				}
				s.vals = append(s.vals, d)
				return nil
			},
			result: orderedSetResult,
		}
	}
}

// orderedSetAgg types f(direct) WITHIN GROUP (ORDER BY x) over the
// aggregation's source; name is f's.
func (b *builder) orderedSetAgg(f *tree.FuncExpr, name string, g *aggBuilder) (aggSpec, error) {
	if f.AggType != tree.OrderedSetAgg {
		// PostgreSQL finds no function of these arguments alone.
		return aggSpec{}, pgerror.WithHint(pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s does not exist", tree.AsString(f)),
			"No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	if f.Type == tree.DistinctFuncType {
		return aggSpec{}, pgerror.Newf("42809", "DISTINCT is not allowed for ordered-set aggregate %s", name)
	}
	wantDirect := 1
	if name == "mode" {
		wantDirect = 0
	}
	if len(f.Exprs) != wantDirect || len(f.OrderBy) != 1 {
		return aggSpec{}, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s with %d direct and %d ordered arguments does not exist", name, len(f.Exprs), len(f.OrderBy))
	}
	x, err := b.typeCheck(f.OrderBy[0].Expr, g.src, types.AnyElement)
	if err != nil {
		return aggSpec{}, err
	}
	xt := x.ResolvedType()
	desc, nullsFirst := orderDirection(f.OrderBy[0])
	spec := aggSpec{kind: sem.AggKind(name), arg: x, typ: xt, order: []aggOrder{{expr: x, desc: desc, nullsFirst: nullsFirst}}}
	if name == "mode" {
		return spec, nil
	}
	if name == "percentile_cont" {
		switch xt.Family() {
		case types.IntFamily, types.FloatFamily, types.DecimalFamily:
			spec.typ = types.Float
		case types.IntervalFamily:
			spec.typ = types.Interval
		default:
			return aggSpec{}, pgerror.Newf(pgerror.CodeUndefinedFunction, "function percentile_cont(numeric, %s) does not exist", sem.FormatTypeOf(xt, -1))
		}
	}
	frac, err := b.typeCheck(f.Exprs[0], g.src, types.Float)
	if err != nil {
		return aggSpec{}, err
	}
	switch ft := frac.ResolvedType(); {
	case ft.Family() == types.ArrayFamily:
		if frac, err = b.typeCheck(&tree.CastExpr{Expr: f.Exprs[0], Type: types.FloatArray}, g.src, types.FloatArray); err != nil {
			return aggSpec{}, err
		}
		spec.typ = types.MakeArray(spec.typ)
	case ft.Family() != types.FloatFamily:
		if frac, err = b.typeCheck(&tree.CastExpr{Expr: f.Exprs[0], Type: types.Float}, g.src, types.Float); err != nil {
			return aggSpec{}, err
		}
	}
	spec.arg2 = frac
	return spec, nil
}

// orderedSetResult is the aggregate's result over s.vals, which are in
// the WITHIN GROUP order.
func orderedSetResult(s *moreAggState, a aggSpec) (tree.Datum, error) {
	if len(s.vals) == 0 {
		return tree.DNull, nil
	}
	if a.kind == "mode" {
		// The most frequent value; of equally frequent ones the first.
		best, bestN := s.vals[0], 0
		key := func(d tree.Datum) string {
			k, _ := rowenc.EncodeDatum(nil, d)
			return string(k)
		}
		for i := 0; i < len(s.vals); {
			j, ki := i+1, key(s.vals[i])
			for j < len(s.vals) && key(s.vals[j]) == ki {
				j++
			}
			if j-i > bestN {
				best, bestN = s.vals[i], j-i
			}
			i = j
		}
		return best, nil
	}
	if s.frac == nil || s.frac == tree.DNull {
		return tree.DNull, nil
	}
	one := func(f tree.Datum) (tree.Datum, error) {
		if f == tree.DNull {
			return tree.DNull, nil
		}
		return percentile(s.vals, float64(tree.MustBeDFloat(f)), a.kind == "percentile_cont")
	}
	if arr, ok := s.frac.(*tree.DArray); ok {
		out := tree.NewDArray(a.typ.ArrayContents())
		for _, f := range arr.Array {
			d, err := one(f)
			if err != nil {
				return nil, err
			}
			if err := out.Append(d); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return one(s.frac)
}

// percentile is percentile_cont (cont) or percentile_disc of the sorted
// vals at fraction f, as PostgreSQL's percentile_*_final.
func percentile(vals []tree.Datum, f float64, cont bool) (tree.Datum, error) {
	if f < 0 || f > 1 || math.IsNaN(f) {
		return nil, pgerror.Newf("22003", "percentile value %s is not between 0 and 1", strings.TrimSpace(formatPGFloat(f)))
	}
	n := len(vals)
	if !cont {
		row := int(math.Ceil(f * float64(n)))
		if row < 1 {
			row = 1
		}
		return vals[row-1], nil
	}
	pos := f * float64(n-1)
	lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
	if x, ok := vals[lo].(*tree.DInterval); ok {
		// interval_lerp: lo + (hi - lo) * fraction.
		if lo == hi {
			return x, nil
		}
		y := vals[hi].(*tree.DInterval)
		return &tree.DInterval{Duration: x.Duration.Add(y.Duration.Sub(x.Duration).MulFloat(pos - float64(lo)))}, nil
	}
	x, y := toFloat(vals[lo]), toFloat(vals[hi])
	if lo == hi {
		return tree.NewDFloat(tree.DFloat(x)), nil
	}
	return tree.NewDFloat(tree.DFloat(x + (pos-float64(lo))*(y-x))), nil
}

func toFloat(d tree.Datum) float64 {
	switch v := d.(type) {
	case *tree.DFloat:
		return float64(*v)
	case *tree.DInt:
		return float64(*v)
	case *tree.DDecimal:
		f, _ := v.Float64()
		return f
	}
	return math.NaN()
}

func formatPGFloat(f float64) string {
	return tree.NewDFloat(tree.DFloat(f)).String()
}
