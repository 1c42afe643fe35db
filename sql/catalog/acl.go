package catalog

import (
	"strings"
)

// Privileges on objects, as PostgreSQL keeps them: an object has an owner
// and an access control list (aclitem[]); a list never set is the
// object's default one (PostgreSQL's acldefault), so that objects made
// before privileges existed read as PostgreSQL's new objects do.

// Privilege is a set of privileges, with PostgreSQL's bits (ACL_INSERT
// and on), so that the letters of an aclitem come out in its order.
type Privilege uint32

const (
	PrivInsert Privilege = 1 << iota
	PrivSelect
	PrivUpdate
	PrivDelete
	PrivTruncate
	PrivReferences
	PrivTrigger
	PrivExecute
	PrivUsage
	PrivCreate
	PrivTemporary
	PrivConnect
)

// privLetters are the aclitem letters of the bits above, in bit order.
const privLetters = "arwdDxtXUCTc"

// privNames are the keywords of the bits above, in bit order.
var privNames = []string{"INSERT", "SELECT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "EXECUTE", "USAGE", "CREATE", "TEMPORARY", "CONNECT"}

// ObjectKind is the kind of object a privilege is on.
type ObjectKind int

const (
	ObjTable ObjectKind = iota // tables and views
	ObjSequence
	ObjDatabase
	ObjSchema
)

// AllPrivileges is what ALL PRIVILEGES grants on an object of kind k.
func AllPrivileges(k ObjectKind) Privilege {
	switch k {
	case ObjSequence:
		return PrivUsage | PrivSelect | PrivUpdate
	case ObjDatabase:
		return PrivCreate | PrivTemporary | PrivConnect
	case ObjSchema:
		return PrivUsage | PrivCreate
	}
	return PrivInsert | PrivSelect | PrivUpdate | PrivDelete | PrivTruncate | PrivReferences | PrivTrigger
}

// ParsePrivilege is the privilege a keyword names (TEMP included), 0 for
// none.
func ParsePrivilege(name string) Privilege {
	name = strings.ToUpper(strings.TrimSpace(name))
	if name == "TEMP" {
		return PrivTemporary
	}
	for i, n := range privNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// Name is the keyword of a single privilege.
func (p Privilege) Name() string {
	for i, n := range privNames {
		if p == 1<<i {
			return n
		}
	}
	return "?"
}

// Each calls fn with each privilege of p, in bit order.
func (p Privilege) Each(fn func(Privilege)) {
	for i := range privNames {
		if p&(1<<i) != 0 {
			fn(1 << i)
		}
	}
}

// PublicRoleID is the grantee of a grant to PUBLIC.
const PublicRoleID = 0

// ACLItem is one aclitem: Grantee's privileges, granted by Grantor;
// Grantable are those Grantee may grant on (WITH GRANT OPTION), a subset
// of Privs.
type ACLItem struct {
	Grantee   uint32    `json:"grantee"`
	Grantor   uint32    `json:"grantor"`
	Privs     Privilege `json:"privs"`
	Grantable Privilege `json:"grantable,omitempty"`
}

// ACL is an object's access control list, set once a GRANT or REVOKE
// changed it; a nil *ACL is the default one.
type ACL struct {
	Items []ACLItem `json:"items"`
}

// DefaultACL is PostgreSQL's acldefault for an object of kind k owned by
// owner: the owner has every privilege; PUBLIC has CONNECT and TEMPORARY
// on a database, and USAGE on the public schema (PostgreSQL 15).
func DefaultACL(k ObjectKind, owner uint32, publicSchema bool) *ACL {
	acl := &ACL{Items: []ACLItem{{Grantee: owner, Grantor: owner, Privs: AllPrivileges(k)}}}
	switch {
	case k == ObjDatabase:
		acl.Items = append(acl.Items, ACLItem{Grantee: PublicRoleID, Grantor: owner, Privs: PrivConnect | PrivTemporary})
	case k == ObjSchema && publicSchema:
		acl.Items = append([]ACLItem{{Grantee: PublicRoleID, Grantor: owner, Privs: PrivUsage}}, acl.Items...)
	}
	return acl
}

// Clone returns a copy of acl that can be changed.
func (acl *ACL) Clone() *ACL {
	return &ACL{Items: append([]ACLItem(nil), acl.Items...)}
}

// Of is what grantee holds directly (not through its memberships), and
// which of it it may grant.
func (acl *ACL) Of(grantee uint32) (privs, grantable Privilege) {
	for _, it := range acl.Items {
		if it.Grantee == grantee {
			privs |= it.Privs
			grantable |= it.Grantable
		}
	}
	return privs, grantable
}

// Grant adds privs (and, withOption, the option to grant them) to what
// grantor granted grantee.
func (acl *ACL) Grant(grantee, grantor uint32, privs Privilege, withOption bool) {
	for i := range acl.Items {
		it := &acl.Items[i]
		if it.Grantee == grantee && it.Grantor == grantor {
			it.Privs |= privs
			if withOption {
				it.Grantable |= privs
			}
			return
		}
	}
	it := ACLItem{Grantee: grantee, Grantor: grantor, Privs: privs}
	if withOption {
		it.Grantable = privs
	}
	acl.Items = append(acl.Items, it)
}

// Revoke takes privs from what grantor granted grantee; optionOnly takes
// only the option to grant them. An item left with nothing goes.
func (acl *ACL) Revoke(grantee, grantor uint32, privs Privilege, optionOnly bool) {
	out := acl.Items[:0]
	for _, it := range acl.Items {
		if it.Grantee == grantee && it.Grantor == grantor {
			it.Grantable &^= privs
			if !optionOnly {
				it.Privs &^= privs
			}
			if it.Privs == 0 {
				continue
			}
		}
		out = append(out, it)
	}
	acl.Items = out
}

// Mentions reports whether id is a grantee or grantor in acl.
func (acl *ACL) Mentions(id uint32) bool {
	for _, it := range acl.Items {
		if it.Grantee == id || it.Grantor == id {
			return true
		}
	}
	return false
}

// Strings is acl as PostgreSQL prints aclitem[]: grantee=privs/grantor,
// an empty grantee for PUBLIC, '*' after a privilege that is grantable.
func (acl *ACL) Strings(name func(uint32) string) []string {
	out := make([]string, 0, len(acl.Items))
	for _, it := range acl.Items {
		var b strings.Builder
		if it.Grantee != PublicRoleID {
			b.WriteString(quoteACLName(name(it.Grantee)))
		}
		b.WriteByte('=')
		for i := range privLetters {
			if it.Privs&(1<<i) != 0 {
				b.WriteByte(privLetters[i])
				if it.Grantable&(1<<i) != 0 {
					b.WriteByte('*')
				}
			}
		}
		b.WriteByte('/')
		b.WriteString(quoteACLName(name(it.Grantor)))
		out = append(out, b.String())
	}
	return out
}

// quoteACLName double-quotes a role name as aclitem output does, when it
// has characters other than letters, digits and underscores.
func quoteACLName(n string) string {
	for _, r := range n {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80) {
			return `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
		}
	}
	return n
}
