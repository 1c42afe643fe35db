package vtable

import (
	"context"
	"strconv"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
)

func init() {
	pgCatalog["pg_proc"] = pgProc
}

// sqlLanguageOID is pg_language's OID of LANGUAGE sql.
const sqlLanguageOID = 14

// pgProc is pg_proc: a row per user-defined function of the session's
// database (CREATE FUNCTION). The built-in functions are not listed yet.
var pgProc = &Table{
	Cols: vcols("oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4 prorows:float4 " +
		"provariadic:oid prokind:char prosecdef:bool proleakproof:bool proisstrict:bool proretset:bool provolatile:char " +
		"proparallel:char pronargs:int2 pronargdefaults:int2 prorettype:oid proargtypes:text proallargtypes:oid[] " +
		"proargmodes:text[] proargnames:text[] prosrc:text proacl:text[]"),
	Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
		if _, err := env.Schemas(ctx); err != nil {
			return nil, err
		}
		fns, err := catalog.ListFunctions(ctx, env.Txn, env.DB.ID)
		if err != nil {
			return nil, err
		}
		var out []tree.Datums
		for _, d := range fns {
			for _, ov := range d.Overloads {
				var argTypes []string
				names := tree.NewDArray(types.String)
				defaults := 0
				for _, p := range ov.Params {
					argTypes = append(argTypes, strconv.Itoa(int(typeTextOID(p.Type))))
					_ = names.Append(tree.NewDString(p.Name))
					if p.Default != "" {
						defaults++
					}
				}
				var allTypes, modes tree.Datum = tree.DNull, tree.DNull
				ret := typeTextOID(ov.Returns)
				// mode is a parameter's proargmodes letter: 'v' for a
				// VARIADIC one, whose element type is provariadic.
				variadic := oid.Oid(0)
				mode := func(i int) tree.Datum {
					if ov.Variadic && i == len(ov.Params)-1 {
						return tree.NewDString("v")
					}
					return tree.NewDString("i")
				}
				if ov.Variadic {
					if ref, err := parser.GetTypeFromValidSQLSyntax(ov.Params[len(ov.Params)-1].Type); err == nil {
						if t, ok := ref.(*types.T); ok && t.Family() == types.ArrayFamily {
							variadic = t.ArrayContents().Oid()
						}
					}
					m := tree.NewDArray(types.String)
					for i := range ov.Params {
						_ = m.Append(mode(i))
					}
					modes = m
				}
				if len(ov.Columns) > 0 {
					// RETURNS TABLE: its columns are OUT ('t') arguments.
					all, m := tree.NewDArray(types.Oid), tree.NewDArray(types.String)
					for i, p := range ov.Params {
						_ = all.Append(tree.NewDOid(typeTextOID(p.Type)))
						_ = m.Append(mode(i))
					}
					for _, c := range ov.Columns {
						_ = all.Append(tree.NewDOid(typeTextOID(c.Type)))
						_ = m.Append(tree.NewDString("t"))
						_ = names.Append(tree.NewDString(c.Name))
					}
					allTypes, modes, ret = all, m, oid.T_record
				}
				rows := 0.0
				if ov.ReturnsSet {
					rows = 1000
				}
				out = append(out, tree.Datums{tree.NewDOid(ov.OID()), tree.NewDName(d.Name), tree.NewDOid(env.SchemaOID(d.Schema)),
					tree.NewDOid(oid.Oid(ov.Owner)), tree.NewDOid(sqlLanguageOID), tree.NewDFloat(100), tree.NewDFloat(tree.DFloat(rows)),
					tree.NewDOid(variadic), tree.NewDString("f"), tree.DBoolFalse, tree.DBoolFalse, tree.MakeDBool(tree.DBool(ov.Strict)),
					tree.MakeDBool(tree.DBool(ov.ReturnsSet)), tree.NewDString(ov.Volatility), tree.NewDString("u"),
					tree.NewDInt(tree.DInt(len(ov.Params))), tree.NewDInt(tree.DInt(defaults)), tree.NewDOid(ret),
					tree.NewDString(strings.Join(argTypes, " ")), allTypes, modes, names, tree.NewDString(ov.Body), tree.DNull})
			}
		}
		return out, nil
	},
}

// typeTextOID is the OID of a built-in type kept as SQL text; 0 for
// another (a user-defined type, which its name alone does not give).
func typeTextOID(s string) oid.Oid {
	ref, err := parser.GetTypeFromValidSQLSyntax(s)
	if err != nil {
		return 0
	}
	if t, ok := ref.(*types.T); ok {
		return t.Oid()
	}
	return 0
}
