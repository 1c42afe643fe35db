package sem

import (
	"context"
	"strings"
	_ "unsafe" // go:linkname, see below

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/cast"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// PostgreSQL's json is a type of its own: the input text, validated and
// kept as written. The parser module reads the type name json as jsonb
// (its table of type names says so, waiting for CockroachDB to support
// json) and its cast table knows no json; both are unexported package
// variables, which these links reach so that json parses as types.Json
// (oid 114) and casts as PostgreSQL's pg_cast allows. A json value is a
// tree.DOidWrapper of oid 114 around the text (NewDJSONText), which
// tree.AsDString reads as the text it is.

//go:linkname typNameLiterals github.com/cockroachdb/cockroachdb-parser/pkg/sql/types.typNameLiterals
var typNameLiterals map[string]*types.T

//go:linkname castMap github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/cast.castMap
var castMap map[oid.Oid]map[oid.Oid]cast.Cast

func init() {
	typNameLiterals["json"] = types.Json
	types.OidToType[oid.T_json] = types.Json
	types.OidToType[oid.T__json] = types.JSONArrayForDecodingOnly
	// pg_cast: json <-> jsonb in assignment, json -> the string types
	// in assignment and the string types -> json explicitly (I/O
	// conversions); no other type casts to or from json.
	assign := cast.Cast{MaxContext: cast.ContextAssignment, Volatility: volatility.Immutable}
	explicit := cast.Cast{MaxContext: cast.ContextExplicit, Volatility: volatility.Immutable}
	castMap[oid.T_json] = map[oid.Oid]cast.Cast{oid.T_jsonb: assign}
	castMap[oid.T_jsonb][oid.T_json] = assign
	for _, s := range []oid.Oid{oid.T_text, oid.T_varchar, oid.T_bpchar, oid.T_name, oid.T_char} {
		castMap[oid.T_json][s] = assign
		castMap[s][oid.T_json] = explicit
	}
}

// NewDJSONText is the json value of text s (valid JSON).
func NewDJSONText(s string) tree.Datum { return pgjson.TextDatum(s) }

// AsJSONText is d's text if d is a json value.
func AsJSONText(d tree.Datum) (string, bool) { return pgjson.AsTextDatum(d) }

// IsJSONText reports whether t is json (not jsonb).
func IsJSONText(t *types.T) bool { return t != nil && t.Oid() == oid.T_json }

// ParseJSONText is json's input function: s validated, kept as written.
func ParseJSONText(s string) (tree.Datum, error) {
	if err := pgjson.ValidateText(s); err != nil {
		return nil, err
	}
	return NewDJSONText(s), nil
}

// castToJSONText converts d to json: text is validated, jsonb printed;
// PostgreSQL has no other cast to json.
func castToJSONText(d tree.Datum) (tree.Datum, error) {
	if _, ok := AsJSONText(d); ok {
		return d, nil
	}
	if j, ok := AsJSON(d); ok {
		return NewDJSONText(pgjson.Format(j)), nil
	}
	if s, ok := tree.AsDString(d); ok {
		return ParseJSONText(string(s))
	}
	return nil, pgerror.Newf("42846", "cannot cast type %s to json", FormatTypeOf(d.ResolvedType(), -1))
}

// JSONLiterals keeps the text of the string literals that are json
// values, before the type checker would read them as jsonb (its reading
// of a literal of a type of the JSON family): 'text'::json, and a bare
// literal where a json is wanted (desired, an INSERT's column). Each
// becomes the json datum of its text, validated as json_in does.
func JSONLiterals(expr tree.Expr, desired *types.T) (tree.Expr, error) {
	if sv, ok := expr.(*tree.StrVal); ok && IsJSONText(desired) {
		return ParseJSONText(sv.RawString())
	}
	v := &jsonLiterals{}
	out, _ := tree.WalkExpr(v, expr)
	return out, v.err
}

type jsonLiterals struct{ err error }

func (v *jsonLiterals) VisitPre(e tree.Expr) (bool, tree.Expr) {
	_, sub := e.(*tree.Subquery)
	return !sub && v.err == nil, e
}

func (v *jsonLiterals) VisitPost(e tree.Expr) tree.Expr {
	if f, ok := e.(*tree.FuncExpr); ok {
		return v.funcArgs(f)
	}
	c, ok := e.(*tree.CastExpr)
	if !ok || v.err != nil {
		return e
	}
	t, ok := c.Type.(*types.T)
	if !ok || !IsJSONText(t) {
		return e
	}
	sv, ok := c.Expr.(*tree.StrVal)
	if !ok {
		return e
	}
	d, err := ParseJSONText(sv.RawString())
	if err != nil {
		v.err = err
		return e
	}
	cp := *c
	cp.Expr = d
	return &cp
}

// funcArgs makes json datums of f's literal arguments where every
// overload of f takes a json (json_each('{"a":1,"a":2}') sees both
// members).
func (v *jsonLiterals) funcArgs(f *tree.FuncExpr) tree.Expr {
	if v.err != nil {
		return f
	}
	ovs := Overloads(strings.ToLower(funcName(f)))
	if len(ovs) == 0 {
		return f
	}
	var out *tree.FuncExpr
	for i, a := range f.Exprs {
		sv, ok := a.(*tree.StrVal)
		if !ok {
			continue
		}
		all := true
		for _, ov := range ovs {
			if pt, fixed := ov.Types.(tree.ParamTypes); fixed && i >= len(pt) {
				all = false
				break
			}
			all = all && IsJSONText(ov.Types.GetAt(i))
		}
		if !all {
			continue
		}
		d, err := ParseJSONText(sv.RawString())
		if err != nil {
			v.err = err
			return f
		}
		if out == nil {
			cp := *f
			cp.Exprs = append(tree.Exprs(nil), f.Exprs...)
			out = &cp
		}
		out.Exprs[i] = d
	}
	if out == nil {
		return f
	}
	return out
}

// JSONSemantics rewrites a type-checked expression where json differs
// from the jsonb the type checker's overloads are written for: json ->
// and #> answer json, and json has no comparison operators at all
// (PostgreSQL has no = for json, so no DISTINCT, IN or ordering either).
func JSONSemantics(te tree.TypedExpr) (tree.TypedExpr, error) {
	v := &jsonSemantics{}
	out, _ := tree.WalkExpr(v, te)
	if v.err != nil {
		return nil, v.err
	}
	return out.(tree.TypedExpr), nil
}

type jsonSemantics struct{ err error }

func (v *jsonSemantics) VisitPre(e tree.Expr) (bool, tree.Expr) {
	_, sub := e.(*tree.Subquery)
	return !sub && v.err == nil, e
}

func (v *jsonSemantics) VisitPost(e tree.Expr) tree.Expr {
	switch x := e.(type) {
	case *tree.BinaryExpr:
		l, r := x.TypedLeft(), x.TypedRight()
		if !IsJSONText(l.ResolvedType()) {
			return e
		}
		switch x.Operator.Symbol {
		case treebin.JSONFetchVal, treebin.JSONFetchValPath:
			return tree.NewTypedBinaryExpr(x.Operator, l, r, types.Json)
		case treebin.JSONFetchText, treebin.JSONFetchTextPath:
			return e
		}
		v.err = noJSONOperator(x.Operator.String(), l, r)
	case *tree.ComparisonExpr:
		l, r := x.TypedLeft(), x.TypedRight()
		if !IsJSONText(l.ResolvedType()) && !IsJSONText(r.ResolvedType()) {
			return e
		}
		op := x.Operator.String()
		switch x.Operator.Symbol {
		case treecmp.IsDistinctFrom, treecmp.IsNotDistinctFrom:
			if l == tree.DNull || r == tree.DNull {
				// PostgreSQL reads IS [NOT] DISTINCT FROM NULL as a
				// null test, which needs no operator.
				return e
			}
			op = "="
		case treecmp.In, treecmp.NotIn:
			op = "="
			if t, ok := r.(*tree.DTuple); ok && len(t.D) > 0 {
				r = t.D[0]
			}
			if t, ok := r.(*tree.Tuple); ok && len(t.Exprs) > 0 {
				r, _ = t.Exprs[0].(tree.TypedExpr)
			}
		case treecmp.Any, treecmp.Some, treecmp.All:
			op = x.SubOperator.String()
		}
		v.err = noJSONOperator(op, l, r)
	}
	return e
}

// noJSONOperator is PostgreSQL's error for an operator json lacks; an
// operand that was a bare literal is of type unknown, as PostgreSQL's
// resolution saw it.
func noJSONOperator(op string, l, r tree.TypedExpr) error {
	name := func(e tree.TypedExpr) string {
		if e == nil {
			return "unknown"
		}
		if d, ok := e.(tree.Datum); ok {
			if _, isText := AsJSONText(d); !isText {
				switch tree.UnwrapDOidWrapper(d).(type) {
				case *tree.DJSON, *tree.DString:
					return "unknown"
				}
			}
		}
		return FormatTypeOf(e.ResolvedType(), -1)
	}
	return pgerror.WithHint(pgerror.Newf(pgerror.CodeUndefinedFunction, "operator does not exist: %s %s %s", name(l), op, name(r)),
		"No operator matches the given name and argument types. You might need to add explicit type casts.")
}

// evalJSONTextBinary is json's -> ->> #> #>> on its text s; neither
// operand is NULL.
func evalJSONTextBinary(sym treebin.BinaryOperatorSymbol, s string, r tree.Datum) (tree.Datum, error) {
	var v string
	var ok bool
	switch sym {
	case treebin.JSONFetchVal, treebin.JSONFetchText:
		if i, isInt := r.(*tree.DInt); isInt {
			v, ok = pgjson.TextIndex(s, int(*i))
		} else if pgjson.TextType(s) == "object" {
			v, ok = pgjson.TextField(s, DatumText(r))
		}
	case treebin.JSONFetchValPath, treebin.JSONFetchTextPath:
		path, isPath := stringArray(r)
		if !isPath {
			return tree.DNull, nil
		}
		v, ok = pgjson.TextPath(s, path)
	default:
		return nil, pgerror.Unsupported("unsupported binary operator: json %s %s", sym, r.ResolvedType())
	}
	if !ok {
		return tree.DNull, nil
	}
	if sym == treebin.JSONFetchVal || sym == treebin.JSONFetchValPath {
		return NewDJSONText(v), nil
	}
	return jsonTextScalar(v), nil
}

// JSONTextScalar is ->>'s answer for the json text v.
func JSONTextScalar(v string) tree.Datum { return jsonTextScalar(v) }

func jsonTextScalar(v string) tree.Datum {
	t, ok := pgjson.TextScalar(v)
	if !ok {
		return tree.DNull
	}
	return tree.NewDString(t)
}

// TypeSQLString is t.SQLString(), except that json (which the type's
// own method names by its family, jsonb) is json.
func TypeSQLString(t *types.T) string {
	switch {
	case IsJSONText(t):
		return "JSON"
	case t.Family() == types.ArrayFamily && IsJSONText(t.ArrayContents()):
		return "JSON[]"
	}
	return t.SQLString()
}

// NoJSONEquality is PostgreSQL's error for grouping, DISTINCT or a set
// operation over json, which has no equality operator; nil for other
// types.
func NoJSONEquality(t *types.T) error {
	if !IsJSONText(t) {
		return nil
	}
	return pgerror.New(pgerror.CodeUndefinedFunction, "could not identify an equality operator for type json")
}

// NoJSONOrdering is PostgreSQL's error for ORDER BY over json; nil for
// other types.
func NoJSONOrdering(t *types.T) error {
	if !IsJSONText(t) {
		return nil
	}
	return pgerror.WithHint(pgerror.New(pgerror.CodeUndefinedFunction, "could not identify an ordering operator for type json"),
		"Use an explicit ordering operator or modify the query.")
}

// JSONCastError is PostgreSQL's error for a cast to or from json that
// pg_cast lacks ("cannot cast type json to integer"), where the type
// checker's (err) names both json and jsonb as jsonb; nil if err is not
// about such a cast.
func JSONCastError(ctx context.Context, sema *tree.SemaContext, expr tree.Expr, err error) error {
	if !strings.Contains(err.Error(), "invalid cast: ") {
		return nil
	}
	var found error
	tree.WalkExprConst(exprFinder(func(e tree.Expr) bool {
		c, ok := e.(*tree.CastExpr)
		if !ok || found != nil {
			return found == nil
		}
		to, ok := c.Type.(*types.T)
		if !ok {
			return true
		}
		inner, terr := tree.TypeCheck(ctx, c.Expr, sema, types.AnyElement)
		if terr != nil {
			return true
		}
		from := pgTypeOf(inner)
		if !IsJSONText(from) && !IsJSONText(to) {
			return true
		}
		if _, ok := cast.LookupCast(from, to); !ok {
			found = pgerror.Newf("42846", "cannot cast type %s to %s", FormatTypeOf(from, -1), FormatTypeOf(to, -1))
		}
		return found == nil
	}), expr)
	return found
}
