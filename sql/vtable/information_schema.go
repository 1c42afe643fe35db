package vtable

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
)

// informationSchema are the tables of information_schema, by name.
var informationSchema = map[string]*Table{
	"schemata": {
		Cols: vcols("catalog_name:name schema_name:name schema_owner:name"),
		Rows: func(ctx context.Context, txn catalog.Txn) ([]tree.Datums, error) {
			var out []tree.Datums
			for _, s := range []string{"information_schema", "pg_catalog", "public"} {
				out = append(out, tree.Datums{tree.NewDName("defaultdb"), tree.NewDName(s), tree.NewDName("root")})
			}
			return out, nil
		},
	},
	"tables": {
		Cols: vcols("table_catalog:name table_schema:name table_name:name table_type:text"),
		Rows: func(ctx context.Context, txn catalog.Txn) ([]tree.Datums, error) {
			tables, err := catalog.ListTables(ctx, txn)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				if d.Sequence != nil {
					continue // PostgreSQL lists sequences in information_schema.sequences
				}
				kind := "BASE TABLE"
				if d.ViewQuery != "" {
					kind = "VIEW"
				}
				out = append(out, tree.Datums{tree.NewDName("defaultdb"), tree.NewDName("public"), tree.NewDName(d.Name), tree.NewDString(kind)})
			}
			return out, nil
		},
	},
	"columns": {
		Cols: vcols("table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 column_default:text is_nullable:text data_type:text"),
		Rows: func(ctx context.Context, txn catalog.Txn) ([]tree.Datums, error) {
			tables, err := catalog.ListTables(ctx, txn)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				if d.Sequence != nil {
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
					out = append(out, tree.Datums{tree.NewDName("defaultdb"), tree.NewDName("public"), tree.NewDName(d.Name),
						tree.NewDName(c.Name), tree.NewDInt(tree.DInt(pos)), def, tree.NewDString(nullable), tree.NewDString(c.Type().SQLStandardName())})
				}
			}
			return out, nil
		},
	},
}
