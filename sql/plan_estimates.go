package sql

import (
	"math"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
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

// indexLookupCost is what reading a row through a secondary index costs
// against reading it in a scan of the table: the index entry, then a
// point read of the row by its primary key.
const indexLookupCost = 4

// costIndex undoes chooseIndex's pick of a secondary index span that the
// statistics say holds so many rows that reading each through the index
// costs more than reading the whole table (a rule picks the index whose
// leading columns the filter fixes most, however many rows it fixes them
// for). A partial index is left alone: it holds only its predicate's
// rows.
func costIndex(n *scanNode, est opt.TableEstimate) {
	if n.index == nil || n.index.Predicate != "" || est.Stats == nil {
		return
	}
	key := map[int]bool{}
	for _, c := range n.index.Columns {
		key[c] = true
	}
	var span tree.TypedExpr
	for _, c := range conjuncts(n.filter) {
		onKey := true
		_, _ = tree.SimpleVisit(c, func(x tree.Expr) (bool, tree.Expr, error) {
			if v, ok := x.(*tree.IndexedVar); ok && !key[v.Idx] {
				onKey = false
			}
			return onKey, x, nil
		})
		if onKey {
			span = andExprs(span, c)
		}
	}
	if est.Rows()*est.Selectivity(span)*indexLookupCost < est.Rows() {
		return
	}
	n.span, n.index, n.pkFixed, n.point = nil, nil, 0, false
	if f, k, _ := keySpan(n.desc, n.desc.IndexPrefix(), n.desc.PrimaryKey, n.filter); f != nil {
		n.span, n.pkFixed, n.point = f, k, k == len(n.desc.PrimaryKey)
	}
}

// tableEstimate is what the node's statistics say of d (Stats nil: it
// was never analyzed, or there are no statistics to plan with).
func (b *builder) tableEstimate(d *catalog.TableDescriptor) opt.TableEstimate {
	est := opt.TableEstimate{Desc: d}
	if b.stats != nil {
		est.Stats = b.stats.get(b.ctx, d.ID)
	}
	return est
}
