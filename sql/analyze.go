package sql

import (
	"fmt"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/opt"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// analyzeTable reads every row of d and stores its statistics (see
// catalog.TableStatistics), replacing the last ones; name is what SHOW
// STATISTICS calls them.
func (b schemaChanger) analyzeTable(d *catalog.TableDescriptor, r *runner, name string) error {
	s, err := collectStatistics(r, d, r.eval.StmtTime.UnixNano())
	if err != nil {
		return err
	}
	s.Name = name
	if err := catalog.PutStatistics(b.ctx, b.txn, d.ID, s); err != nil {
		return err
	}
	if b.stats != nil {
		b.stats.forget(d.ID)
	}
	return nil
}

// collectStatistics reads every row of d in r's transaction and returns
// their statistics; the sample the histograms come from is charged to
// r's memory account.
func collectStatistics(r *runner, d *catalog.TableDescriptor, createdNanos int64) (*catalog.TableStatistics, error) {
	c := opt.NewCollector(d)
	if err := r.grow(opt.MemoryPerColumn * int64(len(d.Columns))); err != nil {
		return nil, err
	}
	err := forEachStored(r, d, func(key, value []byte) error {
		grew, err := c.AddStored(key, value)
		if err == nil && grew > 0 {
			err = r.grow(grew)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.Finish(createdNanos), nil
}

// analyzeName and autoStatsName name the statistics of ANALYZE and of the
// background refresh; CREATE STATISTICS gives its own.
const (
	analyzeName   = "__analyze__"
	autoStatsName = "__auto__"
)

// createStats is CockroachDB's CREATE STATISTICS name [ON cols] FROM
// table: the table's statistics, every column's (a superset of those
// named, which must exist), under name.
func (s *session) createStats(b *builder, r *runner, st *tree.CreateStats) (*result, error) {
	if st.Options != (tree.CreateStatsOptions{}) {
		return nil, pgerror.Unsupported("CREATE STATISTICS options (AS OF SYSTEM TIME, THROTTLING, ...) are not supported yet")
	}
	te := st.Table
	if n, ok := te.(*tree.UnresolvedObjectName); ok {
		tn := n.ToTableName()
		te = &tn
	}
	d, _, err := b.table(te)
	if err != nil {
		return nil, err
	}
	for _, c := range st.ColumnNames {
		if d.ColumnIndex(string(c)) < 0 {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q does not exist", string(c))
		}
	}
	if !d.IsTable() {
		return nil, pgerror.Newf("42809", "%q is not a table", d.Name)
	}
	return &result{tag: "CREATE STATISTICS"}, schemaChanger{b}.analyzeTable(d, r, string(st.Name))
}

var showStatsJSONCols = []resultColumn{{name: "statistics", typ: types.Jsonb}}

var showStatsCols = []resultColumn{
	{name: "statistics_name", typ: types.String}, {name: "column_names", typ: types.StringArray},
	{name: "created", typ: types.Timestamp}, {name: "row_count", typ: types.Int},
	{name: "distinct_count", typ: types.Int}, {name: "null_count", typ: types.Int},
	{name: "avg_size", typ: types.Int},
}

// showTableStats is SHOW STATISTICS FOR TABLE t: a row per column of its
// last statistics (none if it was never analyzed).
func (s *session) showTableStats(b *builder, st *tree.ShowTableStats) (*result, error) {
	if len(st.Options) > 0 {
		return nil, pgerror.Unsupported("SHOW STATISTICS WITH options is not supported yet")
	}
	tn := st.Table.ToTableName()
	d, _, err := b.table(&tn)
	if err != nil {
		return nil, err
	}
	stats, err := catalog.GetStatistics(b.ctx, b.txn, d.ID)
	if err != nil {
		return nil, err
	}
	if st.UsingJSON {
		raw, err := statisticsJSON(d, stats)
		if err != nil {
			return nil, err
		}
		j, err := tree.ParseDJSON(raw)
		if err != nil {
			return nil, err
		}
		return &result{cols: showStatsJSONCols, rows: []tree.Datums{{j}}, tag: "SHOW STATISTICS 1"}, nil
	}
	res := &result{cols: showStatsCols}
	if stats != nil {
		created, err := tree.MakeDTimestamp(time.Unix(0, stats.CreatedNanos).UTC(), time.Microsecond)
		if err != nil {
			return nil, err
		}
		for _, c := range d.Columns {
			cs := stats.Column(c.ID)
			if cs == nil || c.Hidden {
				continue
			}
			names := tree.NewDArray(types.String)
			if err := names.Append(tree.NewDString(c.Name)); err != nil {
				return nil, err
			}
			res.rows = append(res.rows, tree.Datums{tree.NewDString(stats.Name), names, created,
				tree.NewDInt(tree.DInt(stats.RowCount)), tree.NewDInt(tree.DInt(cs.Distinct)),
				tree.NewDInt(tree.DInt(cs.Nulls)), tree.NewDInt(tree.DInt(cs.AvgWidth))})
		}
	}
	res.tag = fmt.Sprintf("SHOW STATISTICS %d", len(res.rows))
	return res, nil
}
