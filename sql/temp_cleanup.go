package sql

import (
	"context"
	"strconv"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
)

// A session's temporary schema goes with the session (Close), but not
// with a session whose node died or stopped: DropOrphanTempSchemas, which
// the server runs on every node now and then, finds those left behind.

// TempSchemaOwner says where the session named by a temporary schema's
// process ID lives: on this node (local), or on a node that is gone for
// good (dead). Neither: a live node's, which cleans up its own.
type TempSchemaOwner func(pid uint32) (local, dead bool)

// tempSchemaPID is the process ID in a temporary schema's name
// (pg_temp_<pid>_<random>).
func tempSchemaPID(name string) (uint32, bool) {
	rest, ok := strings.CutPrefix(name, "pg_temp_")
	if !ok {
		return 0, false
	}
	pid, _, ok := strings.Cut(rest, "_")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(pid, 10, 32)
	return uint32(n), err == nil
}

// ownsTempSchema reports whether a live session of this executor has the
// temporary schema name.
func (ex *Executor) ownsTempSchema(name string) bool {
	for _, s := range ex.registry.all() {
		s.activity.mu.Lock()
		mine := s.activity.tempSchema == name
		s.activity.mu.Unlock()
		if mine {
			return true
		}
	}
	return false
}

// DropOrphanTempSchemas drops, with what is in them, the temporary
// schemas of every database whose session is gone: one of this node's
// that no live session here has (the node restarted, or a session's own
// drop failed), or one of a dead node's. It returns how many it dropped.
func (ex *Executor) DropOrphanTempSchemas(ctx context.Context, owner TempSchemaOwner) (int, error) {
	type orphan struct{ db, schema string }
	var orphans []orphan
	err := ex.runOwnTxn(ctx, func(txn kvapi.Txn) error {
		orphans = nil
		dbs, err := catalog.ListDatabases(ctx, txn)
		if err != nil {
			return err
		}
		for _, db := range dbs {
			schemas, err := catalog.ListSchemas(ctx, txn, db.ID)
			if err != nil {
				return err
			}
			for _, sc := range schemas {
				pid, ok := tempSchemaPID(sc.Name)
				if !ok {
					continue
				}
				local, dead := owner(pid)
				if (local && !ex.ownsTempSchema(sc.Name)) || (!local && dead) {
					orphans = append(orphans, orphan{db.Name, sc.Name})
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, o := range orphans {
		s, err := ex.NewSession(ctx, pgwire.SessionArgs{User: catalog.RootRoleName, Database: o.db})
		if err != nil {
			return dropped, err
		}
		drop := &tree.DropSchema{Names: tree.ObjectNamePrefixList{{SchemaName: tree.Name(o.schema), ExplicitSchema: true}},
			IfExists: true, DropBehavior: tree.DropCascade}
		_, err = s.(*session).execStmt(ctx, drop, 0, nil, nil)
		s.Close()
		if err != nil {
			return dropped, err
		}
		dropped++
	}
	return dropped, nil
}
