package sql

import (
	"math"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/meridiandb/meridian/sql/opt"
)

// Join order. A tree of inner joins (a comma list, JOIN ... ON, or both)
// over tables that all have statistics is rebuilt in the order the
// statistics make cheapest (opt.JoinGraph): its conditions are pooled,
// each placed at the first join that has all its columns, and the join
// methods chosen anew. A reorderNode on top puts the columns back in the
// order written, so nothing above sees a difference. Without statistics
// for every table, or with anything but plain table scans under the
// inner joins (subqueries, functions, outer joins), or with a condition
// that holds a subquery (planned against the written column order) or
// names an outer query's column, the joins run as written.

// joinLeaf is one table of an inner join tree: its scan and where its
// columns start in the tree's row.
type joinLeaf struct {
	scan   *scanNode
	offset int
	est    opt.TableEstimate
}

// reorderJoins returns plan with its inner join tree in the cheapest
// order the statistics show; plan itself if it is not one.
func (b *builder) reorderJoins(plan planNode) planNode {
	top, ok := plan.(*joinNode)
	if !ok || top.kind != innerJoin || b.stats == nil {
		return plan
	}
	var leaves []*joinLeaf
	var conds []tree.TypedExpr
	if !collectInnerJoins(top, 0, &leaves, &conds) || len(leaves) > 63 {
		return plan
	}
	for _, l := range leaves {
		s := b.stats.get(b.ctx, l.scan.desc.ID)
		if s == nil {
			return plan
		}
		l.est = opt.TableEstimate{Stats: s, Desc: l.scan.desc}
	}
	g := &opt.JoinGraph{Rows: make([]float64, len(leaves))}
	// For each leaf's primary key column, the sets of other leaves an
	// equality fixes it from (a lookup join once they are joined).
	pkFrom := make([][][]uint64, len(leaves))
	for i, l := range leaves {
		pkFrom[i] = make([][]uint64, len(l.scan.desc.PrimaryKey))
	}
	leafFilters := make([]tree.TypedExpr, len(leaves))
	width := len(top.cols)
	for _, c := range conds {
		rels := leafSet(leaves, c)
		if _, hi, _ := varRange(c); rels == 0 || hi >= width {
			return plan // a constant condition, or an outer query's column
		}
		if rels&(rels-1) == 0 {
			i := bitIndex(rels)
			leafFilters[i] = andExprs(leafFilters[i], shiftVars(c, -leaves[i].offset))
			continue
		}
		g.Preds = append(g.Preds, joinPredicate(leaves, c, rels, pkFrom))
	}
	for i, l := range leaves {
		g.Rows[i] = math.Max(1, l.est.Rows()*l.est.Selectivity(andExprs(l.scan.filter, leafFilters[i])))
	}
	g.Lookup = func(r int, set uint64) bool {
		if len(pkFrom[r]) == 0 {
			return false
		}
		for _, sets := range pkFrom[r] {
			fixed := false
			for _, s := range sets {
				fixed = fixed || s&^set == 0
			}
			if !fixed {
				return false
			}
		}
		return true
	}
	// Built again even in the order written: the methods, the sides of
	// the hash joins and the estimates come from the statistics.
	order, _ := g.Order()
	for r, l := range leaves {
		l.scan.estimate = g.Rows[r]
	}
	return buildJoinOrder(leaves, order, conds, leafFilters, top.cols, g.StepRows(order))
}

// collectInnerJoins gathers the scans under an inner join tree and its
// conditions (over the tree's row); false if something other than an
// inner join or a table scan is in it, or a condition holds a subquery.
func collectInnerJoins(p planNode, offset int, leaves *[]*joinLeaf, conds *[]tree.TypedExpr) bool {
	switch n := p.(type) {
	case *scanNode:
		*leaves = append(*leaves, &joinLeaf{scan: n, offset: offset})
		return true
	case *joinNode:
		if n.kind != innerJoin {
			return false
		}
		if n.on != nil {
			if hasSubquery(n.on) {
				return false
			}
			for _, c := range conjuncts(n.on) {
				*conds = append(*conds, shiftVars(c, offset))
			}
		}
		return collectInnerJoins(n.left, offset, leaves, conds) &&
			collectInnerJoins(n.right, offset+n.leftCols, leaves, conds)
	}
	return false
}

