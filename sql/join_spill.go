package sql

import (
	"hash/maphash"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/errors"
)

// Grace hash join. A hash join whose right rows outgrow the node's SQL
// memory budget gives them back and splits both sides by a hash of the
// join key into partitions on disk (spill.go): the rows that can match
// share a partition. It then joins the partitions one at a time, each by
// a hash join of its own over the partition's rows, whose memory goes
// back to the budget when the partition is done. A partition still too
// big splits again with another hash, down to maxSpillDepth; past that
// (one key holding more rows than the budget), or without a temporary
// directory, or for a join that is not a hash join, the statement fails
// with 53200 as before.

const (
	// spillPartitions is how many partitions a spilling hash join makes.
	spillPartitions = 16
	// maxSpillDepth bounds how often a partition splits again.
	maxSpillDepth = 3
)

// joinSpill joins the partitions of a spilled hash join in turn.
type joinSpill struct {
	n             *joinNode
	lefts, rights []*runReader
	parts         partitionWalk
}

// spillable reports whether the join can answer err, the budget's
// refusal of its right rows, by spilling them.
func (n *joinNode) spillable(r *runner, err error) bool {
	return n.hash != nil && n.depth < maxSpillDepth && r.canSpill(err)
}

// spill partitions the right rows (those held, charged held bytes; then
// pending, the one the budget refused, and the rest after it; nil when
// the right side was read whole) and the whole left side to disk, giving
// back the memory.
func (n *joinNode) spill(r *runner, held int64, pending tree.Datums) error {
	seed := maphash.MakeSeed()
	partitioned := func(cols []resultColumn) ([]*runWriter, error) {
		ws := make([]*runWriter, spillPartitions)
		for i := range ws {
			var err error
			if ws[i], err = r.spill.newRun(cols); err != nil {
				return nil, err
			}
		}
		return ws, nil
	}
	// put writes row to the partition of its key; a row with a NULL key
	// matches nothing and may go to any: the first.
	put := func(ws []*runWriter, key []tree.TypedExpr, row tree.Datums) error {
		k, ok, err := n.hash.key(r, key, row)
		if err != nil {
			return err
		}
		p := 0
		if ok {
			p = int(maphash.Bytes(seed, k) % spillPartitions)
		}
		return ws[p].write(row)
	}
	rights, err := partitioned(n.right.columns())
	if err != nil {
		return err
	}
	for _, row := range n.rightRows {
		if err := put(rights, n.hash.right, row); err != nil {
			return err
		}
	}
	n.rightRows, n.buckets = nil, nil
	r.mem.Shrink(held)
	for row := pending; row != nil; {
		if err := put(rights, n.hash.right, row); err != nil {
			return err
		}
		if row, err = n.right.next(r); err != nil {
			return err
		}
	}
	lefts, err := partitioned(n.left.columns())
	if err != nil {
		return err
	}
	for {
		row, err := n.left.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		if err := put(lefts, n.hash.left, row); err != nil {
			return err
		}
	}
	s := &joinSpill{n: n}
	for i := range spillPartitions {
		lr, err := lefts[i].finish()
		if err != nil {
			return err
		}
		rr, err := rights[i].finish()
		if err != nil {
			return err
		}
		s.lefts, s.rights = append(s.lefts, lr), append(s.rights, rr)
	}
	s.parts = partitionWalk{count: spillPartitions, plan: func(i int) planNode {
		return &joinNode{
			left:     &runScan{rd: s.lefts[i], cols: n.left.columns()},
			right:    &runScan{rd: s.rights[i], cols: n.right.columns()},
			kind:     n.kind,
			leftCols: n.leftCols,
			on:       n.on,
			cols:     n.cols,
			hash:     n.hash,
			depth:    n.depth + 1,
		}
	}}
	n.spilled = s
	return nil
}

// next is the next row of the partitions' joins, nil after the last.
func (s *joinSpill) next(r *runner) (tree.Datums, error) { return s.parts.next(r) }

// partitionWalk runs a plan over each partition of a spilled operator in
// turn, each with a memory account of its own, closed when the partition
// is done (or with the statement's files, if it ends first).
type partitionWalk struct {
	count int
	// plan is partition i's plan.
	plan func(i int) planNode
	done int
	cur  planNode
	sub  runner
}

// next is the next row of the partitions' plans, nil after the last.
func (w *partitionWalk) next(r *runner) (tree.Datums, error) {
	for {
		if w.cur == nil {
			if w.done == w.count {
				return nil, nil
			}
			w.sub = *r
			w.sub.mem = r.mem.Monitor().NewAccount()
			r.spill.onClose(w.sub.mem.Close)
			w.cur = w.plan(w.done)
			w.done++
		}
		row, err := w.cur.next(&w.sub)
		if err != nil || row != nil {
			return row, err
		}
		w.sub.mem.Close()
		w.cur = nil
	}
}

// runScan reads the rows of a run: a spilled partition's side.
type runScan struct {
	rd   *runReader
	cols []resultColumn
}

func (s *runScan) columns() []resultColumn { return s.cols }

func (s *runScan) next(r *runner) (tree.Datums, error) {
	if err := r.checkCancel(); err != nil {
		return nil, err
	}
	row, err := s.rd.next()
	if err == nil && row != nil && len(row) != len(s.cols) {
		return nil, errors.AssertionFailedf("a spilled row of %d columns in a run of %d", len(row), len(s.cols))
	}
	return row, err
}

func (s *runScan) explain() (string, []*planNode) { return "spilled rows", nil }
