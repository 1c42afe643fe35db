package sem

import (
	"sync"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/catconstants"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// A call f(a, VARIADIC arr) passes arr's elements as the variadic
// arguments of f (PostgreSQL's func_variadic). The elements are known only
// when the call runs, so such a call resolves against f's overloads as
// PostgreSQL declares them, the variadic parameter one array: concat_ws
// is concat_ws(text, VARIADIC "any"), jsonb_extract_path is
// jsonb_extract_path(jsonb, VARIADIC text[]). Each variadic overload of
// f has a counterpart of that signature (variadicDef) whose
// implementation spreads the array into the arguments of the overload's
// own; the others (format(text), abs(int)) stay as they are, as in
// PostgreSQL, where VARIADIC changes nothing for a function that is not
// variadic.

// VariadicNullAsEmpty names the functions that take VARIADIC NULL as no
// variadic arguments rather than giving NULL: format (PostgreSQL's
// text_format). A strict function's NULL array gives NULL, as any NULL
// argument does, and so do the others ("any" ones: concat, concat_ws,
// json_build_object, num_nulls, ... check for a NULL array themselves).
var variadicNullAsEmpty = map[string]bool{"format": true}

// variadicFixed is how many of v's parameters are not variadic.
// VariadicType has no minimum count of variadic arguments, so an
// overload that requires one (as PostgreSQL's variadic functions do)
// lists the first among its FixedTypes: those trailing FixedTypes of
// the variadic type are variadic ones.
func variadicFixed(v tree.VariadicType) int {
	n := len(v.FixedTypes)
	for n > 0 && v.FixedTypes[n-1].Identical(v.VarType) {
		n--
	}
	return n
}

// variadicDefs caches the VARIADIC counterparts of the builtins by key
// (name, schema-qualified unless in pg_catalog); variadicOverloads holds
// each one's overloads, by the counterpart.
var variadicDefs, variadicOverloads sync.Map // string → *tree.ResolvedFunctionDefinition → []tree.Overload

// IsVariadic reports whether the builtin of key (Overloads' name) has a
// variadic overload.
func IsVariadic(key string) bool {
	for _, ov := range builtins[key] {
		if _, ok := ov.Types.(tree.VariadicType); ok {
			return true
		}
	}
	return false
}

// VariadicAnyArity reports whether a call of the builtin of key with n
// arguments, the last VARIADIC, can only be its VARIADIC "any" overload,
// whose last argument PostgreSQL requires to be an array when it
// resolves the call ("VARIADIC argument must be an array").
func VariadicAnyArity(key string, n int) bool {
	for _, ov := range builtins[key] {
		if v, ok := ov.Types.(tree.VariadicType); ok && v.VarType.Family() == types.AnyFamily && variadicFixed(v)+1 == n {
			return true
		}
	}
	return false
}

// VariadicError is PostgreSQL's error for a VARIADIC argument of
// VARIADIC "any" that is not an array.
func VariadicError() error {
	return pgerror.New("42804", "VARIADIC argument must be an array")
}

// VariadicMarker is the function a VARIADIC argument is written as in
// the text the grammar reads, f(a, VARIADIC arr) being
// f(a, meridian__variadic(arr)). In a resolved call it stays, as the
// identity function, so that the call prints (a column's DEFAULT is
// kept as its resolved expression's text) as the VARIADIC call it is.
const VariadicMarker = "meridian__variadic"

var _ = RegisterFamily(map[string][]tree.Overload{
	VariadicMarker: {{
		Types: tree.ParamTypes{{Name: "array", Typ: types.Any}}, ReturnType: tree.IdentityReturnType(0),
		Volatility: volatility.Immutable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return a[0], nil }),
	}},
})

// VariadicCall is f, a call of the variadic builtin of key whose last
// argument (args' last) was marked VARIADIC, as a call of the builtin's
// VARIADIC counterpart with args.
func VariadicCall(f *tree.FuncExpr, key, name string, args tree.Exprs) *tree.FuncExpr {
	n := *f
	n.Exprs = append(tree.Exprs(nil), args...)
	n.Exprs[len(args)-1] = &tree.FuncExpr{
		Func:  tree.ResolvableFunctionReference{FunctionReference: tree.ResolvedBuiltinFuncDefs[catconstants.PgCatalogName+"."+VariadicMarker]},
		Exprs: tree.Exprs{args[len(args)-1]},
	}
	n.Func = tree.ResolvableFunctionReference{FunctionReference: variadicDef(key, name)}
	return &n
}