func hasSubquery(e tree.Expr) bool {
	found := false
	_, _ = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
		if _, ok := x.(*tree.Subquery); ok {
			found = true
		}
		return !found, x, nil
	})
	return found
}

// leafSet is the set of leaves whose columns c reads (a bit each).
func leafSet(leaves []*joinLeaf, c tree.Expr) uint64 {
	var set uint64
	_, _ = tree.SimpleVisit(c, func(x tree.Expr) (bool, tree.Expr, error) {
		if v, ok := x.(*tree.IndexedVar); ok {
			if i := leafOf(leaves, v.Idx); i >= 0 {
				set |= 1 << i
			}
		}
		return true, x, nil
	})
	return set
}

// leafOf is the leaf whose columns hold column col of the tree's row; -1
// for none (an outer query's column).
func leafOf(leaves []*joinLeaf, col int) int {
	for i := len(leaves) - 1; i >= 0; i-- {
		l := leaves[i]
		if col >= l.offset {
			if col < l.offset+len(l.scan.cols) {
				return i
			}
			return -1
		}
	}
	return -1
}

func bitIndex(set uint64) int {
	i := 0
	for set > 1 {
		set >>= 1
		i++
	}
	return i
}

// joinPredicate describes condition c between the leaves rels for the
// search: an equality of two columns has the selectivity their distinct
// counts give, and one that fixes a primary key column of a leaf from
// the others is noted in pkFrom.
func joinPredicate(leaves []*joinLeaf, c tree.TypedExpr, rels uint64, pkFrom [][][]uint64) opt.Predicate {
	p := opt.Predicate{Rels: rels, Selectivity: 1.0 / 3}
	cmp, ok := c.(*tree.ComparisonExpr)
	if !ok || cmp.Operator.Symbol != treecmp.EQ {
		return p
	}
	sides := [2]tree.TypedExpr{cmp.TypedLeft(), cmp.TypedRight()}
	var vars [2]*tree.IndexedVar
	var sets [2]uint64
	for i, e := range sides {
		vars[i], _ = e.(*tree.IndexedVar)
		sets[i] = leafSet(leaves, e)
	}
	if sets[0] == 0 || sets[1] == 0 || sets[0]&sets[1] != 0 {
		return p
	}
	p.Equi = hashable(sides[0].ResolvedType(), sides[1].ResolvedType())
	p.Selectivity = 0.005
	if vars[0] != nil && vars[1] != nil {
		a, b := leafOf(leaves, vars[0].Idx), leafOf(leaves, vars[1].Idx)
		p.Selectivity = opt.JoinSelectivity(leaves[a].est, vars[0].Idx-leaves[a].offset, leaves[b].est, vars[1].Idx-leaves[b].offset)
	}
	for i, v := range vars {
		if v == nil || sets[i]&(sets[i]-1) != 0 {
			continue
		}
		l := bitIndex(sets[i])
		for k, pk := range leaves[l].scan.desc.PrimaryKey {
			if pk == v.Idx-leaves[l].offset {
				pkFrom[l][k] = append(pkFrom[l][k], sets[1-i])
			}
		}
	}
	return p
}

func andExprs(a, b tree.TypedExpr) tree.TypedExpr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return tree.NewTypedAndExpr(a, b)
}

