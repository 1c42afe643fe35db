package catalog

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Roles (PostgreSQL's pg_authid) and role memberships (pg_auth_members)
// live in the system keyspace beside the descriptors, read and written in
// the statement's transaction like them:
//
//	/0x04 'r' <name>                  → the role, as JSON
//	/0x04 'o'                         → the last role ID handed out
//	/0x04 'm' <role ID> <member ID>   → a membership, as JSON
//
// Memberships are keyed by ID so that a rename leaves them alone.
var (
	rolePrefix   = []byte{0x04, 'r'}
	roleIDKey    = []byte{0x04, 'o'}
	memberPrefix = []byte{0x04, 'm'}
)

// RootRoleName is the built-in superuser: the user of the nodes' and the
// operator's client certificates. It always exists and cannot be dropped.
const RootRoleName = "root"

// RootRoleID is root's ID, which is also its OID: PostgreSQL's bootstrap
// superuser's, the owner of every object.
const RootRoleID = 10

// firstRoleID is the first ID a created role gets; role IDs are their
// OIDs, kept apart from the OIDs of relations (vtable.RelOIDBase and up).
const firstRoleID = 20000

// Role is a role (a user is a role that may log in).
type Role struct {
	ID         uint32 `json:"id"`
	Name       string `json:"name"`
	Superuser  bool   `json:"superuser,omitempty"`
	Inherit    bool   `json:"inherit,omitempty"`
	CreateRole bool   `json:"create_role,omitempty"`
	CreateDB   bool   `json:"create_db,omitempty"`
	Login      bool   `json:"login,omitempty"`
	// Password is a SCRAM-SHA-256 verifier in PostgreSQL's text form
	// (pgwire/scram), empty when the role has no password. Never the
	// password itself.
	Password string `json:"password,omitempty"`
}

// Membership is a role's member: Member has Role's privileges.
type Membership struct {
	Role   uint32 `json:"role"`
	Member uint32 `json:"member"`
	// Admin is WITH ADMIN OPTION: the member may grant Role to others.
	Admin   bool   `json:"admin,omitempty"`
	Grantor uint32 `json:"grantor"`
}

// rootRole is root as it is until an ALTER ROLE stores it.
func rootRole() *Role {
	return &Role{ID: RootRoleID, Name: RootRoleName, Superuser: true, Inherit: true, CreateRole: true, CreateDB: true, Login: true}
}

func roleKey(name string) []byte {
	return encoding.EncodeStringAscending(append([]byte(nil), rolePrefix...), name)
}

func memberKey(role, member uint32) []byte {
	k := encoding.EncodeUvarintAscending(append([]byte(nil), memberPrefix...), uint64(role))
	return encoding.EncodeUvarintAscending(k, uint64(member))
}

// GetRole reads a role by name; nil if there is none.
func GetRole(ctx context.Context, txn Txn, name string) (*Role, error) {
	raw, err := txn.Get(ctx, roleKey(name))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		if name == RootRoleName {
			return rootRole(), nil
		}
		return nil, nil
	}
	r := &Role{}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, errors.Wrapf(err, "corrupt record of role %q", name)
	}
	return r, nil
}

// MustGetRole is GetRole with an error for a missing role.
func MustGetRole(ctx context.Context, txn Txn, name string) (*Role, error) {
	r, err := GetRole(ctx, txn, name)
	if err == nil && r == nil {
		err = UndefinedRole(name)
	}
	return r, err
}

// UndefinedRole is the error for a name that names no role.
func UndefinedRole(name string) error {
	return pgerror.Newf("42704", "role %q does not exist", name)
}

// CreateRole stores a new role under a fresh ID.
func CreateRole(ctx context.Context, txn Txn, r *Role) error {
	old, err := GetRole(ctx, txn, r.Name)
	if err != nil {
		return err
	}
	if old != nil {
		return pgerror.Newf("42710", "role %q already exists", r.Name)
	}
	id, err := nextID(ctx, txn, roleIDKey, firstRoleID, "role")
	if err != nil {
		return err
	}
	r.ID = id
	return PutRole(ctx, txn, r)
}

// PutRole writes a changed role.
func PutRole(ctx context.Context, txn Txn, r *Role) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return txn.Put(ctx, roleKey(r.Name), raw)
}

// RenameRole renames r; its memberships follow it (they are by ID).
func RenameRole(ctx context.Context, txn Txn, r *Role, newName string) error {
	old, err := GetRole(ctx, txn, newName)
	if err != nil {
		return err
	}
	if old != nil {
		return pgerror.Newf("42710", "role %q already exists", newName)
	}
	if err := txn.Del(ctx, roleKey(r.Name)); err != nil {
		return err
	}
	r.Name = newName
	return PutRole(ctx, txn, r)
}

// DropRole removes r and every membership it is in, either way.
func DropRole(ctx context.Context, txn Txn, r *Role) error {
	ms, err := ListMemberships(ctx, txn)
	if err != nil {
		return err
	}
	var del [][]byte
	for _, m := range ms {
		if m.Role == r.ID || m.Member == r.ID {
			del = append(del, memberKey(m.Role, m.Member))
		}
	}
	if len(del) > 0 {
		if err := txn.DelMany(ctx, del); err != nil {
			return err
		}
	}
	return txn.Del(ctx, roleKey(r.Name))
}

// ListRoles returns every role, root included, by name.
func ListRoles(ctx context.Context, txn Txn) ([]*Role, error) {
	kvs, err := txn.Scan(ctx, rolePrefix, PrefixEnd(rolePrefix), 0)
	if err != nil {
		return nil, err
	}
	out := make([]*Role, 0, len(kvs)+1)
	root := false
	for _, kv := range kvs {
		r := &Role{}
		if err := json.Unmarshal(kv.Value, r); err != nil {
			return nil, errors.Wrapf(err, "corrupt role record at %q", kv.Key)
		}
		root = root || r.ID == RootRoleID
		out = append(out, r)
	}
	if !root {
		out = append(out, rootRole())
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	}
	return out, nil
}

// ListMemberships returns every membership, by role then member ID.
func ListMemberships(ctx context.Context, txn Txn) ([]Membership, error) {
	kvs, err := txn.Scan(ctx, memberPrefix, PrefixEnd(memberPrefix), 0)
	if err != nil {
		return nil, err
	}
	out := make([]Membership, len(kvs))
	for i, kv := range kvs {
		if err := json.Unmarshal(kv.Value, &out[i]); err != nil {
			return nil, errors.Wrapf(err, "corrupt role membership at %q", kv.Key)
		}
	}
	return out, nil
}

// PutMembership writes a membership.
func PutMembership(ctx context.Context, txn Txn, m Membership) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return txn.Put(ctx, memberKey(m.Role, m.Member), raw)
}

// DeleteMembership removes member's membership in role.
func DeleteMembership(ctx context.Context, txn Txn, role, member uint32) error {
	return txn.Del(ctx, memberKey(role, member))
}
