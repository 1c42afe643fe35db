package sql

import (
	"context"
	"regexp"
	"strings"
	"sync"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
)

// Virtual tables of pg_catalog and information_schema, computed from the
// descriptors at each read, so that psql's \d commands, drivers and ORMs
// can ask what tables, columns and indexes there are. This is a subset:
// the columns psql's \d, \dt, \di, \l and \du and the usual
// information_schema queries read.

const (
	pgCatalogOID         = 11
	publicOID            = 2200
	informationSchemaOID = 13000
	heapAMOID            = 2
	btreeAMOID           = 403
	ownerOID             = 10
	defaultCollationOID  = 100
	defaultDBOID         = 16384
	// utf8EncodingID is PostgreSQL's number for UTF8, the only encoding.
	utf8EncodingID = 6
	// relOIDBase offsets table IDs into relation OIDs, above PostgreSQL's
	// system OIDs.
	relOIDBase = 100000
	// pgClassOID is pg_class's own OID, the classid of relations in pg_depend.
	pgClassOID = 1259
)

// relOID is a table's pg_class OID.
func relOID(d *catalog.TableDescriptor) oid.Oid { return oid.Oid(relOIDBase + d.ID) }

// indexOID is an index's pg_class OID: above every table's.
func indexOID(d *catalog.TableDescriptor, idx uint32) oid.Oid {
	return oid.Oid(relOIDBase + 1<<24 + d.ID<<8 + idx)
}

type virtualColumn struct {
	name string
	typ  *types.T
}

// virtualTable generates its rows from the catalog.
type virtualTable struct {
	cols []virtualColumn
	rows func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error)
}

func vcols(spec string) []virtualColumn {
	var out []virtualColumn
	for _, f := range strings.Fields(spec) {
		name, typ, _ := strings.Cut(f, ":")
		t := map[string]*types.T{
			"oid": types.Oid, "name": types.Name, "char": types.QChar, "bool": types.Bool,
			"int2": types.Int2, "int4": types.Int4, "int8": types.Int, "text": types.String, "text[]": types.StringArray,
			"oid[]": types.MakeArray(types.Oid), "timestamptz": types.TimestampTZ, "int2[]": types.MakeArray(types.Int2),
		}[typ]
		if t == nil {
			panic(errors.AssertionFailedf("virtual column %s: unknown type %q", name, typ))
		}
		out = append(out, virtualColumn{name: name, typ: t})
	}
	return out
}

