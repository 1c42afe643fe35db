package sql

import (
	"context"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// A query string of several statements outside a transaction block runs
// in one implicit transaction. A lone statement that hits a retryable
// error (40001) runs again in a new transaction (withTxn); so does a whole
// query string, here, when nothing of its answer has reached the client
// yet (pgwire.Rewinder: up to the 32 KiB the connection buffers), it began
// no transaction block, and its statements change nothing but the
// database, transactionally: reads, writes and schema changes. A client
// of PostgreSQL never sees 40001 outside a block at its default isolation
// level; a migration tool sending its DDL as one string should not either.

// execStmtsRetrying runs stmts in their implicit transaction and commits
// it, running them again while the transaction must restart and that can
// be done unseen.
func (s *session) execStmtsRetrying(ctx context.Context, stmts statements.Statements, w pgwire.ResultWriter) error {
	rw, _ := w.(pgwire.Rewinder)
	retry := rw != nil && len(stmts) > 1 && s.txn == nil && retryableStmts(stmts)
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		effects := s.sessionEffects
		if retry {
			rw.Mark()
		}
		err := s.execStmts(ctx, stmts, w)
		if err == nil && s.implicit {
			err = s.endImplicit(ctx, true)
		}
		if err == nil || !retry || pgerror.CodeOf(err) != pgerror.CodeSerializationFailure ||
			attempt >= maxImplicitRetries || ctx.Err() != nil || s.sessionEffects != effects || !rw.Rewind() {
			return err
		}
		if s.implicit {
			_ = s.endImplicit(ctx, false)
		}
		s.endTxnSettings(false)
		if !retryBackoff(ctx, &backoff) {
			return err
		}
	}
}

// retryBackoff waits *backoff before a retry and doubles it (up to 100
// ms); false if ctx ended first. A conflicting transaction may still be
// finishing, and a value committed slightly in the future (within the
// clock offset) stays uncertain to new readers until the clocks pass it,
// a few hundred milliseconds at most.
func retryBackoff(ctx context.Context, backoff *time.Duration) bool {
	t := time.NewTimer(*backoff)
	select {
	case <-ctx.Done():
		t.Stop()
		return false
	case <-t.C:
	}
	*backoff = min(2**backoff, 100*time.Millisecond)
	return true
}

// retryableStmts reports whether running stmts again, after their
// transaction rolled back, does what running them once would: each reads,
// writes or changes the schema in the transaction, and none ends it or
// changes the session.
func retryableStmts(stmts statements.Statements) bool {
	for _, st := range stmts {
		switch st.AST.(type) {
		case *tree.Select, *tree.Insert, *tree.Update, *tree.Delete:
		case *tree.CopyFrom, *tree.CopyTo:
			return false
		case *tree.CreateTable:
			// A temporary object gives the session its temporary schema.
			if st.AST.(*tree.CreateTable).Persistence.IsTemporary() {
				return false
			}
		case *tree.CreateView:
			if st.AST.(*tree.CreateView).Persistence.IsTemporary() {
				return false
			}
		case *tree.CreateSequence:
			if st.AST.(*tree.CreateSequence).Persistence.IsTemporary() {
				return false
			}
		default:
			if st.AST.StatementType() != tree.TypeDDL {
				return false
			}
		}
	}
	return true
}
