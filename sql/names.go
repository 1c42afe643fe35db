package sql

import (
	"context"
	"slices"
	"strings"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/lease"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// names resolves the relation names of a session's statements as
// PostgreSQL does: in the session's database, a qualified name in its
// schema, an unqualified one in the first schema of search_path that has
// it (pg_catalog's virtual tables are found by the caller, see virtual).
type names struct {
	db *catalog.Namespace
	// path are the schemas of search_path, "$user" replaced by the
	// session's user where a schema of that name exists and dropped
	// otherwise (computed when the session starts, sets search_path or
	// changes its database's schemas: another session's CREATE SCHEMA of
	// the user's name shows once one of those happens).
	path []string
	// setting is the search_path value path was computed from.
	setting string
	// written is the last relation resolved to be written, while a
	// statement with data-modifying WITH queries is planned (see
	// with_dml.go).
	written uint32
	// temp is the session's temporary schema, searched first for
	// relations once it exists (see temp_schema.go).
	temp *tempSchema
}

// newNames resolves the session's search_path value for user in db.
func newNames(ctx context.Context, txn kvapi.Txn, db *catalog.Namespace, searchPath, user string) (*names, error) {
	n := &names{db: db, setting: searchPath}
	for _, s := range splitSearchPath(searchPath) {
		if s == "$user" {
			sc, err := catalog.GetSchema(ctx, txn, db.ID, user)
			if err != nil {
				return nil, err
			}
			if sc == nil {
				continue
			}
			s = user
		}
		if s == "pg_catalog" || s == "information_schema" {
			continue
		}
		n.path = append(n.path, s)
	}
	return n, nil
}

// splitSearchPath splits a search_path value into schema names: each
// folded to lower case unless double-quoted ("$user" stays as it is).
func splitSearchPath(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
			f = f[1 : len(f)-1]
		} else {
			f = strings.ToLower(f)
		}
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// checkCatalog refuses a name qualified by another database: PostgreSQL
// has no cross-database references.
func (n *names) checkCatalog(tn *tree.TableName) error {
	if n == nil {
		// A builder of a CHECK or DEFAULT expression, which names no
		// relation.
		return errors.AssertionFailedf("relation %s named where no relation can be", tn.String())
	}
	if tn.ExplicitCatalog && string(tn.CatalogName) != n.db.Name {
		return pgerror.Newf(pgerror.CodeFeatureNotSupported, "cross-database references are not implemented: %s", tn.String())
	}
	return nil
}

// relationPath are the schemas an unqualified relation name is looked up
// in, in order: the session's temporary schema, if it has one, then
// search_path's.
func (n *names) relationPath() []string {
	if n.temp != nil && n.temp.name != "" && n.temp.db == n.db.ID {
		return append([]string{n.temp.name}, n.path...)
	}
	return n.path
}

// candidates are the keys tn may name, in the order they are tried.
func (n *names) candidates(tn *tree.TableName) []catalog.RelKey {
	name := string(tn.ObjectName)
	temp := ""
	if n.temp != nil && n.temp.db == n.db.ID {
		temp = n.temp.name
	}
	if tn.ExplicitSchema {
		schema := string(tn.SchemaName)
		if schema == "pg_temp" {
			schema = temp
		}
		return []catalog.RelKey{{DB: n.db.ID, Schema: schema, Name: name}}
	}
	path := n.relationPath()
	out := make([]catalog.RelKey, len(path))
	for i, s := range path {
		out[i] = catalog.RelKey{DB: n.db.ID, Schema: s, Name: name}
	}
	return out
}

// find returns the relation tn names, read in txn (as a schema change
// must); nil if there is none.
func (n *names) find(ctx context.Context, txn kvapi.Txn, tn *tree.TableName) (*catalog.TableDescriptor, error) {
	return n.findWith(ctx, txn, tn, func(ctx context.Context, txn kvapi.Txn, k catalog.RelKey) (*catalog.TableDescriptor, error) {
		return catalog.GetTable(ctx, txn, k)
	})
}

// findLeased is find served from the node's descriptor leases where txn
// has them (a query's reads).
func (n *names) findLeased(ctx context.Context, txn kvapi.Txn, tn *tree.TableName) (*catalog.TableDescriptor, error) {
	return n.findWith(ctx, txn, tn, lease.Table)
}

func (n *names) findWith(ctx context.Context, txn kvapi.Txn, tn *tree.TableName,
	get func(context.Context, kvapi.Txn, catalog.RelKey) (*catalog.TableDescriptor, error)) (*catalog.TableDescriptor, error) {
	if err := n.checkCatalog(tn); err != nil {
		return nil, err
	}
	for _, k := range n.candidates(tn) {
		d, err := get(ctx, txn, k)
		if err != nil || d != nil {
			return d, err
		}
	}
	return nil, nil
}

// mustFind is find with PostgreSQL's error for a name that names nothing.
func (n *names) mustFind(ctx context.Context, txn kvapi.Txn, tn *tree.TableName) (*catalog.TableDescriptor, error) {
	d, err := n.find(ctx, txn, tn)
	if err == nil && d == nil {
		err = undefinedRelation(tn)
	}
	return d, err
}

// mustFindLeased is findLeased with PostgreSQL's error for a name that
// names nothing.
func (n *names) mustFindLeased(ctx context.Context, txn kvapi.Txn, tn *tree.TableName) (*catalog.TableDescriptor, error) {
	d, err := n.findLeased(ctx, txn, tn)
	if err == nil && d == nil {
		err = undefinedRelation(tn)
	}
	return d, err
}

// undefinedRelation is 42P01 naming tn as the statement wrote it.
func undefinedRelation(tn *tree.TableName) error {
	name := string(tn.ObjectName)
	if tn.ExplicitSchema {
		name = string(tn.SchemaName) + "." + name
	}
	return catalog.UndefinedTable(name)
}

// createKey is the key of a relation tn names that is to be created: in
// its schema, which must exist, or in the first schema of search_path.
func (n *names) createKey(ctx context.Context, txn kvapi.Txn, tn *tree.TableName) (catalog.RelKey, error) {
	if err := n.checkCatalog(tn); err != nil {
		return catalog.RelKey{}, err
	}
	k := catalog.RelKey{DB: n.db.ID, Name: string(tn.ObjectName)}
	if !tn.ExplicitSchema {
		for _, s := range n.path {
			sc, err := catalog.GetSchema(ctx, txn, n.db.ID, s)
			if err != nil {
				return k, err
			}
			if sc != nil {
				k.Schema = s
				return k, nil
			}
		}
		return k, pgerror.New("3F000", "no schema has been selected to create in")
	}
	k.Schema = string(tn.SchemaName)
	if k.Schema == "pg_catalog" || k.Schema == "information_schema" {
		return k, pgerror.Newf("42501", "permission denied to create \"%s.%s\"", k.Schema, k.Name)
	}
	sc, err := catalog.GetSchema(ctx, txn, n.db.ID, k.Schema)
	if err == nil && sc == nil {
		err = catalog.UndefinedSchema(k.Schema)
	}
	return k, err
}

// parseRelationName parses a relation name given as text ('s.t'::regclass,
// nextval('s.seq')): dot-separated parts, each folded to lower case unless
// double-quoted.
func parseRelationName(s string) (*tree.TableName, error) {
	var parts []string
	for rest := strings.TrimSpace(s); ; {
		var part string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, pgerror.New("42602", "invalid name syntax")
			}
			part, rest = rest[1:end+1], rest[end+2:]
		} else {
			i := strings.IndexByte(rest, '.')
			if i < 0 {
				i = len(rest)
			}
			part, rest = strings.ToLower(strings.TrimSpace(rest[:i])), rest[i:]
		}
		if part == "" {
			return nil, pgerror.New("42602", "invalid name syntax")
		}
		parts = append(parts, part)
		if rest == "" {
			break
		}
		if rest[0] != '.' {
			return nil, pgerror.New("42602", "invalid name syntax")
		}
		rest = rest[1:]
	}
	if len(parts) > 3 {
		return nil, pgerror.Newf(pgerror.CodeSyntaxError, "improper relation name (too many dotted names): %s", s)
	}
	var prefix tree.ObjectNamePrefix
	if len(parts) >= 2 {
		prefix.SchemaName, prefix.ExplicitSchema = tree.Name(parts[len(parts)-2]), true
	}
	if len(parts) == 3 {
		prefix.CatalogName, prefix.ExplicitCatalog = tree.Name(parts[0]), true
	}
	tn := tree.MakeTableNameFromPrefix(prefix, tree.Name(parts[len(parts)-1]))
	return &tn, nil
}

