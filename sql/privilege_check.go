package sql

import (
	"context"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
)

// Privileges on objects are enforced as PostgreSQL 15 does: a statement
// needs, on each relation it reads or writes, the privilege its use
// takes (SELECT to read, INSERT, UPDATE, DELETE, TRUNCATE to write,
// REFERENCES for a foreign key); USAGE on the schemas it names objects
// in; ownership to change or drop an object; CREATE on the schema it
// creates in. A role has the privileges granted to it, to PUBLIC, and to
// the roles it inherits from (memberships through roles with INHERIT). A
// superuser, and a session whose user is no role (an insecure node's), is
// never checked. The relations a view reads are checked against the
// view's owner, as in PostgreSQL.
//
// The checks of a query are collected while it is planned and made
// before it runs (PostgreSQL's ExecCheckPermissions), so that a mistake
// in the query is reported before a missing privilege, as there.

// privChecker answers for one statement what its role may do. Not safe
// for concurrent use.
type privChecker struct {
	ctx context.Context
	txn kvapi.Txn
	// name is the role the statement runs as (SET ROLE's, else the
	// session's user).
	name string
	// loaded: me is read; rolesLoaded: roles and ms are (only when a
	// check needs more than the role's own and PUBLIC's grants), or
	// rolesErr says why they could not be.
	loaded      bool
	me          *catalog.Role
	rolesLoaded bool
	rolesErr    error
	roles       map[uint32]*catalog.Role
	ms          []catalog.Membership
	// eff caches, by role, the roles whose privileges it has.
	eff map[uint32]map[uint32]bool
	// schemas caches the schemas of the session's database by name.
	schemas map[string]*catalog.Namespace
	// reqs are the checks a query's plan collected; schemaReqs the
	// schema checks its planning made (a cached plan makes both again).
	reqs       []privReq
	schemaReqs []schemaReq
}

// schemaReq is a privilege checked on a schema (see checkSchema).
type schemaReq struct {
	db   uint32
	name string
	priv catalog.Privilege
	as   uint32
}

// privReq is a privilege needed on a relation, by role as (0: the
// statement's role).
type privReq struct {
	desc *catalog.TableDescriptor
	priv catalog.Privilege
	as   uint32
}

// currentRole is the role the session's statements run as: SET ROLE's,
// else the session's user.
func (s *session) currentRole() string {
	if r := s.settings["role"]; r != "" && r != "none" {
		return r
	}
	return s.user
}

// newPrivChecker is the checker of the session's statement in txn; nil
// when it runs as root, who is always a superuser (so that the nodes'
// and benchmarks' statements read nothing for it).
func (s *session) newPrivChecker(ctx context.Context, txn kvapi.Txn) *privChecker {
	name := s.currentRole()
	if name == catalog.RootRoleName {
		return nil
	}
	return &privChecker{ctx: ctx, txn: txn, name: name}
}

// load reads the statement's role.
func (c *privChecker) load() error {
	if c.loaded {
		return nil
	}
	me, err := catalog.GetRole(c.ctx, c.txn, c.name)
	if err != nil {
		return err
	}
	c.me, c.loaded = me, true
	return nil
}

// loadRoles reads every role and membership, which a check needs once
// the role's own and PUBLIC's grants do not settle it (the common case
// reads neither).
func (c *privChecker) loadRoles() error {
	if c.rolesLoaded || c.rolesErr != nil {
		return c.rolesErr
	}
	roles, err := catalog.ListRoles(c.ctx, c.txn)
	if err == nil {
		c.roles = map[uint32]*catalog.Role{}
		for _, r := range roles {
			c.roles[r.ID] = r
		}
		c.ms, err = catalog.ListMemberships(c.ctx, c.txn)
	}
	if err != nil {
		c.rolesErr = err
		return err
	}
	c.eff = map[uint32]map[uint32]bool{}
	c.rolesLoaded = true
	return nil
}

// deny is err, a refusal, unless reading the roles failed: that error
// is the statement's then.
func (c *privChecker) deny(err error) error {
	if c.rolesErr != nil {
		return c.rolesErr
	}
	return err
}