// buildJoinOrder joins the leaves in order, left-deep: each condition
// goes to the first join that has all its columns (a leaf's own into its
// scan), with its columns renumbered for that join's row. A hash join
// keeps its right side's rows in a table and streams its left side's:
// when the next leaf is expected to have more rows than the join so far,
// the leaf goes left (its columns first). A reorderNode puts the columns
// back in the written order (cols).
func buildJoinOrder(leaves []*joinLeaf, order []int, conds, leafFilters []tree.TypedExpr, cols []resultColumn, steps []float64) planNode {
	// layout is the leaves of the plan so far in its column order, and
	// offset where each one's columns start.
	layout := []int{order[0]}
	offset := make([]int, len(leaves))
	relayout := func() {
		w := 0
		for _, l := range layout {
			offset[l] = w
			w += len(leaves[l].scan.cols)
		}
	}
	remap := func(e tree.TypedExpr) tree.TypedExpr {
		out, _ := tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
			if v, ok := x.(*tree.IndexedVar); ok {
				if l := leafOf(leaves, v.Idx); l >= 0 {
					return false, tree.NewTypedOrdinalReference(v.Idx-leaves[l].offset+offset[l], v.ResolvedType()), nil
				}
			}
			return true, x, nil
		})
		return out.(tree.TypedExpr)
	}
	for i, f := range leafFilters {
		if f != nil {
			s := leaves[i].scan
			s.filter = andExprs(s.filter, f)
			chooseIndex(s)
		}
		costIndex(leaves[i].scan, leaves[i].est)
	}
	placed := make([]bool, len(conds))
	var plan planNode = leaves[order[0]].scan
	set := uint64(1) << order[0]
	for step, r := range order[1:] {
		set |= 1 << r
		var on tree.TypedExpr
		var at []int
		for i, c := range conds {
			if rels := leafSet(leaves, c); !placed[i] && rels&(rels-1) != 0 && rels&^set == 0 {
				placed[i] = true
				at = append(at, i)
			}
		}
		leaf := leaves[r].scan
		build := func(swap bool) *joinNode {
			if swap {
				layout = append([]int{r}, layout...)
			} else {
				layout = append(layout, r)
			}
			relayout()
			on = nil
			for _, i := range at {
				on = andExprs(on, remap(conds[i]))
			}
			left, right := plan, planNode(leaf)
			if swap {
				left, right = right, left
			}
			j := &joinNode{left: left, right: right, kind: innerJoin, leftCols: len(left.columns()),
				cols: joinColumns(left.columns(), right.columns(), false), on: on}
			j.chooseMethod()
			return j
		}
		j := build(false)
		if j.hash != nil {
			useIndexLookup(j, leaf, steps[step], leaves[r].est.Rows())
		}
		if j.hash != nil && steps[step] < leaf.estimate {
			layout = layout[:len(layout)-1]
			j = build(true)
			// Hash the smaller side, even where the plan so far is
			// one scan whose key the leaf's rows could look up.
			j.lookup, j.hash = nil, equiColumns(j.on, j.leftCols, len(j.cols))
		}
		j.estimate = steps[step+1]
		plan = j
	}
	names := make([]string, len(layout))
	for i, l := range layout {
		names[i] = leaves[l].scan.desc.Name
	}
	perm := make([]int, 0, len(cols))
	for i, l := range leaves {
		for c := range l.scan.cols {
			perm = append(perm, offset[i]+c)
		}
	}
	return &reorderNode{src: plan, perm: perm, cols: cols, order: names}
}

// reorderNode is a reordered join: its source's row with the columns put
// back in the order the query wrote its tables in.
type reorderNode struct {
	src   planNode
	perm  []int // column i is the source's perm[i]
	cols  []resultColumn
	order []string
}

func (n *reorderNode) columns() []resultColumn { return n.cols }

func (n *reorderNode) explain() (string, []*planNode) {
	return "join order " + strings.Join(n.order, ", "), []*planNode{&n.src}
}

func (n *reorderNode) next(r *runner) (tree.Datums, error) {
	row, err := n.src.next(r)
	if err != nil || row == nil {
		return nil, err
	}
	out := make(tree.Datums, len(n.perm))
	for i, p := range n.perm {
		out[i] = row[p]
	}
	return out, nil
}
