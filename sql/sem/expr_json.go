package sem

import (
	"math"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// jsonb's operators, casts and comparisons. The parser's type checker
// resolves the operators (tree.BinOps, tree.CmpOps); what they do is
// here, with PostgreSQL 15's results and errors, on top of package
// pgjson.

// AsJSON is d's jsonb value; false if d is not a jsonb.
func AsJSON(d tree.Datum) (json.JSON, bool) {
	if j, ok := tree.UnwrapDOidWrapper(d).(*tree.DJSON); ok {
		return j.JSON, true
	}
	return nil, false
}

func jsonDatum(j json.JSON) tree.Datum {
	if j == nil {
		return tree.DNull
	}
	return tree.NewDJSON(j)
}

// stringArray is a text[] argument's elements; NULL elements are
// reported by ok = false.
func stringArray(d tree.Datum) (elems []string, ok bool) {
	arr, isArr := d.(*tree.DArray)
	if !isArr {
		return nil, false
	}
	for _, el := range arr.Array {
		s, isStr := tree.AsDString(el)
		if !isStr {
			return nil, false
		}
		elems = append(elems, string(s))
	}
	return elems, true
}

// evalJSONBinary is l op r for a jsonb l; neither is NULL.
func evalJSONBinary(sym treebin.BinaryOperatorSymbol, l, r tree.Datum) (tree.Datum, error) {
	j, _ := AsJSON(l)
	switch sym {
	case treebin.JSONFetchVal, treebin.JSONFetchText:
		var v json.JSON
		switch k := r.(type) {
		case *tree.DInt:
			v = pgjson.Index(j, int(*k))
			if pgjson.IsScalar(j) && (*k == 0 || *k == -1) {
				// PostgreSQL stores a scalar as a one-element array
				// and its -> finds the scalar there.
				v = j
			}
		default:
			if j.Type() == json.ObjectJSONType {
				v = pgjson.Field(j, DatumText(r))
			}
		}
		if sym == treebin.JSONFetchVal || v == nil {
			return jsonDatum(v), nil
		}
		return JSONTextDatum(v), nil
	case treebin.JSONFetchValPath, treebin.JSONFetchTextPath:
		path, ok := stringArray(r)
		if !ok {
			return tree.DNull, nil
		}
		v := pgjson.FetchPath(j, path)
		if sym == treebin.JSONFetchValPath || v == nil {
			return jsonDatum(v), nil
		}
		return JSONTextDatum(v), nil
	case treebin.Concat:
		rj, ok := AsJSON(r)
		if !ok {
			break
		}
		return tree.NewDJSON(pgjson.Concat(j, rj)), nil
	case treebin.Minus:
		var v json.JSON
		var err error
		switch k := r.(type) {
		case *tree.DInt:
			v, err = pgjson.DeleteIndex(j, int(*k))
		case *tree.DArray:
			keys, _ := stringArray(k)
			v, err = pgjson.DeleteKeys(j, keys...)
		default:
			v, err = pgjson.DeleteKeys(j, DatumText(r))
		}
		if err != nil {
			return nil, err
		}
		return tree.NewDJSON(v), nil
	}
	return nil, pgerror.Unsupported("unsupported binary operator: %s %s %s", l.ResolvedType(), sym, r.ResolvedType())
}

// IsJSONOperatorCall reports whether f is the grammar's spelling of the
// #- operator, a call of json_remove_path, which PostgreSQL names as the
// operator it is (?column?).
func IsJSONOperatorCall(f *tree.FuncExpr) bool {
	return strings.EqualFold(tree.AsString(f.Func), "json_remove_path")
}

// JSONTextDatum is ->>'s result: a string's contents, other values'
// text, SQL NULL for a JSON null.
func JSONTextDatum(j json.JSON) tree.Datum {
	s, ok := pgjson.AsText(j)
	if !ok {
		return tree.DNull
	}
	return tree.NewDString(s)
}

// isJSONComparison reports whether sym is one of jsonb's own
// comparisons (containment and key existence).
func isJSONComparison(sym treecmp.ComparisonOperatorSymbol) bool {
	switch sym {
	case treecmp.Contains, treecmp.ContainedBy, treecmp.JSONExists, treecmp.JSONSomeExists, treecmp.JSONAllExists:
		return true
	}
	return false
}

// evalJSONComparison is l sym r for jsonb's own comparisons; neither is
// NULL.
func evalJSONComparison(sym treecmp.ComparisonOperatorSymbol, l, r tree.Datum) (tree.Datum, error) {
	j, ok := AsJSON(l)
	if !ok {
		return nil, pgerror.Unsupported("unsupported comparison operator: %s %s %s", l.ResolvedType(), sym, r.ResolvedType())
	}
	switch sym {
	case treecmp.Contains, treecmp.ContainedBy:
		rj, ok := AsJSON(r)
		if !ok {
			return nil, pgerror.Unsupported("unsupported comparison operator: %s %s %s", l.ResolvedType(), sym, r.ResolvedType())
		}
		a, b := j, rj
		if sym == treecmp.ContainedBy {
			a, b = rj, j
		}
		c, err := json.Contains(a, b)
		if err != nil {
			return nil, err
		}
		return tree.MakeDBool(tree.DBool(c)), nil
	case treecmp.JSONExists:
		return tree.MakeDBool(tree.DBool(pgjson.Exists(j, DatumText(r)))), nil
	}
	arr, _ := r.(*tree.DArray)
	all := sym == treecmp.JSONAllExists
	if arr != nil {
		for _, el := range arr.Array {
			s, isStr := tree.AsDString(el)
			if !isStr {
				// A NULL key is skipped, as PostgreSQL does.
				continue
			}
			if pgjson.Exists(j, string(s)) != all {
				return tree.MakeDBool(tree.DBool(!all)), nil
			}
		}
	}
	return tree.MakeDBool(tree.DBool(all)), nil
}

// compareJSON orders two jsonb values as PostgreSQL's btree does; ok is
// false unless both are jsonb.
func compareJSON(a, b tree.Datum) (c int, ok bool) {
	ja, okA := AsJSON(a)
	jb, okB := AsJSON(b)
	if !okA || !okB {
		return 0, false
	}
	return pgjson.Compare(ja, jb), true
}

// castJSON converts to or from jsonb; handled is false for casts that
// involve no jsonb.
func castJSON(d tree.Datum, t *types.T) (res tree.Datum, handled bool, err error) {
	if IsJSONText(t) {
		res, err := castToJSONText(d)
		return res, true, err
	}
	if t.Family() == types.JsonFamily {
		if j, ok := AsJSON(d); ok {
			return tree.NewDJSON(j), true, nil
		}
		if s, ok := tree.AsDString(d); ok {
			j, err := pgjson.Parse(string(s))
			if err != nil {
				return nil, true, err
			}
			return tree.NewDJSON(j), true, nil
		}
		return nil, true, pgerror.Newf("42846", "cannot cast type %s to %s", d.ResolvedType().SQLString(), t.SQLString())
	}
	j, ok := AsJSON(d)
	if !ok {
		return nil, false, nil
	}
	switch t.Family() {
	case types.StringFamily:
		return nil, false, nil // DatumText formats jsonb
	case types.BoolFamily:
		if b, ok := j.AsBool(); ok {
			return tree.MakeDBool(tree.DBool(b)), true, nil
		}
	case types.IntFamily, types.FloatFamily, types.DecimalFamily:
		dec, ok := j.AsDecimal()
		if !ok {
			break
		}
		if t.Family() == types.FloatFamily {
			f, err := dec.Float64()
			if err != nil || math.IsInf(f, 0) {
				return nil, true, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "value out of range: overflow")
			}
			return tree.NewDFloat(tree.DFloat(f)), true, nil
		}
		n := &tree.DDecimal{}
		n.Decimal.Set(dec)
		if t.Family() == types.DecimalFamily {
			res, err := limitNumeric(n, t)
			return res, true, err
		}
		res, err := CastDatum(nil, n, t)
		return res, true, err
	}
	kind := pgjson.TypeName(j)
	if kind == "number" {
		kind = "numeric" // PostgreSQL names the internal type here
	}
	return nil, true, pgerror.Newf(pgerror.CodeInvalidParameterValue, "cannot cast jsonb %s to type %s", kind, pgTypeName(t))
}

// pgTypeName is a type as PostgreSQL's cast errors name it: integer,
// double precision, numeric.
func pgTypeName(t *types.T) string {
	switch t.Oid() {
	case types.Int4.Oid():
		return "integer"
	case types.Int.Oid():
		return "bigint"
	case types.Int2.Oid():
		return "smallint"
	case types.Float.Oid():
		return "double precision"
	case types.Float4.Oid():
		return "real"
	}
	return t.SQLStandardName()
}
