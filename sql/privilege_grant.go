package sql

import (
	"context"
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/vtable"
)

// GRANT and REVOKE of privileges on tables, views, sequences, databases
// and schemas, as PostgreSQL 15 runs them: the owner (or a superuser, or
// a member of the owner) grants as the owner; another role grants what it
// holds WITH GRANT OPTION, as itself; one that holds some privilege but
// no option gets a WARNING and changes nothing, one that holds none is
// refused. REVOKE takes away what the grantor granted; the grants made
// on the strength of a grant option it takes away are dependent
// privileges: REVOKE refuses to leave them (2BP01) unless CASCADE, which
// revokes them too.

const (
	codeWarningPrivilegeNotGranted pgerror.Code = "01007"
	codeWarningPrivilegeNotRevoked pgerror.Code = "01006"
)

// aclObject is one object a GRANT or REVOKE changes.
type aclObject struct {
	kind  catalog.ObjectKind
	word  string // "table", "sequence", ... as messages name it
	name  string
	owner uint32
	acl   *catalog.ACL
	// save writes the changed ACL.
	save func(*catalog.ACL) error
}

func (s *session) execPrivStmt(ctx context.Context, txn kvapi.Txn, b *builder, st *privStmt) (*result, error) {
	if st.unsupported != "" {
		return nil, pgerror.Unsupported("%s is not supported yet", st.unsupported)
	}
	res := &result{tag: st.StatementTag()}
	objs, err := s.aclObjects(ctx, txn, b, st)
	if err != nil {
		return nil, err
	}
	grantees := make([]uint32, len(st.grantees))
	for i, g := range st.grantees {
		if g.RoleSpecType == tree.RoleName && g.Name == "public" {
			grantees[i] = catalog.PublicRoleID
			continue
		}
		r, err := catalog.MustGetRole(ctx, txn, s.resolveRoleSpec(g))
		if err != nil {
			return nil, err
		}
		grantees[i] = r.ID
	}
	if st.option && !st.revoke {
		for _, g := range grantees {
			if g == catalog.PublicRoleID {
				return nil, pgerror.New(codeInvalidGrantOperation, "grant options can only be granted to roles")
			}
		}
	}
	for _, o := range objs {
		all := catalog.AllPrivileges(o.kind)
		privs := st.privs
		if st.all {
			privs = all
		}
		if extra := privs &^ all; extra != 0 {
			if o.kind == catalog.ObjSequence && st.kind == catalog.ObjTable {
				// A sequence named as a table: what it cannot have is
				// left out, with a WARNING, as in PostgreSQL.
				res.notices = append(res.notices, notice{pgerror.SeverityWarning, pgerror.CodeSuccessfulCompletion,
					fmt.Sprintf("sequence %q only supports USAGE, SELECT, and UPDATE privileges", o.name), ""})
				privs &= all
				if privs == 0 {
					continue
				}
			} else {
				var first catalog.Privilege
				extra.Each(func(p catalog.Privilege) {
					if first == 0 {
						first = p
					}
				})
				return nil, pgerror.Newf(codeInvalidGrantOperation, "invalid privilege type %s for %s", first.Name(), o.word)
			}
		}
		if err := s.applyACL(b.priv, o, st, privs, grantees, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// aclObjects resolves a statement's targets.
func (s *session) aclObjects(ctx context.Context, txn kvapi.Txn, b *builder, st *privStmt) ([]*aclObject, error) {
	var out []*aclObject
	rel := func(d *catalog.TableDescriptor) *aclObject {
		return &aclObject{kind: d.ObjectKind(), word: relKind(d), name: d.Name, owner: d.OwnerID(), acl: d.Privileges(),
			save: func(acl *catalog.ACL) error {
				d.ACL = acl
				return catalog.PutDescriptor(ctx, txn, d)
			}}
	}
	ns := func(n *catalog.Namespace, kind catalog.ObjectKind, word string) *aclObject {
		return &aclObject{kind: kind, word: word, name: n.Name, owner: n.Owner, acl: n.Privileges(),
			save: func(acl *catalog.ACL) error {
				n.ACL = acl
				return catalog.PutNamespace(ctx, txn, n)
			}}
	}
	switch {
	case st.kind == catalog.ObjDatabase:
		for _, name := range st.names {
			db, err := catalog.MustGetDatabase(ctx, txn, name)
			if err != nil {
				return nil, err
			}
			out = append(out, ns(db, catalog.ObjDatabase, "database"))
		}
	case st.kind == catalog.ObjSchema:
		for _, name := range st.names {
			sc, err := s.mustGetSchema(ctx, txn, name)
			if err != nil {
				return nil, err
			}
			out = append(out, ns(sc, catalog.ObjSchema, "schema"))
		}
	case st.inSchema:
		for _, name := range st.names {
			if _, err := s.mustGetSchema(ctx, txn, name); err != nil {
				return nil, err
			}
			tables, err := catalog.ListTablesInSchema(ctx, txn, s.names.db.ID, name)
			if err != nil {
				return nil, err
			}
			for _, d := range tables {
				if (d.Sequence != nil) == (st.kind == catalog.ObjSequence) {
					out = append(out, rel(d))
				}
			}
		}
	default:
		for _, tn := range st.tables {
			d, err := b.names.find(ctx, txn, tn)
			if err != nil {
				return nil, err
			}
			if d == nil {
				if _, ok := vtable.Lookup(string(tn.SchemaName), string(tn.ObjectName)); ok {
					return nil, pgerror.Unsupported("privileges on the system catalogs (%s) are not supported: every role reads them", tn.ObjectName)
				}
				return nil, undefinedRelation(tn)
			}
			if st.kind == catalog.ObjSequence && d.Sequence == nil {
				return nil, pgerror.Newf("42809", "%q is not a sequence", d.Name)
			}
			out = append(out, rel(d))
		}
	}
	return out, nil
}

func (s *session) mustGetSchema(ctx context.Context, txn kvapi.Txn, name string) (*catalog.Namespace, error) {
	sc, err := catalog.GetSchema(ctx, txn, s.names.db.ID, name)
	if err == nil && sc == nil {
		err = catalog.UndefinedSchema(name)
	}
	return sc, err
}

// applyACL grants or revokes privs on o for grantees.
func (s *session) applyACL(c *privChecker, o *aclObject, st *privStmt, privs catalog.Privilege, grantees []uint32, res *result) error {
	grantor, may, err := bestGrantor(c, o)
	if err != nil {
		return err
	}
	code := codeWarningPrivilegeNotGranted
	if st.revoke {
		code = codeWarningPrivilegeNotRevoked
	}
	if privs&may == 0 && c != nil {
		// PostgreSQL: holding any privilege on the object is enough to
		// be told nothing happened; holding none is an error.
		if !anyPriv(c, o) {
			return c.deny(permissionDenied(o.word, o.name))
		}
	}
	warn := func(msg string) {
		res.notices = append(res.notices, notice{pgerror.SeverityWarning, code, fmt.Sprintf(msg, o.name), ""})
	}
	switch {
	case privs&may == 0:
		if st.revoke {
			warn("no privileges could be revoked for %q")
		} else {
			warn("no privileges were granted for %q")
		}
	case privs&may != privs:
		if st.revoke {
			warn("not all privileges could be revoked for %q")
		} else {
			warn("not all privileges were granted for %q")
		}
	}
	privs &= may
	if privs == 0 {
		return nil
	}
	acl := o.acl.Clone()
	for _, g := range grantees {
		if st.revoke {
			acl.Revoke(g, grantor, privs, st.option)
			if err := revokeDependents(acl, o.owner, g, privs, st.cascade); err != nil {
				return err
			}
		} else {
			acl.Grant(g, grantor, privs, st.option)
		}
	}
	return o.save(acl)
}

// anyPriv reports whether the statement's role holds some privilege on o.
func anyPriv(c *privChecker, o *aclObject) bool {
	any := false
	catalog.AllPrivileges(o.kind).Each(func(p catalog.Privilege) {
		any = any || c.has(o.acl, 0, p)
	})
	return any
}

// bestGrantor is the role a GRANT or REVOKE on o acts as, and the
// privileges it may grant: the owner and all of them for the owner, a
// superuser or a member of the owner; otherwise the role among those
// whose privileges the statement's role has that holds the most grant
// options on o (PostgreSQL's select_best_grantor).
func bestGrantor(c *privChecker, o *aclObject) (uint32, catalog.Privilege, error) {
	all := catalog.AllPrivileges(o.kind)
	if ok, err := c.bypass(); ok || err != nil {
		return o.owner, all, err
	}
	if c.owns(o.owner, 0) {
		return o.owner, all, nil
	}
	best, bestN, bestOpts := c.me.ID, -1, catalog.Privilege(0)
	for id := range c.effective(c.me.ID) {
		if id == catalog.PublicRoleID {
			continue
		}
		_, opts := o.acl.Of(id)
		n := 0
		opts.Each(func(catalog.Privilege) { n++ })
		if n > bestN || (n == bestN && id == c.me.ID) {
			best, bestN, bestOpts = id, n, opts
		}
	}
	return best, bestOpts, c.rolesErr
}

// revokeDependents handles the grants that grantee made with a grant
// option among privs it may no longer hold: an error without cascade,
// revoked (and theirs in turn) with it. The owner grants by ownership,
// whatever its own ACL item says.
func revokeDependents(acl *catalog.ACL, owner, grantee uint32, privs catalog.Privilege, cascade bool) error {
	if grantee == catalog.PublicRoleID || grantee == owner {
		return nil
	}
	_, still := acl.Of(grantee)
	lost := privs &^ still
	if lost == 0 {
		return nil
	}
	for _, it := range append([]catalog.ACLItem(nil), acl.Items...) {
		if it.Grantor != grantee || it.Grantee == grantee || it.Privs&lost == 0 {
			continue
		}
		if !cascade {
			return pgerror.WithHint(pgerror.New("2BP01", "dependent privileges exist"), "Use CASCADE to revoke them too.")
		}
		acl.Revoke(it.Grantee, grantee, lost, false)
		if err := revokeDependents(acl, owner, it.Grantee, lost, true); err != nil {
			return err
		}
	}
	return nil
}
