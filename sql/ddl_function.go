package sql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// CREATE FUNCTION … LANGUAGE sql and DROP FUNCTION, as PostgreSQL 15
// runs them for functions whose body is one query. A call is planned as
// the query it stands for (function_call.go), as PostgreSQL inlines SQL
// functions. PL/pgSQL, procedures, OUT parameters, SECURITY DEFINER and
// bodies of several statements answer 0A000.

func (b schemaChanger) createFunction(st *tree.CreateRoutine) (*result, error) {
	if st.IsProcedure {
		return nil, pgerror.Unsupported("CREATE PROCEDURE is not supported yet")
	}
	owner, err := b.priv.currentRoleID()
	if err != nil {
		return nil, err
	}
	ov := catalog.FunctionOverload{Volatility: "v", Owner: owner}
	lang := ""
	for _, o := range st.Options {
		switch o := o.(type) {
		case tree.RoutineLanguage:
			lang = strings.ToLower(string(o))
		case tree.RoutineBodyStr:
			ov.Body = string(o)
		case tree.RoutineVolatility:
			ov.Volatility = map[tree.RoutineVolatility]string{tree.RoutineVolatile: "v", tree.RoutineStable: "s", tree.RoutineImmutable: "i"}[o]
		case tree.RoutineNullInputBehavior:
			ov.Strict = o == tree.RoutineReturnsNullOnNullInput || o == tree.RoutineStrict
		case tree.RoutineLeakproof:
			if o {
				return nil, pgerror.Unsupported("LEAKPROOF functions are not supported yet")
			}
		case tree.RoutineSecurity:
			if o == tree.RoutineDefiner {
				return nil, pgerror.Unsupported("SECURITY DEFINER functions are not supported yet")
			}
		default:
			return nil, pgerror.Unsupported("CREATE FUNCTION ... %s is not supported yet", tree.AsString(o))
		}
	}
	switch {
	case lang == "":
		return nil, pgerror.New("42P13", "no language specified")
	case lang == "plpgsql":
		return nil, pgerror.Unsupported("LANGUAGE plpgsql is not supported yet: only LANGUAGE sql functions are")
	case lang != "sql":
		return nil, pgerror.Newf("42704", "language %q does not exist", lang)
	case st.RoutineBody != nil:
		return nil, pgerror.Unsupported("BEGIN ATOMIC function bodies are not supported yet: give the body as a string")
	}
	for i, p := range st.Params {
		t, err := tree.ResolveType(b.ctx, p.Type, typeResolver{b.builder})
		if err != nil {
			return nil, err
		}
		fp := catalog.FunctionParam{Name: string(p.Name), Type: t.SQLString()}
		if ov.Variadic && p.Class != tree.RoutineParamOut {
			return nil, pgerror.New("42P13", "VARIADIC parameter must be the last input parameter")
		}
		switch p.Class {
		case tree.RoutineParamVariadic:
			if t.Family() != types.ArrayFamily {
				return nil, pgerror.New("42P13", "VARIADIC parameter must be an array")
			}
			ov.Variadic = true
			fallthrough
		case tree.RoutineParamDefault, tree.RoutineParamIn:
			if p.DefaultVal != nil {
				fp.Default = tree.AsString(p.DefaultVal)
			} else if i > 0 && ov.Params[len(ov.Params)-1].Default != "" {
				return nil, pgerror.New("42P13", "input parameters after one with a default value must also have defaults")
			}
			ov.Params = append(ov.Params, fp)
		case tree.RoutineParamOut:
			if !st.ReturnType.SetOf || st.ReturnType.Type.SQLString() != "RECORD" {
				return nil, pgerror.Unsupported("OUT parameters are not supported yet")
			}
			ov.Columns = append(ov.Columns, fp) // RETURNS TABLE's
		default:
			return nil, pgerror.Unsupported("INOUT parameters are not supported yet")
		}
	}
	if st.ReturnType == nil {
		return nil, pgerror.New("42P13", "function result type must be specified")
	}
	ret, err := tree.ResolveType(b.ctx, st.ReturnType.Type, typeResolver{b.builder})
	if err != nil {
		return nil, err
	}
	if ret.Family() == types.TupleFamily && len(ov.Columns) == 0 || ret.Family() == types.VoidFamily || ret.Family() == types.TriggerFamily {
		return nil, pgerror.Unsupported("functions returning %s are not supported yet", ret.SQLString())
	}
	ov.Returns, ov.ReturnsSet = ret.SQLString(), st.ReturnType.SetOf
	if len(ov.Columns) > 0 {
		ov.Returns = "record"
	}

	tn := routineTableName(st.Name)
	k, err := b.names.createKey(b.ctx, b.txn, &tn)
	if err != nil {
		return nil, err
	}
	if err := b.priv.checkSchema(k.DB, k.Schema, catalog.PrivCreate, 0); err != nil {
		return nil, err
	}
	d, err := catalog.GetFunction(b.ctx, b.txn, k)
	if err != nil {
		return nil, err
	}
	if d == nil {
		d = &catalog.FunctionDescriptor{ParentID: k.DB, Schema: k.Schema, Name: k.Name}
	}
	// Check the body: it must plan, as a call with NULL arguments, and
	// give the columns the result needs.
	if err := b.checkFunctionBody(d, &ov); err != nil {
		return nil, err
	}
	if i := d.OverloadOf(paramTypes(ov.Params)); i >= 0 {
		old := &d.Overloads[i]
		switch {
		case !st.Replace:
			return nil, pgerror.Newf("42723", "function %q already exists with same argument types", k.Name)
		case old.Returns != ov.Returns || old.ReturnsSet != ov.ReturnsSet:
			return nil, pgerror.WithHint(pgerror.Newf("42P13", "cannot change return type of existing function"),
				fmt.Sprintf("Use DROP FUNCTION %s first.", functionSignature(d, old)))
		}
		if err := b.checkFunctionOwner(d, old); err != nil {
			return nil, err
		}
		ov.ID, ov.Owner = old.ID, old.Owner
		*old = ov
	} else {
		if ov.ID, err = catalog.NewFunctionID(b.ctx, b.txn); err != nil {
			return nil, err
		}
		d.Overloads = append(d.Overloads, ov)
	}
	return &result{tag: "CREATE FUNCTION"}, catalog.PutFunction(b.ctx, b.txn, d)
}

