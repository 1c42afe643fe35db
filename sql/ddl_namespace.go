package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Databases and schemas: CREATE / DROP / ALTER ... RENAME / OWNER TO, as
// PostgreSQL 15 has them. A database's relations are dropped with it; a
// schema's need CASCADE, as in PostgreSQL.

// execNamespace runs the statements on databases and schemas; ok is
// false for any other statement.
func (s *session) execNamespace(ctx context.Context, txn kvapi.Txn, b *builder, stmt tree.Statement) (res *result, ok bool, err error) {
	switch st := stmt.(type) {
	case *tree.CreateDatabase:
		res, err = s.createDatabase(ctx, txn, st)
	case *tree.DropDatabase:
		res, err = s.dropDatabase(ctx, txn, b, st)
	case *tree.RenameDatabase:
		res, err = s.renameDatabase(ctx, txn, st)
	case *tree.AlterDatabaseOwner:
		res, err = s.alterDatabaseOwner(ctx, txn, st)
	case *tree.CreateSchema:
		res, err = s.createSchema(ctx, txn, st)
	case *tree.DropSchema:
		res, err = s.dropSchemas(ctx, txn, b, st)
	case *tree.AlterSchema:
		res, err = s.alterSchema(ctx, txn, st)
	default:
		return nil, false, nil
	}
	return res, true, err
}

// refuseInBlock is PostgreSQL's error for the statements that cannot run
// in a transaction block (CREATE and DROP DATABASE).
func (s *session) refuseInBlock(stmt string) error {
	if s.txn != nil {
		return pgerror.Newf(pgerror.CodeActiveSQLTransaction, "%s cannot run inside a transaction block", stmt)
	}
	return nil
}

// ownerOrSuperuser checks that the session's role may change or drop an
// object owned by owner (42501 naming it otherwise).
func (s *session) ownerOrSuperuser(ctx context.Context, txn kvapi.Txn, owner uint32, kind, name string) error {
	c := s.newPrivChecker(ctx, txn)
	if ok, err := c.bypass(); ok || err != nil {
		return err
	}
	if c.owns(owner, 0) {
		return nil // the owner, or a member of it
	}
	return insufficient("must be owner of %s %s", kind, name)
}

// ownerID is the role ID spec names (the session's role if empty).
func (s *session) ownerID(ctx context.Context, txn kvapi.Txn, spec tree.RoleSpec) (uint32, error) {
	name := s.user
	if spec.Name != "" || spec.RoleSpecType != tree.RoleName {
		name = s.resolveRoleSpec(spec)
	}
	r, err := catalog.GetRole(ctx, txn, name)
	if err != nil {
		return 0, err
	}
	if r == nil {
		if spec.Name == "" && spec.RoleSpecType == tree.RoleName {
			// An insecure node's user that is no role: root owns it.
			return catalog.RootRoleID, nil
		}
		return 0, catalog.UndefinedRole(name)
	}
	return r.ID, nil
}

func (s *session) createDatabase(ctx context.Context, txn kvapi.Txn, st *tree.CreateDatabase) (*result, error) {
	if err := s.refuseInBlock("CREATE DATABASE"); err != nil {
		return nil, err
	}
	// Every database is UTF8 with the C collation; a template is a copy
	// of an empty database either way.
	switch strings.ToLower(st.Template) {
	case "", "template0", "template1":
	default:
		return nil, pgerror.Unsupported("CREATE DATABASE ... TEMPLATE %s is not supported: databases are created empty (template0 and template1 are accepted)", st.Template)
	}
	if e := strings.ToUpper(strings.ReplaceAll(st.Encoding, "-", "")); e != "" && e != "UTF8" {
		return nil, pgerror.Unsupported("encoding %q is not supported: every database is UTF8", st.Encoding)
	}
	for _, c := range []string{st.Collate, st.CType} {
		if c != "" && c != "C" && c != "POSIX" && !strings.EqualFold(c, "C.UTF-8") {
			return nil, pgerror.Unsupported("locale %q is not supported: every database uses the C locale", c)
		}
	}
	if st.ConnectionLimit != -1 && st.ConnectionLimit != 0 {
		return nil, pgerror.Unsupported("CREATE DATABASE ... CONNECTION LIMIT is not supported yet")
	}
	me, err := s.sessionRole(ctx, txn)
	if err != nil {
		return nil, err
	}
	if me != nil && !me.Superuser && !me.CreateDB {
		return nil, insufficient("permission denied to create database")
	}
	owner, err := s.ownerID(ctx, txn, st.Owner)
	if err != nil {
		return nil, err
	}
	res := &result{tag: "CREATE DATABASE"}
	name := string(st.Name)
	if old, err := catalog.GetDatabase(ctx, txn, name); err != nil {
		return nil, err
	} else if old != nil && st.IfNotExists {
		res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
			fmt.Sprintf("database %q already exists, skipping", name), ""})
		return res, nil
	}
	_, err = catalog.CreateDatabase(ctx, txn, name, owner)
	return res, err
}

