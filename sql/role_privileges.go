package sql

import (
	"context"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Who may run role statements, as PostgreSQL 15 decides: a superuser
// anything; a role with CREATEROLE may create, alter, drop and grant roles
// that are not superusers; any role may change its own password; a member
// WITH ADMIN OPTION may grant and revoke that role.
//
// A session whose user is no stored role exists only on an insecure node
// (a node that authenticates refuses such logins): it is treated as a
// superuser, as every session of an insecure cluster is root in effect.

// sessionRole returns the session's role; nil (with no error) for a user
// who is no role.
func (s *session) sessionRole(ctx context.Context, txn kvapi.Txn) (*catalog.Role, error) {
	return catalog.GetRole(ctx, txn, s.user)
}

func insufficient(format string, args ...any) error {
	return pgerror.Newf(codeInsufficientPrivilege, format, args...)
}

// checkCreateRole: CREATE ROLE needs CREATEROLE, and a superuser to make a
// superuser.
func (s *session) checkCreateRole(ctx context.Context, txn kvapi.Txn, st *roleStmt) error {
	me, err := s.sessionRole(ctx, txn)
	if err != nil || me == nil || me.Superuser {
		return err
	}
	if st.opts.superuser != nil && *st.opts.superuser {
		return insufficient("must be superuser to create superusers")
	}
	if !me.CreateRole {
		return insufficient("permission denied to create role")
	}
	return nil
}

// checkAlterRole: altering a superuser, or the SUPERUSER attribute, needs
// a superuser; otherwise CREATEROLE, except that a role may change its own
// password.
func (s *session) checkAlterRole(ctx context.Context, txn kvapi.Txn, st *roleStmt, target *catalog.Role) error {
	me, err := s.sessionRole(ctx, txn)
	if err != nil || me == nil || me.Superuser {
		return err
	}
	if target.Superuser || st.opts.superuser != nil {
		return insufficient("must be superuser to alter superuser roles or change superuser attribute")
	}
	if me.CreateRole {
		return nil
	}
	o := st.opts
	onlyPassword := st.rename == "" && o.login == nil && o.createDB == nil && o.createRole == nil &&
		o.inherit == nil && o.password != nil
	if target.ID == me.ID && onlyPassword {
		return nil
	}
	return insufficient("permission denied")
}

// checkDropRole: DROP ROLE needs CREATEROLE, and a superuser to drop a
// superuser.
func (s *session) checkDropRole(ctx context.Context, txn kvapi.Txn, target *catalog.Role) error {
	me, err := s.sessionRole(ctx, txn)
	if err != nil || me == nil || me.Superuser {
		return err
	}
	if target.Superuser {
		return insufficient("must be superuser to drop superusers")
	}
	if !me.CreateRole {
		return insufficient("permission denied to drop role")
	}
	return nil
}

// checkGrantRole: granting or revoking membership in role needs a
// superuser for a superuser role; otherwise CREATEROLE or the admin option
// on it.
func (s *session) checkGrantRole(ctx context.Context, txn kvapi.Txn, role *catalog.Role, ms []catalog.Membership) error {
	me, err := s.sessionRole(ctx, txn)
	if err != nil || me == nil || me.Superuser {
		return err
	}
	if role.Superuser {
		return insufficient("must be superuser to alter superusers")
	}
	if me.CreateRole {
		return nil
	}
	for _, m := range ms {
		if m.Role == role.ID && m.Member == me.ID && m.Admin {
			return nil
		}
	}
	return insufficient("must have admin option on role %q", role.Name)
}
