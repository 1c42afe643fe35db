package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
)

// REASSIGN OWNED BY old [, ...] TO new and DROP OWNED BY role [, ...]
// [CASCADE | RESTRICT], as PostgreSQL has them (what a DBA runs before
// DROP ROLE, which refuses a role that still owns or is granted
// something): each is carried out as the ALTER ... OWNER TO, DROP and
// REVOKE statements it stands for, run in the same transaction, so that
// each has its usual checks (the caller must be able to act for the
// roles) and its usual effects (views and sequences that depend on a
// dropped table, the cascade's notices). In the current database:
// relations and schemas, and the privileges granted on them; databases,
// which are shared, in every database. Types have no owner here.

// execOwned runs REASSIGN OWNED and DROP OWNED; ok is false for any other
// statement.
func (s *session) execOwned(ctx context.Context, txn kvapi.Txn, stmt tree.Statement) (*result, bool, error) {
	switch st := stmt.(type) {
	case *tree.ReassignOwnedBy:
		res, err := s.reassignOwned(ctx, txn, st)
		return res, true, err
	case *tree.DropOwnedBy:
		res, err := s.dropOwned(ctx, txn, st)
		return res, true, err
	}
	return nil, false, nil
}

// specRoles resolves role specifications (CURRENT_USER and SESSION_USER:
// the statement's role), in order; with public, PUBLIC is the grantee
// PUBLIC (catalog.PublicRoleID, no role).
func (s *session) specRoles(ctx context.Context, txn kvapi.Txn, specs tree.RoleSpecList, public bool) ([]*catalog.Role, error) {
	out := make([]*catalog.Role, 0, len(specs))
	for _, spec := range specs {
		name := spec.Name
		if spec.RoleSpecType != tree.RoleName {
			name = s.currentRole()
		} else if public && strings.EqualFold(name, "public") {
			out = append(out, &catalog.Role{ID: catalog.PublicRoleID, Name: "public"})
			continue
		}
		r, err := catalog.MustGetRole(ctx, txn, name)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ownedRoles resolves the roles a REASSIGN or DROP OWNED names: their
// names by ID.
func (s *session) ownedRoles(ctx context.Context, txn kvapi.Txn, specs tree.RoleSpecList) (map[uint32]string, error) {
	roles, err := s.specRoles(ctx, txn, specs, false)
	if err != nil {
		return nil, err
	}
	out := make(map[uint32]string, len(roles))
	for _, r := range roles {
		out[r.ID] = r.Name
	}
	return out, nil
}

func quoteName(name string) string { return tree.NameString(name) }

func qualifiedRel(d *catalog.TableDescriptor) string {
	return quoteName(d.Schema) + "." + quoteName(d.Name)
}

// runGenerated runs generated statements in txn, one after the other, and
// gathers their notices into res.
func (s *session) runGenerated(ctx context.Context, txn kvapi.Txn, res *result, stmts []string) error {
	for _, q := range stmts {
		parsed, err := s.parse(q)
		if err != nil {
			return err
		}
		for _, st := range parsed {
			r, err := s.run(ctx, txn, st.AST, 0, nil, nil)
			if err != nil {
				return err
			}
			res.notices = append(res.notices, r.notices...)
			r.close()
		}
	}
	return nil
}

func (s *session) reassignOwned(ctx context.Context, txn kvapi.Txn, st *tree.ReassignOwnedBy) (*result, error) {
	old, err := s.ownedRoles(ctx, txn, st.OldRoles)
	if err != nil {
		return nil, err
	}
	newRole, err := s.specRoles(ctx, txn, tree.RoleSpecList{st.NewRole}, false)
	if err != nil {
		return nil, err
	}
	to := newRole[0].Name
	db := s.names.db
	var stmts []string
	tables, err := catalog.ListTables(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range tables {
		if hasRole(old, d.OwnerID()) {
			stmts = append(stmts, fmt.Sprintf("ALTER %s %s OWNER TO %s", strings.ToUpper(relKind(d)), qualifiedRel(d), quoteName(to)))
		}
	}
	schemas, err := catalog.ListSchemas(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	for _, sc := range schemas {
		if hasRole(old, sc.Owner) {
			stmts = append(stmts, fmt.Sprintf("ALTER SCHEMA %s OWNER TO %s", quoteName(sc.Name), quoteName(to)))
		}
	}
	dbs, err := catalog.ListDatabases(ctx, txn)
	if err != nil {
		return nil, err
	}
	for _, d := range dbs {
		if hasRole(old, d.Owner) {
			stmts = append(stmts, fmt.Sprintf("ALTER DATABASE %s OWNER TO %s", quoteName(d.Name), quoteName(to)))
		}
	}
	res := &result{tag: "REASSIGN OWNED"}
	return res, s.runGenerated(ctx, txn, res, stmts)
}

func (s *session) dropOwned(ctx context.Context, txn kvapi.Txn, st *tree.DropOwnedBy) (*result, error) {
	roles, err := s.ownedRoles(ctx, txn, st.Roles)
	if err != nil {
		return nil, err
	}
	behavior := ""
	if st.DropBehavior == tree.DropCascade {
		behavior = " CASCADE"
	}
	db := s.names.db
	tables, err := catalog.ListTables(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	schemas, err := catalog.ListSchemas(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	// The roles' relations, views first (they depend on the others),
	// then materialized views, tables, then sequences (a table's may
	// have gone with it); then their schemas.
	var stmts []string
	for _, kind := range []string{"view", "materialized view", "table", "sequence"} {
		for _, d := range tables {
			if hasRole(roles, d.OwnerID()) && relKind(d) == kind {
				stmts = append(stmts, fmt.Sprintf("DROP %s IF EXISTS %s%s", strings.ToUpper(kind), qualifiedRel(d), behavior))
			}
		}
	}
	dropped := map[string]bool{}
	for _, sc := range schemas {
		if hasRole(roles, sc.Owner) {
			stmts = append(stmts, fmt.Sprintf("DROP SCHEMA IF EXISTS %s%s", quoteName(sc.Name), behavior))
			dropped[sc.Name] = true
		}
	}
	// The privileges granted to them on what is left: the revokes are
	// made after the drops, and look again at what is there.
	res := &result{tag: "DROP OWNED"}
	if err := s.runGenerated(ctx, txn, res, stmts); err != nil {
		return nil, err
	}
	stmts = nil
	tables, err = catalog.ListTables(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range tables {
		if aclMentions(d.ACL, roles) {
			for _, name := range roles {
				kind := "TABLE"
				if relKind(d) == "sequence" {
					kind = "SEQUENCE"
				}
				stmts = append(stmts, fmt.Sprintf("REVOKE ALL ON %s %s FROM %s", kind, qualifiedRel(d), quoteName(name)))
			}
		}
	}
	for _, sc := range schemas {
		if !dropped[sc.Name] && aclMentions(sc.ACL, roles) {
			for _, name := range roles {
				stmts = append(stmts, fmt.Sprintf("REVOKE ALL ON SCHEMA %s FROM %s", quoteName(sc.Name), quoteName(name)))
			}
		}
	}
	dbs, err := catalog.ListDatabases(ctx, txn)
	if err != nil {
		return nil, err
	}
	for _, d := range dbs {
		if aclMentions(d.ACL, roles) {
			for _, name := range roles {
				stmts = append(stmts, fmt.Sprintf("REVOKE ALL ON DATABASE %s FROM %s", quoteName(d.Name), quoteName(name)))
			}
		}
	}
	if err := s.runGenerated(ctx, txn, res, stmts); err != nil {
		return nil, err
	}
	return res, dropDefaultPrivileges(ctx, txn, db.ID, roles)
}

// dropDefaultPrivileges removes the roles' default privileges in database
// db, and what the others' give them.
func dropDefaultPrivileges(ctx context.Context, txn kvapi.Txn, db uint32, roles map[uint32]string) error {
	entries, err := catalog.ListDefaultPrivileges(ctx, txn, db)
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch {
		case hasRole(roles, e.Role):
			e.ACL = nil
		case aclMentions(e.ACL, roles):
			kept := e.ACL.Items[:0]
			for _, it := range e.ACL.Items {
				if !hasRole(roles, it.Grantee) {
					kept = append(kept, it)
				}
			}
			e.ACL.Items = kept
			builtIn := &catalog.ACL{}
			if e.Schema == 0 {
				builtIn = catalog.DefaultACL(e.Kind, e.Role, false)
			}
			if sameACL(e.ACL, builtIn) {
				e.ACL = nil
			}
		default:
			continue
		}
		if err := catalog.PutDefaultPrivileges(ctx, txn, e); err != nil {
			return err
		}
	}
	return nil
}

func hasRole(roles map[uint32]string, id uint32) bool {
	_, ok := roles[id]
	return ok
}

func aclMentions(acl *catalog.ACL, roles map[uint32]string) bool {
	if acl == nil {
		return false
	}
	for id := range roles {
		if acl.Mentions(id) {
			return true
		}
	}
	return false
}
