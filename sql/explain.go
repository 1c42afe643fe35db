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

func explainPlan(p planNode, stats map[planNode]*nodeStats) []string {
	var lines []string
	var walk func(p planNode, depth int)
	walk = func(p planNode, depth int) {
		if c, ok := p.(*countingNode); ok {
			p = c.planNode
		}
		line := strings.Repeat("  ", depth) + "• " + describeNode(p)
		if s := stats[p]; s != nil {
			line += fmt.Sprintf("  (rows: %d, time: %s)", s.rows, s.time.Round(time.Microsecond))
		}
		lines = append(lines, line)
		for _, c := range children(p) {
			walk(c, depth+1)
		}
	}
	walk(p, 0)
	return lines
}

func children(p planNode) []planNode {
	switch n := p.(type) {
	case *filterNode:
		return []planNode{n.src}
	case *renderNode:
		return []planNode{n.src}
	case *sortNode:
		return []planNode{n.src}
	case *limitNode:
		return []planNode{n.src}
	case *groupNode:
		return []planNode{n.src}
	case *joinNode:
		if n.lookup != nil {
			return []planNode{n.left}
		}
		return []planNode{n.left, n.right}
	case *setOpNode:
		return []planNode{n.left, n.right}
	case *renameNode:
		return []planNode{n.src}
	case *insertNode:
		return []planNode{n.src}
	case *updateNode:
		return []planNode{n.src}
	case *deleteNode:
		return []planNode{n.src}
	case *fullRowNode:
		return []planNode{n.src}
	case *countingNode:
		return children(n.planNode)
	}
	return nil
}

func describeNode(p planNode) string {
	switch n := p.(type) {
	case *scanNode:
		s := "scan " + n.desc.Name
		switch {
		case n.index != nil:
			s += "@" + n.index.Name + " (index span, then a point read of each row)"
		case n.span != nil:
			s += "@" + n.desc.Name + "_pkey (primary key span)"
		default:
			s += "@" + n.desc.Name + "_pkey (full scan)"
		}
		if n.filter != nil {
			s += " filter: " + tree.AsString(n.filter)
		}
		return s
	case *virtualNode:
		return "virtual table"
	case *valuesNode:
		return fmt.Sprintf("values (%d rows)", len(n.rows))
	case *filterNode:
		return "filter: " + tree.AsString(n.filter)
	case *renderNode:
		var cols []string
		for _, c := range n.cols {
			cols = append(cols, c.name)
		}
		return "render " + strings.Join(cols, ", ")
	case *sortNode:
		var keys []string
		for _, o := range n.order {
			k := fmt.Sprintf("@%d", o.idx+1)
			if o.desc {
				k += " desc"
			}
			keys = append(keys, k)
		}
		return "sort " + strings.Join(keys, ", ")
	case *limitNode:
		s := "limit"
		if n.count != nil {
			s += " " + tree.AsString(n.count)
		}
		if n.offset != nil {
			s += " offset " + tree.AsString(n.offset)
		}
		return s
	case *groupNode:
		var aggs []string
		for _, a := range n.aggs {
			aggs = append(aggs, string(a.kind))
		}
		return fmt.Sprintf("group (%d keys) %s", len(n.groupBy), strings.Join(aggs, ", "))
	case *joinNode:
		kind := "inner"
		if n.kind == leftJoin {
			kind = "left"
		}
		if n.lookup != nil {
			return fmt.Sprintf("lookup join (%s) into %s by primary key", kind, n.right.(*scanNode).desc.Name)
		}
		s := "nested loop join (" + kind + ")"
		if n.on != nil {
			s += " on " + tree.AsString(n.on)
		}
		return s
	case *setOpNode:
		s := n.kind.String()
		if n.all {
			s += " ALL"
		}
		return s
	case *renameNode:
		return "subquery"
	case *insertNode:
		return "insert into " + n.desc.Name
	case *updateNode:
		return "update " + n.desc.Name
	case *deleteNode:
		return "delete from " + n.desc.Name
	case *fullRowNode:
		return "fill defaults and casts for " + n.desc.Name
	}
	return fmt.Sprintf("%T", p)
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
	switch n := p.(type) {
	case *filterNode:
		n.src = instrument(n.src, stats, now)
	case *renderNode:
		n.src = instrument(n.src, stats, now)
	case *sortNode:
		n.src = instrument(n.src, stats, now)
	case *limitNode:
		n.src = instrument(n.src, stats, now)
	case *groupNode:
		n.src = instrument(n.src, stats, now)
	case *joinNode:
		n.left = instrument(n.left, stats, now)
		if n.lookup == nil {
			n.right = instrument(n.right, stats, now)
		}
	case *setOpNode:
		n.left, n.right = instrument(n.left, stats, now), instrument(n.right, stats, now)
	case *renameNode:
		n.src = instrument(n.src, stats, now)
	case *insertNode:
		n.src = instrument(n.src, stats, now)
	case *updateNode:
		n.src = instrument(n.src, stats, now)
	case *deleteNode:
		n.src = instrument(n.src, stats, now)
	case *fullRowNode:
		n.src = instrument(n.src, stats, now)
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
