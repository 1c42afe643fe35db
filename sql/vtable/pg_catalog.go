package vtable

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sem"
)

// pgCatalog are the tables of pg_catalog, by name.
// defaultACLOIDBase numbers pg_default_acl's rows.
const defaultACLOIDBase = 80000

var pgCatalog = map[string]*Table{
	"pg_namespace": {
		Cols: vcols("oid:oid nspname:name nspowner:oid nspacl:text[]"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			out := []tree.Datums{
				{tree.NewDOid(pgCatalogOID), tree.NewDName("pg_catalog"), tree.NewDOid(ownerOID), tree.DNull},
				{tree.NewDOid(informationSchemaOID), tree.NewDName("information_schema"), tree.NewDOid(ownerOID), tree.DNull},
			}
			schemas, err := env.Schemas(ctx)
			if err != nil {
				return nil, err
			}
			for _, s := range schemas {
				acl, err := env.ACL(ctx, s.ACL)
				if err != nil {
					return nil, err
				}
				out = append(out, tree.Datums{tree.NewDOid(NamespaceOID(s)), tree.NewDName(s.Name), tree.NewDOid(oid.Oid(s.Owner)), acl})
			}
			return out, nil
		},
	},
	"pg_sequence": {
		Cols: vcols("seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 seqcache:int8 seqcycle:bool"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
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
				out = append(out, tree.Datums{tree.NewDOid(RelOID(d)), tree.NewDOid(typ.Oid()),
					tree.NewDInt(tree.DInt(so.Start)), tree.NewDInt(tree.DInt(so.Increment)), tree.NewDInt(tree.DInt(so.MaxValue)),
					tree.NewDInt(tree.DInt(so.MinValue)), tree.NewDInt(tree.DInt(so.Cache)), tree.MakeDBool(tree.DBool(so.Cycle))})
			}
			return out, nil
		},
	},
	"pg_am": {
		Cols: vcols("oid:oid amname:name amtype:char"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			return []tree.Datums{
				{tree.NewDOid(heapAMOID), tree.NewDName("heap"), tree.NewDString("t")},
				{tree.NewDOid(btreeAMOID), tree.NewDName("btree"), tree.NewDString("i")},
				{tree.NewDOid(hashAMOID), tree.NewDName("hash"), tree.NewDString("i")},
				{tree.NewDOid(gistAMOID), tree.NewDName("gist"), tree.NewDString("i")},
				{tree.NewDOid(ginAMOID), tree.NewDName("gin"), tree.NewDString("i")},
				{tree.NewDOid(brinAMOID), tree.NewDName("brin"), tree.NewDString("i")},
				{tree.NewDOid(spgistAMOID), tree.NewDName("spgist"), tree.NewDString("i")},
			}, nil
		},
	},
	"pg_class": {
		Cols: vcols("oid:oid relname:name relnamespace:oid relkind:char relowner:oid relam:oid reltuples:int4 relhasindex:bool relnatts:int2 relpersistence:char " +
			"relchecks:int2 relhasrules:bool relhastriggers:bool relrowsecurity:bool relforcerowsecurity:bool relispartition:bool " +
			"reltablespace:oid reloftype:oid relreplident:char reltoastrelid:oid relpartbound:text reloptions:text[] relacl:text[] relispopulated:bool"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			stats, err := env.Statistics(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			owner := oid.Oid(ownerOID)
			var acl tree.Datum = tree.DNull
			row := func(o oid.Oid, name string, ns oid.Oid, kind string, am oid.Oid, hasIndex bool, natts int) tree.Datums {
				return tree.Datums{tree.NewDOid(o), tree.NewDName(name), tree.NewDOid(ns),
					tree.NewDString(kind), tree.NewDOid(owner), tree.NewDOid(am), tree.NewDInt(-1),
					tree.MakeDBool(tree.DBool(hasIndex)), tree.NewDInt(tree.DInt(natts)), tree.NewDString("p"),
					tree.NewDInt(0), tree.DBoolFalse, tree.DBoolFalse, tree.DBoolFalse, tree.DBoolFalse, tree.DBoolFalse,
					tree.NewDOid(0), tree.NewDOid(0), tree.NewDString("d"), tree.NewDOid(0), tree.DNull, tree.DNull, acl, tree.DBoolTrue}
			}
			// The catalogs themselves, under their PostgreSQL OIDs.
			for _, sys := range []struct {
				o    oid.Oid
				name string
			}{{pgClassOID, "pg_class"}, {pgNamespaceOID, "pg_namespace"}, {1249, "pg_attribute"}, {2601, "pg_am"}, {pgTypeOID, "pg_type"}, {2620, "pg_trigger"},
				{pgProcOID, "pg_proc"}, {pgAttrDefOID, "pg_attrdef"}, {pgConstraintOID, "pg_constraint"}, {pgDependOID, "pg_depend"}, {pgRewriteOID, "pg_rewrite"}} {
				out = append(out, row(sys.o, sys.name, pgCatalogOID, "r", heapAMOID, true, 0))
			}
			for _, d := range tables {
				owner = oid.Oid(d.OwnerID())
				if acl, err = env.ACL(ctx, d.ACL); err != nil {
					return nil, err
				}
				if d.ViewQuery != "" {
					out = append(out, row(RelOID(d), d.Name, env.SchemaOID(d.Schema), "v", 0, false, len(d.Columns)))
					continue
				}
				if d.Sequence != nil {
					out = append(out, row(RelOID(d), d.Name, env.SchemaOID(d.Schema), "S", 0, false, len(d.Columns)))
					continue
				}
				idxs := TableIndexes(d)
				kind := "r"
				if d.IsMatView() {
					kind = "m"
				}
				r := row(RelOID(d), d.Name, env.SchemaOID(d.Schema), kind, heapAMOID, len(idxs) > 0, len(d.Columns))
				r[len(r)-1] = tree.MakeDBool(tree.DBool(!d.Unpopulated)) // relispopulated
				r[10] = tree.NewDInt(tree.DInt(len(d.Checks)))           // relchecks
				if s := stats[d.ID]; s != nil {
					r[6] = tree.NewDInt(tree.DInt(s.RowCount)) // reltuples: -1 until analyzed
				}
				// PostgreSQL enforces foreign keys with triggers, and psql
				// shows a table's foreign keys only when it has some.
				r[12] = tree.MakeDBool(tree.DBool(len(d.ForeignKeys) > 0 || len(d.InboundFKs) > 0))
				out = append(out, r)
				acl = tree.DNull
				for _, idx := range idxs {
					am := oid.Oid(btreeAMOID)
					if idx.Inverted() {
						am = ginAMOID
					}
					out = append(out, row(IndexOID(d, idx.ID), idx.Name, env.SchemaOID(d.Schema), "i", am, false, len(idx.Columns)))
				}
			}
			return out, nil
		},
	},
	"pg_attribute": {
		Cols: vcols("attrelid:oid attname:name atttypid:oid attnum:int2 attnotnull:bool atthasdef:bool attisdropped:bool atttypmod:int4 " +
			"attidentity:char attgenerated:char attcollation:oid attstorage:char attcompression:char attstattarget:int4 attlen:int2 attacl:text[]"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				for i, c := range d.Columns {
					if c.Hidden {
						continue
					}
					out = append(out, attrRow(RelOID(d), &c, i+1, (c.Default != "" && c.Identity == "") || c.Generated != ""))
				}
				// An index's attributes are its key columns, as
				// psql's \d INDEX reads them.
				if d.HasRows() {
					for _, idx := range TableIndexes(d) {
						for k, ci := range append(append([]int{}, idx.Columns...), idx.Include...) {
							out = append(out, attrRow(IndexOID(d, idx.ID), &d.Columns[ci], k+1, false))
						}
					}
				}
			}
			return out, nil
		},
	},
	"pg_index": {
		Cols: vcols("indexrelid:oid indrelid:oid indnatts:int2 indisunique:bool indisprimary:bool indisclustered:bool indisvalid:bool indisreplident:bool " +
			"indnkeyatts:int2 indimmediate:bool indnullsnotdistinct:bool indpred:text indkey:int2vector"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			return indexRows(ctx, env, func(d *catalog.TableDescriptor, idx catalog.IndexDescriptor) tree.Datums {
				var pred tree.Datum = tree.DNull
				if idx.Predicate != "" {
					pred = tree.NewDString(DisplayPredicate(idx.Predicate))
				}
				return tree.Datums{tree.NewDOid(IndexOID(d, idx.ID)), tree.NewDOid(RelOID(d)),
					tree.NewDInt(tree.DInt(len(idx.Columns) + len(idx.Include))), tree.MakeDBool(tree.DBool(idx.Unique)),
					tree.MakeDBool(tree.DBool(idx.ID == catalog.PrimaryIndexID)), tree.DBoolFalse, tree.DBoolTrue, tree.DBoolFalse,
					tree.NewDInt(tree.DInt(len(idx.Columns))), tree.DBoolTrue, tree.DBoolFalse, pred, indKey(idx)}
			})
		},
	},
	"pg_database": {
		Cols: vcols("oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char datistemplate:bool datallowconn:bool datconnlimit:int4 datcollate:text datctype:text daticulocale:text datacl:text[]"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			dbs, err := catalog.ListDatabases(ctx, env.Txn)
			if err != nil {
				return nil, err
			}
			out := make([]tree.Datums, len(dbs))
			for i, db := range dbs {
				acl, err := env.ACL(ctx, db.ACL)
				if err != nil {
					return nil, err
				}
				out[i] = tree.Datums{tree.NewDOid(NamespaceOID(db)), tree.NewDName(db.Name), tree.NewDOid(oid.Oid(db.Owner)), tree.NewDInt(UTF8EncodingID),
					tree.NewDString("c"), tree.DBoolFalse, tree.DBoolTrue, tree.NewDInt(-1), tree.NewDString("C"), tree.NewDString("C"),
					tree.DNull, acl}
			}
			return out, nil
		},
	},
	"pg_attrdef": {
		Cols: vcols("oid:oid adrelid:oid adnum:int2 adbin:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				for i, c := range d.Columns {
					if c.Default != "" && !c.Hidden && c.Identity == "" {
						// adbin is the expression's text: pg_get_expr
						// returns it as is.
						out = append(out, tree.Datums{tree.NewDOid(AttrDefOID(d, i)), tree.NewDOid(RelOID(d)), tree.NewDInt(tree.DInt(i + 1)), tree.NewDString(DisplayDefault(&c))})
					}
					if c.Generated != "" {
						// A generated column's expression, as PostgreSQL
						// keeps it.
						out = append(out, tree.Datums{tree.NewDOid(AttrDefOID(d, i)), tree.NewDOid(RelOID(d)), tree.NewDInt(tree.DInt(i + 1)), tree.NewDString("(" + DisplayExpr(c.Generated) + ")")})
					}
				}
			}
			return out, nil
		},
	},
	"pg_constraint": {
		Cols: vcols("oid:oid conname:name connamespace:oid contype:char condeferrable:bool condeferred:bool convalidated:bool conrelid:oid conindid:oid " +
			"confrelid:oid conparentid:oid conkey:int2[] confkey:int2[]"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			attnums := func(d *catalog.TableDescriptor, names []string) tree.Datum {
				arr := tree.NewDArray(types.Int2)
				for _, o := range d.Ordinals(names) {
					_ = arr.Append(tree.NewDInt(tree.DInt(o + 1)))
				}
				return arr
			}
			var out []tree.Datums
			err := eachConstraint(ctx, env, func(d *catalog.TableDescriptor, c tableConstraint) {
				confrelid, confkey := tree.NewDOid(0), tree.Datum(tree.DNull)
				if c.kind == "FOREIGN KEY" {
					if c.ref == nil {
						return
					}
					confrelid, confkey = tree.NewDOid(RelOID(c.ref)), attnums(c.ref, c.refCols)
				}
				out = append(out, tree.Datums{tree.NewDOid(c.oid), tree.NewDName(c.name), tree.NewDOid(env.SchemaOID(d.Schema)),
					tree.NewDString(c.contype), tree.DBoolFalse, tree.DBoolFalse, tree.DBoolTrue, tree.NewDOid(RelOID(d)), tree.NewDOid(c.index),
					confrelid, tree.NewDOid(0), attnums(d, c.cols), confkey})
			})
			return out, err
		},
	},
	"pg_type": {
		Cols: vcols("oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typtype:char typcollation:oid typelem:oid typarray:oid typbasetype:oid typnotnull:bool typtypmod:int4 typrelid:oid typcategory:char typacl:text[]"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			var out []tree.Datums
			for _, t := range sem.CatalogTypes {
				coll := oid.Oid(0)
				if t.Family() == types.StringFamily {
					coll = defaultCollationOID
				}
				out = append(out, tree.Datums{tree.NewDOid(t.Oid()), tree.NewDName(sem.TypeName(t)), tree.NewDOid(pgCatalogOID), tree.NewDOid(ownerOID),
					tree.NewDInt(tree.DInt(sem.TypeLen(t))), tree.NewDString("b"), tree.NewDOid(coll), tree.NewDOid(0),
					tree.NewDOid(types.CalcArrayOid(t)), tree.NewDOid(0), tree.DBoolFalse, tree.NewDInt(-1), tree.NewDOid(0), tree.NewDString(typCategory(t)), tree.DNull})
				out = append(out, arrayTypeRows(t, coll)...)
			}
			// The user-defined types (enums) of the session's database,
			// each with its array type, as PostgreSQL makes one.
			enums, err := env.Types(ctx)
			if err != nil {
				return nil, err
			}
			for _, d := range enums {
				ns := env.SchemaOID(d.Schema)
				out = append(out,
					tree.Datums{tree.NewDOid(catalog.TypeOID(d.ID)), tree.NewDName(d.Name), tree.NewDOid(ns), tree.NewDOid(ownerOID),
						tree.NewDInt(4), tree.NewDString("e"), tree.NewDOid(0), tree.NewDOid(0),
						tree.NewDOid(catalog.ArrayTypeOID(d.ID)), tree.NewDOid(0), tree.DBoolFalse, tree.NewDInt(-1), tree.NewDOid(0), tree.NewDString("E"), tree.DNull},
					tree.Datums{tree.NewDOid(catalog.ArrayTypeOID(d.ID)), tree.NewDName("_" + d.Name), tree.NewDOid(ns), tree.NewDOid(ownerOID),
						tree.NewDInt(-1), tree.NewDString("b"), tree.NewDOid(0), tree.NewDOid(catalog.TypeOID(d.ID)),
						tree.NewDOid(0), tree.NewDOid(0), tree.DBoolFalse, tree.NewDInt(-1), tree.NewDOid(0), tree.NewDString("A"), tree.DNull})
			}
			return out, nil
		},
	},
	// pg_enum: the members of the enums, enumsortorder their position
	// (PostgreSQL's are floats that ADD VALUE BEFORE/AFTER interpolate;
	// only their order is meaningful).
	"pg_enum": {
		Cols: vcols("oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			enums, err := env.Types(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range enums {
				for i, l := range d.Enum.Labels {
					out = append(out, tree.Datums{tree.NewDOid(EnumLabelOID(d, i)), tree.NewDOid(catalog.TypeOID(d.ID)),
						tree.NewDFloat(tree.DFloat(i + 1)), tree.NewDName(l)})
				}
			}
			return out, nil
		},
	},
	"pg_collation": {
		Cols: vcols("oid:oid collname:name collnamespace:oid"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
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
	// Roles (sql/catalog/roles.go), in PostgreSQL 15's columns. The
	// built-in root is PostgreSQL's bootstrap superuser (OID 10), with
	// every attribute.
	"pg_stat_activity": pgStatActivity,
	"pg_locks":         pgLocks,
	// pg_default_acl: ALTER DEFAULT PRIVILEGES' entries of the session's
	// database (psql's \ddp).
	"pg_default_acl": {
		Cols: vcols("oid:oid defaclrole:oid defaclnamespace:oid defaclobjtype:char defaclacl:text[]"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			entries, err := catalog.ListDefaultPrivileges(ctx, env.Txn, env.DB.ID)
			if err != nil {
				return nil, err
			}
			schemas, err := env.Schemas(ctx)
			if err != nil {
				return nil, err
			}
			byID := map[uint32]*catalog.Namespace{}
			for _, sc := range schemas {
				byID[sc.ID] = sc
			}
			out := make([]tree.Datums, 0, len(entries))
			for i, e := range entries {
				ns := tree.NewDOid(0)
				if sc := byID[e.Schema]; sc != nil {
					ns = tree.NewDOid(NamespaceOID(sc))
				}
				objtype := "r"
				if e.Kind == catalog.ObjSequence {
					objtype = "S"
				}
				acl, err := env.ACL(ctx, e.ACL)
				if err != nil {
					return nil, err
				}
				out = append(out, tree.Datums{tree.NewDOid(oid.Oid(defaultACLOIDBase + i)), tree.NewDOid(oid.Oid(e.Role)), ns,
					tree.NewDString(objtype), acl})
			}
			return out, nil
		},
	},
	"pg_roles": {
		Cols: vcols("rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool rolreplication:bool " +
			"rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz rolbypassrls:bool rolconfig:text[] oid:oid"),
		Rows: roleRows(func(r *catalog.Role) tree.Datums {
			all := tree.MakeDBool(r.ID == catalog.RootRoleID)
			return tree.Datums{tree.NewDName(r.Name), tree.MakeDBool(tree.DBool(r.Superuser)), tree.MakeDBool(tree.DBool(r.Inherit)),
				tree.MakeDBool(tree.DBool(r.CreateRole)), tree.MakeDBool(tree.DBool(r.CreateDB)), tree.MakeDBool(tree.DBool(r.Login)), all,
				tree.NewDInt(-1), tree.NewDString("********"), tree.DNull, all, tree.DNull, tree.NewDOid(oid.Oid(r.ID))}
		}),
	},
	// pg_authid shows the stored SCRAM verifiers, as PostgreSQL's does
	// (to superusers only there; privileges are not enforced here yet).
	"pg_authid": {
		Cols: vcols("oid:oid rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool " +
			"rolreplication:bool rolbypassrls:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz"),
		Rows: roleRows(func(r *catalog.Role) tree.Datums {
			all := tree.MakeDBool(r.ID == catalog.RootRoleID)
			pw := tree.Datum(tree.DNull)
			if r.Password != "" {
				pw = tree.NewDString(r.Password)
			}
			return tree.Datums{tree.NewDOid(oid.Oid(r.ID)), tree.NewDName(r.Name), tree.MakeDBool(tree.DBool(r.Superuser)), tree.MakeDBool(tree.DBool(r.Inherit)),
				tree.MakeDBool(tree.DBool(r.CreateRole)), tree.MakeDBool(tree.DBool(r.CreateDB)), tree.MakeDBool(tree.DBool(r.Login)), all, all,
				tree.NewDInt(-1), pw, tree.DNull}
		}),
	},
	// pg_user: the roles that may log in.
	"pg_user": {
		Cols: vcols("usename:name usesysid:oid usecreatedb:bool usesuper:bool userepl:bool usebypassrls:bool passwd:text valuntil:timestamptz useconfig:text[]"),
		Rows: roleRows(func(r *catalog.Role) tree.Datums {
			if !r.Login {
				return nil
			}
			all := tree.MakeDBool(r.ID == catalog.RootRoleID)
			return tree.Datums{tree.NewDName(r.Name), tree.NewDOid(oid.Oid(r.ID)), tree.MakeDBool(tree.DBool(r.CreateDB)), tree.MakeDBool(tree.DBool(r.Superuser)),
				all, all, tree.NewDString("********"), tree.DNull, tree.DNull}
		}),
	},
	"pg_auth_members": {
		Cols: vcols("roleid:oid member:oid grantor:oid admin_option:bool"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			ms, err := catalog.ListMemberships(ctx, env.Txn)
			if err != nil {
				return nil, err
			}
			out := make([]tree.Datums, len(ms))
			for i, m := range ms {
				out[i] = tree.Datums{tree.NewDOid(oid.Oid(m.Role)), tree.NewDOid(oid.Oid(m.Member)), tree.NewDOid(oid.Oid(m.Grantor)), tree.MakeDBool(tree.DBool(m.Admin))}
			}
			return out, nil
		},
	},
	"pg_inherits": emptyTable("inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool"),
	// No user triggers: foreign keys are enforced without them.
	"pg_trigger": emptyTable("oid:oid tgrelid:oid tgparentid:oid tgname:name tgenabled:char tgisinternal:bool"),
	// pg_matviews: definition is the stored query's SQL, one line (as
	// PostgreSQL's, with its leading space and closing semicolon, but
	// not its deparsed layout).
	"pg_matviews": {
		Cols: vcols("schemaname:name matviewname:name matviewowner:name tablespace:name hasindexes:bool ispopulated:bool definition:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				if d.IsMatView() {
					out = append(out, tree.Datums{tree.NewDName(d.Schema), tree.NewDName(d.Name), tree.NewDName(env.RoleName(ctx, d.OwnerID())), tree.DNull,
						tree.MakeDBool(tree.DBool(len(d.Indexes) > 0)), tree.MakeDBool(tree.DBool(!d.Unpopulated)), tree.NewDString(" " + d.MatViewQuery + ";")})
				}
			}
			return out, nil
		},
	},
	"pg_tables": {
		Cols: vcols("schemaname:name tablename:name tableowner:name hasindexes:bool"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				if d.IsTable() {
					out = append(out, tree.Datums{tree.NewDName(d.Schema), tree.NewDName(d.Name), tree.NewDName(env.RoleName(ctx, d.OwnerID())), tree.MakeDBool(tree.DBool(len(d.Indexes) > 0))})
				}
			}
			return out, nil
		},
	},
}

// roleRows makes a role table's rows, one per role (none where row
// returns nil).
func roleRows(row func(*catalog.Role) tree.Datums) func(context.Context, *Env) ([]tree.Datums, error) {
	return func(ctx context.Context, env *Env) ([]tree.Datums, error) {
		roles, err := catalog.ListRoles(ctx, env.Txn)
		if err != nil {
			return nil, err
		}
		var out []tree.Datums
		for _, r := range roles {
			if d := row(r); d != nil {
				out = append(out, d)
			}
		}
		return out, nil
	}
}

// indKey is pg_index.indkey: the attnums (pg_attribute's, a column's
// place in the table from 1) of the index's key and INCLUDE columns.
func indKey(idx catalog.IndexDescriptor) tree.Datum {
	arr := tree.NewDArray(types.Int2)
	for _, c := range append(append([]int{}, idx.Columns...), idx.Include...) {
		_ = arr.Append(tree.NewDInt(tree.DInt(c + 1)))
	}
	return tree.NewDIntVectorFromDArray(arr)
}
