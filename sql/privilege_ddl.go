package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Ownership and CREATE: a relation is owned by the role that creates it,
// which needs CREATE on the schema it is created in; only its owner (a
// member of the owner, a superuser) alters or drops it.

// createRelation stores a new relation, owned by the statement's role.
func (b *builder) createRelation(d *catalog.TableDescriptor) error {
	owner, err := b.priv.currentRoleID()
	if err != nil {
		return err
	}
	d.Owner = owner
	if err := b.initialACL(d); err != nil {
		return err
	}
	return catalog.CreateTable(b.ctx, b.txn, d)
}

// createSequenceRel stores a new sequence, owned by the statement's role.
func (b *builder) createSequenceRel(d *catalog.TableDescriptor) error {
	owner, err := b.priv.currentRoleID()
	if err != nil {
		return err
	}
	d.Owner = owner
	if err := b.initialACL(d); err != nil {
		return err
	}
	return createSequence(b.ctx, b.txn, d)
}

// checkOwner is the ownership check of a statement that alters or drops
// d.
func (b *builder) checkOwner(d *catalog.TableDescriptor) error {
	return b.priv.checkOwner(d)
}

// checkRoleDependents refuses to drop a role that owns objects or holds
// or granted privileges on them (2BP01, listing them as PostgreSQL does:
// those of the session's database by name, the others counted by
// database).
func (s *session) checkRoleDependents(ctx context.Context, txn kvapi.Txn, r *catalog.Role) error {
	dbs, err := catalog.ListDatabases(ctx, txn)
	if err != nil {
		return err
	}
	var here []string
	elsewhere := map[uint32]int{}
	note := func(db uint32, what string) {
		if s.names != nil && db == s.names.db.ID {
			here = append(here, what)
		} else {
			elsewhere[db]++
		}
	}
	for _, db := range dbs {
		if db.Owner == r.ID {
			here = append(here, fmt.Sprintf("owner of database %s", db.Name))
		}
		if db.ACL != nil && db.ACL.Mentions(r.ID) {
			here = append(here, fmt.Sprintf("privileges for database %s", db.Name))
		}
		schemas, err := catalog.ListSchemas(ctx, txn, db.ID)
		if err != nil {
			return err
		}
		for _, sc := range schemas {
			if sc.Owner == r.ID {
				note(db.ID, fmt.Sprintf("owner of schema %s", sc.Name))
			}
			if sc.ACL != nil && sc.ACL.Mentions(r.ID) {
				note(db.ID, fmt.Sprintf("privileges for schema %s", sc.Name))
			}
		}
	}
	tables, err := catalog.ListAllTables(ctx, txn)
	if err != nil {
		return err
	}
	for _, d := range tables {
		if d.OwnerID() == r.ID {
			note(d.ParentID, fmt.Sprintf("owner of %s %s", relKind(d), d.Name))
		}
		if d.ACL != nil && d.ACL.Mentions(r.ID) {
			note(d.ParentID, fmt.Sprintf("privileges for %s %s", relKind(d), d.Name))
		}
	}
	// Default privileges (ALTER DEFAULT PRIVILEGES) the role set, or
	// that give it something.
	var roleNames map[uint32]string // read by the first entry that needs them
	for _, db := range dbs {
		entries, err := catalog.ListDefaultPrivileges(ctx, txn, db.ID)
		if err != nil {
			return err
		}
		for _, e := range entries {
			granted := false
			for _, it := range e.ACL.Items {
				granted = granted || (it.Grantee == r.ID && e.Role != r.ID)
			}
			if e.Role != r.ID && !granted {
				continue
			}
			what := "relations"
			if e.Kind == catalog.ObjSequence {
				what = "sequences"
			}
			if roleNames == nil {
				roles, err := catalog.ListRoles(ctx, txn)
				if err != nil {
					return err
				}
				roleNames = map[uint32]string{}
				for _, role := range roles {
					roleNames[role.ID] = role.Name
				}
			}
			desc := fmt.Sprintf("default privileges on new %s belonging to role %s", what, roleNames[e.Role])
			if e.Schema != 0 {
				schemas, err := catalog.ListSchemas(ctx, txn, db.ID)
				if err != nil {
					return err
				}
				for _, sc := range schemas {
					if sc.ID == e.Schema {
						desc += " in schema " + sc.Name
					}
				}
			}
			if e.Role == r.ID {
				note(db.ID, "owner of "+desc)
			} else {
				note(db.ID, "privileges for "+desc)
			}
		}
	}
	for _, db := range dbs {
		if n := elsewhere[db.ID]; n > 0 {
			word := "objects"
			if n == 1 {
				word = "object"
			}
			here = append(here, fmt.Sprintf("%d %s in database %s", n, word, db.Name))
		}
	}
	if len(here) == 0 {
		return nil
	}
	return pgerror.WithDetail(pgerror.Newf("2BP01", "role %q cannot be dropped because some objects depend on it", r.Name), strings.Join(here, "\n"))
}