// checkFunctionBody plans a call of ov with NULL arguments.
func (b schemaChanger) checkFunctionBody(d *catalog.FunctionDescriptor, ov *catalog.FunctionOverload) error {
	args := make(tree.Exprs, len(ov.Params))
	for i := range args {
		args[i] = tree.DNull
	}
	sel, err := b.functionQuery(d, ov, args, nil)
	if err != nil {
		return err
	}
	cb := newBuilder(b.ctx, b.txn, b.names, 0, nil)
	cb.priv = b.priv
	if _, _, err := cb.buildPlan(sel); err != nil {
		return err
	}
	return nil
}

// dropFunctions is DROP FUNCTION: each named function, by its argument
// types when they are given, else the only one of its name.
func (b schemaChanger) dropFunctions(st *tree.DropRoutine) (*result, error) {
	if st.Procedure {
		return nil, pgerror.Unsupported("DROP PROCEDURE is not supported yet")
	}
	res := &result{tag: "DROP FUNCTION"}
	for _, r := range st.Routines {
		d, err := b.findFunction(routineTableName(r.FuncName))
		if err != nil {
			return nil, err
		}
		i := -1
		if d != nil && r.Params == nil {
			if len(d.Overloads) > 1 {
				return nil, pgerror.WithHint(pgerror.Newf("42725", "function name %q is not unique", d.Name),
					"Specify the argument list to select the function unambiguously.")
			}
			i = 0
		} else if d != nil {
			var want []string
			for _, p := range r.Params {
				if p.Class == tree.RoutineParamOut {
					continue
				}
				t, err := tree.ResolveType(b.ctx, p.Type, typeResolver{b.builder})
				if err != nil {
					return nil, err
				}
				want = append(want, t.SQLString())
			}
			i = d.OverloadOf(want)
		}
		if i < 0 {
			what := tree.AsString(&r.FuncName)
			if r.Params != nil {
				what = fmt.Sprintf("%s(%s)", what, routineParamTypes(r.Params))
			}
			if st.IfExists {
				res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
					fmt.Sprintf("function %s does not exist, skipping", what), ""})
				continue
			}
			return nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s does not exist", what)
		}
		if err := b.checkFunctionOwner(d, &d.Overloads[i]); err != nil {
			return nil, err
		}
		d.Overloads = append(d.Overloads[:i], d.Overloads[i+1:]...)
		if err := catalog.PutFunction(b.ctx, b.txn, d); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func routineParamTypes(ps tree.RoutineParams) string {
	var s []string
	for _, p := range ps {
		if t, ok := p.Type.(*types.T); ok {
			s = append(s, strings.ToLower(t.SQLString()))
		} else if f, ok := p.Type.(tree.NodeFormatter); ok {
			s = append(s, tree.AsString(f))
		}
	}
	return strings.Join(s, ", ")
}

func paramTypes(ps []catalog.FunctionParam) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Type
	}
	return out
}

// functionSignature is how PostgreSQL names an overload: name(types).
func functionSignature(d *catalog.FunctionDescriptor, ov *catalog.FunctionOverload) string {
	ts := make([]string, len(ov.Params))
	for i, p := range ov.Params {
		ts[i] = typeTextName(p.Type)
	}
	return fmt.Sprintf("%s(%s)", d.Name, strings.Join(ts, ", "))
}

// routineTableName is a function's name as a relation's, to resolve it
// the same way.
func routineTableName(rn tree.RoutineName) tree.TableName {
	return tree.MakeTableNameFromPrefix(rn.ObjectNamePrefix, rn.ObjectName)
}

// checkFunctionOwner refuses to change a function the statement's role
// does not own (42501).
func (b schemaChanger) checkFunctionOwner(d *catalog.FunctionDescriptor, ov *catalog.FunctionOverload) error {
	if ok, err := b.priv.bypass(); ok || err != nil {
		return err
	}
	if !b.priv.owns(ov.Owner, 0) {
		return b.priv.deny(insufficient("must be owner of function %s", functionSignature(d, ov)))
	}
	return nil
}

// functionDescription is how PostgreSQL names a function in dependency
// messages (getObjectDescription): qualified by its schema unless that
// schema is on the search path, its argument types separated by bare
// commas.
func (b schemaChanger) functionDescription(d *catalog.FunctionDescriptor, ov *catalog.FunctionOverload) string {
	ts := make([]string, len(ov.Params))
	for i, p := range ov.Params {
		ts[i] = typeTextName(p.Type)
	}
	name := d.Name
	if !slices.Contains(b.names.path, d.Schema) {
		name = d.Schema + "." + name
	}
	return fmt.Sprintf("%s(%s)", name, strings.Join(ts, ","))
}
