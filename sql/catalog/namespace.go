package catalog

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Databases and schemas. A database holds schemas, a schema holds
// relations, as in PostgreSQL; each is a Namespace record:
//
//	/0x04 'N' <parent ID> <name>  → the database (parent 0) or schema (parent: its database), as JSON
//	/0x04 'j'                     → the last namespace ID handed out
//	/0x04 'b'                     → set once the built-in databases exist
//
// A relation's name entry is keyed by its database's ID and its schema's
// name (see RelKey), so that resolving a name needs no read of the schema:
// a statement's names map to keys with what the session already knows.
var (
	nsPrefix     = []byte{0x04, 'N'}
	nsIDKey      = []byte{0x04, 'j'}
	bootstrapKey = []byte{0x04, 'b'}
)

// PublicSchema is the schema every database is created with.
const PublicSchema = "public"

// DefaultDatabase is the database a cluster starts with and clients
// connect to by default; PostgresDatabase is the one PostgreSQL's tools
// expect to exist.
const (
	DefaultDatabase  = "defaultdb"
	PostgresDatabase = "postgres"
)

// Namespace is a database (Parent 0) or a schema of database Parent.
type Namespace struct {
	ID     uint32 `json:"id"`
	Name   string `json:"name"`
	Parent uint32 `json:"parent,omitempty"`
	Owner  uint32 `json:"owner"`
	// ACL is the database's or schema's privileges, nil for the default
	// ones (see acl.go).
	ACL *ACL `json:"acl,omitempty"`
}

// Privileges is n's ACL, its default one if none was set.
func (n *Namespace) Privileges() *ACL {
	if n.ACL != nil {
		return n.ACL
	}
	if n.IsDatabase() {
		return DefaultACL(ObjDatabase, n.Owner, false)
	}
	return DefaultACL(ObjSchema, n.Owner, n.Name == PublicSchema)
}

// IsDatabase reports whether n is a database rather than a schema.
func (n *Namespace) IsDatabase() bool { return n.Parent == 0 }

func nsKey(parent uint32, name string) []byte {
	k := encoding.EncodeUvarintAscending(append([]byte(nil), nsPrefix...), uint64(parent))
	return encoding.EncodeStringAscending(k, name)
}

func getNamespace(ctx context.Context, txn Txn, parent uint32, name string) (*Namespace, error) {
	raw, err := txn.Get(ctx, nsKey(parent, name))
	if err != nil || raw == nil {
		return nil, err
	}
	n := &Namespace{}
	if err := json.Unmarshal(raw, n); err != nil {
		return nil, errors.Wrapf(err, "corrupt record of namespace %q", name)
	}
	return n, nil
}

// GetDatabase reads a database by name; nil if there is none.
func GetDatabase(ctx context.Context, txn Txn, name string) (*Namespace, error) {
	return getNamespace(ctx, txn, 0, name)
}

// MustGetDatabase is GetDatabase with PostgreSQL's error for a missing one.
func MustGetDatabase(ctx context.Context, txn Txn, name string) (*Namespace, error) {
	db, err := GetDatabase(ctx, txn, name)
	if err == nil && db == nil {
		err = UndefinedDatabase(name)
	}
	return db, err
}

// UndefinedDatabase is the error for a name that names no database.
func UndefinedDatabase(name string) error {
	return pgerror.Newf("3D000", "database %q does not exist", name)
}

// GetSchema reads schema name of database db; nil if there is none.
func GetSchema(ctx context.Context, txn Txn, db uint32, name string) (*Namespace, error) {
	return getNamespace(ctx, txn, db, name)
}

// UndefinedSchema is the error for a name that names no schema.
func UndefinedSchema(name string) error {
	return pgerror.Newf("3F000", "schema %q does not exist", name)
}

