package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/opt"
)

// analyzeTable reads every row of d and stores its statistics (see
// catalog.TableStatistics), replacing the last ones; the sample the
// histograms come from is charged to the statement's memory budget.
func (b schemaChanger) analyzeTable(d *catalog.TableDescriptor, r *runner) error {
	c := opt.NewCollector(d)
	if err := r.grow(opt.MemoryPerColumn * int64(len(d.Columns))); err != nil {
		return err
	}
	err := forEachRow(r, d, func(row tree.Datums) error {
		grew, err := c.Add(row)
		if err == nil && grew > 0 {
			err = r.grow(grew)
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := catalog.PutStatistics(b.ctx, b.txn, d.ID, c.Finish(r.eval.StmtTime.UnixNano())); err != nil {
		return err
	}
	if b.stats != nil {
		b.stats.forget(d.ID)
	}
	return nil
}
