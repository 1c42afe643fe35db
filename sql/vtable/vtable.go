// Package vtable holds the virtual tables of pg_catalog
// (pg_catalog.go) and information_schema (information_schema.go), computed
// from the descriptors at each read, so that psql's \d commands, drivers
// and ORMs can ask what tables, columns and indexes there are. Each table
// is one declaration: its columns as a spec ("name:type ...") and a
// function of the catalog that returns its rows. This is a subset: the
// columns psql's \d, \dt, \di, \l and \du and the usual
// information_schema queries read. The OIDs the catalogs show for
// relations, indexes and constraints are defined here too.
package vtable

import (
	"context"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sem"
)

const (
	pgCatalogOID = 11
	// PgCatalogOID is pg_catalog's pg_namespace OID.
	PgCatalogOID         = pgCatalogOID
	publicOID            = 2200
	informationSchemaOID = 13000
	heapAMOID            = 2
	btreeAMOID           = 403
	hashAMOID            = 405
	gistAMOID            = 783
	ginAMOID             = 2742
	brinAMOID            = 3580
	spgistAMOID          = 4000
	ownerOID             = 10
	defaultCollationOID  = 100
	// UTF8EncodingID is PostgreSQL's number for UTF8, the only encoding.
	UTF8EncodingID = 6
	// RelOIDBase offsets table IDs into relation OIDs, above PostgreSQL's
	// system OIDs.
	RelOIDBase = 100000
	// pgClassOID is pg_class's own OID, the classid of relations in pg_depend.
	pgClassOID = 1259
)

// RelOID is a table's pg_class OID.
func RelOID(d *catalog.TableDescriptor) oid.Oid { return oid.Oid(RelOIDBase + d.ID) }

// IndexOID is an index's pg_class OID: above every table's.
func IndexOID(d *catalog.TableDescriptor, idx uint32) oid.Oid {
	return oid.Oid(RelOIDBase + 1<<24 + d.ID<<8 + idx)
}

// Column is a virtual table's column.
type Column struct {
	Name string
	Typ  *types.T
}

// Table generates its rows from the catalog.
type Table struct {
	Cols []Column
	Rows func(ctx context.Context, env *Env) ([]tree.Datums, error)
}

// vcols parses a column spec: name:type pairs separated by spaces.
func vcols(spec string) []Column {
	var out []Column
	for _, f := range strings.Fields(spec) {
		name, typ, _ := strings.Cut(f, ":")
		t := map[string]*types.T{
			"oid": types.Oid, "name": types.Name, "char": types.QChar, "bool": types.Bool,
			"int2": types.Int2, "int4": types.Int4, "int8": types.Int, "text": types.String, "text[]": types.StringArray,
			"oid[]": types.MakeArray(types.Oid), "timestamptz": types.TimestampTZ, "int2[]": types.MakeArray(types.Int2),
			"float4": types.Float4, "int2vector": types.Int2Vector, "bytes": types.Bytes, "int8[]": types.IntArray,
		}[typ]
		if t == nil {
			panic(errors.AssertionFailedf("virtual column %s: unknown type %q", name, typ))
		}
		out = append(out, Column{Name: name, Typ: t})
	}
	return out
}

// tables are the virtual tables by schema and name.
var tables = map[string]map[string]*Table{
	"pg_catalog":         pgCatalog,
	"information_schema": informationSchema,
	"crdb_internal":      crdbInternal,
}

func emptyTable(spec string) *Table {
	return &Table{Cols: vcols(spec), Rows: func(context.Context, *Env) ([]tree.Datums, error) { return nil, nil }}
}

// indexRows is a row per index of every table (not views or
// sequences), as row makes it: pg_index's and pg_indexes' walk.
func indexRows(ctx context.Context, env *Env, row func(d *catalog.TableDescriptor, idx catalog.IndexDescriptor) tree.Datums) ([]tree.Datums, error) {
	tables, err := env.Tables(ctx)
	if err != nil {
		return nil, err
	}
	var out []tree.Datums
	for _, d := range tables {
		if !d.HasRows() {
			continue
		}
		for _, idx := range TableIndexes(d) {
			out = append(out, row(d, idx))
		}
	}
	return out, nil
}

