package vtable

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sem"
)

// informationSchema are the tables of information_schema, by name.
var informationSchema = map[string]*Table{
	// table_privileges: one row per privilege an ACL item grants on a
	// table or view (the default ACL when none was set), grantable when
	// the item has the grant option or the grantee is the owner, as
	// PostgreSQL's view computes it. PostgreSQL shows a role only the
	// rows it grants or holds; here every role sees all of them.
	"table_privileges": {
		Cols: vcols("grantor:name grantee:name table_catalog:name table_schema:name table_name:name privilege_type:text is_grantable:text with_hierarchy:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				if d.Sequence != nil || d.IsMatView() {
					continue // as PostgreSQL's view, which lists neither
				}
				for _, it := range d.Privileges().Items {
					grantee := "PUBLIC"
					if it.Grantee != catalog.PublicRoleID {
						grantee = env.RoleName(ctx, it.Grantee)
					}
					it.Privs.Each(func(p catalog.Privilege) {
						yes := func(b bool) tree.Datum {
							if b {
								return tree.NewDString("YES")
							}
							return tree.NewDString("NO")
						}
						out = append(out, tree.Datums{tree.NewDName(env.RoleName(ctx, it.Grantor)), tree.NewDName(grantee),
							tree.NewDName(env.DB.Name), tree.NewDName(d.Schema), tree.NewDName(d.Name), tree.NewDString(p.Name()),
							yes(it.Grantable&p != 0 || it.Grantee == d.OwnerID()), yes(p == catalog.PrivSelect)})
					})
				}
			}
			return out, nil
		},
	},
	"schemata": {
		Cols: vcols("catalog_name:name schema_name:name schema_owner:name"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			out := []tree.Datums{
				{tree.NewDName(env.DB.Name), tree.NewDName("information_schema"), tree.NewDName("root")},
				{tree.NewDName(env.DB.Name), tree.NewDName("pg_catalog"), tree.NewDName("root")},
			}
			schemas, err := env.Schemas(ctx)
			if err != nil {
				return nil, err
			}
			for _, s := range schemas {
				out = append(out, tree.Datums{tree.NewDName(env.DB.Name), tree.NewDName(s.Name), tree.NewDName(env.RoleName(ctx, s.Owner))})
			}
			return out, nil
		},
	},
	"tables": {
		Cols: vcols("table_catalog:name table_schema:name table_name:name table_type:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				if d.Sequence != nil {
					continue // PostgreSQL lists sequences in information_schema.sequences
				}
				if d.IsMatView() {
					continue // not in the SQL standard, so not in its views
				}
				kind := "BASE TABLE"
				if d.ViewQuery != "" {
					kind = "VIEW"
				}
				out = append(out, tree.Datums{tree.NewDName(env.DB.Name), tree.NewDName(d.Schema), tree.NewDName(d.Name), tree.NewDString(kind)})
			}
			return out, nil
		},
	},
	"columns": {
		Cols: vcols("table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 column_default:text is_nullable:text data_type:text udt_schema:name udt_name:name is_generated:text generation_expression:text " +
			"character_maximum_length:int4 numeric_precision:int4 numeric_precision_radix:int4 numeric_scale:int4 datetime_precision:int4 " +
			"is_identity:text identity_generation:text identity_increment:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				if d.Sequence != nil || d.IsMatView() {
					continue
				}
				pos := 0
				for _, c := range d.Columns {
					if c.Hidden {
						continue
					}
					pos++
					var def tree.Datum = tree.DNull
					if c.Default != "" && c.Identity == "" {
						def = tree.NewDString(DisplayDefault(&c))
					}
					nullable := "YES"
					if !c.Nullable {
						nullable = "NO"
					}
					generated, genExpr := tree.NewDString("NEVER"), tree.Datum(tree.DNull)
					if c.Generated != "" {
						generated, genExpr = tree.NewDString("ALWAYS"), tree.NewDString("("+DisplayExpr(c.Generated)+")")
					}
					prec, radix, scale := numericFacts(c.Type())
					isIdentity, identityGen, identityInc := tree.NewDString("NO"), tree.Datum(tree.DNull), tree.Datum(tree.DNull)
					if c.Identity != "" {
						gen := "BY DEFAULT"
						if c.Identity == "a" {
							gen = "ALWAYS"
						}
						isIdentity, identityGen, identityInc = tree.NewDString("YES"), tree.NewDString(gen), tree.NewDString("1")
					}
					out = append(out, tree.Datums{tree.NewDName(env.DB.Name), tree.NewDName(d.Schema), tree.NewDName(d.Name),
						tree.NewDName(c.Name), tree.NewDInt(tree.DInt(pos)), def, tree.NewDString(nullable), tree.NewDString(dataType(c.Type())),
						tree.NewDName(udtSchema(&c)), tree.NewDName(udtName(c.Type())), generated, genExpr,
						charMaxLength(c.Type()), prec, radix, scale, datetimePrecision(c.Type()), isIdentity, identityGen, identityInc})
				}
			}
			return out, nil
		},
	},
}

// dataType is information_schema's data_type: the standard name, ARRAY
// for an array, USER-DEFINED for an enum.
func dataType(t *types.T) string {
	switch t.Family() {
	case types.EnumFamily:
		return "USER-DEFINED"
	case types.ArrayFamily:
		return "ARRAY"
	}
	if sem.IsJSONText(t) {
		return "json" // its family's name is jsonb's
	}
	return t.SQLStandardName()
}

// udtSchema and udtName name a column's type as pg_type does.
func udtSchema(c *catalog.ColumnDescriptor) string {
	if c.Enum != nil {
		return c.Enum.Schema
	}
	return "pg_catalog"
}

func udtName(t *types.T) string {
	switch {
	case t.Family() == types.EnumFamily && t.TypeMeta.Name != nil:
		return t.TypeMeta.Name.Name
	case t.Family() == types.ArrayFamily:
		return "_" + udtName(t.ArrayContents())
	}
	return sem.TypeName(t)
}
