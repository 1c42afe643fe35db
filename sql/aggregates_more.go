package sql

import (
	"math"
	"slices"
	"sort"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// More aggregates — bool_and/bool_or/every, the variance and standard
// deviation family, array_agg — each one declaration: its overloads and
// how it takes a value and gives its result. accumulate and finish (plan.go)
// hand them their values.

// aggImpl computes one aggregate kind.
type aggImpl struct {
	// takesNulls: NULL arguments are values too (array_agg's elements).
	takesNulls bool
	add        func(r *runner, s *moreAggState, a aggSpec, d tree.Datum) error
	result     func(s *moreAggState, a aggSpec) (tree.Datum, error)
}

// moreAggState is the state of the aggregates here.
type moreAggState struct {
	n int64
	// b is bool_and's and bool_or's value so far.
	b bool
	// sx and sxx: a float variance's sum and Youngs-Cramer sum of squared
	// differences (PostgreSQL's float8_accum); dsum, dsumsq a numeric
	// one's sum and sum of squares.
	sx, sxx      float64
	dsum, dsumsq apd.Decimal
	arr          *tree.DArray
	// vals and frac: an ordered-set aggregate's values, in order, and
	// its fraction (aggregates_ordered.go).
	vals []tree.Datum
	frac tree.Datum
}

var moreAggs = map[sem.AggKind]aggImpl{
	"bool_and": boolAgg(true), "every": boolAgg(true), "bool_or": boolAgg(false),
	"var_samp": varianceAgg(true, false), "variance": varianceAgg(true, false), "var_pop": varianceAgg(false, false),
	"stddev_samp": varianceAgg(true, true), "stddev": varianceAgg(true, true), "stddev_pop": varianceAgg(false, true),
	"array_agg": {
		takesNulls: true,
		add: func(r *runner, s *moreAggState, a aggSpec, d tree.Datum) error {
			if s.arr == nil {
				s.arr = tree.NewDArray(a.typ.ArrayContents())
			}
			if err := r.grow(int64(d.Size())); err != nil {
				return err
			}
			if a.arg != nil && a.arg.ResolvedType().Family() == types.ArrayFamily {
				// array_agg(anyarray): the arrays as the sub-arrays of
				// one of a dimension more (checked in result).
				if d == tree.DNull {
					return pgerror.New("22004", "cannot accumulate null arrays")
				}
				arr, ok := tree.AsDArray(d)
				if !ok {
					return pgerror.Newf("42804", "array_agg of %s: not an array", d.ResolvedType().SQLString())
				}
				d = arr
				// Checked row by row as PostgreSQL's accumArrayResultArr
				// does, so that of a NULL array and a misshapen one the
				// first met is the error: an empty first array has no
				// shape, a later one is of another dimensionality.
				if len(s.arr.Array) == 0 {
					if pgarray.NDims(arr) == 0 {
						return pgerror.New(pgarray.CodeArraySubscript, "cannot accumulate empty arrays")
					}
				} else if !slices.Equal(pgarray.Dims(s.arr.Array[0].(*tree.DArray)), pgarray.Dims(arr)) {
					return pgerror.New(pgarray.CodeArraySubscript, "cannot accumulate arrays of different dimensionality")
				}
				s.arr.Array = append(s.arr.Array, d)
				return nil
			}
			return s.arr.Append(d)
		},
		result: func(s *moreAggState, a aggSpec) (tree.Datum, error) {
			if s.arr == nil {
				return tree.DNull, nil
			}
			if a.arg != nil && a.arg.ResolvedType().Family() == types.ArrayFamily {
				first := pgarray.Dims(s.arr.Array[0].(*tree.DArray))
				for _, sub := range s.arr.Array[1:] {
					d := pgarray.Dims(sub.(*tree.DArray))
					if len(d) != len(first) {
						return nil, pgerror.New(pgarray.CodeArraySubscript, "cannot accumulate arrays of different dimensionality")
					}
				}
				out, err := pgarray.Stack(s.arr.ParamTyp, s.arr.Array)
				if err != nil {
					return nil, pgerror.New(pgarray.CodeArraySubscript, "cannot accumulate arrays of different dimensionality")
				}
				return out, nil
			}
			return s.arr, nil
		},
	},
}

func boolAgg(and bool) aggImpl {
	return aggImpl{
		add: func(r *runner, s *moreAggState, _ aggSpec, d tree.Datum) error {
			v := bool(tree.MustBeDBool(d))
			if s.n == 0 {
				s.b = v
			} else if and {
				s.b = s.b && v
			} else {
				s.b = s.b || v
			}
			s.n++
			return nil
		},
		result: func(s *moreAggState, a aggSpec) (tree.Datum, error) {
			if s.n == 0 {
				return tree.DNull, nil
			}
			return tree.MakeDBool(tree.DBool(s.b)), nil
		},
	}
}

// varianceAgg computes as PostgreSQL does: float8 arguments in floats
// (Youngs-Cramer), the others in numerics with its scale rules.
func varianceAgg(sample, root bool) aggImpl {
	return aggImpl{
		add: func(r *runner, s *moreAggState, _ aggSpec, d tree.Datum) error {
			s.n++
			if f, ok := d.(*tree.DFloat); ok {
				var err error
				s.sx, s.sxx, err = floatAccum(s.n, s.sx, s.sxx, float64(*f))
				return err
			}
			x := sem.ToDecimal(d)
			var sq apd.Decimal
			if _, err := tree.ExactCtx.Mul(&sq, x, x); err != nil {
				return err
			}
			if _, err := tree.ExactCtx.Add(&s.dsum, &s.dsum, x); err != nil {
				return err
			}
			_, err := tree.ExactCtx.Add(&s.dsumsq, &s.dsumsq, &sq)
			return err
		},
		result: func(s *moreAggState, a aggSpec) (tree.Datum, error) {
			if s.n == 0 || (sample && s.n == 1) {
				return tree.DNull, nil
			}
			div := float64(s.n)
			if sample {
				div--
			}
			if a.typ.Family() == types.FloatFamily {
				v := s.sxx / div
				if root {
					v = math.Sqrt(v)
				}
				return tree.NewDFloat(tree.DFloat(v)), nil
			}
			// (n·Σx² − (Σx)²) / (n·(n−1)) or / n², as numeric_stddev_internal.
			n := apd.New(s.n, 0)
			var num, sq, den apd.Decimal
			if _, err := tree.ExactCtx.Mul(&num, n, &s.dsumsq); err != nil {
				return nil, err
			}
			if _, err := tree.ExactCtx.Mul(&sq, &s.dsum, &s.dsum); err != nil {
				return nil, err
			}
			if _, err := tree.ExactCtx.Sub(&num, &num, &sq); err != nil {
				return nil, err
			}
			if num.Sign() <= 0 {
				return &tree.DDecimal{}, nil
			}
			if _, err := tree.ExactCtx.Mul(&den, n, apd.New(int64(div), 0)); err != nil {
				return nil, err
			}
			out := &tree.DDecimal{}
			if err := sem.PGNumericDiv(&out.Decimal, &num, &den); err != nil {
				return nil, err
			}
			if root {
				scale := -out.Exponent
				ctx := tree.DecimalCtx.WithPrecision(uint32(out.NumDigits()) + 20)
				if _, err := ctx.Sqrt(&out.Decimal, &out.Decimal); err != nil {
					return nil, err
				}
				rctx := *ctx
				rctx.Rounding = apd.RoundHalfUp
				if _, err := rctx.Quantize(&out.Decimal, &out.Decimal, -scale); err != nil {
					return nil, err
				}
			}
			return out, nil
		},
	}
}

var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"bool_and": {sem.AggOverload(types.Bool, types.Bool, "bool_and")},
	"bool_or":  {sem.AggOverload(types.Bool, types.Bool, "bool_or")},
	"every":    {sem.AggOverload(types.Bool, types.Bool, "every")},
	"array_agg": {{
		Types: tree.ParamTypes{{Name: "arg", Typ: types.AnyElement}},
		ReturnType: func(args []tree.TypedExpr) *types.T {
			// array_agg(NULL) is a text[], as an unknown literal is text.
			if len(args) == 0 || args[0].ResolvedType().Family() == types.UnknownFamily {
				return types.MakeArray(types.String)
			}
			if t := args[0].ResolvedType(); t.Family() == types.ArrayFamily {
				// array_agg(anyarray) is an array of the same type, of
				// one dimension more.
				return sem.FlatArrayType(t)
			}
			return types.MakeArray(args[0].ResolvedType())
		},
		Volatility: volatility.Immutable, Class: tree.AggregateClass, Fn: sem.AggKind("array_agg"),
	}},
	"var_samp":    varianceOverloads("var_samp"),
	"variance":    varianceOverloads("variance"),
	"var_pop":     varianceOverloads("var_pop"),
	"stddev_samp": varianceOverloads("stddev_samp"),
	"stddev":      varianceOverloads("stddev"),
	"stddev_pop":  varianceOverloads("stddev_pop"),
})

