package sem

import (
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// The jsonb functions; json's are in builtins_json_text.go.
var _ = RegisterFamily(jsonBuiltins())

func jsonBuiltins() map[string][]tree.Overload {
	fns := map[string][]tree.Overload{
		"jsonb_build_object": {jsonVariadic(buildObjectFn)},
		"jsonb_build_array":  {jsonVariadic(buildArrayFn)},
		"to_jsonb": {{
			Types: tree.ParamTypes{{Name: "v", Typ: types.AnyElement}}, ReturnType: tree.FixedReturnType(types.Jsonb),
			Volatility: volatility.Stable, Class: tree.NormalClass,
			Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				j, err := ToJSON(a[0], e.GetLocation())
				return jsonDatum(j), err
			}),
		}},
		"jsonb_typeof": {jsonFn(types.String, func(j json.JSON) (tree.Datum, error) {
			return tree.NewDString(pgjson.TypeName(j)), nil
		})},
		"jsonb_strip_nulls": {jsonFn(types.Jsonb, func(j json.JSON) (tree.Datum, error) {
			return tree.NewDJSON(pgjson.StripNulls(j)), nil
		})},
		"jsonb_pretty": {jsonFn(types.String, func(j json.JSON) (tree.Datum, error) {
			return tree.NewDString(pgjson.Pretty(j)), nil
		})},
		"jsonb_array_length": {jsonFn(types.Int4, func(j json.JSON) (tree.Datum, error) {
			switch j.Type() {
			case json.ArrayJSONType:
				return tree.NewDInt(tree.DInt(j.Len())), nil
			case json.ObjectJSONType:
				return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot get array length of a non-array")
			}
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot get array length of a scalar")
		})},
		"jsonb_set": {
			jsonPathEdit([]*types.T{types.Jsonb}, func(j json.JSON, path []string, a tree.Datums) (json.JSON, error) {
				v, _ := AsJSON(a[0])
				return pgjson.Set(j, path, v, true)
			}),
			jsonPathEdit([]*types.T{types.Jsonb, types.Bool}, func(j json.JSON, path []string, a tree.Datums) (json.JSON, error) {
				v, _ := AsJSON(a[0])
				return pgjson.Set(j, path, v, bool(tree.MustBeDBool(a[1])))
			}),
		},
		"jsonb_insert": {
			jsonPathEdit([]*types.T{types.Jsonb}, func(j json.JSON, path []string, a tree.Datums) (json.JSON, error) {
				v, _ := AsJSON(a[0])
				return pgjson.Insert(j, path, v, false)
			}),
			jsonPathEdit([]*types.T{types.Jsonb, types.Bool}, func(j json.JSON, path []string, a tree.Datums) (json.JSON, error) {
				v, _ := AsJSON(a[0])
				return pgjson.Insert(j, path, v, bool(tree.MustBeDBool(a[1])))
			}),
		},
		// #- is the grammar's json_remove_path; PostgreSQL calls the
		// function behind it jsonb_delete_path.
		"json_remove_path": {jsonPathEdit(nil, func(j json.JSON, path []string, _ tree.Datums) (json.JSON, error) {
			return pgjson.DeletePath(j, path)
		})},
		"jsonb_delete_path": {jsonPathEdit(nil, func(j json.JSON, path []string, _ tree.Datums) (json.JSON, error) {
			return pgjson.DeletePath(j, path)
		})},
		"jsonb_extract_path":      {extractPathFn(false)},
		"jsonb_extract_path_text": {extractPathFn(true)},
	}
	addJSONTextBuiltins(fns)
	return fns
}

func jsonFn(ret *types.T, f func(j json.JSON) (tree.Datum, error)) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "j", Typ: types.Jsonb}}, ReturnType: tree.FixedReturnType(ret),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			j, _ := AsJSON(a[0])
			return f(j)
		}),
	}
}

func jsonVariadic(f func(e *EvalCtx, a tree.Datums) (tree.Datum, error)) tree.Overload {
	return tree.Overload{
		Types: tree.VariadicType{VarType: types.Any}, ReturnType: tree.FixedReturnType(types.Jsonb),
		Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return f(e, a) }),
	}
}

