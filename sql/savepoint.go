package sql

import (
	"context"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// savepoint is one SAVEPOINT of the open transaction block.
type savepoint struct {
	name string
	sp   kvapi.Savepoint
	// atStart: the block's first statement took it, so nothing the
	// transaction did precedes it. Rolling back to it may restart the
	// whole transaction, which is what CockroachDB's client-side retry
	// protocol (SAVEPOINT cockroach_restart ... ROLLBACK TO SAVEPOINT
	// cockroach_restart after a 40001) relies on.
	atStart bool
}

// restartSavepoint is the savepoint name of CockroachDB's retry protocol:
// releasing it commits the transaction, so that a 40001 comes back while
// the client can still roll back to it and run the block again.
const restartSavepoint = "cockroach_restart"

// execSavepoint runs SAVEPOINT, RELEASE SAVEPOINT and ROLLBACK TO
// SAVEPOINT as PostgreSQL does: savepoints nest, a name may be reused (the
// newest wins), a rollback keeps the savepoint it returns to and undoes
// every write since (a failed block becomes usable again), a release
// forgets it and those after it.
func (s *session) execSavepoint(ctx context.Context, stmt tree.Statement) (*result, error) {
	if (s.txn == nil || s.implicit) && !s.released {
		return nil, pgerror.Newf(pgerror.CodeNoActiveSQLTransaction, "%s can only be used in transaction blocks", savepointVerb(stmt))
	}
	res, err := s.savepointStmt(ctx, stmt)
	if err != nil && s.txn != nil {
		s.status = pgwire.TxnFailed
	}
	return res, err
}

func savepointVerb(stmt tree.Statement) string {
	switch stmt.(type) {
	case *tree.Savepoint:
		return "SAVEPOINT"
	case *tree.ReleaseSavepoint:
		return "RELEASE SAVEPOINT"
	}
	return "ROLLBACK TO SAVEPOINT"
}

func (s *session) savepointStmt(ctx context.Context, stmt tree.Statement) (*result, error) {
	if s.released {
		// After RELEASE SAVEPOINT cockroach_restart committed the
		// transaction, only COMMIT (or ROLLBACK) ends the block.
		return nil, pgerror.New(pgerror.CodeInvalidTransactionState,
			"the transaction is committed (RELEASE SAVEPOINT cockroach_restart): only COMMIT or ROLLBACK may follow")
	}
	switch st := stmt.(type) {
	case *tree.Savepoint:
		name := string(st.Name)
		sp, err := s.txn.Savepoint(ctx)
		if err != nil {
			return nil, err
		}
		s.savepoints = append(s.savepoints, savepoint{name: name, sp: sp, atStart: s.stmtsInBlock == 0})
		return &result{tag: "SAVEPOINT"}, nil
	case *tree.ReleaseSavepoint:
		i, err := s.findSavepoint(string(st.Savepoint))
		if err != nil {
			return nil, err
		}
		name := s.savepoints[i].name
		s.savepoints = s.savepoints[:i]
		if strings.EqualFold(name, restartSavepoint) {
			if err := s.txn.Commit(ctx); err != nil {
				// Keep the savepoint: ROLLBACK TO it runs the block again.
				s.savepoints = append(s.savepoints[:i], savepoint{name: name, atStart: true})
				return nil, err
			}
			s.released = true
			s.txn = nil
		}
		return &result{tag: "RELEASE"}, nil
	default: // *tree.RollbackToSavepoint
		i, err := s.findSavepoint(string(stmt.(*tree.RollbackToSavepoint).Savepoint))
		if err != nil {
			return nil, err
		}
		s.savepoints = s.savepoints[:i+1]
		sp := &s.savepoints[i]
		if sp.sp != nil {
			err = s.txn.RollbackToSavepoint(ctx, sp.sp)
		}
		if sp.sp == nil || (err != nil && pgerror.CodeOf(err) == pgerror.CodeSerializationFailure && sp.atStart) {
			// The transaction must restart (or already failed at its
			// commit), and nothing precedes the savepoint: start over in
			// a new transaction.
			_ = s.txn.Rollback(ctx)
			txn, nerr := s.ex.newTxn(ctx)
			if nerr != nil {
				return nil, nerr
			}
			s.txn = txn
			if sp.sp, err = txn.Savepoint(ctx); err != nil {
				return nil, err
			}
		}
		if err != nil {
			return nil, err
		}
		s.status = pgwire.TxnActive
		return &result{tag: "ROLLBACK"}, nil
	}
}

// findSavepoint returns the index of the newest savepoint named name.
func (s *session) findSavepoint(name string) (int, error) {
	for i := len(s.savepoints) - 1; i >= 0; i-- {
		if s.savepoints[i].name == name {
			return i, nil
		}
	}
	return 0, pgerror.Newf(pgerror.CodeInvalidSavepointSpec, "savepoint \"%s\" does not exist", name)
}
