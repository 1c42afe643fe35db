package sql

import (
	"fmt"
	"math"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/opt"
)

// estimate is what EXPLAIN shows beside a node: the rows it is expected
// to produce and the cost of producing them, its inputs' included, in
// units of one row read from a table. Rows 0: unknown (a table below was
// never analyzed).
type estimate struct{ rows, cost float64 }

// String is the estimate as EXPLAIN prints it.
func (e estimate) String() string {
	return fmt.Sprintf("(estimated rows %.0f, cost %.1f)", e.rows, e.cost)
}

// estimator is a node that derives its estimate from its inputs' (in
// explain's order, all known); any other node's is unknown.
type estimator interface {
	planEstimate(b *builder, in []estimate) estimate
}

// rowCPU is what a node's work on one row costs (a filter's evaluation,
// a hash table's insert or probe) against reading it from a table.
const rowCPU = 0.1

// estimatePlan estimates every node of the plan, for EXPLAIN: only
// EXPLAIN pays for it; a plan that runs reads no statistics unless it
// has joins to order. Nodes with no estimate are not in the map.
func (b *builder) estimatePlan(p planNode) map[planNode]estimate {
	out := map[planNode]estimate{}
	b.estimateNode(p, out)
	return out
}

func (b *builder) estimateNode(p planNode, out map[planNode]estimate) estimate {
	_, inputs := p.explain()
	in := make([]estimate, len(inputs))
	known := true
	for i, x := range inputs {
		in[i] = b.estimateNode(*x, out)
		known = known && in[i].rows > 0
	}
	var e estimate
	if est, ok := p.(estimator); ok && known {
		e = est.planEstimate(b, in)
	}
	if e.rows > 0 {
		e.rows = math.Max(e.rows, 1)
		out[p] = e
	}
	return e
}

func (n *scanNode) planEstimate(b *builder, _ []estimate) estimate {
	if n.estimate == 0 && b.stats != nil {
		if st := b.stats.get(b.ctx, n.desc.ID); st != nil {
			est := opt.TableEstimate{Stats: st, Desc: n.desc}
			n.estimate = est.Rows() * est.Selectivity(n.filter)
			if n.point {
				n.estimate = math.Min(n.estimate, 1)
			}
			n.estimate = math.Max(n.estimate, 1)
		}
	}
	if n.estimate == 0 {
		return estimate{}
	}
	// What the scan reads: the whole table, or its span (at least the
	// rows it returns); through a secondary index, a point read each.
	read := n.estimate
	switch {
	case n.index != nil:
		read *= indexLookupCost
	case n.span == nil:
		if st := b.stats.get(b.ctx, n.desc.ID); st != nil {
			read = math.Max(read, float64(st.RowCount))
		}
	}
	return estimate{rows: n.estimate, cost: read}
}

// Nodes that make one row of each input row.
func (n *renameNode) planEstimate(_ *builder, in []estimate) estimate     { return in[0] }
func (n *reorderNode) planEstimate(_ *builder, in []estimate) estimate    { return in[0] }
func (n *cutNode) planEstimate(_ *builder, in []estimate) estimate        { return in[0] }
func (n *ordinalityNode) planEstimate(_ *builder, in []estimate) estimate { return in[0] }

func (n *renderNode) planEstimate(_ *builder, in []estimate) estimate {
	if n.srf != nil {
		return estimate{} // set-returning calls make an unknown number of rows each
	}
	return in[0]
}

func (n *windowNode) planEstimate(_ *builder, in []estimate) estimate {
	return estimate{rows: in[0].rows, cost: in[0].cost + in[0].rows*math.Log2(in[0].rows+1)*rowCPU}
}

func (n *filterNode) planEstimate(_ *builder, in []estimate) estimate {
	return estimate{rows: in[0].rows * opt.DefaultSelectivity(n.filter), cost: in[0].cost + in[0].rows*rowCPU}
}

func (n *sortNode) planEstimate(_ *builder, in []estimate) estimate {
	return estimate{rows: in[0].rows, cost: in[0].cost + in[0].rows*math.Log2(in[0].rows+1)*rowCPU}
}

// planEstimate of a limit: its count and offset when they are constants.
func (n *limitNode) planEstimate(_ *builder, in []estimate) estimate {
	rows := in[0].rows
	if off, ok := constInt(n.offset); ok {
		rows -= float64(off)
	}
	if c, ok := constInt(n.count); ok {
		rows = math.Min(rows, float64(c))
	}
	return estimate{rows: rows, cost: in[0].cost}
}

// constInt is e's value when it is an integer constant.
func constInt(e tree.TypedExpr) (int64, bool) {
	if d, ok := e.(*tree.DInt); ok {
		return int64(*d), true
	}
	return 0, false
}

// defaultGroups is how many groups a grouping is assumed to make when
// nothing says better (PostgreSQL's DEFAULT_NUM_DISTINCT).
const defaultGroups = 200

func (n *groupNode) planEstimate(_ *builder, in []estimate) estimate {
	rows := 1.0
	if len(n.groupBy) > 0 {
		rows = math.Min(in[0].rows, defaultGroups)
	}
	return estimate{rows: rows, cost: in[0].cost + in[0].rows*rowCPU}
}

func (n *distinctOnNode) planEstimate(_ *builder, in []estimate) estimate {
	return estimate{rows: math.Min(in[0].rows, defaultGroups), cost: in[0].cost + in[0].rows*rowCPU}
}

func (n *setOpNode) planEstimate(_ *builder, in []estimate) estimate {
	l, r := in[0], in[1]
	rows := l.rows + r.rows
	switch n.kind {
	case tree.IntersectOp:
		rows = math.Min(l.rows, r.rows)
	case tree.ExceptOp:
		rows = l.rows
	}
	return estimate{rows: rows, cost: l.cost + r.cost + (l.rows+r.rows)*rowCPU}
}

// planEstimate of a join: the join order search's when it ordered the join,
// else from the method: a lookup finds at most one row per left row, a
// hash join about as many as its larger side, a nested loop the pairs
// its condition keeps; an outer join keeps its preserved sides' rows.
func (n *joinNode) planEstimate(_ *builder, in []estimate) estimate {
	l := in[0]
	if n.lookup != nil {
		return estimate{rows: orDefault(n.estimate, l.rows), cost: l.cost + l.rows}
	}
	if n.byIndex != nil {
		return estimate{rows: orDefault(n.estimate, l.rows), cost: l.cost + l.rows*spanLookupCost}
	}
	r := in[1]
	var e estimate
	if n.hash != nil {
		e = estimate{rows: math.Max(l.rows, r.rows), cost: l.cost + r.cost + (l.rows+r.rows)*rowCPU}
	} else {
		e = estimate{rows: l.rows * r.rows * opt.DefaultSelectivity(n.on), cost: l.cost + r.cost + l.rows*r.rows*rowCPU}
	}
	e.rows = orDefault(n.estimate, e.rows)
	if n.kind.keepsLeft() {
		e.rows = math.Max(e.rows, l.rows)
	}
	if n.kind.keepsRight() {
		e.rows = math.Max(e.rows, r.rows)
	}
	return e
}

func orDefault(v, def float64) float64 {
	if v > 0 {
		return v
	}
	return def
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
	if n.index == nil || n.index.Predicate != "" || n.index.Inverted() || est.Stats == nil {
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
	n.span, n.index, n.pkFixed, n.point, n.indexOnly, n.inverted = nil, nil, 0, false, false, nil
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