// newRelation resolves where the relation tn names is to be created (its
// schema must exist) and returns the relation already there under that
// name, if any.
func (b *builder) newRelation(tn *tree.TableName) (catalog.RelKey, *catalog.TableDescriptor, error) {
	k, err := b.names.createKey(b.ctx, b.txn, tn)
	if err != nil {
		return k, nil, err
	}
	if err := b.priv.checkSchema(k.DB, k.Schema, catalog.PrivCreate, 0); err != nil {
		return k, nil, err
	}
	existing, err := catalog.GetTable(b.ctx, b.txn, k)
	if err != nil || existing != nil {
		return k, existing, err
	}
	// A relation's row type takes its name among the types.
	if typ, err := catalog.GetType(b.ctx, b.txn, k); err != nil || typ != nil {
		if err == nil {
			err = pgerror.WithHint(pgerror.Newf("42710", "type %q already exists", k.Name),
				"A relation has an associated type of the same name, so you must use a name that doesn't conflict with any existing type.")
		}
		return k, nil, err
	}
	return k, nil, nil
}

// newDescriptor is an empty descriptor of a relation to be created at k.
func newDescriptor(k catalog.RelKey) *catalog.TableDescriptor {
	return &catalog.TableDescriptor{Name: k.Name, ParentID: k.DB, Schema: k.Schema}
}

// namesOf resolves relation names for an expression: the session's; nil
// outside a session (no relation can be named there).
func namesOf(e *sem.EvalCtx) *names {
	if sessionOf(e) == nil {
		return nil
	}
	return sessionOf(e).names
}

// display is how PostgreSQL names a relation in a message: qualified by
// its schema unless that schema is on the search path.
func (n *names) display(d *catalog.TableDescriptor) string {
	if slices.Contains(n.path, d.Schema) {
		return d.Name
	}
	return d.Schema + "." + d.Name
}