// alterOwner is ALTER TABLE|VIEW|SEQUENCE name OWNER TO role: the owner
// (or a member of it) may give the relation to a role it is a member of
// that may create in the relation's schema; a superuser to anyone. The
// ACL's owner items move to the new owner, as PostgreSQL's aclnewowner.
func (b schemaChanger) alterOwner(st *tree.AlterTableOwner) (*result, bool, error) {
	tag := "ALTER TABLE"
	switch {
	case st.IsMaterialized:
		tag = "ALTER MATERIALIZED VIEW"
	case st.IsView:
		tag = "ALTER VIEW"
	case st.IsSequence:
		tag = "ALTER SEQUENCE"
	}
	res := &result{tag: tag}
	tn := st.Name.ToTableName()
	d, err := b.names.find(b.ctx, b.txn, &tn)
	if err != nil {
		return nil, true, err
	}
	if d == nil {
		if st.IfExists {
			res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
				fmt.Sprintf("relation %q does not exist, skipping", tn.Object()), ""})
			return res, true, nil
		}
		return nil, true, undefinedRelation(&tn)
	}
	if st.IsMaterialized && !d.IsMatView() {
		return nil, true, pgerror.Newf("42809", "%q is not a materialized view", d.Name)
	}
	name := st.Owner.Name
	if st.Owner.RoleSpecType != tree.RoleName {
		name = sessionRoleName(b.priv)
	}
	newOwner, err := catalog.MustGetRole(b.ctx, b.txn, name)
	if err != nil {
		return nil, true, err
	}
	if newOwner.ID == d.OwnerID() {
		return res, true, nil
	}
	if err := b.checkOwner(d); err != nil {
		return nil, true, err
	}
	if ok, err := b.priv.bypass(); err != nil {
		return nil, true, err
	} else if !ok {
		if err := b.priv.loadRoles(); err != nil {
			return nil, true, err
		}
		if !memberOf(b.priv.ms, b.priv.me.ID, newOwner.ID) {
			return nil, true, insufficient("must be member of role %q", newOwner.Name)
		}
		if err := b.priv.checkSchema(d.ParentID, d.Schema, catalog.PrivCreate, newOwner.ID); err != nil {
			return nil, true, err
		}
	}
	old := d.OwnerID()
	if d.ACL != nil {
		acl := d.ACL.Clone()
		for i := range acl.Items {
			if acl.Items[i].Grantee == old {
				acl.Items[i].Grantee = newOwner.ID
			}
			if acl.Items[i].Grantor == old {
				acl.Items[i].Grantor = newOwner.ID
			}
		}
		d.ACL = acl
	}
	d.Owner = newOwner.ID
	return res, true, catalog.PutDescriptor(b.ctx, b.txn, d)
}

// sessionRoleName is the name CURRENT_USER stands for.
func sessionRoleName(c *privChecker) string {
	if c == nil {
		return catalog.RootRoleName
	}
	return c.name
}