// TableIndexes returns d's indexes as PostgreSQL lists them: the primary
// key's first (unless the table has none, only the hidden rowid), then the
// secondary ones.
func TableIndexes(d *catalog.TableDescriptor) []catalog.IndexDescriptor {
	var out []catalog.IndexDescriptor
	if !(len(d.PrimaryKey) == 1 && d.Columns[d.PrimaryKey[0]].Hidden) {
		out = append(out, catalog.IndexDescriptor{ID: catalog.PrimaryIndexID, Name: d.Name + "_pkey", Columns: d.PrimaryKey, Unique: true})
	}
	return append(out, d.Indexes...)
}

// ConstraintOID is the pg_constraint OID of the constraint an index backs.
func ConstraintOID(d *catalog.TableDescriptor, idx uint32) oid.Oid { return IndexOID(d, idx) + 1<<30 }

// CheckOID and FKOID are the pg_constraint OIDs of d's k-th CHECK and
// foreign key.
func CheckOID(d *catalog.TableDescriptor, k int) oid.Oid {
	return oid.Oid(RelOIDBase + 1<<30 + 2<<24 + d.ID<<8 + uint32(k))
}

func FKOID(d *catalog.TableDescriptor, k int) oid.Oid {
	return oid.Oid(RelOIDBase + 1<<30 + 3<<24 + d.ID<<8 + uint32(k))
}

func pkNames(d *catalog.TableDescriptor) []string {
	out := make([]string, len(d.PrimaryKey))
	for i, o := range d.PrimaryKey {
		out[i] = d.Columns[o].Name
	}
	return out
}

// AttrDefOID is the pg_attrdef OID of column ordinal i's default.
func AttrDefOID(d *catalog.TableDescriptor, i int) oid.Oid {
	return oid.Oid(RelOIDBase + 1<<29 + d.ID<<12 + uint32(i))
}

// IsVirtualSchema reports whether schema holds virtual tables.
func IsVirtualSchema(schema string) bool {
	_, ok := tables[schema]
	return ok
}

// Lookup finds a virtual table by schema (empty: pg_catalog, which
// is on every search path) and name.
func Lookup(schema, name string) (*Table, bool) {
	if schema == "" {
		schema = "pg_catalog"
	}
	vt, ok := tables[schema][name]
	return vt, ok
}

// attrRow is column c's pg_attribute row as attribute num of relation rel
// (a table, or an index whose key holds c).
func attrRow(rel oid.Oid, c *catalog.ColumnDescriptor, num int, hasDefault bool) tree.Datums {
	generated := ""
	if c.Generated != "" && hasDefault {
		generated = "s" // a table's column, not an index's
	}
	return tree.Datums{tree.NewDOid(rel), tree.NewDName(c.Name), tree.NewDOid(c.Type().Oid()),
		tree.NewDInt(tree.DInt(num)), tree.MakeDBool(tree.DBool(!c.Nullable)), tree.MakeDBool(tree.DBool(hasDefault)),
		tree.DBoolFalse, tree.NewDInt(tree.DInt(sem.Typmod(c.Type()))), tree.NewDString(c.Identity), tree.NewDString(generated), tree.NewDOid(0),
		tree.NewDString(storage(c.Type())), tree.NewDString(""), tree.NewDInt(-1), tree.NewDInt(tree.DInt(sem.TypeLen(c.Type()))),
		tree.DNull} // attacl: no column privileges
}

// storage is pg_attribute.attstorage as PostgreSQL sets it: plain for
// fixed-width types, extended for variable-length ones.
func storage(t *types.T) string {
	if sem.TypeLen(t) > 0 {
		return "p"
	}
	return "x"
}
