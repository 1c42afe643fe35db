package sem

import (
	"math"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// arrayContainment is a @> b, a <@ b (every non-NULL element of the
// contained array equals an element of the other; a NULL element
// matches nothing) or a && b (some element in common).
func (e *EvalCtx) arrayContainment(sym treecmp.ComparisonOperatorSymbol, l, r tree.Datum) (tree.Datum, error) {
	la, lok := l.(*tree.DArray)
	ra, rok := r.(*tree.DArray)
	if !lok || !rok {
		return nil, pgerror.Unsupported("operator %s on %s and %s is not supported yet", sym, l.ResolvedType().SQLString(), r.ResolvedType().SQLString())
	}
	has := func(arr *tree.DArray, d tree.Datum) (bool, error) {
		if d == tree.DNull {
			return false, nil
		}
		for _, el := range arr.Array {
			if el == tree.DNull {
				continue
			}
			c, err := e.Compare(el, d)
			if err != nil || c == 0 {
				return err == nil, err
			}
		}
		return false, nil
	}
	switch sym {
	case treecmp.ContainedBy:
		la, ra = ra, la
		fallthrough
	case treecmp.Contains:
		for _, d := range ra.Array {
			ok, err := has(la, d)
			if err != nil || !ok {
				return tree.DBoolFalse, err
			}
		}
		return tree.DBoolTrue, nil
	default: // Overlaps
		for _, d := range ra.Array {
			ok, err := has(la, d)
			if err != nil || ok {
				return tree.MakeDBool(tree.DBool(ok)), err
			}
		}
		return tree.DBoolFalse, nil
	}
}

// The parser's type checker refuses slices (a[1:2]); before it runs,
// ArraySlice rewrites one into a call of arraySliceDef, a function
// resolved here and not by name, so no query can name it.
var arraySliceDef = tree.QualifyBuiltinFunctionDefinition(
	tree.NewFunctionDefinition("array_slice", &tree.FunctionProperties{}, []tree.Overload{{
		Types:      tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "lo", Typ: types.Int}, {Name: "hi", Typ: types.Int}},
		ReturnType: tree.IdentityReturnType(0), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			arr := tree.MustBeDArray(a[0])
			lo, hi := int64(tree.MustBeDInt(a[1])), int64(tree.MustBeDInt(a[2]))
			out := tree.NewDArray(arr.ParamTyp)
			lo, hi = max(lo, 1), min(hi, int64(arr.Len()))
			for i := lo; i <= hi; i++ {
				if err := out.Append(arr.Array[i-1]); err != nil {
					return nil, err
				}
			}
			return out, nil
		}),
	}}),
	catconstants.PgCatalogName)

// ArraySlice rewrites a[lo:hi] (either bound left out: the array's own)
// into a call of arraySliceDef; a subscript of a subscript is refused.
func ArraySlice(x *tree.IndirectionExpr) (tree.Expr, error) {
	slice := false
	for _, s := range x.Indirection {
		slice = slice || s.Slice
	}
	if !slice {
		return x, nil
	}
	if len(x.Indirection) != 1 {
		return nil, pgerror.Unsupported("multidimensional arrays are not supported yet")
	}
	s := x.Indirection[0]
	lo, hi := tree.Expr(tree.NewDInt(math.MinInt64)), tree.Expr(tree.NewDInt(math.MaxInt64))
	if s.Begin != nil {
		lo = s.Begin
	}
	if s.End != nil {
		hi = s.End
	}
	return &tree.FuncExpr{Func: tree.ResolvableFunctionReference{FunctionReference: arraySliceDef}, Exprs: tree.Exprs{x.Expr, lo, hi}}, nil
}

// castArray is d::t, t an array type: each element cast to t's element
// type (a string is parsed as an array literal).
func castArray(e *EvalCtx, d tree.Datum, t *types.T) (tree.Datum, error) {
	switch v := d.(type) {
	case *tree.DArray:
		out := tree.NewDArray(t.ArrayContents())
		for _, el := range v.Array {
			c, err := CastDatum(e, el, t.ArrayContents())
			if err != nil {
				return nil, err
			}
			if err := out.Append(c); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *tree.DString:
		arr, _, err := tree.ParseDArrayFromString(e.ParseContext(), string(*v), t.ArrayContents())
		if err != nil {
			return nil, pgerror.WithCode(err, pgerror.CodeInvalidTextRepresentation)
		}
		return arr, nil
	}
	return nil, pgerror.Unsupported("cannot cast %s to %s", d.ResolvedType().SQLString(), t.SQLString())
}

// castPolymorphicArgs gives the anyelement arguments of a call such as
// array_append(int4[], 9) the element type of its anyarray argument, as
// PostgreSQL's polymorphic resolution does: the parser's type checker
// would type 9 as an int8 and find no overload.
func (c *implicitCaster) castPolymorphicArgs(overloads []tree.Overload, args tree.Exprs) {
	params, ok := overloads[0].Types.(tree.ParamTypes)
	if !ok || len(params) > len(args) {
		return
	}
	var elem *types.T
	for j, p := range params {
		if p.Typ.Family() == types.ArrayFamily && p.Typ.ArrayContents().Family() == types.AnyFamily {
			if t := c.typeOf(&args[j]); t != nil && t.Family() == types.ArrayFamily {
				elem = t.ArrayContents()
			}
		}
	}
	if elem == nil {
		return
	}
	arr := types.MakeArray(elem)
	for j, p := range params {
		want := elem
		switch {
		case p.Typ.Family() == types.AnyFamily:
		case p.Typ.Family() == types.ArrayFamily && p.Typ.ArrayContents().Family() == types.AnyFamily:
			want = arr
		default:
			continue
		}
		switch a := args[j].(type) {
		case *tree.NumVal, *tree.StrVal, *tree.Array:
			args[j] = &tree.CastExpr{Expr: a, Type: want, SyntaxMode: tree.CastShort}
		default:
			if t := c.typeOf(&args[j]); t != nil && t.Equivalent(want) && !t.Identical(want) {
				args[j] = castTo(args[j], want)
			}
		}
	}
}

// ArrayLiteralType is the type an array literal ('{...}') is parsed as
// when desired is an array type: with its elements' width or precision
// dropped, since the parser would silently cut each element to it
// ('{abcdefgh}' as varchar(5)[] read as {abcde}); the column's cast
// (castArray) then checks each element, as PostgreSQL does (22001).
func ArrayLiteralType(expr tree.Expr, desired *types.T) *types.T {
	if _, ok := expr.(*tree.StrVal); !ok || desired.Family() != types.ArrayFamily {
		return desired
	}
	switch elem := desired.ArrayContents(); elem.Family() {
	case types.StringFamily:
		if elem.Width() > 0 {
			return types.StringArray
		}
	case types.DecimalFamily:
		return types.DecimalArray
	}
	return desired
}
