package vtable

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
)

// pg_description holds the COMMENT ON of tables, views and their columns
// (objsubid is the column's attnum, 0 for the relation itself): JDBC's
// DatabaseMetaData and GORM's migrator join it to read remarks.
func init() {
	pgCatalog["pg_description"] = &Table{
		Cols: vcols("objoid:oid classoid:oid objsubid:int4 description:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			row := func(o tree.Datum, sub int, text string) tree.Datums {
				return tree.Datums{o, tree.NewDOid(pgClassOID), tree.NewDInt(tree.DInt(sub)), tree.NewDString(text)}
			}
			for _, d := range tables {
				o := tree.NewDOid(RelOID(d))
				if d.Comment != "" {
					out = append(out, row(o, 0, d.Comment))
				}
				for i, c := range d.Columns {
					if c.Comment != "" {
						out = append(out, row(o, i+1, c.Comment))
					}
				}
			}
			return out, nil
		},
	}
}
