package sem

import (
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// json's functions (as opposed to jsonb's): they read the json text as
// written and answer json text spaced exactly as PostgreSQL 15's do
// (json_build_object's {"a" : 1}, to_json's {"a":1}, json_agg's [1, 2]).

func addJSONTextBuiltins(fns map[string][]tree.Overload) {
	fns["json_build_object"] = []tree.Overload{jsonTextVariadic(buildObjectText)}
	fns["json_build_array"] = []tree.Overload{jsonTextVariadic(buildArrayText)}
	fns["to_json"] = []tree.Overload{{
		Types: tree.ParamTypes{{Name: "v", Typ: types.AnyElement}}, ReturnType: tree.FixedReturnType(types.Json),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return jsonTextOf(e, a[0], "")
		}),
	}}
	fns["row_to_json"] = []tree.Overload{
		jsonTextPretty(types.AnyTuple, false), jsonTextPretty(types.AnyTuple, true),
	}
	fns["array_to_json"] = []tree.Overload{
		jsonTextPretty(types.AnyArray, false), jsonTextPretty(types.AnyArray, true),
	}
	fns["json_typeof"] = []tree.Overload{jsonTextFn(types.String, func(s string) (tree.Datum, error) {
		return tree.NewDString(pgjson.TextType(s)), nil
	})}
	fns["json_strip_nulls"] = []tree.Overload{jsonTextFn(types.Json, func(s string) (tree.Datum, error) {
		return NewDJSONText(pgjson.TextStripNulls(s)), nil
	})}
	fns["json_array_length"] = []tree.Overload{jsonTextFn(types.Int4, func(s string) (tree.Datum, error) {
		elems, ok := pgjson.TextElements(s)
		if !ok {
			if pgjson.TextType(s) == "object" {
				return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot get array length of a non-array")
			}
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot get array length of a scalar")
		}
		return tree.NewDInt(tree.DInt(len(elems))), nil
	})}
	fns["json_extract_path"] = []tree.Overload{extractPathText(false)}
	fns["json_extract_path_text"] = []tree.Overload{extractPathText(true)}
}

// JSONTextArg is a json argument's text; an untyped literal the type
// checker read as jsonb is printed back.
func JSONTextArg(d tree.Datum) string {
	if s, ok := AsJSONText(d); ok {
		return s
	}
	if j, ok := AsJSON(d); ok {
		return pgjson.Format(j)
	}
	return DatumText(d)
}

func jsonTextFn(ret *types.T, f func(s string) (tree.Datum, error)) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "j", Typ: types.Json}}, ReturnType: tree.FixedReturnType(ret),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return f(JSONTextArg(a[0])) }),
	}
}

func jsonTextVariadic(f func(e *EvalCtx, a tree.Datums) (tree.Datum, error)) tree.Overload {
	return tree.Overload{
		Types: tree.VariadicType{VarType: types.Any}, ReturnType: tree.FixedReturnType(types.Json),
		Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return f(e, a) }),
	}
}

// jsonTextPretty is row_to_json or array_to_json, with the pretty flag
// or without.
func jsonTextPretty(arg *types.T, flag bool) tree.Overload {
	params := tree.ParamTypes{{Name: "v", Typ: arg}}
	if flag {
		params = append(params, tree.ParamType{Name: "pretty", Typ: types.Bool})
	}
	return tree.Overload{
		Types: params, ReturnType: tree.FixedReturnType(types.Json),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			sep := ""
			if flag && bool(tree.MustBeDBool(a[1])) {
				// Pretty: a line break before each top-level element
				// but the first.
				sep = "\n "
			}
			return jsonTextOf(e, a[0], sep)
		}),
	}
}

func jsonTextOf(e *EvalCtx, d tree.Datum, sep string) (tree.Datum, error) {
	var b strings.Builder
	if err := WriteJSONText(&b, d, e.GetLocation(), sep); err != nil {
		return nil, err
	}
	return NewDJSONText(b.String()), nil
}

