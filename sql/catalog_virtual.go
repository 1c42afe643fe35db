package sql

import (
	"context"
	"regexp"
	"strings"
	"sync"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
)

// Virtual tables of pg_catalog and information_schema, computed from the
// descriptors at each read, so that psql's \dt, drivers and ORMs can ask
// what tables and columns there are. This is a first, small subset: the
// columns psql's \dt and the usual information_schema queries read.

const (
	pgCatalogOID         = 11
	publicOID            = 2200
	informationSchemaOID = 13000
	heapAMOID            = 2
	btreeAMOID           = 403
	ownerOID             = 10
	defaultDBOID         = 16384
	// utf8EncodingID is PostgreSQL's number for UTF8, the only encoding.
	utf8EncodingID = 6
	// relOIDBase offsets table IDs into relation OIDs, above PostgreSQL's
	// system OIDs.
	relOIDBase = 100000
)

// relOID is a table's pg_class OID.
func relOID(d *TableDescriptor) oid.Oid { return oid.Oid(relOIDBase + d.ID) }

// indexOID is an index's pg_class OID: above every table's.
func indexOID(d *TableDescriptor, idx uint32) oid.Oid {
	return oid.Oid(relOIDBase + 1<<24 + d.ID<<8 + idx)
}

type virtualColumn struct {
	name string
	typ  *types.T
}

// virtualTable generates its rows from the catalog.
type virtualTable struct {
	cols []virtualColumn
	rows func(ctx context.Context, txn Txn) ([]tree.Datums, error)
}

func vcols(spec string) []virtualColumn {
	var out []virtualColumn
	for _, f := range strings.Fields(spec) {
		name, typ, _ := strings.Cut(f, ":")
		t := map[string]*types.T{
			"oid": types.Oid, "name": types.Name, "char": types.QChar, "bool": types.Bool,
			"int2": types.Int2, "int4": types.Int4, "text": types.String, "text[]": types.StringArray,
		}[typ]
		out = append(out, virtualColumn{name: name, typ: t})
	}
	return out
}

