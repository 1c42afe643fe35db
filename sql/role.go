package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/pgwire/scram"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Roles and users, as PostgreSQL 15: CREATE|ALTER|DROP ROLE|USER and
// GRANT|REVOKE role membership, stored by sql/catalog. Who may run them:
// role_privileges.go.

// Error codes and notices of role statements, PostgreSQL's.
const (
	codeReservedName          pgerror.Code = "42939"
	codeObjectInUse           pgerror.Code = "55006"
	codeInvalidGrantOperation pgerror.Code = "0LP01"
	codeInsufficientPrivilege pgerror.Code = "42501"

	noticeRoleAlreadyMember    = "role %q is already a member of role %q"
	noticeRoleNotMember        = "role %q is not a member of role %q"
	noticeEmptyPassword        = "empty string is not a valid password, clearing password"
	noticeRoleDoesNotExistSkip = "role %q does not exist, skipping"
)

// roleNotice is a NOTICE of a role statement, as PostgreSQL sends them.
func roleNotice(format string, args ...any) notice {
	return notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion, fmt.Sprintf(format, args...), ""}
}

// execRole runs stmt if it is a role statement, and reports whether it
// was.
func (s *session) execRole(ctx context.Context, txn kvapi.Txn, stmt tree.Statement) (*result, bool, error) {
	var res *result
	var err error
	switch st := stmt.(type) {
	case *roleStmt:
		if st.alter {
			res, err = s.alterRole(ctx, txn, st)
		} else {
			res, err = s.createRole(ctx, txn, st)
		}
	case *tree.CreateRole:
		// Only when the statement did not go through parseWithRoles
		// (which takes every CREATE ROLE): never, but not silently.
		return nil, true, pgerror.Unsupported("this form of CREATE ROLE is not supported")
	case *tree.AlterRole:
		return nil, true, pgerror.Unsupported("this form of ALTER ROLE is not supported")
	case *tree.AlterRoleSet:
		return nil, true, pgerror.Unsupported("ALTER ROLE ... SET (per-role setting defaults) is not supported yet")
	case *tree.DropRole:
		res, err = s.dropRoles(ctx, txn, st)
	case *tree.GrantRole:
		res, err = s.grantRoles(ctx, txn, st.Roles, st.Members, st.AdminOption, false)
	case *tree.RevokeRole:
		res, err = s.grantRoles(ctx, txn, st.Roles, st.Members, st.AdminOption, true)
	case *tree.Grant:
		// Only when the statement did not go through parseWithRoles
		// (which takes every GRANT ... ON): never, but not silently.
		return nil, true, pgerror.Unsupported("this form of GRANT is not supported")
	case *tree.Revoke:
		return nil, true, pgerror.Unsupported("this form of REVOKE is not supported")
	default:
		return nil, false, nil
	}
	return res, true, err
}

// checkRoleName refuses the names PostgreSQL reserves.
func checkRoleName(name string) error {
	switch {
	case name == "public" || name == "none":
		return pgerror.Newf(codeReservedName, "role name %q is reserved", name)
	case strings.HasPrefix(name, "pg_"):
		return pgerror.WithDetail(pgerror.Newf(codeReservedName, "role name %q is reserved", name), `Role names starting with "pg_" are reserved.`)
	}
	return nil
}

// resolveRoleSpec names the role a specification means.
func (s *session) resolveRoleSpec(spec tree.RoleSpec) string {
	if spec.RoleSpecType == tree.RoleName {
		return spec.Name
	}
	return s.user
}

// grantorID is the ID of the session's role, as memberships record their
// grantor; root's when the session's user is no role (insecure mode).
func (s *session) grantorID(ctx context.Context, txn kvapi.Txn) (uint32, error) {
	r, err := catalog.GetRole(ctx, txn, s.user)
	if err != nil || r == nil {
		return catalog.RootRoleID, err
	}
	return r.ID, nil
}

