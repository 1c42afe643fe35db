package sql

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/sem"
	"github.com/meridiandb/meridian/sql/vtable"
)

// The evaluation context of a statement: sem.EvalCtx with the seams sem
// asks of the layers above filled in by the session (eval_session.go),
// the per-statement catalog cache below, and the sequences
// (eval_sequences.go).

// stmtEvalCtx is the evaluation context of a statement the session s
// runs in txn (nil: none yet): its catalog cache also finds the sequences
// the sequence functions name (sequence.go).
func stmtEvalCtx(ctx context.Context, txn kvapi.Txn, s *session, params tree.Datums) *sem.EvalCtx {
	c := &stmtCatalog{}
	return &sem.EvalCtx{Ctx: ctx, Txn: txn, Session: s, Advisory: s, Catalog: c, Sequences: c, Params: params, StmtTime: s.ex.now(), Location: s.location(), DateStyle: s.dateStyleSetting(), ByteaEscape: s.byteaEscape()}
}

var _ sem.Catalog = (*stmtCatalog)(nil)

// catalogOf is the statement's catalog cache; nil outside a statement.
func catalogOf(e *sem.EvalCtx) *stmtCatalog {
	c, _ := e.Catalog.(*stmtCatalog)
	return c
}

// sessionOf is the session that runs the statement; nil outside a
// statement.
func sessionOf(e *sem.EvalCtx) *session {
	s, _ := e.Session.(*session)
	return s
}

// stmtCatalog reads the catalog once per statement for the functions that
// consult it row after row (::regclass, pg_get_indexdef): a statement
// sees one catalog, as in PostgreSQL. A nil one (outside a statement)
// holds nothing.
type stmtCatalog struct {
	tabs []*catalog.TableDescriptor
	rels []tree.Datums // pg_class's rows
	// seqs are the sequences nextval and friends named, by argument: a
	// SERIAL column's default names its sequence once per row.
	seqs map[string]*catalog.TableDescriptor
	// roleList are the roles, for pg_get_userbyid on every row of a
	// catalog query.
	roleList []*catalog.Role
	// nsps are pg_namespace's rows, funcs the functions, for the object
	// identifier types (regtypes.go).
	nsps  []tree.Datums
	funcs []regFunction
	// priv checks the privileges the functions need (privs).
	priv *privChecker
}

// roles returns every role; without a transaction to read them in, the
// built-in root, which owns every object.
func (c *stmtCatalog) roles(e *sem.EvalCtx) ([]*catalog.Role, error) {
	if c == nil || e.Txn == nil {
		return []*catalog.Role{{ID: catalog.RootRoleID, Name: catalog.RootRoleName}}, nil
	}
	if c.roleList == nil {
		roles, err := catalog.ListRoles(e.Ctx, e.Txn)
		if err != nil {
			return nil, err
		}
		c.roleList = roles
	}
	return c.roleList, nil
}

func (c *stmtCatalog) tables(e *sem.EvalCtx) ([]*catalog.TableDescriptor, error) {
	if c == nil || e.Txn == nil {
		return nil, nil
	}
	if c.tabs == nil {
		nm := namesOf(e)
		if nm == nil {
			return nil, nil
		}
		tabs, err := catalog.ListTables(e.Ctx, e.Txn, nm.db.ID)
		if err != nil {
			return nil, err
		}
		c.tabs = append([]*catalog.TableDescriptor{}, tabs...)
	}
	return c.tabs, nil
}

func (c *stmtCatalog) relations(e *sem.EvalCtx) ([]tree.Datums, error) {
	if c == nil || e.Txn == nil {
		return nil, nil
	}
	if c.rels == nil {
		pgClass, _ := vtable.Lookup("pg_catalog", "pg_class")
		nm := namesOf(e)
		if nm == nil {
			return nil, nil
		}
		rels, err := pgClass.Rows(e.Ctx, &vtable.Env{Txn: e.Txn, DB: nm.db})
		if err != nil {
			return nil, err
		}
		c.rels = append([]tree.Datums{}, rels...)
	}
	return c.rels, nil
}

// namespaces are pg_namespace's rows (oid, nspname, ...).
func (c *stmtCatalog) namespaces(e *sem.EvalCtx) ([]tree.Datums, error) {
	nm := namesOf(e)
	if c == nil || e.Txn == nil || nm == nil {
		// Without a database: pg_catalog only.
		return []tree.Datums{
			{tree.NewDOid(vtable.PgCatalogOID), tree.NewDString("pg_catalog")},
		}, nil
	}
	if c.nsps == nil {
		t, _ := vtable.Lookup("pg_catalog", "pg_namespace")
		rows, err := t.Rows(e.Ctx, &vtable.Env{Txn: e.Txn, DB: nm.db})
		if err != nil {
			return nil, err
		}
		c.nsps = append([]tree.Datums{}, rows...)
	}
	return c.nsps, nil
}