var virtualTables = map[string]map[string]*virtualTable{
	"pg_catalog": {
		"pg_namespace": {
			cols: vcols("oid:oid nspname:name nspowner:oid"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
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
		"pg_sequence": {
			cols: vcols("seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 seqcache:int8 seqcycle:bool"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					so := d.Sequence
					if so == nil {
						continue
					}
					typ := types.Int
					switch so.Type {
					case "smallint":
						typ = types.Int2
					case "integer":
						typ = types.Int4
					}
					out = append(out, tree.Datums{tree.NewDOid(relOID(d)), tree.NewDOid(typ.Oid()),
						tree.NewDInt(tree.DInt(so.Start)), tree.NewDInt(tree.DInt(so.Increment)), tree.NewDInt(tree.DInt(so.MaxValue)),
						tree.NewDInt(tree.DInt(so.MinValue)), tree.NewDInt(tree.DInt(so.Cache)), tree.MakeDBool(tree.DBool(so.Cycle))})
				}
				return out, nil
			},
		},
		// pg_depend holds what psql asks of it: a sequence's owning column
		// (deptype a for SERIAL and OWNED BY, i for an identity column).
		"pg_depend": {
			cols: vcols("classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 deptype:char"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				byID := map[uint32]*catalog.TableDescriptor{}
				for _, d := range tables {
					byID[d.ID] = d
				}
				var out []tree.Datums
				for _, d := range tables {
					if d.Sequence == nil || d.Sequence.OwnedByTable == 0 {
						continue
					}
					owner := byID[d.Sequence.OwnedByTable]
					if owner == nil {
						continue
					}
					i := owner.ColumnIndex(d.Sequence.OwnedByColumn)
					if i < 0 {
						continue
					}
					kind := "a"
					if owner.Columns[i].Identity != "" {
						kind = "i"
					}
					out = append(out, tree.Datums{tree.NewDOid(pgClassOID), tree.NewDOid(relOID(d)), tree.NewDInt(0),
						tree.NewDOid(pgClassOID), tree.NewDOid(relOID(owner)), tree.NewDInt(tree.DInt(i + 1)), tree.NewDString(kind)})
				}
				return out, nil
			},
		},
		"pg_am": {
			cols: vcols("oid:oid amname:name amtype:char"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				return []tree.Datums{
					{tree.NewDOid(heapAMOID), tree.NewDName("heap"), tree.NewDString("t")},
					{tree.NewDOid(btreeAMOID), tree.NewDName("btree"), tree.NewDString("i")},
				}, nil
			},
		},
		"pg_class": {
			cols: vcols("oid:oid relname:name relnamespace:oid relkind:char relowner:oid relam:oid reltuples:int4 relhasindex:bool relnatts:int2 relpersistence:char " +
				"relchecks:int2 relhasrules:bool relhastriggers:bool relrowsecurity:bool relforcerowsecurity:bool relispartition:bool " +
				"reltablespace:oid reloftype:oid relreplident:char reltoastrelid:oid relpartbound:text reloptions:text[]"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				row := func(o oid.Oid, name string, ns oid.Oid, kind string, am oid.Oid, hasIndex bool, natts int) tree.Datums {
					return tree.Datums{tree.NewDOid(o), tree.NewDName(name), tree.NewDOid(ns),
						tree.NewDString(kind), tree.NewDOid(ownerOID), tree.NewDOid(am), tree.NewDInt(-1),
						tree.MakeDBool(tree.DBool(hasIndex)), tree.NewDInt(tree.DInt(natts)), tree.NewDString("p"),
						tree.NewDInt(0), tree.DBoolFalse, tree.DBoolFalse, tree.DBoolFalse, tree.DBoolFalse, tree.DBoolFalse,
						tree.NewDOid(0), tree.NewDOid(0), tree.NewDString("d"), tree.NewDOid(0), tree.DNull, tree.DNull}
				}
				// The catalogs themselves, under their PostgreSQL OIDs.
				for _, sys := range []struct {
					o    oid.Oid
					name string
				}{{pgClassOID, "pg_class"}, {2615, "pg_namespace"}, {1249, "pg_attribute"}, {2601, "pg_am"}, {1247, "pg_type"}, {2620, "pg_trigger"}} {
					out = append(out, row(sys.o, sys.name, pgCatalogOID, "r", heapAMOID, true, 0))
				}
				for _, d := range tables {
					if d.ViewQuery != "" {
						out = append(out, row(relOID(d), d.Name, publicOID, "v", 0, false, len(d.Columns)))
						continue
					}
					if d.Sequence != nil {
						out = append(out, row(relOID(d), d.Name, publicOID, "S", 0, false, len(d.Columns)))
						continue
					}
					idxs := tableIndexes(d)
					r := row(relOID(d), d.Name, publicOID, "r", heapAMOID, len(idxs) > 0, len(d.Columns))
					r[10] = tree.NewDInt(tree.DInt(len(d.Checks))) // relchecks
					// PostgreSQL enforces foreign keys with triggers, and psql
					// shows a table's foreign keys only when it has some.
					r[12] = tree.MakeDBool(tree.DBool(len(d.ForeignKeys) > 0 || len(d.InboundFKs) > 0))
					out = append(out, r)
					for _, idx := range idxs {
						out = append(out, row(indexOID(d, idx.ID), idx.Name, publicOID, "i", btreeAMOID, false, len(idx.Columns)))
					}
				}
				return out, nil
			},
		},
		"pg_attribute": {
			cols: vcols("attrelid:oid attname:name atttypid:oid attnum:int2 attnotnull:bool atthasdef:bool attisdropped:bool atttypmod:int4 " +
				"attidentity:char attgenerated:char attcollation:oid attstorage:char attcompression:char attstattarget:int4"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					for i, c := range d.Columns {
						if c.Hidden {
							continue
						}
						out = append(out, attrRow(relOID(d), &c, i+1, c.Default != "" && c.Identity == ""))
					}
					// An index's attributes are its key columns, as
					// psql's \d INDEX reads them.
					if d.IsTable() {
						for _, idx := range tableIndexes(d) {
							for k, ci := range idx.Columns {
								out = append(out, attrRow(indexOID(d, idx.ID), &d.Columns[ci], k+1, false))
							}
						}
					}
				}
				return out, nil
			},
		},
		"pg_index": {
			cols: vcols("indexrelid:oid indrelid:oid indnatts:int2 indisunique:bool indisprimary:bool indisclustered:bool indisvalid:bool indisreplident:bool " +
				"indnkeyatts:int2 indimmediate:bool indnullsnotdistinct:bool indpred:text"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					if !d.IsTable() {
						continue
					}
					for _, idx := range tableIndexes(d) {
						out = append(out, tree.Datums{tree.NewDOid(indexOID(d, idx.ID)), tree.NewDOid(relOID(d)),
							tree.NewDInt(tree.DInt(len(idx.Columns))), tree.MakeDBool(tree.DBool(idx.Unique)),
							tree.MakeDBool(tree.DBool(idx.ID == catalog.PrimaryIndexID)), tree.DBoolFalse, tree.DBoolTrue, tree.DBoolFalse,
							tree.NewDInt(tree.DInt(len(idx.Columns))), tree.DBoolTrue, tree.DBoolFalse, tree.DNull})
					}
				}
				return out, nil
			},
		},
		// One database, the one current_database names: every connection
		// sees the same tables whatever database it asked for.
		"pg_database": {
			cols: vcols("oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char datistemplate:bool datallowconn:bool datconnlimit:int4 datcollate:text datctype:text daticulocale:text datacl:text[]"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				return []tree.Datums{{tree.NewDOid(defaultDBOID), tree.NewDName("defaultdb"), tree.NewDOid(ownerOID), tree.NewDInt(utf8EncodingID),
					tree.NewDString("c"), tree.DBoolFalse, tree.DBoolTrue, tree.NewDInt(-1), tree.NewDString("C"), tree.NewDString("C"),
					tree.DNull, tree.DNull}}, nil
			},
		},
		"pg_attrdef": {
			cols: vcols("oid:oid adrelid:oid adnum:int2 adbin:text"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					for i, c := range d.Columns {
						if c.Default != "" && !c.Hidden && c.Identity == "" {
							// adbin is the expression's text: pg_get_expr
							// returns it as is.
							out = append(out, tree.Datums{tree.NewDOid(attrDefOID(d, i)), tree.NewDOid(relOID(d)), tree.NewDInt(tree.DInt(i + 1)), tree.NewDString(displayDefault(&c))})
						}
					}
				}
				return out, nil
			},
		},
		"pg_constraint": {
			cols: vcols("oid:oid conname:name connamespace:oid contype:char condeferrable:bool condeferred:bool convalidated:bool conrelid:oid conindid:oid " +
				"confrelid:oid conparentid:oid conkey:int2[] confkey:int2[]"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				byID := map[uint32]*catalog.TableDescriptor{}
				for _, d := range tables {
					byID[d.ID] = d
				}
				attnums := func(d *catalog.TableDescriptor, names []string) tree.Datum {
					arr := tree.NewDArray(types.Int2)
					for _, o := range d.Ordinals(names) {
						_ = arr.Append(tree.NewDInt(tree.DInt(o + 1)))
					}
					return arr
				}
				for _, d := range tables {
					if !d.IsTable() {
						continue
					}
					if idxs := tableIndexes(d); len(idxs) > 0 && idxs[0].ID == catalog.PrimaryIndexID {
						out = append(out, tree.Datums{tree.NewDOid(constraintOID(d, catalog.PrimaryIndexID)), tree.NewDName(idxs[0].Name), tree.NewDOid(publicOID),
							tree.NewDString("p"), tree.DBoolFalse, tree.DBoolFalse, tree.DBoolTrue, tree.NewDOid(relOID(d)), tree.NewDOid(indexOID(d, catalog.PrimaryIndexID)),
							tree.NewDOid(0), tree.NewDOid(0), attnums(d, pkNames(d)), tree.DNull})
					}
					for _, idx := range d.Indexes {
						if !idx.Constraint {
							continue
						}
						names := make([]string, len(idx.Columns))
						for i, o := range idx.Columns {
							names[i] = d.Columns[o].Name
						}
						out = append(out, tree.Datums{tree.NewDOid(constraintOID(d, idx.ID)), tree.NewDName(idx.Name), tree.NewDOid(publicOID),
							tree.NewDString("u"), tree.DBoolFalse, tree.DBoolFalse, tree.DBoolTrue, tree.NewDOid(relOID(d)), tree.NewDOid(indexOID(d, idx.ID)),
							tree.NewDOid(0), tree.NewDOid(0), attnums(d, names), tree.DNull})
					}
					for k, ck := range d.Checks {
						e, err := parseExpr(ck.Expr)
						if err != nil {
							return nil, err
						}
						out = append(out, tree.Datums{tree.NewDOid(checkOID(d, k)), tree.NewDName(ck.Name), tree.NewDOid(publicOID),
							tree.NewDString("c"), tree.DBoolFalse, tree.DBoolFalse, tree.DBoolTrue, tree.NewDOid(relOID(d)), tree.NewDOid(0),
							tree.NewDOid(0), tree.NewDOid(0), attnums(d, exprColumns(e)), tree.DNull})
					}
					for k, fk := range d.ForeignKeys {
						parent := byID[fk.RefTable]
						if parent == nil {
							continue
						}
						var ref oid.Oid
						if uk := parent.UniqueKeyOn(fk.RefColumns); uk != nil && uk.Index != nil {
							ref = indexOID(parent, uk.Index.ID)
						} else {
							ref = indexOID(parent, catalog.PrimaryIndexID)
						}
						out = append(out, tree.Datums{tree.NewDOid(fkOID(d, k)), tree.NewDName(fk.Name), tree.NewDOid(publicOID),
							tree.NewDString("f"), tree.DBoolFalse, tree.DBoolFalse, tree.DBoolTrue, tree.NewDOid(relOID(d)), tree.NewDOid(ref),
							tree.NewDOid(relOID(parent)), tree.NewDOid(0), attnums(d, fk.Columns), attnums(parent, fk.RefColumns)})
					}
				}
				return out, nil
			},
		},
		"pg_type": {
			cols: vcols("oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typtype:char typcollation:oid typelem:oid typarray:oid typbasetype:oid typnotnull:bool"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				var out []tree.Datums
				for _, t := range catalogTypes {
					coll := oid.Oid(0)
					if t.Family() == types.StringFamily {
						coll = defaultCollationOID
					}
					out = append(out, tree.Datums{tree.NewDOid(t.Oid()), tree.NewDName(typeName(t)), tree.NewDOid(pgCatalogOID), tree.NewDOid(ownerOID),
						tree.NewDInt(tree.DInt(typeLen(t))), tree.NewDString("b"), tree.NewDOid(coll), tree.NewDOid(0),
						tree.NewDOid(types.CalcArrayOid(t)), tree.NewDOid(0), tree.DBoolFalse})
				}
				return out, nil
			},
		},
		"pg_collation": {
			cols: vcols("oid:oid collname:name collnamespace:oid"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				return []tree.Datums{
					{tree.NewDOid(defaultCollationOID), tree.NewDName("default"), tree.NewDOid(pgCatalogOID)},
					{tree.NewDOid(950), tree.NewDName("C"), tree.NewDOid(pgCatalogOID)},
				}, nil
			},
		},
		// Features Meridian does not have yet, so never any rows, for the
		// queries psql's \d runs about them.
		"pg_policy":                emptyTable("oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:oid[] polqual:text polwithcheck:text"),
		"pg_statistic_ext":         emptyTable("oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid stxstattarget:int4 stxkind:text[]"),
		"pg_publication":           emptyTable("oid:oid pubname:name pubowner:oid puballtables:bool"),
		"pg_publication_namespace": emptyTable("oid:oid pnpubid:oid pnnspid:oid"),
		"pg_publication_rel":       emptyTable("oid:oid prpubid:oid prrelid:oid prqual:text prattrs:int2[]"),
		"pg_auth_members":          emptyTable("oid:oid roleid:oid member:oid grantor:oid admin_option:bool"),
		// One role, the owner of everything: pg_get_userbyid's root.
		"pg_roles": {
			cols: vcols("oid:oid rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool " +
				"rolreplication:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz rolbypassrls:bool rolconfig:text[]"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				return []tree.Datums{{tree.NewDOid(ownerOID), tree.NewDName("root"), tree.DBoolTrue, tree.DBoolTrue, tree.DBoolTrue, tree.DBoolTrue,
					tree.DBoolTrue, tree.DBoolTrue, tree.NewDInt(-1), tree.NewDString("********"), tree.DNull, tree.DBoolTrue, tree.DNull}}, nil
			},
		},
		"pg_inherits": emptyTable("inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool"),
		// No user triggers: foreign keys are enforced without them.
		"pg_trigger": emptyTable("oid:oid tgrelid:oid tgparentid:oid tgname:name tgenabled:char tgisinternal:bool"),
		"pg_tables": {
			cols: vcols("schemaname:name tablename:name tableowner:name hasindexes:bool"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					if d.IsTable() {
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
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				var out []tree.Datums
				for _, s := range []string{"information_schema", "pg_catalog", "public"} {
					out = append(out, tree.Datums{tree.NewDName("defaultdb"), tree.NewDName(s), tree.NewDName("root")})
				}
				return out, nil
			},
		},
		"tables": {
			cols: vcols("table_catalog:name table_schema:name table_name:name table_type:text"),
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					if d.Sequence != nil {
						continue // PostgreSQL lists sequences in information_schema.sequences
					}
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
			rows: func(ctx context.Context, txn kvapi.Txn) ([]tree.Datums, error) {
				tables, err := catalog.ListTables(ctx, txn)
				if err != nil {
					return nil, err
				}
				var out []tree.Datums
				for _, d := range tables {
					if d.Sequence != nil {
						continue
					}
					pos := 0
					for _, c := range d.Columns {
						if c.Hidden {
							continue
						}
						pos++
						var def tree.Datum = tree.DNull
						if c.Default != "" && c.Identity == "" {
							def = tree.NewDString(displayDefault(&c))
						}
						nullable := "YES"
						if !c.Nullable {
							nullable = "NO"
						}
						out = append(out, tree.Datums{tree.NewDName("defaultdb"), tree.NewDName("public"), tree.NewDName(d.Name),
							tree.NewDName(c.Name), tree.NewDInt(tree.DInt(pos)), def, tree.NewDString(nullable), tree.NewDString(c.Type().SQLStandardName())})
					}
				}
				return out, nil
			},
		},
	},
}

