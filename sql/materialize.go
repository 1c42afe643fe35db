package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// materializeNode reads its source whole before handing out the first
// row: under a write, every row it will change is read before it changes
// one. A write that reads its own table as it goes would see its own
// writes (the Halloween problem): INSERT INTO t SELECT k + 1000 FROM t
// never ended, finding the rows it had just inserted, and UPDATE t SET k
// = k + 1000 met rows it had already moved. PostgreSQL's statement reads
// a snapshot taken when it starts. Past the memory budget, the rows
// spill to a temporary file (spill.go).
type materializeNode struct {
	src planNode
	// extend, when set, computes values from each row as it is read,
	// which follow the row (an UPDATE's new values, when they hold
	// subqueries).
	extend func(r *runner, row tree.Datums) (tree.Datums, error)
	filled bool
	rows   []tree.Datums
	pos    int
	run    *runReader
}

func (n *materializeNode) columns() []resultColumn { return n.src.columns() }

func (n *materializeNode) explain() (string, []*planNode) {
	return "buffer (every row read before the first write)", []*planNode{&n.src}
}

func (n *materializeNode) next(r *runner) (tree.Datums, error) {
	if !n.filled {
		n.filled = true
		if err := n.fill(r); err != nil {
			return nil, err
		}
	}
	if n.run != nil {
		return n.run.next()
	}
	if n.pos >= len(n.rows) {
		return nil, nil
	}
	n.pos++
	return n.rows[n.pos-1], nil
}

func (n *materializeNode) fill(r *runner) error {
	var w *runWriter
	var held int64
	for {
		row, err := n.src.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		if n.extend != nil {
			ext, err := n.extend(r, row)
			if err != nil {
				return err
			}
			row = append(row[:len(row):len(row)], ext...)
		}
		if w == nil {
			err = r.growRow(row)
			if err == nil {
				held += rowenc.DatumsSize(row)
				n.rows = append(n.rows, row)
				continue
			}
			if !r.canSpill(err) {
				return err
			}
			// Past the budget: what is held goes to a file, its memory
			// back to the budget, and the rest follows it there.
			if w, err = r.spill.newRun(n.bufferedColumns(row)); err != nil {
				return err
			}
			for _, h := range n.rows {
				if err := w.write(h); err != nil {
					return err
				}
			}
			r.mem.Shrink(held)
			n.rows = nil
		}
		if err := w.write(row); err != nil {
			return err
		}
	}
	if w != nil {
		var err error
		n.run, err = w.finish()
		return err
	}
	return nil
}

// bufferedColumns are the columns of the rows held: the source's, and
// those extend appends (typed by their values in row, a held row).
func (n *materializeNode) bufferedColumns(row tree.Datums) []resultColumn {
	cols := n.src.columns()
	for _, d := range row[len(cols):] {
		cols = append(cols[:len(cols):len(cols)], resultColumn{name: "?column?", typ: d.ResolvedType()})
	}
	return cols
}

func (n *materializeNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *materializeNode) planEstimate(_ *builder, in []estimate) estimate { return in[0] }
