package vtable

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/rowenc"
)

func init() {
	pgCatalog["pg_stats"] = pgStats
}

// pgStats is pg_stats: a row per column of each analyzed table of the
// session's database, from its statistics (ANALYZE). n_distinct follows
// PostgreSQL: a count, or minus the share of the rows when the distinct
// values grow with the table (above a tenth of the rows); histogram_bounds
// are the equi-depth buckets' upper bounds as text. Most common values
// and correlation are not collected (NULL).
var pgStats = &Table{
	Cols: vcols("schemaname:name tablename:name attname:name inherited:bool null_frac:float4 avg_width:int4 n_distinct:float4 " +
		"most_common_vals:text most_common_freqs:text histogram_bounds:text correlation:float4"),
	Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
		tables, err := env.Tables(ctx)
		if err != nil {
			return nil, err
		}
		stats, err := env.Statistics(ctx)
		if err != nil {
			return nil, err
		}
		var out []tree.Datums
		for _, d := range tables {
			s := stats[d.ID]
			if s == nil {
				continue
			}
			for _, c := range d.Columns {
				cs := s.Column(c.ID)
				if cs == nil || c.Hidden {
					continue
				}
				nullFrac, nDistinct := 0.0, float64(cs.Distinct)
				if s.RowCount > 0 {
					nullFrac = float64(cs.Nulls) / float64(s.RowCount)
					if nDistinct > 0.1*float64(s.RowCount) {
						nDistinct = -nDistinct / float64(s.RowCount)
					}
				}
				var bounds tree.Datum = tree.DNull
				if len(cs.Histogram) > 0 {
					arr := tree.NewDArray(c.Type())
					for _, b := range cs.Histogram {
						if _, v, err := rowenc.DecodeDatum(b, c.Type()); err == nil {
							_ = arr.Append(v)
						}
					}
					bounds = tree.NewDString(tree.AsStringWithFlags(arr, tree.FmtPgwireText))
				}
				out = append(out, tree.Datums{tree.NewDName(d.Schema), tree.NewDName(d.Name), tree.NewDName(c.Name),
					tree.DBoolFalse, tree.NewDFloat(tree.DFloat(float32(nullFrac))), tree.NewDInt(tree.DInt(cs.AvgWidth)),
					tree.NewDFloat(tree.DFloat(float32(nDistinct))), tree.DNull, tree.DNull, bounds, tree.DNull})
			}
		}
		return out, nil
	},
}
