package sql

import (
	"slices"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sem"
)

// The functions psql's \df calls on pg_proc rows of user-defined
// functions (CREATE FUNCTION): their visibility, arguments and result.
// Built-in functions are not in pg_proc yet: they answer NULL.

var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"pg_function_is_visible": functionInfo(func(e *sem.EvalCtx, d *catalog.FunctionDescriptor, _ *catalog.FunctionOverload) tree.Datum {
		n := namesOf(e)
		return tree.MakeDBool(tree.DBool(n != nil && slices.Contains(n.path, d.Schema)))
	}, types.Bool),
	"pg_get_function_arguments": functionInfo(func(_ *sem.EvalCtx, _ *catalog.FunctionDescriptor, ov *catalog.FunctionOverload) tree.Datum {
		return tree.NewDString(functionArgs(ov, true))
	}, types.String),
	"pg_get_function_identity_arguments": functionInfo(func(_ *sem.EvalCtx, _ *catalog.FunctionDescriptor, ov *catalog.FunctionOverload) tree.Datum {
		return tree.NewDString(functionArgs(ov, false))
	}, types.String),
	"pg_get_function_result": functionInfo(func(_ *sem.EvalCtx, _ *catalog.FunctionDescriptor, ov *catalog.FunctionOverload) tree.Datum {
		if len(ov.Columns) > 0 {
			var cols []string
			for _, c := range ov.Columns {
				cols = append(cols, strings.TrimSpace(c.Name+" "+typeTextName(c.Type)))
			}
			return tree.NewDString("TABLE(" + strings.Join(cols, ", ") + ")")
		}
		r := typeTextName(ov.Returns)
		if ov.ReturnsSet {
			r = "SETOF " + r
		}
		return tree.NewDString(r)
	}, types.String),
})

// functionInfo is a one-argument (an OID) built-in that answers from the
// user-defined function of that OID; NULL for any other OID.
func functionInfo(fn func(*sem.EvalCtx, *catalog.FunctionDescriptor, *catalog.FunctionOverload) tree.Datum, ret *types.T) []tree.Overload {
	return []tree.Overload{{
		Types: tree.ParamTypes{{Name: "func", Typ: types.Oid}}, ReturnType: tree.FixedReturnType(ret),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: sem.BuiltinFn(func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			d, ov, err := functionByOID(e, oid.Oid(tree.MustBeDOid(a[0]).Oid))
			if err != nil || d == nil {
				return tree.DNull, err
			}
			return fn(e, d, ov), nil
		}),
	}}
}

// functionByOID finds the user-defined function of OID o in the
// session's database; nil if there is none.
func functionByOID(e *sem.EvalCtx, o oid.Oid) (*catalog.FunctionDescriptor, *catalog.FunctionOverload, error) {
	n := namesOf(e)
	if n == nil || e.Txn == nil || o <= catalog.FunctionOIDBase {
		return nil, nil, nil
	}
	fns, err := catalog.ListFunctions(e.Ctx, e.Txn, n.db.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range fns {
		for i := range d.Overloads {
			if d.Overloads[i].OID() == o {
				return d, &d.Overloads[i], nil
			}
		}
	}
	return nil, nil, nil
}

// functionArgs lists an overload's parameters as PostgreSQL prints them:
// [VARIADIC] name type [DEFAULT expr].
func functionArgs(ov *catalog.FunctionOverload, defaults bool) string {
	var out []string
	for i, p := range ov.Params {
		s := strings.TrimSpace(p.Name + " " + typeTextName(p.Type))
		if ov.Variadic && i == len(ov.Params)-1 {
			s = "VARIADIC " + s
		}
		if defaults && p.Default != "" {
			s += " DEFAULT " + p.Default
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// typeTextName is format_type of a type kept as SQL text.
func typeTextName(s string) string {
	if ref, err := parser.GetTypeFromValidSQLSyntax(s); err == nil {
		if t, ok := ref.(*types.T); ok {
			return sem.FormatTypeOf(t, -1)
		}
	}
	return strings.ToLower(s)
}