// listNamespaces returns parent's children (parent 0: the databases), by name.
func listNamespaces(ctx context.Context, txn Txn, parent uint32) ([]*Namespace, error) {
	start := encoding.EncodeUvarintAscending(append([]byte(nil), nsPrefix...), uint64(parent))
	kvs, err := txn.Scan(ctx, start, PrefixEnd(start), 0)
	if err != nil {
		return nil, err
	}
	out := make([]*Namespace, 0, len(kvs))
	for _, kv := range kvs {
		n := &Namespace{}
		if err := json.Unmarshal(kv.Value, n); err != nil {
			return nil, errors.Wrapf(err, "corrupt namespace record at %q", kv.Key)
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListDatabases returns every database, by name.
func ListDatabases(ctx context.Context, txn Txn) ([]*Namespace, error) {
	return listNamespaces(ctx, txn, 0)
}

// ListSchemas returns database db's schemas, by name.
func ListSchemas(ctx context.Context, txn Txn, db uint32) ([]*Namespace, error) {
	return listNamespaces(ctx, txn, db)
}

func nextNamespaceID(ctx context.Context, txn Txn) (uint32, error) {
	return nextID(ctx, txn, nsIDKey, 1, "namespace")
}

// nextID hands out the next ID of the counter at key (first if it has
// none yet), in txn.
func nextID(ctx context.Context, txn Txn, key []byte, first uint64, what string) (uint32, error) {
	v, err := txn.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	next := first
	if v != nil {
		_, last, err := encoding.DecodeUvarintAscending(v)
		if err != nil {
			return 0, errors.Wrapf(err, "corrupt %s ID counter", what)
		}
		next = last + 1
	}
	return uint32(next), txn.Put(ctx, key, encoding.EncodeUvarintAscending(nil, next))
}

func putNamespace(ctx context.Context, txn Txn, n *Namespace) error {
	raw, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return txn.Put(ctx, nsKey(n.Parent, n.Name), raw)
}

// CreateDatabase stores a new database, with its public schema, owned by
// owner; 42P04 if the name is taken.
func CreateDatabase(ctx context.Context, txn Txn, name string, owner uint32) (*Namespace, error) {
	if old, err := GetDatabase(ctx, txn, name); err != nil || old != nil {
		if err == nil {
			err = pgerror.Newf("42P04", "database %q already exists", name)
		}
		return nil, err
	}
	id, err := nextNamespaceID(ctx, txn)
	if err != nil {
		return nil, err
	}
	db := &Namespace{ID: id, Name: name, Owner: owner}
	if err := putNamespace(ctx, txn, db); err != nil {
		return nil, err
	}
	if _, err := CreateSchema(ctx, txn, db.ID, PublicSchema, owner); err != nil {
		return nil, err
	}
	return db, nil
}

// CreateSchema stores a new schema of database db; 42P06 if the name is
// taken.
func CreateSchema(ctx context.Context, txn Txn, db uint32, name string, owner uint32) (*Namespace, error) {
	if old, err := GetSchema(ctx, txn, db, name); err != nil || old != nil {
		if err == nil {
			err = pgerror.Newf("42P06", "schema %q already exists", name)
		}
		return nil, err
	}
	id, err := nextNamespaceID(ctx, txn)
	if err != nil {
		return nil, err
	}
	s := &Namespace{ID: id, Name: name, Parent: db, Owner: owner}
	return s, putNamespace(ctx, txn, s)
}

// DropNamespace removes a database's or schema's record; its contents
// are the caller's to drop first.
func DropNamespace(ctx context.Context, txn Txn, n *Namespace) error {
	if n.IsDatabase() {
		if err := DeleteZone(ctx, txn, ZoneTarget{Kind: ZoneDatabase, ID: n.ID}); err != nil {
			return err
		}
	}
	return txn.Del(ctx, nsKey(n.Parent, n.Name))
}

// PutNamespace writes a changed database or schema (its owner).
func PutNamespace(ctx context.Context, txn Txn, n *Namespace) error {
	return putNamespace(ctx, txn, n)
}

// RenameNamespace renames a database or schema. A schema's relations are
// keyed by its name, so their entries and descriptors move with it.
func RenameNamespace(ctx context.Context, txn Txn, n *Namespace, newName string) error {
	if old, err := getNamespace(ctx, txn, n.Parent, newName); err != nil || old != nil {
		if err == nil {
			code, what := "42P06", "schema"
			if n.IsDatabase() {
				code, what = "42P04", "database"
			}
			err = pgerror.Newf(pgerror.Code(code), "%s %q already exists", what, newName)
		}
		return err
	}
	if !n.IsDatabase() {
		rels, err := ListTablesInSchema(ctx, txn, n.Parent, n.Name)
		if err != nil {
			return err
		}
		for _, d := range rels {
			if err := txn.Del(ctx, d.Key().nameKey()); err != nil {
				return err
			}
			d.Schema = newName
			if err := PutDescriptor(ctx, txn, d); err != nil {
				return err
			}
			if err := txn.Put(ctx, d.Key().nameKey(), encoding.EncodeUvarintAscending(nil, uint64(d.ID))); err != nil {
				return err
			}
		}
		// Its types too (the columns that use them keep their names
		// for the type as they were: they decode by the members).
		typs, err := ListTypes(ctx, txn, n.Parent)
		if err != nil {
			return err
		}
		for _, d := range typs {
			if d.Schema != n.Name {
				continue
			}
			old := d.Key()
			d.Schema = newName
			if err := RenameTypeKey(ctx, txn, d, old); err != nil {
				return err
			}
		}
	}
	if err := txn.Del(ctx, nsKey(n.Parent, n.Name)); err != nil {
		return err
	}
	n.Name = newName
	return putNamespace(ctx, txn, n)
}

// Bootstrap creates the built-in databases, defaultdb and postgres, each
// with its public schema, the first time it runs on a cluster; later
// runs (every node's start) find them made and write nothing, so a
// database dropped later stays dropped.
func Bootstrap(ctx context.Context, txn Txn) error {
	done, err := txn.Get(ctx, bootstrapKey)
	if err != nil || done != nil {
		return err
	}
	for _, name := range []string{DefaultDatabase, PostgresDatabase} {
		if _, err := CreateDatabase(ctx, txn, name, RootRoleID); err != nil {
			return err
		}
	}
	return txn.Put(ctx, bootstrapKey, []byte{1})
}
