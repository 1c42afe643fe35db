package sql

import (
	"context"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// openDatabase makes name the session's database, where its names
// resolve; a connection to a database that does not exist fails as in
// PostgreSQL (3D000). The first session on a node creates the built-in
// databases if the cluster has none yet.
func (s *session) openDatabase(ctx context.Context, name string) error {
	path, err := s.setting("search_path")
	if err != nil {
		return err
	}
	err = s.ex.runOwnTxn(ctx, func(txn kvapi.Txn) error {
		if !s.ex.bootstrapped.Load() {
			if err := catalog.Bootstrap(ctx, txn); err != nil {
				return err
			}
		}
		db, err := catalog.MustGetDatabase(ctx, txn, name)
		if err != nil {
			return err
		}
		if err := s.checkConnect(ctx, txn, db); err != nil {
			return err
		}
		s.names, err = newNames(ctx, txn, db, path, s.user)
		if s.names != nil {
			s.names.temp = &tempSchema{}
		}
		return err
	})
	if err == nil {
		s.ex.bootstrapped.Store(true)
	}
	return err
}

// resetSearchPath recomputes the session's schema search path (after SET
// search_path, or a change to its database's schemas).
func (s *session) resetSearchPath(ctx context.Context, txn kvapi.Txn) error {
	path, err := s.setting("search_path")
	if err != nil {
		return err
	}
	nm, err := newNames(ctx, txn, s.names.db, path, s.user)
	if err == nil {
		nm.temp = s.names.temp
		s.names = nm
	}
	return err
}

// refreshNames recomputes the search path if search_path changed since it
// was (a SET, RESET, or the rollback of one).
func (s *session) refreshNames(ctx context.Context, txn kvapi.Txn) error {
	path, err := s.setting("search_path")
	if err != nil || path == s.names.setting {
		return err
	}
	return s.resetSearchPath(ctx, txn)
}

// checkConnect refuses a session whose user lacks CONNECT on db, as
// PostgreSQL does at connection.
func (s *session) checkConnect(ctx context.Context, txn kvapi.Txn, db *catalog.Namespace) error {
	c := s.newPrivChecker(ctx, txn)
	if ok, err := c.bypass(); ok || err != nil {
		return err
	}
	if !c.has(db.Privileges(), 0, catalog.PrivConnect) {
		return c.deny(pgerror.WithDetail(insufficient("permission denied for database %q", db.Name), "User does not have CONNECT privilege."))
	}
	return nil
}
