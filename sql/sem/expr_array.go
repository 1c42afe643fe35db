package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgarray"
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
		for _, el := range pgarray.Flat(arr) {
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
		for _, d := range pgarray.Flat(ra) {
			ok, err := has(la, d)
			if err != nil || !ok {
				return tree.DBoolFalse, err
			}
		}
		return tree.DBoolTrue, nil
	default: // Overlaps
		for _, d := range pgarray.Flat(ra) {
			ok, err := has(la, d)
			if err != nil || ok {
				return tree.MakeDBool(tree.DBool(ok)), err
			}
		}
		return tree.DBoolFalse, nil
	}
}

// castArray is d::t, t an array type: each element cast to t's element
// type (a string is parsed as an array literal).
func castArray(e *EvalCtx, d tree.Datum, t *types.T) (tree.Datum, error) {
	switch v := d.(type) {
	case *tree.DArray:
		elem := t.ArrayContents()
		return pgarray.MapLeaves(v, elem, func(el tree.Datum) (tree.Datum, error) { return CastDatum(e, el, elem) })
	case *tree.DString:
		return parseArrayText(e, string(*v), t)
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