// jsonPathEdit is f(jsonb, text[], more...) returning jsonb; a NULL
// path element is PostgreSQL's error.
func jsonPathEdit(more []*types.T, f func(j json.JSON, path []string, more tree.Datums) (json.JSON, error)) tree.Overload {
	params := tree.ParamTypes{{Name: "target", Typ: types.Jsonb}, {Name: "path", Typ: types.StringArray}}
	for i, t := range more {
		params = append(params, tree.ParamType{Name: []string{"new_value", "flag"}[min(i, 1)], Typ: t})
	}
	return tree.Overload{
		Types: params, ReturnType: tree.FixedReturnType(types.Jsonb),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			j, _ := AsJSON(a[0])
			path, ok := stringArray(a[1])
			if !ok {
				return nil, pgerror.New("22004", "path element at position 1 is null")
			}
			v, err := f(j, path, a[2:])
			return jsonDatum(v), err
		}),
	}
}

func extractPathFn(text bool) tree.Overload {
	ret := types.Jsonb
	if text {
		ret = types.String
	}
	return tree.Overload{
		Types:      tree.VariadicType{FixedTypes: []*types.T{types.Jsonb, types.String}, VarType: types.String},
		ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			j, _ := AsJSON(a[0])
			var path []string
			for _, p := range a[1:] {
				path = append(path, string(tree.MustBeDString(p)))
			}
			v := pgjson.FetchPath(j, path)
			if v == nil || !text {
				return jsonDatum(v), nil
			}
			return JSONTextDatum(v), nil
		}),
	}
}

// buildObjectFn is jsonb_build_object(k1, v1, ...): keys as text, values
// as to_jsonb makes them.
func buildObjectFn(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
	if len(a)%2 != 0 {
		return nil, pgerror.WithHint(pgerror.New(pgerror.CodeInvalidParameterValue, "argument list must have even number of elements"),
			"The arguments of jsonb_build_object() must consist of alternating keys and values.")
	}
	keys := make([]string, 0, len(a)/2)
	vals := make([]json.JSON, 0, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		if a[i] == tree.DNull {
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "argument %d: key must not be null", i+1)
		}
		if _, isJSON := AsJSON(a[i]); isJSON || a[i].ResolvedType().Family() == types.ArrayFamily {
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "key value must be scalar, not array, composite, or json")
		}
		v, err := ToJSON(a[i+1], e.GetLocation())
		if err != nil {
			return nil, err
		}
		keys = append(keys, DatumText(a[i]))
		vals = append(vals, v)
	}
	return tree.NewDJSON(pgjson.BuildObject(keys, vals)), nil
}

func buildArrayFn(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
	elems := make([]json.JSON, len(a))
	for i, d := range a {
		j, err := ToJSON(d, e.GetLocation())
		if err != nil {
			return nil, err
		}
		elems[i] = j
	}
	return tree.NewDJSON(pgjson.BuildArray(elems)), nil
}

// ToJSON is to_jsonb(d): numbers and booleans as themselves, arrays
// element by element, dates and times in ISO 8601 (a timestamptz in loc,
// the session's zone), everything else as its text.
func ToJSON(d tree.Datum, loc *time.Location) (json.JSON, error) {
	if d == tree.DNull {
		return json.NullJSONValue, nil
	}
	switch v := tree.UnwrapDOidWrapper(d).(type) {
	case *tree.DJSON:
		return v.JSON, nil
	case *tree.DBool:
		return json.FromBool(bool(*v)), nil
	case *tree.DInt:
		return json.FromInt64(int64(*v)), nil
	case *tree.DDecimal:
		if v.Form != apd.Finite {
			return json.FromString(DatumText(v)), nil
		}
		return json.FromDecimal(v.Decimal), nil
	case *tree.DFloat:
		s := string(pgformat.EncodeText(v))
		var dec apd.Decimal
		if _, _, err := dec.SetString(s); err != nil || dec.Form != apd.Finite {
			// NaN and Infinity are no JSON numbers.
			return json.FromString(s), nil
		}
		return json.FromDecimal(dec), nil
	case *tree.DArray:
		elems := make([]json.JSON, len(v.Array))
		for i, el := range v.Array {
			j, err := ToJSON(el, loc)
			if err != nil {
				return nil, err
			}
			elems[i] = j
		}
		return pgjson.BuildArray(elems), nil
	case *tree.DTimestamp:
		return json.FromString(pgformat.JSONTimestamp(v.Time, false)), nil
	case *tree.DTimestampTZ:
		return json.FromString(pgformat.JSONTimestamp(v.Time.In(loc), true)), nil
	}
	return json.FromString(DatumText(d)), nil
}