func varianceOverloads(kind sem.AggKind) []tree.Overload {
	return []tree.Overload{
		sem.AggOverload(types.Int, types.Decimal, kind),
		sem.AggOverload(types.Float, types.Float, kind),
		sem.AggOverload(types.Decimal, types.Decimal, kind),
	}
}

// orderSensitiveAggs are the aggregates whose result shows the order of
// their input.
var orderSensitiveAggs = map[sem.AggKind]bool{"array_agg": true, "string_agg": true, "jsonb_agg": true, "json_agg": true}

// orderedInput is a row's arguments for an aggregate with ORDER BY,
// kept until the group is complete, with its sort keys.
type orderedInput struct {
	args, keys tree.Datums
}

// aggOrder is one ORDER BY item of an aggregate call.
type aggOrder struct {
	expr             tree.TypedExpr
	desc, nullsFirst bool
}

// bufferOrdered keeps a row's arguments and keys for an aggregate with
// ORDER BY (replayOrdered runs them, sorted).
func bufferOrdered(r *runner, s *aggState, a aggSpec, row tree.Datums) error {
	in := orderedInput{}
	for _, e := range []tree.TypedExpr{a.arg, a.arg2} {
		if e == nil {
			break
		}
		d, err := r.evalIn(e, row)
		if err != nil {
			return err
		}
		in.args = append(in.args, d)
	}
	for _, o := range a.order {
		d, err := r.evalIn(o.expr, row)
		if err != nil {
			return err
		}
		in.keys = append(in.keys, d)
	}
	if err := r.grow(rowenc.DatumsSize(in.args) + rowenc.DatumsSize(in.keys)); err != nil {
		return err
	}
	s.ordered = append(s.ordered, in)
	return nil
}