// bypass reports whether the statement's role is never checked.
func (c *privChecker) bypass() (bool, error) {
	if c == nil {
		return true, nil
	}
	if err := c.load(); err != nil {
		return false, err
	}
	return c.me == nil || c.me.Superuser, nil
}

func (c *privChecker) roleID(as uint32) uint32 {
	if as == 0 {
		return c.me.ID
	}
	return as
}

// superuser reports whether role id is a superuser.
func (c *privChecker) superuser(id uint32) bool {
	if c.me != nil && id == c.me.ID {
		return c.me.Superuser
	}
	if c.loadRoles() != nil {
		return false
	}
	r := c.roles[id]
	return r != nil && r.Superuser
}

// effective is the set of roles whose privileges id has: itself, PUBLIC,
// and, while the roles on the way have INHERIT, the roles it is a
// member of (PostgreSQL's has_privs_of_role).
func (c *privChecker) effective(id uint32) map[uint32]bool {
	e := map[uint32]bool{id: true, catalog.PublicRoleID: true}
	if c.loadRoles() != nil {
		return e
	}
	if e := c.eff[id]; e != nil {
		return e
	}
	queue := []uint32{id}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if r := c.roles[x]; r == nil || !r.Inherit {
			continue
		}
		for _, m := range c.ms {
			if m.Member == x && !e[m.Role] {
				e[m.Role] = true
				queue = append(queue, m.Role)
			}
		}
	}
	c.eff[id] = e
	return e
}

// has reports whether role as (loaded, not bypassing) holds want on an
// object with acl.
func (c *privChecker) has(acl *catalog.ACL, as uint32, want catalog.Privilege) bool {
	id := c.roleID(as)
	if c.superuser(id) {
		return true
	}
	// The role's own and PUBLIC's grants first: most checks end there,
	// without reading the roles.
	var direct catalog.Privilege
	for _, it := range acl.Items {
		if it.Grantee == id || it.Grantee == catalog.PublicRoleID {
			direct |= it.Privs
		}
	}
	if direct&want == want {
		return true
	}
	e := c.effective(id)
	var got catalog.Privilege
	for _, it := range acl.Items {
		if e[it.Grantee] {
			got |= it.Privs
		}
	}
	return got&want == want
}

// checkActAs refuses acting for role r (ALTER DEFAULT PRIVILEGES FOR
// ROLE r) unless the statement's role is a member of it or bypasses.
func (c *privChecker) checkActAs(r *catalog.Role) error {
	if ok, err := c.bypass(); err != nil || ok {
		return err
	}
	if err := c.loadRoles(); err != nil {
		return err
	}
	if !memberOf(c.ms, c.me.ID, r.ID) {
		return insufficient("permission denied to change default privileges")
	}
	return nil
}

// owns reports whether role as has the privileges of owner.
func (c *privChecker) owns(owner, as uint32) bool {
	id := c.roleID(as)
	return id == owner || c.superuser(id) || c.effective(id)[owner]
}

func permissionDenied(kind, name string) error {
	return insufficient("permission denied for %s %s", kind, name)
}

// require records that the query needs priv on d (any of priv's bits,
// for a sequence's USAGE-or-SELECT: see requireAny).
func (c *privChecker) require(d *catalog.TableDescriptor, priv catalog.Privilege, as uint32) {
	if c != nil {
		c.reqs = append(c.reqs, privReq{desc: d, priv: priv, as: as})
	}
}

// checkReqs makes the checks the query's plan collected, in order.
func (c *privChecker) checkReqs() error {
	if c == nil || len(c.reqs) == 0 {
		return nil
	}
	reqs := c.reqs
	c.reqs = nil
	if ok, err := c.bypass(); ok || err != nil {
		return err
	}
	for _, r := range reqs {
		if !c.has(r.desc.Privileges(), r.as, r.priv) {
			return c.deny(permissionDenied(relKind(r.desc), r.desc.Name))
		}
	}
	return nil
}

