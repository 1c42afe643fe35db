package sql

import (
	"math"

	"github.com/meridiandb/meridian/sql/opt"
)

// annotateEstimates sets, for EXPLAIN, the estimated rows of the plan's
// scans of analyzed tables that the join order search did not estimate
// already. Only EXPLAIN pays for it: a plan that runs reads no
// statistics unless it has joins to order.
func (b *builder) annotateEstimates(p planNode) {
	if s, ok := p.(*scanNode); ok && s.estimate == 0 && b.stats != nil {
		if st := b.stats.get(b.ctx, s.desc.ID); st != nil {
			est := opt.TableEstimate{Stats: st, Desc: s.desc}
			s.estimate = est.Rows() * est.Selectivity(s.filter)
			if s.point {
				s.estimate = math.Min(s.estimate, 1)
			}
			s.estimate = math.Max(s.estimate, 1)
		}
	}
	_, inputs := p.explain()
	for _, in := range inputs {
		b.annotateEstimates(*in)
	}
}
