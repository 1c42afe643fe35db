package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// EXPLAIN prints the plan as an indented tree, one node a line with what
// decides its cost: the access path of each scan (a primary-key point or
// prefix, a secondary index, or the whole table), lookup joins, filters.
// EXPLAIN ANALYZE also runs the statement (in its transaction, which is
// then committed or rolled back as usual) and adds each node's rows and
// time.

func explainPlan(p planNode, ests map[planNode]estimate, stats map[planNode]*nodeStats) []string {
	var lines []string
	var walk func(p planNode, depth int)
	walk = func(p planNode, depth int) {
		if c, ok := p.(*countingNode); ok {
			p = c.planNode
		}
		desc, inputs := p.explain()
		line := strings.Repeat("  ", depth) + "• " + desc
		if e, ok := ests[p]; ok {
			line += "  " + e.String()
		}
		if s := stats[p]; s != nil {
			line += fmt.Sprintf("  (rows: %d, time: %s)", s.rows, s.time.Round(time.Microsecond))
		}
		lines = append(lines, line)
		for _, in := range inputs {
			walk(*in, depth+1)
		}
	}
	walk(p, 0)
	return lines
}

// nodeStats are what EXPLAIN ANALYZE measures per node.
type nodeStats struct {
	rows int
	time time.Duration
}

// countingNode wraps a node to count its rows and the time spent in it
// (its children's included).
type countingNode struct {
	planNode
	stats *nodeStats
	now   func() time.Time
}

func (c *countingNode) next(r *runner) (tree.Datums, error) {
	start := c.now()
	row, err := c.planNode.next(r)
	c.stats.time += c.now().Sub(start)
	if row != nil {
		c.stats.rows++
	}
	return row, err
}

// instrument wraps every node of a plan in a countingNode.
func instrument(p planNode, stats map[planNode]*nodeStats, now func() time.Time) planNode {
	_, inputs := p.explain()
	for _, in := range inputs {
		*in = instrument(*in, stats, now)
	}
	s := &nodeStats{}
	stats[p] = s
	return &countingNode{planNode: p, stats: s, now: now}
}

// explainResult is EXPLAIN's output: one text column, QUERY PLAN.
func explainResult(lines []string) *result {
	res := &result{cols: []resultColumn{{name: "QUERY PLAN", typ: types.String}}, tag: fmt.Sprintf("SELECT %d", len(lines))}
	for _, l := range lines {
		res.rows = append(res.rows, tree.Datums{tree.NewDString(l)})
	}
	return res
}
