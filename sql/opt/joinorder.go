package opt

import "math/bits"

// JoinGraph is an inner join of several relations, for choosing the
// order to join them in: each relation's estimated rows (its own filters
// applied) and the conditions between them.
type JoinGraph struct {
	Rows  []float64
	Preds []Predicate
	// Lookup reports whether relation r's matching rows can be read by
	// key from a row of the relations in set (a lookup join: no scan of
	// r); nil: never.
	Lookup func(r int, set uint64) bool
}

// Predicate is a condition between relations (a bit per relation in
// Rels) that keeps Selectivity of the pairs it sees; Equi: an equality
// a hash join can key on.
type Predicate struct {
	Rels        uint64
	Selectivity float64
	Equi        bool
}

// exhaustiveLimit is the most relations whose every left-deep order is
// weighed (2^n subsets); more are ordered greedily.
const exhaustiveLimit = 10

// lookupCost is the cost of one key lookup against reading one row in
// a scan.
const lookupCost = 2

// plan is the best way found to join a set of relations.
type plan struct {
	order []int
	rows  float64
	cost  float64
}

// Order returns the order to join the relations in (a left-deep tree:
// the first two joined, then each next one joined to the result) and the
// estimated rows of the whole join. The cost of an order is the rows it
// reads and produces along the way: a hash join reads both inputs, a
// lookup join pays a lookup per left row, a nested loop a pair per left
// and right row.
func (g *JoinGraph) Order() ([]int, float64) {
	n := len(g.Rows)
	if n > exhaustiveLimit {
		return g.greedy()
	}
	best := make([]*plan, 1<<n)
	for r := range n {
		best[1<<r] = &plan{order: []int{r}, rows: g.Rows[r], cost: g.Rows[r]}
	}
	for set := uint64(1); set < 1<<n; set++ {
		p := best[set]
		if p == nil {
			continue
		}
		for r := range n {
			if set&(1<<r) != 0 {
				continue
			}
			rows, cost := g.step(p, set, r)
			next := set | 1<<r
			if q := best[next]; q == nil || cost < q.cost*(1-1e-9) {
				best[next] = &plan{order: append(append([]int(nil), p.order...), r), rows: rows, cost: cost}
			}
		}
	}
	p := best[1<<n-1]
	return p.order, p.rows
}

// step is the rows and the cost of joining relation r to the plan p of
// the relations in set.
func (g *JoinGraph) step(p *plan, set uint64, r int) (rows, cost float64) {
	rows = p.rows * g.Rows[r]
	equi := false
	for _, pr := range g.Preds {
		if pr.Rels&(1<<r) != 0 && pr.Rels&set != 0 && pr.Rels&^(set|1<<r) == 0 {
			rows *= pr.Selectivity
			equi = equi || pr.Equi
		}
	}
	switch {
	case g.Lookup != nil && g.Lookup(r, set):
		cost = p.cost + p.rows*lookupCost
	case equi:
		cost = p.cost + g.Rows[r] + p.rows
	default:
		cost = p.cost + g.Rows[r] + p.rows*g.Rows[r]
	}
	return rows, cost + rows
}

// greedy starts from the smallest relation and adds, each time, the one
// that is cheapest to join next.
func (g *JoinGraph) greedy() ([]int, float64) {
	n := len(g.Rows)
	first := 0
	for r := range n {
		if g.Rows[r] < g.Rows[first] {
			first = r
		}
	}
	p := &plan{order: []int{first}, rows: g.Rows[first], cost: g.Rows[first]}
	set := uint64(1) << first
	for bits.OnesCount64(set) < n {
		bestR, bestRows, bestCost := -1, 0.0, 0.0
		for r := range n {
			if set&(1<<r) != 0 {
				continue
			}
			rows, cost := g.step(p, set, r)
			if bestR < 0 || cost < bestCost {
				bestR, bestRows, bestCost = r, rows, cost
			}
		}
		p = &plan{order: append(p.order, bestR), rows: bestRows, cost: bestCost}
		set |= 1 << bestR
	}
	return p.order, p.rows
}

// StepRows returns the estimated rows of each prefix of order joined: of
// its first relation, of the first two joined, and so on.
func (g *JoinGraph) StepRows(order []int) []float64 {
	p := &plan{rows: g.Rows[order[0]], cost: g.Rows[order[0]]}
	out := []float64{p.rows}
	set := uint64(1) << order[0]
	for _, r := range order[1:] {
		p.rows, p.cost = g.step(p, set, r)
		set |= 1 << r
		out = append(out, p.rows)
	}
	return out
}