func emptyTable(spec string) *virtualTable {
	return &virtualTable{cols: vcols(spec), rows: func(context.Context, kvapi.Txn) ([]tree.Datums, error) { return nil, nil }}
}

// tableIndexes returns d's indexes as PostgreSQL lists them: the primary
// key's first (unless the table has none, only the hidden rowid), then the
// secondary ones.
func tableIndexes(d *catalog.TableDescriptor) []catalog.IndexDescriptor {
	var out []catalog.IndexDescriptor
	if !(len(d.PrimaryKey) == 1 && d.Columns[d.PrimaryKey[0]].Hidden) {
		out = append(out, catalog.IndexDescriptor{ID: catalog.PrimaryIndexID, Name: d.Name + "_pkey", Columns: d.PrimaryKey, Unique: true})
	}
	return append(out, d.Indexes...)
}

// constraintOID is the pg_constraint OID of the constraint an index backs.
func constraintOID(d *catalog.TableDescriptor, idx uint32) oid.Oid { return indexOID(d, idx) + 1<<30 }

// checkOID and fkOID are the pg_constraint OIDs of d's k-th CHECK and
// foreign key.
func checkOID(d *catalog.TableDescriptor, k int) oid.Oid {
	return oid.Oid(relOIDBase + 1<<30 + 2<<24 + d.ID<<8 + uint32(k))
}

