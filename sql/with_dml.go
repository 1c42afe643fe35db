package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Data-modifying statements in WITH (PostgreSQL's "WITH d AS (DELETE ...
// RETURNING *) INSERT INTO archive SELECT * FROM d"). Each runs once, to
// completion, before the statement it heads, whether or not anything reads
// it; its RETURNING rows are what its name stands for.
//
// In PostgreSQL every part of the statement reads the snapshot taken
// before any of them wrote: none sees the others' writes. Here too: the
// data-modifying parts run first and the rest after them, but every scan
// of the statement reads its transaction at a snapshot of its writes
// taken when the statement began (kvapi.Snapshotter, runner.reader), so
// WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM t still sees the
// rows d deleted, as in PostgreSQL. The checks that must see the latest
// (a key taken, a foreign key's row) read past the snapshot, as
// PostgreSQL's do. Two parts that write the same relation are refused
// (0A000): PostgreSQL lets them run in an order it does not promise, and
// here the second would not skip a row the first changed, as PostgreSQL's
// does.

// dmlCTE is a data-modifying WITH query, planned: its plan, RETURNING's
// columns, the relation it writes and, once run, its rows.
type dmlCTE struct {
	name   string
	plan   planNode
	cols   []resultColumn
	target uint32
	rows   []tree.Datums
	ran    bool
}

// run runs the statement to completion, once. Its writes do not count in
// the command tag of the statement it heads.
func (d *dmlCTE) run(r *runner) error {
	if d.ran {
		return nil
	}
	d.ran = true
	sub := *r
	rows, err := drain(&sub, d.plan, len(d.cols))
	d.rows = rows
	return err
}

// planDMLCTE plans the data-modifying statement stmt of WITH query name.
func (b *builder) planDMLCTE(name string, stmt tree.Statement) (*dmlCTE, error) {
	d := &dmlCTE{name: name}
	b.names.written = 0
	var err error
	switch st := stmt.(type) {
	case *tree.Insert:
		d.plan, err = b.buildInsert(st)
	case *tree.Update:
		d.plan, err = b.buildUpdate(st)
	case *tree.Delete:
		d.plan, err = b.buildDelete(st)
	default:
		return nil, pgerror.Unsupported("%s in WITH is not supported yet", stmt.StatementTag())
	}
	if err != nil {
		return nil, err
	}
	d.cols = visibleCols(d.plan)
	d.target = b.names.written
	return d, nil
}

// finishWith checks the statement main, planned under the data-modifying
// WITH queries dmls, which writes the relation written (0: none), and
// puts them before it (see the file comment).
func finishWith(main planNode, written uint32, dmls []*dmlCTE) (planNode, error) {
	for i, d := range dmls {
		if d.target == written {
			return nil, pgerror.Unsupported("a statement that modifies a table that its WITH query %q also modifies is not supported yet", d.name)
		}
		for _, o := range dmls[:i] {
			if o.target == d.target {
				return nil, pgerror.Unsupported("WITH queries %q and %q that modify the same table are not supported yet", o.name, d.name)
			}
		}
	}
	return &withDMLNode{dmls: dmls, main: main}, nil
}

// withDMLNode runs the data-modifying WITH queries, then the statement.
type withDMLNode struct {
	dmls    []*dmlCTE
	main    planNode
	started bool
}

func (n *withDMLNode) columns() []resultColumn { return n.main.columns() }

func (n *withDMLNode) explain() (string, []*planNode) {
	kids := make([]*planNode, 0, len(n.dmls)+1)
	for _, d := range n.dmls {
		kids = append(kids, &d.plan)
	}
	return fmt.Sprintf("with %d data-modifying queries", len(n.dmls)), append(kids, &n.main)
}

func (n *withDMLNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		// Every part reads the statement's snapshot, taken before any
		// of them writes.
		s, ok := r.txn.(kvapi.Snapshotter)
		if !ok {
			return nil, pgerror.Unsupported("data-modifying WITH queries are not supported on this transaction (it cannot read at a snapshot of its own writes)")
		}
		if r.snap = s.Snapshot(); r.snap == nil {
			return nil, pgerror.Unsupported("data-modifying WITH queries are not supported on this transaction (it cannot read at a snapshot of its own writes)")
		}
		for _, d := range n.dmls {
			if err := d.run(r); err != nil {
				return nil, err
			}
		}
	}
	return n.main.next(r)
}

// dmlCTEScanNode reads a data-modifying WITH query's RETURNING rows.
type dmlCTEScanNode struct {
	d    *dmlCTE
	cols []resultColumn
	i    int
}

func (n *dmlCTEScanNode) columns() []resultColumn { return n.cols }

func (n *dmlCTEScanNode) explain() (string, []*planNode) {
	return fmt.Sprintf("scan of WITH query %s", n.d.name), nil
}

func (n *dmlCTEScanNode) next(r *runner) (tree.Datums, error) {
	if err := n.d.run(r); err != nil {
		return nil, err
	}
	if n.i >= len(n.d.rows) {
		return nil, nil
	}
	n.i++
	return n.d.rows[n.i-1], nil
}
