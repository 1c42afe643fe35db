package sql

import (
	"container/heap"
	"sort"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// External sort. A sort whose rows outgrow the node's SQL memory budget
// (--max-sql-memory) sorts what it holds, writes it to a file as a
// sorted run, gives the memory back and goes on; at the end it merges
// the runs and what it still holds, a row of each at a time. The files
// live in the executor's temporary directory (UseTempStorage) and are
// removed when the statement ends. Without one, or for rows whose types
// have no value encoding, the sort fails with 53200 as before.

// fill reads the sort's input and sorts it: in memory, or past the
// budget in runs on disk that next merges.
func (n *sortNode) fill(r *runner) error {
	var held int64
	var runs []*runReader
	past := r.spillPast()
	for {
		row, err := n.src.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		size := rowenc.DatumsSize(row)
		err = r.growRow(row)
		// Past its share of the budget (spillPast) the sort spills as if
		// the budget had refused the row.
		overShare := err == nil && past > 0 && held+size > past
		if overShare {
			r.mem.Shrink(size)
		}
		if (overShare || err != nil && r.canSpill(err)) && len(n.rows) > 0 {
			run, serr := n.spillRun(r)
			if serr != nil {
				return errors.CombineErrors(err, serr)
			}
			runs = append(runs, run)
			r.mem.Shrink(held)
			held, n.rows = 0, nil
			err = r.growRow(row)
		}
		if err != nil {
			return err
		}
		held += size
		n.rows = append(n.rows, row)
	}
	if err := n.sortHeld(r); err != nil {
		return err
	}
	if len(runs) > 0 {
		n.merge = newRunMerger(r, n, runs, n.rows)
		n.rows = nil
	}
	return nil
}

// sortHeld sorts the rows held in memory, stably.
func (n *sortNode) sortHeld(r *runner) error {
	var sortErr error
	sort.SliceStable(n.rows, func(i, j int) bool {
		c, err := n.compare(r, n.rows[i], n.rows[j])
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c < 0
	})
	return sortErr
}

func (n *sortNode) compare(r *runner, a, b tree.Datums) (int, error) {
	for _, o := range n.order {
		c, err := compareOrdered(r, a[o.idx], b[o.idx], o.desc, o.nullsFirst)
		if err != nil || c != 0 {
			return c, err
		}
	}
	return 0, nil
}

// spillRun sorts the rows held and writes them to a new file.
func (n *sortNode) spillRun(r *runner) (*runReader, error) {
	if err := n.sortHeld(r); err != nil {
		return nil, err
	}
	w, err := r.spill.newRun(n.src.columns())
	if err != nil {
		return nil, err
	}
	for _, row := range n.rows {
		if err := w.write(row); err != nil {
			return nil, err
		}
	}
	return w.finish()
}

// runMerger merges sorted runs (and the rows still in memory, sorted, as
// the last one) into one order; among equal rows, the earlier run's
// first, which keeps the sort stable.
type runMerger struct {
	r     *runner
	sort  *sortNode
	runs  []*runReader
	held  []tree.Datums
	heads mergeHeap
	err   error
}

type mergeHead struct {
	row tree.Datums
	src int // index in runs; len(runs): the rows held in memory
}

type mergeHeap struct {
	items []mergeHead
	m     *runMerger
}

func (h *mergeHeap) Len() int { return len(h.items) }
func (h *mergeHeap) Less(i, j int) bool {
	c, err := h.m.sort.compare(h.m.r, h.items[i].row, h.items[j].row)
	if err != nil && h.m.err == nil {
		h.m.err = err
	}
	if c != 0 {
		return c < 0
	}
	return h.items[i].src < h.items[j].src
}
func (h *mergeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *mergeHeap) Push(x any)    { h.items = append(h.items, x.(mergeHead)) }
func (h *mergeHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

func newRunMerger(r *runner, n *sortNode, runs []*runReader, held []tree.Datums) *runMerger {
	m := &runMerger{r: r, sort: n, runs: runs, held: held}
	m.heads.m = m
	return m
}

// pull is the next row of source src, nil at its end.
func (m *runMerger) pull(src int) (tree.Datums, error) {
	if src < len(m.runs) {
		return m.runs[src].next()
	}
	if len(m.held) == 0 {
		return nil, nil
	}
	row := m.held[0]
	m.held = m.held[1:]
	return row, nil
}

func (m *runMerger) next() (tree.Datums, error) {
	if m.heads.items == nil {
		m.heads.items = make([]mergeHead, 0, len(m.runs)+1)
		for src := 0; src <= len(m.runs); src++ {
			row, err := m.pull(src)
			if err != nil {
				return nil, err
			}
			if row != nil {
				m.heads.items = append(m.heads.items, mergeHead{row: row, src: src})
			}
		}
		heap.Init(&m.heads)
	}
	if m.err != nil {
		return nil, m.err
	}
	if m.heads.Len() == 0 {
		return nil, nil
	}
	top := m.heads.items[0]
	row, err := m.pull(top.src)
	if err != nil {
		return nil, err
	}
	if row == nil {
		heap.Pop(&m.heads)
	} else {
		m.heads.items[0].row = row
		heap.Fix(&m.heads, 0)
	}
	if err := m.r.checkCancel(); err != nil {
		return nil, err
	}
	return top.row, m.err
}
