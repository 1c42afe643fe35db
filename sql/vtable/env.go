package vtable

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"

	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
)

// namespaceOIDBase offsets database and schema IDs into OIDs: below the
// relations' (RelOIDBase), above the roles'.
const namespaceOIDBase = 90000

// Env is what a virtual table's rows are computed from: the statement's
// transaction and the session's database, the only one whose objects
// PostgreSQL's catalogs show.
type Env struct {
	Txn catalog.Txn
	DB  *catalog.Namespace
	// Activity lists the cluster's SQL sessions (pg_stat_activity); nil:
	// none are shown.
	Activity func(ctx context.Context) ([]Activity, error)
	// Ranges lists the cluster's ranges (crdb_internal.ranges); nil: none
	// are shown.
	Ranges func(ctx context.Context) ([]RangeRow, error)
	// Nodes lists the cluster's nodes (crdb_internal.gossip_nodes); nil:
	// none are shown.
	Nodes func(ctx context.Context) ([]NodeRow, error)
	// schemas are DB's schemas by name, read by the first call that
	// needs them.
	schemas map[string]*catalog.Namespace
	// roleNames are the roles' names by ID, read by the first ACL.
	roleNames map[uint32]string
}

// Statistics returns the statistics of the analyzed tables (ANALYZE),
// by table ID.
func (e *Env) Statistics(ctx context.Context) (map[uint32]*catalog.TableStatistics, error) {
	return catalog.ListStatistics(ctx, e.Txn)
}

// Tables returns the relations of the session's database.
func (e *Env) Tables(ctx context.Context) ([]*catalog.TableDescriptor, error) {
	if _, err := e.Schemas(ctx); err != nil {
		return nil, err
	}
	return catalog.ListTables(ctx, e.Txn, e.DB.ID)
}

// Types returns the user-defined types of the session's database.
func (e *Env) Types(ctx context.Context) ([]*catalog.TypeDescriptor, error) {
	if _, err := e.Schemas(ctx); err != nil {
		return nil, err
	}
	return catalog.ListTypes(ctx, e.Txn, e.DB.ID)
}

// Schemas returns the session's database's schemas, by name.
func (e *Env) Schemas(ctx context.Context) ([]*catalog.Namespace, error) {
	list, err := catalog.ListSchemas(ctx, e.Txn, e.DB.ID)
	if err != nil {
		return nil, err
	}
	e.schemas = map[string]*catalog.Namespace{}
	for _, s := range list {
		e.schemas[s.Name] = s
	}
	return list, nil
}

// SchemaOID is the pg_namespace OID of the schema of the session's
// database named name (read by Tables or Schemas before).
func (e *Env) SchemaOID(name string) oid.Oid {
	if s := e.schemas[name]; s != nil {
		return NamespaceOID(s)
	}
	return publicOID
}

// NamespaceOID is a database's pg_database OID or a schema's
// pg_namespace OID; every database's public schema has PostgreSQL's
// OID for it.
func NamespaceOID(n *catalog.Namespace) oid.Oid {
	if !n.IsDatabase() && n.Name == catalog.PublicSchema {
		return publicOID
	}
	return oid.Oid(namespaceOIDBase + n.ID)
}

// RoleName is the name of the role with ID id ("" if there is none).
func (e *Env) RoleName(ctx context.Context, id uint32) string {
	if err := e.loadRoleNames(ctx); err != nil {
		return ""
	}
	return e.roleNames[id]
}

func (e *Env) loadRoleNames(ctx context.Context) error {
	if e.roleNames != nil {
		return nil
	}
	roles, err := catalog.ListRoles(ctx, e.Txn)
	if err != nil {
		return err
	}
	e.roleNames = map[uint32]string{}
	for _, r := range roles {
		e.roleNames[r.ID] = r.Name
	}
	return nil
}

// ACL is an object's ACL as PostgreSQL's catalogs show aclitem[] (as
// text[] here): NULL while the object has its default privileges.
func (e *Env) ACL(ctx context.Context, acl *catalog.ACL) (tree.Datum, error) {
	if acl == nil {
		return tree.DNull, nil
	}
	if err := e.loadRoleNames(ctx); err != nil {
		return nil, err
	}
	arr := tree.NewDArray(types.String)
	for _, s := range acl.Strings(func(id uint32) string { return e.roleNames[id] }) {
		if err := arr.Append(tree.NewDString(s)); err != nil {
			return nil, err
		}
	}
	return arr, nil
}