var virtualTables = map[string]map[string]*virtualTable{
	"pg_catalog": {
		"pg_namespace": {
			cols: vcols("oid:oid nspname:name nspowner:oid"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				var out []tree.Datums
				for _, ns := range []struct {
					o    oid.Oid
					name string
				}{{pgCatalogOID, "pg_catalog"}, {publicOID, "public"}, {informationSchemaOID, "information_schema"}} {
					out = append(out, tree.Datums{tree.NewDOid(ns.o), tree.NewDName(ns.name), tree.NewDOid(ownerOID)})
				}
				return out, nil
			},
		},
		"pg_am": {
			cols: vcols("oid:oid amname:name amtype:char"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				return []tree.Datums{
					{tree.NewDOid(heapAMOID), tree.NewDName("heap"), tree.NewDString("t")},
					{tree.NewDOid(btreeAMOID), tree.NewDName("btree"), tree.NewDString("i")},
				}, nil
			},
		},
		"pg_class": {
			cols: vcols("oid:oid relname:name relnamespace:oid relkind:char relowner:oid relam:oid reltuples:int4 relhasindex:bool relnatts:int2 relpersistence:char"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				tables, err := listTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				// The catalogs themselves, under their PostgreSQL OIDs.
				for _, sys := range []struct {
					o    oid.Oid
					name string
				}{{1259, "pg_class"}, {2615, "pg_namespace"}, {1249, "pg_attribute"}, {2601, "pg_am"}} {
					out = append(out, tree.Datums{tree.NewDOid(sys.o), tree.NewDName(sys.name), tree.NewDOid(pgCatalogOID),
						tree.NewDString("r"), tree.NewDOid(ownerOID), tree.NewDOid(heapAMOID), tree.NewDInt(-1),
						tree.DBoolTrue, tree.NewDInt(0), tree.NewDString("p")})
				}
				for _, d := range tables {
					kind, am := "r", oid.Oid(heapAMOID)
					if d.ViewQuery != "" {
						kind, am = "v", 0
					}
					out = append(out, tree.Datums{tree.NewDOid(relOID(d)), tree.NewDName(d.Name), tree.NewDOid(publicOID),
						tree.NewDString(kind), tree.NewDOid(ownerOID), tree.NewDOid(am), tree.NewDInt(-1),
						tree.MakeDBool(tree.DBool(d.ViewQuery == "")), tree.NewDInt(tree.DInt(len(d.Columns))), tree.NewDString("p")})
					if d.ViewQuery != "" {
						continue
					}
					idxs := append([]IndexDescriptor{{ID: primaryIndexID, Name: d.Name + "_pkey", Columns: d.PrimaryKey, Unique: true}}, d.Indexes...)
					for _, idx := range idxs {
						out = append(out, tree.Datums{tree.NewDOid(indexOID(d, idx.ID)), tree.NewDName(idx.Name), tree.NewDOid(publicOID),
							tree.NewDString("i"), tree.NewDOid(ownerOID), tree.NewDOid(btreeAMOID), tree.NewDInt(-1),
							tree.DBoolFalse, tree.NewDInt(tree.DInt(len(idx.Columns))), tree.NewDString("p")})
					}
				}
				return out, nil
			},
		},
		"pg_attribute": {
			cols: vcols("attrelid:oid attname:name atttypid:oid attnum:int2 attnotnull:bool atthasdef:bool attisdropped:bool atttypmod:int4"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				tables, err := listTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					for i, c := range d.Columns {
						if c.Hidden {
							continue
						}
						out = append(out, tree.Datums{tree.NewDOid(relOID(d)), tree.NewDName(c.Name), tree.NewDOid(c.typ.Oid()),
							tree.NewDInt(tree.DInt(i + 1)), tree.MakeDBool(tree.DBool(!c.Nullable)), tree.MakeDBool(tree.DBool(c.Default != "")),
							tree.DBoolFalse, tree.NewDInt(-1)})
					}
				}
				return out, nil
			},
		},
		"pg_index": {
			cols: vcols("indexrelid:oid indrelid:oid indnatts:int2 indisunique:bool indisprimary:bool indisclustered:bool indisvalid:bool indisreplident:bool"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				tables, err := listTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					if d.ViewQuery != "" {
						continue
					}
					idxs := append([]IndexDescriptor{{ID: primaryIndexID, Columns: d.PrimaryKey, Unique: true}}, d.Indexes...)
					for _, idx := range idxs {
						out = append(out, tree.Datums{tree.NewDOid(indexOID(d, idx.ID)), tree.NewDOid(relOID(d)),
							tree.NewDInt(tree.DInt(len(idx.Columns))), tree.MakeDBool(tree.DBool(idx.Unique)),
							tree.MakeDBool(tree.DBool(idx.ID == primaryIndexID)), tree.DBoolFalse, tree.DBoolTrue, tree.DBoolFalse})
					}
				}
				return out, nil
			},
		},
		// One database, the one current_database names: every connection
		// sees the same tables whatever database it asked for.
		"pg_database": {
			cols: vcols("oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char datistemplate:bool datallowconn:bool datconnlimit:int4 datcollate:text datctype:text daticulocale:text datacl:text[]"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				return []tree.Datums{{tree.NewDOid(defaultDBOID), tree.NewDName("defaultdb"), tree.NewDOid(ownerOID), tree.NewDInt(utf8EncodingID),
					tree.NewDString("c"), tree.DBoolFalse, tree.DBoolTrue, tree.NewDInt(-1), tree.NewDString("C"), tree.NewDString("C"),
					tree.DNull, tree.DNull}}, nil
			},
		},
		"pg_tables": {
			cols: vcols("schemaname:name tablename:name tableowner:name hasindexes:bool"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				tables, err := listTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					if d.ViewQuery == "" {
						out = append(out, tree.Datums{tree.NewDName("public"), tree.NewDName(d.Name), tree.NewDName("root"), tree.MakeDBool(tree.DBool(len(d.Indexes) > 0))})
					}
				}
				return out, nil
			},
		},
	},
	"information_schema": {
		"schemata": {
			cols: vcols("catalog_name:name schema_name:name schema_owner:name"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				var out []tree.Datums
				for _, s := range []string{"information_schema", "pg_catalog", "public"} {
					out = append(out, tree.Datums{tree.NewDName("defaultdb"), tree.NewDName(s), tree.NewDName("root")})
				}
				return out, nil
			},
		},
		"tables": {
			cols: vcols("table_catalog:name table_schema:name table_name:name table_type:text"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				tables, err := listTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					kind := "BASE TABLE"
					if d.ViewQuery != "" {
						kind = "VIEW"
					}
					out = append(out, tree.Datums{tree.NewDName("defaultdb"), tree.NewDName("public"), tree.NewDName(d.Name), tree.NewDString(kind)})
				}
				return out, nil
			},
		},
		"columns": {
			cols: vcols("table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 column_default:text is_nullable:text data_type:text"),
			rows: func(ctx context.Context, txn Txn) ([]tree.Datums, error) {
				tables, err := listTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					pos := 0
					for _, c := range d.Columns {
						if c.Hidden {
							continue
						}
						pos++
						var def tree.Datum = tree.DNull
						if c.Default != "" {
							def = tree.NewDString(c.Default)
						}
						nullable := "YES"
						if !c.Nullable {
							nullable = "NO"
						}
						out = append(out, tree.Datums{tree.NewDName("defaultdb"), tree.NewDName("public"), tree.NewDName(d.Name),
							tree.NewDName(c.Name), tree.NewDInt(tree.DInt(pos)), def, tree.NewDString(nullable), tree.NewDString(c.typ.SQLStandardName())})
					}
				}
				return out, nil
			},
		},
	},
}

// lookupVirtual finds a virtual table by schema (empty: pg_catalog, which
// is on every search path) and name.
func lookupVirtual(schema, name string) (*virtualTable, bool) {
	if schema == "" {
		schema = "pg_catalog"
	}
	vt, ok := virtualTables[schema][name]
	return vt, ok
}

// virtualNode produces a virtual table's rows.
type virtualNode struct {
	vt   *virtualTable
	cols []resultColumn
	rows []tree.Datums
	done bool
	i    int
}

func (n *virtualNode) columns() []resultColumn { return n.cols }

func (n *virtualNode) next(r *runner) (tree.Datums, error) {
	if !n.done {
		n.done = true
		rows, err := n.vt.rows(r.ctx, r.txn)
		if err != nil {
			return nil, err
		}
		n.rows = rows
	}
	if n.i >= len(n.rows) {
		return nil, nil
	}
	n.i++
	return n.rows[n.i-1], nil
}

// regexCache keeps compiled patterns of ~ and friends.
var regexCache sync.Map

func matchRegex(s, pattern string, fold bool) (bool, error) {
	key := pattern
	if fold {
		key = "(?i)" + pattern
	}
	if re, ok := regexCache.Load(key); ok {
		return re.(*regexp.Regexp).MatchString(s), nil
	}
	re, err := regexp.Compile(key)
	if err != nil {
		return false, errorf("2201B", "invalid regular expression: %v", err)
	}
	regexCache.Store(key, re)
	return re.MatchString(s), nil
}