func (s *session) createRole(ctx context.Context, txn kvapi.Txn, st *roleStmt) (*result, error) {
	res := &result{tag: "CREATE ROLE"}
	if err := checkRoleName(st.name.Name); err != nil {
		return nil, err
	}
	if err := s.checkCreateRole(ctx, txn, st); err != nil {
		return nil, err
	}
	r := &catalog.Role{Name: st.name.Name, Inherit: true, Login: st.user}
	if err := s.applyRoleOptions(r, &st.opts, res); err != nil {
		return nil, err
	}
	if err := catalog.CreateRole(ctx, txn, r); err != nil {
		return nil, err
	}
	if len(st.opts.inRole)+len(st.opts.roles)+len(st.opts.admins) == 0 {
		return res, nil
	}
	g, err := s.newGranter(ctx, txn, res)
	if err != nil {
		return nil, err
	}
	for _, name := range st.opts.inRole {
		if err := g.grant(name, r.Name, false); err != nil {
			return nil, err
		}
	}
	for _, name := range st.opts.roles {
		if err := g.grant(r.Name, name, false); err != nil {
			return nil, err
		}
	}
	for _, name := range st.opts.admins {
		if err := g.grant(r.Name, name, true); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// applyRoleOptions sets r's attributes from the options given.
func (s *session) applyRoleOptions(r *catalog.Role, o *roleOptions, res *result) error {
	if o.unsupported != "" {
		return pgerror.Unsupported("%s is not supported yet", o.unsupported)
	}
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&r.Login, o.login)
	set(&r.Superuser, o.superuser)
	set(&r.CreateDB, o.createDB)
	set(&r.CreateRole, o.createRole)
	set(&r.Inherit, o.inherit)
	if o.password == nil {
		return nil
	}
	pw := *o.password
	switch {
	case pw == nil:
		r.Password = ""
	case *pw == "":
		res.notices = append(res.notices, roleNotice(noticeEmptyPassword))
		r.Password = ""
	default:
		v, err := passwordVerifier(*pw)
		if err != nil {
			return err
		}
		r.Password = v
	}
	return nil
}

// passwordVerifier is what is stored of a password: its SCRAM-SHA-256
// verifier, or the password itself if it already is one (as PostgreSQL,
// so that roles can be copied from a dump).
func passwordVerifier(pw string) (string, error) {
	if v, ok := scram.Parse(pw); ok {
		return v.String(), nil
	}
	if len(pw) == 35 && strings.HasPrefix(pw, "md5") && strings.Trim(pw[3:], "0123456789abcdef") == "" {
		return "", pgerror.Unsupported("MD5 password hashes are not supported: give the password itself or its SCRAM-SHA-256 verifier")
	}
	v, err := scram.New(pw)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func (s *session) alterRole(ctx context.Context, txn kvapi.Txn, st *roleStmt) (*result, error) {
	res := &result{tag: "ALTER ROLE"}
	name := s.resolveRoleSpec(st.name)
	r, err := catalog.MustGetRole(ctx, txn, name)
	if err != nil {
		return nil, err
	}
	if err := s.checkAlterRole(ctx, txn, st, r); err != nil {
		return nil, err
	}
	if st.rename != "" {
		switch {
		case name == s.user:
			return nil, pgerror.Unsupported("session user cannot be renamed")
		case r.ID == catalog.RootRoleID:
			return nil, pgerror.Newf(codeInsufficientPrivilege, "role %q cannot be renamed: the nodes and their operator connect as it", name)
		}
		if err := checkRoleName(st.rename); err != nil {
			return nil, err
		}
		return res, catalog.RenameRole(ctx, txn, r, st.rename)
	}
	if err := s.applyRoleOptions(r, &st.opts, res); err != nil {
		return nil, err
	}
	if r.ID == catalog.RootRoleID && (!r.Superuser || !r.Login) {
		return nil, pgerror.Newf(codeInsufficientPrivilege, "role %q must stay a superuser that can log in: the nodes and their operator connect as it", name)
	}
	return res, catalog.PutRole(ctx, txn, r)
}

func (s *session) dropRoles(ctx context.Context, txn kvapi.Txn, st *tree.DropRole) (*result, error) {
	res := &result{tag: "DROP ROLE"}
	for _, spec := range st.Names {
		if spec.RoleSpecType != tree.RoleName {
			return nil, pgerror.Newf(pgerror.CodeSyntaxError, "cannot use special role specifier in DROP ROLE")
		}
		r, err := catalog.GetRole(ctx, txn, spec.Name)
		if err != nil {
			return nil, err
		}
		switch {
		case r == nil && st.IfExists:
			res.notices = append(res.notices, roleNotice(noticeRoleDoesNotExistSkip, spec.Name))
			continue
		case r == nil:
			return nil, catalog.UndefinedRole(spec.Name)
		case r.Name == s.user:
			return nil, pgerror.New(codeObjectInUse, "current user cannot be dropped")
		case r.ID == catalog.RootRoleID:
			return nil, pgerror.Newf(codeObjectInUse, "cannot drop role %s because it is required by the database system", r.Name)
		}
		if err := s.checkDropRole(ctx, txn, r); err != nil {
			return nil, err
		}
		if err := s.checkRoleDependents(ctx, txn, r); err != nil {
			return nil, err
		}
		if err := catalog.DropRole(ctx, txn, r); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// grantRoles is GRANT roles TO members [WITH ADMIN OPTION], or with
// revoke REVOKE [ADMIN OPTION FOR] roles FROM members.
func (s *session) grantRoles(ctx context.Context, txn kvapi.Txn, roles tree.NameList, members tree.RoleSpecList, admin, revoke bool) (*result, error) {
	res := &result{tag: "GRANT ROLE"}
	if revoke {
		res.tag = "REVOKE ROLE"
	}
	g, err := s.newGranter(ctx, txn, res)
	if err != nil {
		return nil, err
	}
	for _, role := range roles {
		for _, spec := range members {
			member := s.resolveRoleSpec(spec)
			if revoke {
				err = g.revoke(string(role), member, admin)
			} else {
				err = g.grant(string(role), member, admin)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// granter adds and removes memberships within one statement.
type granter struct {
	ctx     context.Context
	txn     kvapi.Txn
	res     *result
	grantor uint32
	// ms are every membership, kept up to date, to refuse cycles.
	ms []catalog.Membership
	// may checks that the session may grant and revoke membership in a
	// role.
	may func(role *catalog.Role) error
}

func (s *session) newGranter(ctx context.Context, txn kvapi.Txn, res *result) (*granter, error) {
	grantor, err := s.grantorID(ctx, txn)
	if err != nil {
		return nil, err
	}
	ms, err := catalog.ListMemberships(ctx, txn)
	if err != nil {
		return nil, err
	}
	g := &granter{ctx: ctx, txn: txn, res: res, grantor: grantor, ms: ms}
	g.may = func(role *catalog.Role) error { return s.checkGrantRole(ctx, txn, role, g.ms) }
	return g, nil
}

// pair looks up a membership's role and member, and checks that the
// session may grant or revoke membership in the role.
func (g *granter) pair(roleName, memberName string) (role, member *catalog.Role, err error) {
	if role, err = catalog.MustGetRole(g.ctx, g.txn, roleName); err != nil {
		return nil, nil, err
	}
	if member, err = catalog.MustGetRole(g.ctx, g.txn, memberName); err != nil {
		return nil, nil, err
	}
	return role, member, g.may(role)
}

// grant makes member a member of role, as PostgreSQL 15: a member
// already is told so, unless the grant adds the admin option; a grant
// that would make a cycle (a role its own member) is refused.
func (g *granter) grant(roleName, memberName string, admin bool) error {
	role, member, err := g.pair(roleName, memberName)
	if err != nil {
		return err
	}
	for i, m := range g.ms {
		if m.Role == role.ID && m.Member == member.ID {
			if m.Admin || !admin {
				g.res.notices = append(g.res.notices, roleNotice(noticeRoleAlreadyMember, member.Name, role.Name))
				return nil
			}
			g.ms[i].Admin = true
			return catalog.PutMembership(g.ctx, g.txn, g.ms[i])
		}
	}
	if memberOf(g.ms, role.ID, member.ID) {
		return pgerror.Newf(codeInvalidGrantOperation, "role %q is a member of role %q", role.Name, member.Name)
	}
	m := catalog.Membership{Role: role.ID, Member: member.ID, Admin: admin, Grantor: g.grantor}
	g.ms = append(g.ms, m)
	return catalog.PutMembership(g.ctx, g.txn, m)
}

// revoke ends member's membership in role, or with adminOnly only its
// admin option.
func (g *granter) revoke(roleName, memberName string, adminOnly bool) error {
	role, member, err := g.pair(roleName, memberName)
	if err != nil {
		return err
	}
	for i, m := range g.ms {
		if m.Role != role.ID || m.Member != member.ID {
			continue
		}
		if adminOnly {
			g.ms[i].Admin = false
			return catalog.PutMembership(g.ctx, g.txn, g.ms[i])
		}
		g.ms = append(g.ms[:i], g.ms[i+1:]...)
		return catalog.DeleteMembership(g.ctx, g.txn, role.ID, member.ID)
	}
	g.res.notices = append(g.res.notices, roleNotice(noticeRoleNotMember, member.Name, role.Name))
	return nil
}

// memberOf reports whether role is member, or a member of it, directly
// or through other roles: granting role to member would make a cycle.
func memberOf(ms []catalog.Membership, role, member uint32) bool {
	seen := map[uint32]bool{}
	var walk func(r uint32) bool
	walk = func(r uint32) bool {
		if r == member {
			return true
		}
		if seen[r] {
			return false
		}
		seen[r] = true
		for _, m := range ms {
			if m.Member == r && walk(m.Role) {
				return true
			}
		}
		return false
	}
	return walk(role)
}