// replayOrdered accumulates an ordered aggregate's buffered rows in their
// order, before its result is taken.
func replayOrdered(r *runner, s *aggState, a aggSpec) error {
	if len(a.order) == 0 {
		return nil
	}
	var sortErr error
	sort.SliceStable(s.ordered, func(i, j int) bool {
		for k, o := range a.order {
			c, err := compareOrdered(r, s.ordered[i].keys[k], s.ordered[j].keys[k], o.desc, o.nullsFirst)
			if err != nil && sortErr == nil {
				sortErr = err
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	if sortErr != nil {
		return sortErr
	}
	plain := a
	plain.order, plain.filter = nil, nil
	if a.arg != nil {
		plain.arg = tree.NewTypedOrdinalReference(0, a.arg.ResolvedType())
	}
	if a.arg2 != nil {
		plain.arg2 = tree.NewTypedOrdinalReference(1, a.arg2.ResolvedType())
	}
	rows := s.ordered
	s.ordered = nil
	for _, in := range rows {
		if err := accumulate(r, s, plain, in.args); err != nil {
			return err
		}
	}
	return nil
}

// errAggOrderInWindow: PostgreSQL has no ORDER BY in a window aggregate's
// arguments.
var errAggOrderInWindow = pgerror.New(pgerror.CodeFeatureNotSupported, "aggregate ORDER BY is not implemented for window functions")