func (s *session) dropDatabase(ctx context.Context, txn kvapi.Txn, b *builder, st *tree.DropDatabase) (*result, error) {
	if err := s.refuseInBlock("DROP DATABASE"); err != nil {
		return nil, err
	}
	res := &result{tag: "DROP DATABASE"}
	name := string(st.Name)
	db, err := catalog.GetDatabase(ctx, txn, name)
	if err != nil {
		return nil, err
	}
	if db == nil {
		if st.IfExists {
			res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
				fmt.Sprintf("database %q does not exist, skipping", name), ""})
			return res, nil
		}
		return nil, catalog.UndefinedDatabase(name)
	}
	if db.ID == s.names.db.ID {
		return nil, pgerror.New("55006", "cannot drop the currently open database")
	}
	if err := s.ownerOrSuperuser(ctx, txn, db.Owner, "database", name); err != nil {
		return nil, err
	}
	// Everything in it goes, without notices (PostgreSQL removes the
	// database's files): its relations, then its schemas.
	tables, err := catalog.ListTables(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range tables {
		if err := catalog.DropTable(ctx, txn, d); err != nil {
			return nil, err
		}
	}
	typs, err := catalog.ListTypes(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range typs {
		if err := catalog.DropType(ctx, txn, d); err != nil {
			return nil, err
		}
	}
	fns, err := catalog.ListFunctions(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range fns {
		d.Overloads = nil
		if err := catalog.PutFunction(ctx, txn, d); err != nil {
			return nil, err
		}
	}
	schemas, err := catalog.ListSchemas(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	for _, sc := range schemas {
		if err := catalog.DropNamespace(ctx, txn, sc); err != nil {
			return nil, err
		}
	}
	return res, catalog.DropNamespace(ctx, txn, db)
}

func (s *session) renameDatabase(ctx context.Context, txn kvapi.Txn, st *tree.RenameDatabase) (*result, error) {
	db, err := catalog.MustGetDatabase(ctx, txn, string(st.Name))
	if err != nil {
		return nil, err
	}
	if db.ID == s.names.db.ID {
		return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "current database cannot be renamed")
	}
	if err := s.ownerOrSuperuser(ctx, txn, db.Owner, "database", db.Name); err != nil {
		return nil, err
	}
	return &result{tag: "ALTER DATABASE"}, catalog.RenameNamespace(ctx, txn, db, string(st.NewName))
}

func (s *session) alterDatabaseOwner(ctx context.Context, txn kvapi.Txn, st *tree.AlterDatabaseOwner) (*result, error) {
	db, err := catalog.MustGetDatabase(ctx, txn, string(st.Name))
	if err != nil {
		return nil, err
	}
	if err := s.ownerOrSuperuser(ctx, txn, db.Owner, "database", db.Name); err != nil {
		return nil, err
	}
	if db.Owner, err = s.ownerID(ctx, txn, st.Owner); err != nil {
		return nil, err
	}
	return &result{tag: "ALTER DATABASE"}, catalog.PutNamespace(ctx, txn, db)
}

// schemaName checks a schema name of a statement: in the session's
// database, and not one of the built-in schemas' reserved prefix.
func (s *session) schemaName(p tree.ObjectNamePrefix) (string, error) {
	if p.ExplicitCatalog && string(p.CatalogName) != s.names.db.Name {
		return "", pgerror.Newf(pgerror.CodeFeatureNotSupported, "cross-database references are not implemented: %s.%s", p.CatalogName, p.SchemaName)
	}
	return string(p.SchemaName), nil
}

func (s *session) createSchema(ctx context.Context, txn kvapi.Txn, st *tree.CreateSchema) (*result, error) {
	res := &result{tag: "CREATE SCHEMA"}
	name, err := s.schemaName(st.Schema)
	if err != nil {
		return nil, err
	}
	if name == "" {
		// CREATE SCHEMA AUTHORIZATION role: named after the role.
		name = s.resolveRoleSpec(st.AuthRole)
	}
	if strings.HasPrefix(name, "pg_") || name == "information_schema" {
		return nil, pgerror.WithDetail(pgerror.Newf("42939", "unacceptable schema name %q", name),
			`The prefix "pg_" is reserved for system schemas.`)
	}
	db, err := catalog.MustGetDatabase(ctx, txn, s.names.db.Name)
	if err != nil {
		return nil, err
	}
	if err := s.newPrivChecker(ctx, txn).checkNamespace(db, catalog.PrivCreate); err != nil {
		return nil, err
	}
	owner, err := s.ownerID(ctx, txn, st.AuthRole)
	if err != nil {
		return nil, err
	}
	if old, err := catalog.GetSchema(ctx, txn, s.names.db.ID, name); err != nil {
		return nil, err
	} else if old != nil && st.IfNotExists {
		res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
			fmt.Sprintf("schema %q already exists, skipping", name), ""})
		return res, nil
	}
	if _, err := catalog.CreateSchema(ctx, txn, s.names.db.ID, name, owner); err != nil {
		return nil, err
	}
	return res, s.resetSearchPath(ctx, txn)
}

