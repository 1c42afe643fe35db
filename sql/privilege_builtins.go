package sql

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
	"github.com/meridiandb/meridian/sql/vtable"
)

// has_table_privilege and its kin answer from the same ACLs and role
// memberships that enforcement reads (privilege_check.go): a role has a
// privilege when it, PUBLIC or a role it inherits from holds it, and a
// superuser has every one. The privilege argument is a comma-separated
// list, any of which is enough, each optionally WITH GRANT OPTION.

// privTarget resolves a has_*_privilege object argument to its ACL.
type privTarget func(e *sem.EvalCtx, obj tree.Datum) (*catalog.ACL, catalog.ObjectKind, error)

func privilegeFamily(target privTarget, objType *types.T) []tree.Overload {
	fn := func(withUser bool) sem.BuiltinFn {
		return func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			user := ""
			if withUser {
				switch u := a[0].(type) {
				case *tree.DOid:
					roles, err := catalogOf(e).roles(e)
					if err != nil {
						return nil, err
					}
					for _, r := range roles {
						if r.ID == uint32(u.Oid) {
							user = r.Name
						}
					}
					if user == "" {
						return nil, pgerror.Newf("42704", "role with OID %d does not exist", u.Oid)
					}
				default:
					user = string(tree.MustBeDString(a[0]))
				}
				a = a[1:]
			}
			return hasPrivilege(e, user, a[0], string(tree.MustBeDString(a[1])), target)
		}
	}
	out := []tree.Overload{}
	for _, obj := range []*types.T{types.String, objType} {
		out = append(out,
			tree.Overload{Types: tree.ParamTypes{{Name: "object", Typ: obj}, {Name: "privilege", Typ: types.String}},
				ReturnType: tree.FixedReturnType(types.Bool), Volatility: volatility.Stable, Class: tree.NormalClass, Fn: fn(false)},
			tree.Overload{Types: tree.ParamTypes{{Name: "user", Typ: types.String}, {Name: "object", Typ: obj}, {Name: "privilege", Typ: types.String}},
				ReturnType: tree.FixedReturnType(types.Bool), Volatility: volatility.Stable, Class: tree.NormalClass, Fn: fn(true)},
			tree.Overload{Types: tree.ParamTypes{{Name: "user", Typ: types.Oid}, {Name: "object", Typ: obj}, {Name: "privilege", Typ: types.String}},
				ReturnType: tree.FixedReturnType(types.Bool), Volatility: volatility.Stable, Class: tree.NormalClass, Fn: fn(true)},
		)
	}
	return out
}

var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"has_table_privilege":    privilegeFamily(relationTarget(false), types.Oid),
	"has_sequence_privilege": privilegeFamily(relationTarget(true), types.Oid),
	"has_schema_privilege":   privilegeFamily(namespaceTarget(false), types.Oid),
	"has_database_privilege": privilegeFamily(namespaceTarget(true), types.Oid),
})

// hasPrivilege answers whether user ("" for the current role) holds any
// of the privileges privs names on obj.
func hasPrivilege(e *sem.EvalCtx, user string, obj tree.Datum, privs string, target privTarget) (tree.Datum, error) {
	s := sessionOf(e)
	if s == nil || e.Txn == nil {
		return tree.DNull, nil
	}
	acl, kind, err := target(e, obj)
	if err != nil {
		return nil, err
	}
	type want struct {
		p      catalog.Privilege
		option bool
	}
	var wants []want
	for _, f := range strings.Split(privs, ",") {
		f = strings.ToUpper(strings.Join(strings.Fields(f), " "))
		w := want{}
		if g, ok := strings.CutSuffix(f, " WITH GRANT OPTION"); ok {
			f, w.option = g, true
		}
		w.p = catalog.ParsePrivilege(f)
		if w.p == 0 || w.p&catalog.AllPrivileges(kind) == 0 && !(kind == catalog.ObjDatabase && f == "TEMP") {
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "unrecognized privilege type: %q", strings.TrimSpace(f))
		}
		wants = append(wants, w)
	}
	if user == "" {
		user = s.currentRole()
	}
	c := &privChecker{ctx: e.Ctx, txn: e.Txn, name: user}
	if user == catalog.RootRoleName {
		return tree.DBoolTrue, nil
	}
	if err := c.load(); err != nil {
		return nil, err
	}
	if c.me == nil {
		if user == s.user {
			// An insecure node's user that is no role: as a superuser.
			return tree.DBoolTrue, nil
		}
		return nil, catalog.UndefinedRole(user)
	}
	if c.me.Superuser {
		return tree.DBoolTrue, nil
	}
	for _, w := range wants {
		if !w.option && c.has(acl, 0, w.p) {
			return tree.DBoolTrue, c.rolesErr
		}
		if w.option && c.owns(ownerOfACL(acl), 0) {
			return tree.DBoolTrue, nil
		}
		if w.option {
			for id := range c.effective(c.me.ID) {
				if _, opts := acl.Of(id); opts&w.p != 0 {
					return tree.DBoolTrue, c.rolesErr
				}
			}
		}
	}
	return tree.DBoolFalse, c.rolesErr
}

