package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// snapshotReadNode makes a write statement read at its command snapshot:
// its scans and subqueries (through runner.reader) see the data as the
// statement began, and none of the statement's own writes. A write that
// read its own table as it goes would otherwise see its own writes (the
// Halloween problem): INSERT INTO t SELECT k + 1000 FROM t would never
// end, finding the rows it had just inserted, and UPDATE t SET k = k +
// 1000 would meet rows it had already moved. PostgreSQL's statements read
// a snapshot taken when they start; so do these, and their rows stream
// from the source to the writes, none held.
type snapshotReadNode struct {
	src     planNode
	started bool
}

func (n *snapshotReadNode) columns() []resultColumn { return n.src.columns() }

func (n *snapshotReadNode) explain() (string, []*planNode) {
	return "read at the statement's snapshot (its own writes unseen)", []*planNode{&n.src}
}

func (n *snapshotReadNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		if err := r.readAtSnapshot(); err != nil {
			return nil, err
		}
	}
	return n.src.next(r)
}

func (n *snapshotReadNode) clonePlan() (planNode, bool) {
	c := *n
	return &c, cloneInputs(&c.src)
}

func (n *snapshotReadNode) planEstimate(_ *builder, in []estimate) estimate { return in[0] }

// readAtSnapshot makes the statement's reads see its transaction's writes
// as they are now, and none made after, unless it has a snapshot already
// (the data-modifying WITH that holds this write took it for all its
// parts).
func (r *runner) readAtSnapshot() error {
	if r.snap != nil {
		return nil
	}
	s, ok := r.txn.(kvapi.Snapshotter)
	if ok {
		r.snap = s.Snapshot()
	}
	if r.snap == nil {
		return pgerror.Unsupported("this transaction cannot read at a snapshot of its own writes, which a write that reads needs")
	}
	return nil
}