func (s *session) dropSchemas(ctx context.Context, txn kvapi.Txn, b *builder, st *tree.DropSchema) (*result, error) {
	res := &result{tag: "DROP SCHEMA"}
	cascade := st.DropBehavior == tree.DropCascade
	var drop []*catalog.Namespace
	var roots []*catalog.TableDescriptor
	var dropTypes []*catalog.TypeDescriptor
	var dropFuncs []*catalog.FunctionDescriptor
	for _, p := range st.Names {
		name, err := s.schemaName(p)
		if err != nil {
			return nil, err
		}
		if name == "pg_catalog" || name == "information_schema" {
			return nil, pgerror.Newf("2BP01", "cannot drop schema %s because it is required by the database system", name)
		}
		sc, err := catalog.GetSchema(ctx, txn, s.names.db.ID, name)
		if err != nil {
			return nil, err
		}
		if sc == nil {
			if st.IfExists {
				res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
					fmt.Sprintf("schema %q does not exist, skipping", name), ""})
				continue
			}
			return nil, catalog.UndefinedSchema(name)
		}
		if err := s.ownerOrSuperuser(ctx, txn, sc.Owner, "schema", name); err != nil {
			return nil, err
		}
		rels, err := catalog.ListTablesInSchema(ctx, txn, s.names.db.ID, name)
		if err != nil {
			return nil, err
		}
		drop = append(drop, sc)
		roots = append(roots, rels...)
		typs, err := catalog.ListTypes(ctx, txn, s.names.db.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range typs {
			if d.Schema == name {
				dropTypes = append(dropTypes, d)
			}
		}
		fns, err := catalog.ListFunctions(ctx, txn, s.names.db.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range fns {
			if d.Schema == name {
				dropFuncs = append(dropFuncs, d)
			}
		}
	}
	// What the schemas hold, and what depends on that, as PostgreSQL
	// finds and names it: refused without CASCADE (2BP01, listing it),
	// else dropped, named in the NOTICE.
	var scs []*schemaDrop
	for _, sc := range drop {
		sd := &schemaDrop{name: sc.Name}
		for _, d := range roots {
			if d.Schema == sc.Name {
				sd.rels = append(sd.rels, d)
			}
		}
		for _, d := range dropTypes {
			if d.Schema == sc.Name {
				sd.types = append(sd.types, d)
			}
		}
		for _, d := range dropFuncs {
			if d.Schema == sc.Name {
				sd.fns = append(sd.fns, d)
			}
		}
		scs = append(scs, sd)
	}
	sc := schemaChanger{b}
	plan, err := sc.planDrop(nil, scs, nil)
	if err != nil {
		return nil, err
	}
	// Refused with the dependents listed, or dropped with them named
	// (the roots' names are "schema x": PostgreSQL's wording).
	if err := sc.carryOut(res, plan, cascade); err != nil {
		return nil, err
	}
	// The schemas' types go after their relations (which may use them).
	for _, d := range dropTypes {
		if err := catalog.DropType(ctx, txn, d); err != nil {
			return nil, err
		}
	}
	for _, d := range dropFuncs {
		d.Overloads = nil
		if err := catalog.PutFunction(ctx, txn, d); err != nil {
			return nil, err
		}
	}
	for _, sc := range drop {
		if err := catalog.DropNamespace(ctx, txn, sc); err != nil {
			return nil, err
		}
	}
	return res, s.resetSearchPath(ctx, txn)
}

func (s *session) alterSchema(ctx context.Context, txn kvapi.Txn, st *tree.AlterSchema) (*result, error) {
	res := &result{tag: "ALTER SCHEMA"}
	name, err := s.schemaName(st.Schema)
	if err != nil {
		return nil, err
	}
	sc, err := catalog.GetSchema(ctx, txn, s.names.db.ID, name)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, catalog.UndefinedSchema(name)
	}
	if err := s.ownerOrSuperuser(ctx, txn, sc.Owner, "schema", name); err != nil {
		return nil, err
	}
	switch c := st.Cmd.(type) {
	case *tree.AlterSchemaRename:
		newName := string(c.NewName)
		if strings.HasPrefix(newName, "pg_") {
			return nil, pgerror.WithDetail(pgerror.Newf("42939", "unacceptable schema name %q", newName),
				`The prefix "pg_" is reserved for system schemas.`)
		}
		if err := catalog.RenameNamespace(ctx, txn, sc, newName); err != nil {
			return nil, err
		}
	case *tree.AlterSchemaOwner:
		if sc.Owner, err = s.ownerID(ctx, txn, c.Owner); err != nil {
			return nil, err
		}
		if err := catalog.PutNamespace(ctx, txn, sc); err != nil {
			return nil, err
		}
	default:
		return nil, pgerror.Unsupported("ALTER SCHEMA ... %s is not supported", tree.AsString(st.Cmd))
	}
	return res, s.resetSearchPath(ctx, txn)
}