func extractPathText(text bool) tree.Overload {
	ret := types.Json
	if text {
		ret = types.String
	}
	return tree.Overload{
		Types:      tree.VariadicType{FixedTypes: []*types.T{types.Json, types.String}, VarType: types.String},
		ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			var path []string
			for _, p := range a[1:] {
				path = append(path, string(tree.MustBeDString(p)))
			}
			v, ok := pgjson.TextPath(JSONTextArg(a[0]), path)
			switch {
			case !ok:
				return tree.DNull, nil
			case text:
				return jsonTextScalar(v), nil
			}
			return NewDJSONText(v), nil
		}),
	}
}

// buildObjectText is json_build_object(k1, v1, ...).
func buildObjectText(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
	if len(a)%2 != 0 {
		return nil, pgerror.WithHint(pgerror.New(pgerror.CodeInvalidParameterValue, "argument list must have even number of elements"),
			"The arguments of json_build_object() must consist of alternating keys and values.")
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < len(a); i += 2 {
		if a[i] == tree.DNull {
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "argument %d cannot be null", i+1)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		pgjson.WriteString(&b, DatumText(a[i]))
		b.WriteString(" : ")
		if err := WriteJSONText(&b, a[i+1], e.GetLocation(), ""); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return NewDJSONText(b.String()), nil
}

// buildArrayText is json_build_array(v1, ...).
func buildArrayText(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range a {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := WriteJSONText(&b, d, e.GetLocation(), ""); err != nil {
			return nil, err
		}
	}
	b.WriteByte(']')
	return NewDJSONText(b.String()), nil
}

// IsJSONTextComposite reports whether d is of json_agg's array or
// composite categories, whose elements after the first it puts on a
// line of their own.
func IsJSONTextComposite(d tree.Datum) bool {
	switch tree.UnwrapDOidWrapper(d).(type) {
	case *tree.DArray, *tree.DTuple:
		return true
	}
	return false
}

// WriteJSONText writes d as PostgreSQL's datum_to_json does: numbers and
// booleans as themselves (a number that is no JSON number, NaN or
// Infinity, quoted), json as its text, jsonb printed, arrays as [a,b]
// and rows as {"f":v} without spaces, dates and times in ISO 8601 (a
// timestamptz in loc), everything else as its text quoted. sep goes
// between the top level's elements (row_to_json's and array_to_json's
// pretty flag).
func WriteJSONText(b *strings.Builder, d tree.Datum, loc *time.Location, sep string) error {
	if d == tree.DNull {
		b.WriteString("null")
		return nil
	}
	if s, ok := AsJSONText(d); ok {
		b.WriteString(s)
		return nil
	}
	switch v := tree.UnwrapDOidWrapper(d).(type) {
	case *tree.DJSON:
		b.WriteString(pgjson.Format(v.JSON))
	case *tree.DBool:
		b.WriteString(strconv.FormatBool(bool(*v)))
	case *tree.DInt:
		b.WriteString(strconv.FormatInt(int64(*v), 10))
	case *tree.DDecimal:
		s := DatumText(v)
		if v.Form != apd.Finite {
			pgjson.WriteString(b, s)
		} else {
			b.WriteString(s)
		}
	case *tree.DFloat:
		s := string(pgformat.EncodeText(v))
		var dec apd.Decimal
		if _, _, err := dec.SetString(s); err != nil || dec.Form != apd.Finite {
			pgjson.WriteString(b, s)
		} else {
			b.WriteString(s)
		}
	case *tree.DArray:
		b.WriteByte('[')
		for i, el := range v.Array {
			if i > 0 {
				b.WriteByte(',')
				b.WriteString(sep)
			}
			if err := WriteJSONText(b, el, loc, ""); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *tree.DTuple:
		labels := v.ResolvedType().TupleLabels()
		b.WriteByte('{')
		for i, el := range v.D {
			if i > 0 {
				b.WriteByte(',')
				b.WriteString(sep)
			}
			name := "f" + strconv.Itoa(i+1)
			if i < len(labels) && labels[i] != "" {
				name = labels[i]
			}
			pgjson.WriteString(b, name)
			b.WriteByte(':')
			if err := WriteJSONText(b, el, loc, ""); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case *tree.DTimestamp:
		pgjson.WriteString(b, pgformat.JSONTimestamp(v.Time, false))
	case *tree.DTimestampTZ:
		pgjson.WriteString(b, pgformat.JSONTimestamp(v.Time.In(loc), true))
	default:
		pgjson.WriteString(b, DatumText(d))
	}
	return nil
}