// ownerOfACL is the grantor of an ACL's owner item: the owner grants to
// itself first (0 if none is left).
func ownerOfACL(acl *catalog.ACL) uint32 {
	for _, it := range acl.Items {
		if it.Grantee == it.Grantor {
			return it.Grantee
		}
	}
	return 0
}

// relationTarget resolves a relation by name or OID.
func relationTarget(sequence bool) privTarget {
	return func(e *sem.EvalCtx, obj tree.Datum) (*catalog.ACL, catalog.ObjectKind, error) {
		var d *catalog.TableDescriptor
		switch x := obj.(type) {
		case *tree.DOid:
			if x.Oid >= vtable.RelOIDBase && x.Oid < vtable.RelOIDBase+1<<24 {
				var err error
				if d, err = catalog.GetTableByID(e.Ctx, e.Txn, uint32(x.Oid-vtable.RelOIDBase)); err != nil {
					return nil, 0, err
				}
			}
			if d == nil {
				if x.Oid < vtable.RelOIDBase && !sequence {
					// pg_catalog's: everyone reads them.
					return &catalog.ACL{Items: []catalog.ACLItem{{Grantee: catalog.PublicRoleID, Grantor: catalog.RootRoleID, Privs: catalog.PrivSelect}}}, catalog.ObjTable, nil
				}
				return nil, 0, pgerror.Newf(pgerror.CodeUndefinedTable, "relation with OID %d does not exist", x.Oid)
			}
		default:
			tn, err := parseRelationName(string(tree.MustBeDString(obj)))
			if err != nil {
				return nil, 0, err
			}
			if tn.ExplicitSchema && (tn.SchemaName == "pg_catalog" || tn.SchemaName == "information_schema") {
				return &catalog.ACL{Items: []catalog.ACLItem{{Grantee: catalog.PublicRoleID, Grantor: catalog.RootRoleID, Privs: catalog.PrivSelect}}}, catalog.ObjTable, nil
			}
			if d, err = namesOf(e).findLeased(e.Ctx, e.Txn, tn); err != nil {
				return nil, 0, err
			}
			if d == nil {
				return nil, 0, undefinedRelation(tn)
			}
		}
		if sequence && d.Sequence == nil {
			return nil, 0, pgerror.Newf("42809", "%q is not a sequence", d.Name)
		}
		kind := catalog.ObjTable
		if sequence {
			kind = catalog.ObjSequence
		}
		return d.Privileges(), kind, nil
	}
}

// namespaceTarget resolves a database or a schema of the session's
// database, by name or OID.
func namespaceTarget(database bool) privTarget {
	return func(e *sem.EvalCtx, obj tree.Datum) (*catalog.ACL, catalog.ObjectKind, error) {
		kind, word := catalog.ObjSchema, "schema"
		if database {
			kind, word = catalog.ObjDatabase, "database"
		}
		var list []*catalog.Namespace
		var err error
		if database {
			list, err = catalog.ListDatabases(e.Ctx, e.Txn)
		} else {
			list, err = catalog.ListSchemas(e.Ctx, e.Txn, namesOf(e).db.ID)
		}
		if err != nil {
			return nil, 0, err
		}
		switch x := obj.(type) {
		case *tree.DOid:
			for _, n := range list {
				if vtable.NamespaceOID(n) == x.Oid {
					return n.Privileges(), kind, nil
				}
			}
			if !database && x.Oid == oid.Oid(vtable.PgCatalogOID) {
				return &catalog.ACL{Items: []catalog.ACLItem{{Grantee: catalog.PublicRoleID, Grantor: catalog.RootRoleID, Privs: catalog.PrivUsage}}}, kind, nil
			}
			return nil, 0, pgerror.Newf("3F000", "%s with OID %d does not exist", word, x.Oid)
		default:
			name := string(tree.MustBeDString(obj))
			for _, n := range list {
				if n.Name == name {
					return n.Privileges(), kind, nil
				}
			}
			if !database && (name == "pg_catalog" || name == "information_schema") {
				return &catalog.ACL{Items: []catalog.ACLItem{{Grantee: catalog.PublicRoleID, Grantor: catalog.RootRoleID, Privs: catalog.PrivUsage}}}, kind, nil
			}
			if database {
				return nil, 0, catalog.UndefinedDatabase(name)
			}
			return nil, 0, catalog.UndefinedSchema(name)
		}
	}
}
