package sql

import (
	"hash/maphash"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Hybrid hash aggregation. An aggregation whose groups outgrow the node's
// SQL memory budget keeps the groups it holds and aggregates their rows
// in memory as before, but writes the rows of every group it does not
// hold to disk, split by a hash of their group into partitions
// (spill.go): all the rows of a group share a partition. It answers the
// groups it held, giving each one's memory back as its row goes, then
// aggregates the
// partitions one at a time, each by an aggregation of its own over the
// partition's rows, which may spill again, down to maxSpillDepth. An
// aggregation over grouping sets, an aggregate whose own state outgrows
// the budget (a huge string_agg), or a statement without a temporary
// directory fails with 53200 as before.

// spillable reports whether the aggregation can answer err, the budget's
// refusal of a new group (or errOverShare), by spilling.
func (n *groupNode) spillable(r *runner, err error) bool {
	return n.sets == nil && n.depth < maxSpillDepth && (err == errOverShare && r.spill != nil || r.canSpill(err))
}

// errOverShare stands for the budget's refusal when an aggregation's
// groups pass its share of the budget (runner.spillPast).
var errOverShare = pgerror.New(pgerror.CodeOutOfMemory, "an aggregation's groups passed its share of the memory budget")

// groupPartitions are the runs the rows of the spilled groups go to.
type groupPartitions struct {
	seed maphash.Seed
	runs []*runWriter
}

func newGroupPartitions(r *runner, cols []resultColumn) (*groupPartitions, error) {
	p := &groupPartitions{seed: maphash.MakeSeed(), runs: make([]*runWriter, spillPartitions)}
	for i := range p.runs {
		var err error
		if p.runs[i], err = r.spill.newRun(cols); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// put writes row, of the group encoded as enc, to its group's partition.
func (p *groupPartitions) put(enc []byte, row tree.Datums) error {
	return p.runs[maphash.Bytes(p.seed, enc)%spillPartitions].write(row)
}

// finish closes the runs for reading, for n's spilled groups.
func (p *groupPartitions) finish(n *groupNode) (*groupSpill, error) {
	var parts []*runReader
	for _, w := range p.runs {
		rd, err := w.finish()
		if err != nil {
			return nil, err
		}
		parts = append(parts, rd)
	}
	return &groupSpill{partitionWalk{count: len(parts), plan: func(i int) planNode {
		return &groupNode{src: &runScan{rd: parts[i], cols: n.src.columns()},
			groupBy: n.groupBy, aggs: n.aggs, cols: n.cols, depth: n.depth + 1}
	}}}, nil
}

// groupSpill aggregates the partitions of a spilled aggregation in turn.
type groupSpill struct{ partitionWalk }
