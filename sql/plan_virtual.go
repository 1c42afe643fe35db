package sql

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/vtable"
)

// virtualNode produces a virtual table's rows.
type virtualNode struct {
	vt *vtable.Table
	// db is the session's database, the one whose objects it shows.
	db   *catalog.Namespace
	cols []resultColumn
	rows []tree.Datums
	done bool
	i    int
}

func (n *virtualNode) columns() []resultColumn { return n.cols }

func (n *virtualNode) explain() (string, []*planNode) { return "virtual table", nil }

func (n *virtualNode) next(r *runner) (tree.Datums, error) {
	if !n.done {
		n.done = true
		env := &vtable.Env{Txn: r.txn, DB: n.db}
		if s, ok := r.eval.Session.(*session); ok {
			env.Activity = s.ex.sessionsNow
			if s.ex.admin != nil {
				env.Ranges = func(ctx context.Context) ([]vtable.RangeRow, error) { return s.ex.rangeRows(ctx, r.txn) }
				env.Nodes = s.ex.admin.Nodes
			}
		}
		rows, err := n.vt.Rows(r.ctx, env)
		if err != nil {
			return nil, err
		}
		n.rows = rows
	}
	if n.i >= len(n.rows) {
		return nil, nil
	}
	n.i++
	return n.rows[n.i-1], nil
}