func fkOID(d *catalog.TableDescriptor, k int) oid.Oid {
	return oid.Oid(relOIDBase + 1<<30 + 3<<24 + d.ID<<8 + uint32(k))
}

func pkNames(d *catalog.TableDescriptor) []string {
	out := make([]string, len(d.PrimaryKey))
	for i, o := range d.PrimaryKey {
		out[i] = d.Columns[o].Name
	}
	return out
}

// attrDefOID is the pg_attrdef OID of column ordinal i's default.
func attrDefOID(d *catalog.TableDescriptor, i int) oid.Oid {
	return oid.Oid(relOIDBase + 1<<29 + d.ID<<12 + uint32(i))
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

func (n *virtualNode) explain() (string, []*planNode) { return "virtual table", nil }

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

// attrRow is column c's pg_attribute row as attribute num of relation rel
// (a table, or an index whose key holds c).
func attrRow(rel oid.Oid, c *catalog.ColumnDescriptor, num int, hasDefault bool) tree.Datums {
	return tree.Datums{tree.NewDOid(rel), tree.NewDName(c.Name), tree.NewDOid(c.Type().Oid()),
		tree.NewDInt(tree.DInt(num)), tree.MakeDBool(tree.DBool(!c.Nullable)), tree.MakeDBool(tree.DBool(hasDefault)),
		tree.DBoolFalse, tree.NewDInt(tree.DInt(typmod(c.Type()))), tree.NewDString(c.Identity), tree.NewDString(""), tree.NewDOid(0),
		tree.NewDString(storage(c.Type())), tree.NewDString(""), tree.NewDInt(-1)}
}

// storage is pg_attribute.attstorage as PostgreSQL sets it: plain for
// fixed-width types, extended for variable-length ones.
func storage(t *types.T) string {
	if typeLen(t) > 0 {
		return "p"
	}
	return "x"
}