// checkTable checks now that the statement's role holds priv on d.
func (c *privChecker) checkTable(d *catalog.TableDescriptor, priv catalog.Privilege) error {
	if ok, err := c.bypass(); ok || err != nil {
		return err
	}
	if !c.has(d.Privileges(), 0, priv) {
		return c.deny(permissionDenied(relKind(d), d.Name))
	}
	return nil
}

// checkSequence checks that the role holds one of privs on sequence d
// (nextval takes USAGE or UPDATE, currval USAGE or SELECT).
func (c *privChecker) checkSequence(d *catalog.TableDescriptor, privs ...catalog.Privilege) error {
	if ok, err := c.bypass(); ok || err != nil {
		return err
	}
	for _, p := range privs {
		if c.has(d.Privileges(), 0, p) {
			return nil
		}
	}
	return c.deny(permissionDenied("sequence", d.Name))
}

// checkOwner checks that the role may alter or drop d.
func (c *privChecker) checkOwner(d *catalog.TableDescriptor) error {
	if ok, err := c.bypass(); ok || err != nil {
		return err
	}
	if !c.owns(d.OwnerID(), 0) {
		kind := relKind(d)
		return c.deny(insufficient("must be owner of %s %s", kind, d.Name))
	}
	return nil
}

// schema returns schema name of database db, nil if there is none.
func (c *privChecker) schema(db uint32, name string) (*catalog.Namespace, error) {
	if sc, ok := c.schemas[name]; ok {
		return sc, nil
	}
	sc, err := catalog.GetSchema(c.ctx, c.txn, db, name)
	if err != nil {
		return nil, err
	}
	if c.schemas == nil {
		c.schemas = map[string]*catalog.Namespace{}
	}
	c.schemas[name] = sc
	return sc, nil
}

// checkSchema checks that role as holds priv on schema name of db.
func (c *privChecker) checkSchema(db uint32, name string, priv catalog.Privilege, as uint32) error {
	if c != nil {
		c.schemaReqs = append(c.schemaReqs, schemaReq{db: db, name: name, priv: priv, as: as})
	}
	if ok, err := c.bypass(); ok || err != nil {
		return err
	}
	if _, ok := tempSchemaPID(name); ok {
		// As PostgreSQL's pg_namespace_aclmask: TEMP on the database
		// gives every right on a temporary schema (whoever made it),
		// without it there is USAGE only.
		temp, err := c.hasTemp(db, as)
		if err != nil {
			return err
		}
		if !temp && priv != catalog.PrivUsage {
			return c.deny(permissionDenied("schema", name))
		}
		return nil
	}
	sc, err := c.schema(db, name)
	if err != nil || sc == nil {
		return err
	}
	if !c.has(sc.Privileges(), as, priv) {
		return c.deny(permissionDenied("schema", name))
	}
	return nil
}

// hasTemp reports whether role as holds TEMP on database db (true for a
// role checks bypass).
func (c *privChecker) hasTemp(db uint32, as uint32) (bool, error) {
	if ok, err := c.bypass(); ok || err != nil {
		return ok, err
	}
	dbs, err := catalog.ListDatabases(c.ctx, c.txn)
	if err != nil {
		return false, err
	}
	for _, d := range dbs {
		if d.ID == db {
			return c.has(d.Privileges(), as, catalog.PrivTemporary), nil
		}
	}
	return false, nil
}

// checkNamespace checks that the role holds priv on database or schema n.
func (c *privChecker) checkNamespace(n *catalog.Namespace, priv catalog.Privilege) error {
	if ok, err := c.bypass(); ok || err != nil {
		return err
	}
	if !c.has(n.Privileges(), 0, priv) {
		kind := "schema"
		if n.IsDatabase() {
			kind = "database"
		}
		return c.deny(permissionDenied(kind, n.Name))
	}
	return nil
}

// currentRoleID is the ID of the role the statement runs as; root's for
// a user who is no role (an insecure node's), who owns what it creates
// as root would.
func (c *privChecker) currentRoleID() (uint32, error) {
	if c == nil {
		return catalog.RootRoleID, nil
	}
	if err := c.load(); err != nil {
		return 0, err
	}
	if c.me == nil {
		return catalog.RootRoleID, nil
	}
	return c.me.ID, nil
}
