package sql

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
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
// PostgreSQL's do. Two parts may write the same relation: PostgreSQL runs
// them in an order it does not promise, and an UPDATE or DELETE skips a
// row another part of the statement changed already (only one of the
// changes takes place); so do they here (runner.changedByStatement).

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

// finishWith puts the data-modifying WITH queries dmls before the
// statement main they head, which writes the relation written (0: none),
// and notes the relations more than one of them writes (see the file
// comment).
func finishWith(main planNode, written uint32, dmls []*dmlCTE) planNode {
	count := map[uint32]int{}
	if written != 0 {
		count[written]++
	}
	for _, d := range dmls {
		count[d.target]++
	}
	var shared map[uint32]bool
	for id, n := range count {
		if n > 1 {
			if shared == nil {
				shared = map[uint32]bool{}
			}
			shared[id] = true
		}
	}
	return &withDMLNode{dmls: dmls, main: main, shared: shared}
}

// withDMLNode runs the data-modifying WITH queries, then the statement.
type withDMLNode struct {
	dmls []*dmlCTE
	main planNode
	// shared are the relations more than one part writes.
	shared  map[uint32]bool
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
		if err := r.readAtSnapshot(); err != nil {
			return nil, err
		}
		r.sharedWrites = n.shared
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

// changedByStatement reports whether the row of table d, which an UPDATE
// or DELETE read at the statement's snapshot, was changed since by
// another part of the statement: then, as in PostgreSQL, it is not
// changed again. Only a relation more than one part writes needs the
// look (a second read of the row).
func (r *runner) changedByStatement(d *catalog.TableDescriptor, row tree.Datums) (bool, error) {
	if !r.sharedWrites[d.ID] {
		return false, nil
	}
	key, err := rowenc.RowKey(d, row)
	if err != nil {
		return false, err
	}
	then, err := r.reader().Get(r.ctx, key)
	if err != nil {
		return false, err
	}
	now, err := r.txn.Get(r.ctx, key)
	if err != nil {
		return false, err
	}
	return !bytes.Equal(then, now) || (then == nil) != (now == nil), nil
}