// VariadicArrayType is the array type a VARIADIC argument of unknown
// type (a string literal, a placeholder) of a call of the builtin of key
// with n arguments is read as: that of its only variadic overload of
// that many parameters that is not VARIADIC "any"; nil if there is none
// or several.
func VariadicArrayType(key string, n int) *types.T {
	var t *types.T
	for _, ov := range builtins[key] {
		if v, ok := ov.Types.(tree.VariadicType); ok && v.VarType.Family() != types.AnyFamily && variadicFixed(v)+1 == n {
			if t != nil && !t.Identical(types.MakeArray(v.VarType)) {
				return nil
			}
			t = types.MakeArray(v.VarType)
		}
	}
	return t
}

// variadicDef is the VARIADIC counterpart of the builtin of key.
func variadicDef(key, name string) *tree.ResolvedFunctionDefinition {
	if d, ok := variadicDefs.Load(key); ok {
		return d.(*tree.ResolvedFunctionDefinition)
	}
	orig := builtins[key]
	ovs := make([]tree.Overload, len(orig))
	for i, ov := range orig {
		ovs[i] = ov
		v, ok := ov.Types.(tree.VariadicType)
		if !ok {
			continue
		}
		nFixed := variadicFixed(v)
		params := make(tree.ParamTypes, 0, nFixed+1)
		for j := 0; j < nFixed; j++ {
			params = append(params, tree.ParamType{Name: "arg", Typ: v.FixedTypes[j]})
		}
		// VARIADIC "any" takes an array of any type, checked when the
		// call is planned (VariadicAnyArity) and run.
		arr := v.VarType
		if arr.Family() != types.AnyFamily {
			arr = types.MakeArray(arr)
		}
		params = append(params, tree.ParamType{Name: "variadic", Typ: arr})
		ovs[i].Types = params
		ovs[i].CalledOnNullInput = true
		ovs[i].Fn = spreadVariadic(name, ov)
	}
	def := tree.NewFunctionDefinition(name, &tree.FunctionProperties{}, ovs)
	schema := catconstants.PgCatalogName
	if s, _, ok := cutSchema(key); ok {
		schema = s
	}
	d, loaded := variadicDefs.LoadOrStore(key, tree.QualifyBuiltinFunctionDefinition(def, schema))
	if !loaded {
		variadicOverloads.Store(d, ovs)
	}
	return d.(*tree.ResolvedFunctionDefinition)
}

func cutSchema(key string) (string, string, bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}

// spreadVariadic is the implementation of ov's VARIADIC counterpart: the
// fixed arguments and the array's elements (in storage order, as
// PostgreSQL passes a multidimensional one) passed to ov's own, with
// ov's treatment of NULL arguments.
func spreadVariadic(name string, ov tree.Overload) BuiltinTypedFn {
	return func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
		fixed, last := a[:len(a)-1], a[len(a)-1]
		if !ov.CalledOnNullInput {
			for _, d := range fixed {
				if d == tree.DNull {
					return tree.DNull, nil
				}
			}
		}
		var elems tree.Datums
		elemType := types.Unknown
		switch arr := last.(type) {
		case *tree.DArray:
			elems = flattenArray(arr, nil)
			elemType = arr.ParamTyp
			for elemType.Family() == types.ArrayFamily {
				elemType = elemType.ArrayContents()
			}
		default:
			if last != tree.DNull {
				return nil, VariadicError()
			}
			if !variadicNullAsEmpty[name] {
				return tree.DNull, nil
			}
		}
		args := make(tree.Datums, 0, len(fixed)+len(elems))
		args = append(append(args, fixed...), elems...)
		if !ov.CalledOnNullInput {
			for _, d := range elems {
				if d == tree.DNull {
					return tree.DNull, nil
				}
			}
		}
		switch fn := ov.Fn.(type) {
		case BuiltinFn:
			return fn(e, args)
		case BuiltinTypedFn:
			typs := append([]*types.T(nil), argTypes[:len(fixed)]...)
			for range elems {
				typs = append(typs, elemType)
			}
			return fn(e, args, typs)
		}
		return nil, pgerror.Unsupported("VARIADIC in a call of %s is not supported yet", name)
	}
}

// flattenArray appends the elements of a (of its subarrays, for a
// multidimensional one) to out.
func flattenArray(a *tree.DArray, out tree.Datums) tree.Datums {
	for _, d := range a.Array {
		if sub, ok := d.(*tree.DArray); ok {
			out = flattenArray(sub, out)
			continue
		}
		out = append(out, d)
	}
	return out
}

// callOverloads are the overloads a call may resolve to: its VARIADIC
// counterpart's for a VARIADIC call (VariadicCall), else its name's.
func callOverloads(f *tree.FuncExpr, name string) []tree.Overload {
	if rd, ok := f.Func.FunctionReference.(*tree.ResolvedFunctionDefinition); ok {
		if ovs, ok := variadicOverloads.Load(rd); ok {
			return ovs.([]tree.Overload)
		}
	}
	return Overloads(name)
}
