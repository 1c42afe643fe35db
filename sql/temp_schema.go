package sql

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/advisory"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Temporary tables, views and sequences live, as CockroachDB keeps them,
// in a schema of their session's own: created with the first one, first
// in the session's search path for relations (and named pg_temp in a
// qualified name), and dropped with everything in it when the session
// ends. Its name is pg_temp_ with the connection's process ID and a
// random part, since process IDs are only unique per node.
//
// The schema of a session whose node stopped or died is dropped later,
// by its node once it runs again or, if it stays dead, by the others
// (temp_cleanup.go). Not yet: ON COMMIT DROP / DELETE ROWS (0A000).

// tempSchema is a session's temporary schema; one value is shared by the
// session's successive names (search_path changes keep it).
type tempSchema struct {
	// name is empty until the session creates its first temporary
	// relation.
	name string
	// db is the database it was made in (a session has one).
	db uint32
}

// inTempSchema returns stmt, the creation of a temporary relation, with
// its name moved into the session's temporary schema, which it creates
// in txn if need be; other statements are returned as they are.
func (s *session) inTempSchema(ctx context.Context, txn kvapi.Txn, stmt tree.Statement) (tree.Statement, error) {
	var tn *tree.TableName
	switch st := stmt.(type) {
	case *tree.CreateTable:
		if st.Persistence != tree.PersistenceTemporary {
			return stmt, nil
		}
		c := *st
		tn, stmt = &c.Table, &c
	case *tree.CreateView:
		if st.Persistence != tree.PersistenceTemporary {
			return stmt, nil
		}
		c := *st
		tn, stmt = &c.Name, &c
	case *tree.CreateSequence:
		if st.Persistence != tree.PersistenceTemporary {
			return stmt, nil
		}
		c := *st
		tn, stmt = &c.Name, &c
	default:
		return stmt, nil
	}
	t := s.names.temp
	if tn.ExplicitSchema && string(tn.SchemaName) != "pg_temp" && string(tn.SchemaName) != t.name {
		return nil, pgerror.New("42P16", "cannot create temporary relation in non-temporary schema")
	}
	if t.name == "" {
		t.name, t.db = fmt.Sprintf("pg_temp_%d_%08x", s.pid, rand.Uint32()), s.names.db.ID
		s.activity.mu.Lock()
		s.activity.tempSchema = t.name
		s.activity.mu.Unlock()
	}
	if t.db != s.names.db.ID {
		return nil, pgerror.Unsupported("temporary relations in a second database of one session are not supported")
	}
	sc, err := catalog.GetSchema(ctx, txn, t.db, t.name)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		// As PostgreSQL's InitTempTableNamespace: the role needs TEMP on
		// the database (PUBLIC has it by default).
		if ok, err := s.newPrivChecker(ctx, txn).hasTemp(t.db, 0); err != nil {
			return nil, err
		} else if !ok {
			return nil, insufficient("permission denied to create temporary tables in database %q", s.names.db.Name)
		}
		owner, err := s.ownerID(ctx, txn, tree.RoleSpec{})
		if err != nil {
			return nil, err
		}
		if _, err := catalog.CreateSchema(ctx, txn, t.db, t.name, owner); err != nil {
			return nil, err
		}
	}
	tn.SchemaName, tn.ExplicitSchema = tree.Name(t.name), true
	return stmt, nil
}

// dropTempSchema drops the session's temporary schema and what is in it,
// as the session ends.
func (s *session) dropTempSchema(ctx context.Context) error {
	if s.names == nil || s.names.temp == nil || s.names.temp.name == "" {
		return nil
	}
	drop := &tree.DropSchema{Names: tree.ObjectNamePrefixList{{SchemaName: tree.Name(s.names.temp.name), ExplicitSchema: true}},
		IfExists: true, DropBehavior: tree.DropCascade}
	_, err := s.execStmt(ctx, drop, 0, nil, nil)
	return err
}

// discard runs DISCARD TEMP (the session's temporary relations go, in
// txn), DISCARD SEQUENCES (its currval/lastval state) and DISCARD ALL
// (those, its prepared statements, SQL-level and the protocol's,
// settings, role, LISTENs and advisory locks, as connection poolers such
// as PgBouncer reset a connection; not inside a
// transaction block, as in PostgreSQL).
func (s *session) discard(ctx context.Context, txn kvapi.Txn, b *builder, st *tree.Discard) (*result, error) {
	res := &result{tag: "DISCARD " + map[tree.DiscardMode]string{
		tree.DiscardModeAll: "ALL", tree.DiscardModeSequences: "SEQUENCES", tree.DiscardModeTemp: "TEMP"}[st.Mode]}
	// A transaction block, or an implicit one that an earlier statement
	// of the query string (or pipeline) started.
	if st.Mode == tree.DiscardModeAll && (s.status != pgwire.TxnIdle || s.implicit && s.txn != nil) {
		return nil, pgerror.New(pgerror.CodeActiveSQLTransaction, "DISCARD ALL cannot run inside a transaction block")
	}
	if st.Mode == tree.DiscardModeAll || st.Mode == tree.DiscardModeSequences {
		s.sequences, s.lastSequence = nil, 0
	}
	if st.Mode == tree.DiscardModeAll {
		s.sqlPrepared = nil
		s.deallocateProtocol("")
		if _, err := s.setVar(&tree.SetVar{ResetAll: true}); err != nil {
			return nil, err
		}
		if _, err := s.setRole(ctx, &tree.SetVar{Name: "role", Reset: true}); err != nil {
			return nil, err
		}
		// UNLISTEN *, and the advisory locks go (pg_advisory_unlock_all).
		if s.notifications.listener != nil {
			s.unlistenAll()
		}
		if err := s.releaseAll(ctx, advisory.SessionScope); err != nil {
			return nil, err
		}
	}
	if (st.Mode == tree.DiscardModeAll || st.Mode == tree.DiscardModeTemp) && s.names.temp != nil && s.names.temp.name != "" {
		drop := &tree.DropSchema{Names: tree.ObjectNamePrefixList{{SchemaName: tree.Name(s.names.temp.name), ExplicitSchema: true}},
			IfExists: true, DropBehavior: tree.DropCascade}
		if _, err := s.dropSchemas(ctx, txn, b, drop); err != nil {
			return nil, err
		}
	}
	return res, nil
}
