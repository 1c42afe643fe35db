package catalog

import (
	"context"
	"encoding/json"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
)

// Default privileges (ALTER DEFAULT PRIVILEGES): for a role, in a
// database, in every schema (Schema 0) or in one, the privileges the
// relations of a kind that the role creates there start with:
//
//	/0x04 'x' <database> <role> <schema> <kind> → ACL (JSON)
//
// A database-wide entry replaces the built-in default (DefaultACL); a
// schema's is added to what applies without it, as in PostgreSQL.
var defaultPrivilegesPrefix = []byte{0x04, 'x'}

// DefaultPrivileges is one entry.
type DefaultPrivileges struct {
	DB, Role, Schema uint32
	Kind             ObjectKind
	ACL              *ACL
}

func defaultPrivilegesKey(db, role, schema uint32, kind ObjectKind) []byte {
	k := encoding.EncodeUvarintAscending(append([]byte(nil), defaultPrivilegesPrefix...), uint64(db))
	k = encoding.EncodeUvarintAscending(k, uint64(role))
	k = encoding.EncodeUvarintAscending(k, uint64(schema))
	return encoding.EncodeUvarintAscending(k, uint64(kind))
}

// GetDefaultPrivileges returns an entry's ACL; nil if there is none.
func GetDefaultPrivileges(ctx context.Context, txn Txn, db, role, schema uint32, kind ObjectKind) (*ACL, error) {
	raw, err := txn.Get(ctx, defaultPrivilegesKey(db, role, schema, kind))
	if err != nil || raw == nil {
		return nil, err
	}
	acl := &ACL{}
	if err := json.Unmarshal(raw, acl); err != nil {
		return nil, errors.Wrap(err, "decoding default privileges")
	}
	return acl, nil
}

// PutDefaultPrivileges stores an entry; one with a nil ACL is removed.
func PutDefaultPrivileges(ctx context.Context, txn Txn, dp DefaultPrivileges) error {
	key := defaultPrivilegesKey(dp.DB, dp.Role, dp.Schema, dp.Kind)
	if dp.ACL == nil {
		return txn.Del(ctx, key)
	}
	raw, err := json.Marshal(dp.ACL)
	if err != nil {
		return err
	}
	return txn.Put(ctx, key, raw)
}

// ListDefaultPrivileges returns database db's entries, by role, schema
// and kind.
func ListDefaultPrivileges(ctx context.Context, txn Txn, db uint32) ([]DefaultPrivileges, error) {
	start := encoding.EncodeUvarintAscending(append([]byte(nil), defaultPrivilegesPrefix...), uint64(db))
	kvs, err := txn.Scan(ctx, start, PrefixEnd(start), 0)
	if err != nil {
		return nil, err
	}
	out := make([]DefaultPrivileges, 0, len(kvs))
	for _, kv := range kvs {
		rest := kv.Key[len(start):]
		var ids [3]uint64
		for i := range ids {
			if rest, ids[i], err = encoding.DecodeUvarintAscending(rest); err != nil {
				return nil, errors.Wrap(err, "decoding a default privileges key")
			}
		}
		acl := &ACL{}
		if err := json.Unmarshal(kv.Value, acl); err != nil {
			return nil, errors.Wrap(err, "decoding default privileges")
		}
		out = append(out, DefaultPrivileges{DB: db, Role: uint32(ids[0]), Schema: uint32(ids[1]), Kind: ObjectKind(ids[2]), ACL: acl})
	}
	return out, nil
}

// InitialACL is the ACL a relation of kind that owner creates in schema
// of database db starts with: nil (the built-in default) unless default
// privileges apply.
func InitialACL(ctx context.Context, txn Txn, db, schema, owner uint32, kind ObjectKind) (*ACL, error) {
	global, err := GetDefaultPrivileges(ctx, txn, db, owner, 0, kind)
	if err != nil {
		return nil, err
	}
	inSchema, err := GetDefaultPrivileges(ctx, txn, db, owner, schema, kind)
	if err != nil || (global == nil && inSchema == nil) {
		return nil, err
	}
	acl := DefaultACL(kind, owner, false)
	if global != nil {
		acl = global.Clone()
	}
	if inSchema != nil {
		for _, it := range inSchema.Items {
			acl.Grant(it.Grantee, it.Grantor, it.Privs, false)
			acl.Grant(it.Grantee, it.Grantor, it.Grantable, true)
		}
	}
	return acl, nil
}
