package sql

import (
	"context"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/privilege"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// ALTER DEFAULT PRIVILEGES [FOR ROLE r, ...] [IN SCHEMA s, ...] GRANT |
// REVOKE ... ON TABLES | SEQUENCES, as PostgreSQL has it: the privileges
// the tables (views too) and sequences those roles create from now on
// start with, kept per role, database and schema (catalog's
// DefaultPrivileges) and applied by createRelation. Default privileges on
// schemas, types and functions answer 0A000.

func (s *session) alterDefaultPrivileges(ctx context.Context, txn kvapi.Txn, b *builder, st *tree.AlterDefaultPrivileges) (*result, error) {
	if st.ForAllRoles {
		return nil, pgerror.Unsupported("ALTER DEFAULT PRIVILEGES FOR ALL ROLES is not supported")
	}
	target, privs, specs, option := st.Grant.Target, st.Grant.Privileges, st.Grant.Grantees, st.Grant.WithGrantOption
	if !st.IsGrant {
		target, privs, specs, option = st.Revoke.Target, st.Revoke.Privileges, st.Revoke.Grantees, st.Revoke.GrantOptionFor
	}
	var kind catalog.ObjectKind
	switch target {
	case privilege.Tables:
		kind = catalog.ObjTable
	case privilege.Sequences:
		kind = catalog.ObjSequence
	default:
		return nil, pgerror.Unsupported("ALTER DEFAULT PRIVILEGES ON %s is not supported yet", strings.ToUpper(target.String()))
	}
	var bits catalog.Privilege
	for _, p := range privs {
		if p == privilege.ALL {
			bits |= catalog.AllPrivileges(kind)
			continue
		}
		name := string(p.DisplayName())
		one := catalog.ParsePrivilege(name)
		if one == 0 || one&catalog.AllPrivileges(kind) == 0 {
			what := "relation"
			if kind == catalog.ObjSequence {
				what = "sequence"
			}
			return nil, pgerror.Newf(codeInvalidGrantOperation, "invalid privilege type %s for %s", strings.ToUpper(name), what)
		}
		bits |= one
	}
	grantees, err := s.specRoles(ctx, txn, specs, true)
	if err != nil {
		return nil, err
	}
	// The roles whose defaults change: the caller's own, or those it is
	// a member of.
	var roles []uint32
	if len(st.Roles) == 0 {
		id, err := b.priv.currentRoleID()
		if err != nil {
			return nil, err
		}
		roles = append(roles, id)
	}
	targets, err := s.specRoles(ctx, txn, st.Roles, false)
	if err != nil {
		return nil, err
	}
	for _, r := range targets {
		if err := b.priv.checkActAs(r); err != nil {
			return nil, err
		}
		roles = append(roles, r.ID)
	}
	db := s.names.db.ID
	schemas := []uint32{0}
	if len(st.Schemas) > 0 {
		schemas = schemas[:0]
		for _, sc := range st.Schemas {
			n, err := s.mustGetSchema(ctx, txn, string(sc.SchemaName))
			if err != nil {
				return nil, err
			}
			schemas = append(schemas, n.ID)
		}
	}
	for _, role := range roles {
		for _, schema := range schemas {
			acl, err := catalog.GetDefaultPrivileges(ctx, txn, db, role, schema, kind)
			if err != nil {
				return nil, err
			}
			builtIn := &catalog.ACL{}
			if schema == 0 {
				builtIn = catalog.DefaultACL(kind, role, false)
			}
			if acl == nil {
				acl = builtIn.Clone()
			}
			for _, g := range grantees {
				if st.IsGrant {
					acl.Grant(g.ID, role, bits, option)
				} else {
					acl.Revoke(g.ID, role, bits, option)
				}
			}
			if sameACL(acl, builtIn) {
				acl = nil // back to what applies without an entry
			}
			if err := catalog.PutDefaultPrivileges(ctx, txn, catalog.DefaultPrivileges{DB: db, Role: role, Schema: schema, Kind: kind, ACL: acl}); err != nil {
				return nil, err
			}
		}
	}
	return &result{tag: "ALTER DEFAULT PRIVILEGES"}, nil
}

func sameACL(a, b *catalog.ACL) bool {
	if len(a.Items) != len(b.Items) {
		return false
	}
	for i := range a.Items {
		if a.Items[i] != b.Items[i] {
			return false
		}
	}
	return true
}

// initialACL sets a new relation's ACL from its owner's default
// privileges, if any apply.
func (b *builder) initialACL(d *catalog.TableDescriptor) error {
	kind := catalog.ObjTable
	if d.Sequence != nil {
		kind = catalog.ObjSequence
	}
	sc, err := catalog.GetSchema(b.ctx, b.txn, d.ParentID, d.Schema)
	if err != nil || sc == nil {
		return err
	}
	acl, err := catalog.InitialACL(b.ctx, b.txn, d.ParentID, sc.ID, d.Owner, kind)
	if err != nil {
		return err
	}
	if acl != nil {
		d.ACL = acl
	}
	return nil
}
