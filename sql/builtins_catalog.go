package sql

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
	"github.com/meridiandb/meridian/sql/vtable"
)

// The functions psql's \d and drivers call on catalog rows: type names,
// index and constraint definitions, default expressions.

var _ = addBuiltins(map[string][]tree.Overload{
	"pg_get_userbyid": {{
		Types: tree.ParamTypes{{Name: "role", Typ: types.Oid}}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			id := uint32(tree.MustBeDOid(a[0]).Oid)
			roles, err := e.catalog.roles(e)
			if err != nil {
				return nil, err
			}
			for _, r := range roles {
				if r.ID == id {
					return tree.NewDName(r.Name), nil
				}
			}
			return tree.NewDName(fmt.Sprintf("unknown (OID=%d)", id)), nil
		}),
	}},
	"pg_table_is_visible": {{
		Types: tree.ParamTypes{{Name: "table", Typ: types.Oid}}, ReturnType: tree.FixedReturnType(types.Bool),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		// Every table lives in public, which is on the search path.
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) { return tree.DBoolTrue, nil }),
	}},
	"pg_encoding_to_char": {{
		Types: tree.ParamTypes{{Name: "encoding", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			if tree.MustBeDInt(a[0]) == vtable.UTF8EncodingID {
				return tree.NewDName("UTF8"), nil
			}
			return tree.NewDName(""), nil
		}),
	}},
	// array_to_string is here for catalog queries, whose arrays (ACLs) are
	// always NULL: arrays are not a column type yet.
	"array_to_string": {{
		Types:      tree.ParamTypes{{Name: "arr", Typ: types.StringArray}, {Name: "sep", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			arr, ok := a[0].(*tree.DArray)
			if !ok {
				return nil, errors.AssertionFailedf("array_to_string of %T", a[0])
			}
			parts := make([]string, 0, arr.Len())
			for _, d := range arr.Array {
				if d != tree.DNull {
					parts = append(parts, string(tree.MustBeDString(d)))
				}
			}
			return tree.NewDString(strings.Join(parts, string(tree.MustBeDString(a[1])))), nil
		}),
	}},
	// Table sizes are not tracked per table yet: unknown, so NULL, which
	// psql's \dt+ prints as blank.
	// No table is partitioned: a relation's partition ancestors are
	// itself (PostgreSQL's is a set-returning function; psql's \d uses
	// it where one row is all it can give here).
	"pg_partition_ancestors": {{
		Types: tree.ParamTypes{{Name: "rel", Typ: types.RegClass}}, ReturnType: tree.FixedReturnType(types.RegClass),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) { return a[0], nil }),
	}},
	"pg_get_triggerdef": {
		constFn(tree.ParamTypes{{Name: "trigger", Typ: types.Oid}}, types.String, tree.DNull),
		constFn(tree.ParamTypes{{Name: "trigger", Typ: types.Oid}, {Name: "pretty", Typ: types.Bool}}, types.String, tree.DNull),
	},
	"pg_table_size": {constFn(tree.ParamTypes{{Name: "table", Typ: types.Oid}}, types.Int, tree.DNull)},
	"pg_size_pretty": {{
		Types: tree.ParamTypes{{Name: "size", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(sizePretty(int64(tree.MustBeDInt(a[0])))), nil
		}),
	}},
	// Comments are not stored: every object has none.
	"col_description": {catalogFn(tree.ParamTypes{{Name: "table", Typ: types.Oid}, {Name: "column", Typ: types.Int}}, types.String,
		func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			d, err := tableByOID(e, a[0])
			if err != nil || d == nil {
				return tree.DNull, err
			}
			n := int(tree.MustBeDInt(a[1]))
			if n < 1 || n > len(d.Columns) || d.Columns[n-1].Comment == "" {
				return tree.DNull, nil
			}
			return tree.NewDString(d.Columns[n-1].Comment), nil
		})},
	"obj_description": {
		catalogFn(tree.ParamTypes{{Name: "object", Typ: types.Oid}}, types.String, tableComment),
		catalogFn(tree.ParamTypes{{Name: "object", Typ: types.Oid}, {Name: "catalog", Typ: types.Name}}, types.String, tableComment),
	},
	"format_type": {formatTypeFn()},
	// Default expressions are stored as their SQL text, so the "node
	// tree" pg_get_expr decodes is that text already.
	"pg_get_expr": {
		catalogFn(tree.ParamTypes{{Name: "expr", Typ: types.String}, {Name: "rel", Typ: types.Oid}}, types.String, firstArg),
		catalogFn(tree.ParamTypes{{Name: "expr", Typ: types.String}, {Name: "rel", Typ: types.Oid}, {Name: "pretty", Typ: types.Bool}}, types.String, firstArg),
	},
	"pg_get_indexdef": {
		catalogFn(tree.ParamTypes{{Name: "index", Typ: types.Oid}}, types.String, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return indexDef(e, a[0], 0)
		}),
		catalogFn(tree.ParamTypes{{Name: "index", Typ: types.Oid}, {Name: "column", Typ: types.Int}, {Name: "pretty", Typ: types.Bool}}, types.String,
			func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return indexDef(e, a[0], int(tree.MustBeDInt(a[1])))
			}),
	},
	"pg_get_constraintdef": {
		catalogFn(tree.ParamTypes{{Name: "constraint", Typ: types.Oid}}, types.String, constraintDef),
		catalogFn(tree.ParamTypes{{Name: "constraint", Typ: types.Oid}, {Name: "pretty", Typ: types.Bool}}, types.String, constraintDef),
	},
	// array_upper of dimension 1 (arrays have one so far): the length,
	// NULL for an empty array.
	"array_upper": {{
		Types:      tree.ParamTypes{{Name: "arr", Typ: types.AnyArray}, {Name: "dim", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.Int4), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			arr, ok := a[0].(*tree.DArray)
			if !ok || tree.MustBeDInt(a[1]) != 1 || arr.Len() == 0 {
				return tree.DNull, nil
			}
			return tree.NewDInt(tree.DInt(arr.Len())), nil
		}),
	}},
	"string_agg": {{
		Types:      tree.ParamTypes{{Name: "value", Typ: types.String}, {Name: "delimiter", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.AggregateClass,
		Fn: aggKind("string_agg"),
	}},
	"current_user": {sessionFn(func(s *session) tree.Datum { return tree.NewDName(s.user) })},
	"session_user": {sessionFn(func(s *session) tree.Datum { return tree.NewDName(s.user) })},
	"current_role": {sessionFn(func(s *session) tree.Datum { return tree.NewDName(s.user) })},
	"pg_backend_pid": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Int4), Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			if e.sess == nil {
				return tree.DNull, nil
			}
			return tree.NewDInt(tree.DInt(e.sess.pid)), nil
		}),
	}},
	"current_setting": {
		catalogFn(tree.ParamTypes{{Name: "name", Typ: types.String}}, types.String, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return currentSetting(e, string(tree.MustBeDString(a[0])), false)
		}),
		catalogFn(tree.ParamTypes{{Name: "name", Typ: types.String}, {Name: "missing_ok", Typ: types.Bool}}, types.String, func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return currentSetting(e, string(tree.MustBeDString(a[0])), bool(tree.MustBeDBool(a[1])))
		}),
	},
	// Publications do not exist yet, so no relation can be in one.
	"pg_relation_is_publishable": {constFn(tree.ParamTypes{{Name: "rel", Typ: types.Oid}}, types.Bool, tree.DBoolFalse)},
	// Nor do extended statistics objects.
	"pg_get_statisticsobjdef_columns": {constFn(tree.ParamTypes{{Name: "stats", Typ: types.Oid}}, types.String, tree.DNull)},
})

func catalogFn(params tree.ParamTypes, ret *types.T, fn builtinFn) tree.Overload {
	return tree.Overload{Types: params, ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Stable, Class: tree.NormalClass, Fn: fn}
}

// constFn is a function whose answer Meridian knows without looking: NULL
// for what it does not store (comments, sizes), false for what it lacks.
func constFn(params tree.ParamTypes, ret *types.T, d tree.Datum) tree.Overload {
	return catalogFn(params, ret, func(*evalCtx, tree.Datums) (tree.Datum, error) { return d, nil })
}

func firstArg(e *evalCtx, a tree.Datums) (tree.Datum, error) { return a[0], nil }

// findIndex finds the table and index whose pg_class (or, with
// constraint, pg_constraint) OID is o.
func findIndex(e *evalCtx, o oid.Oid, constraint bool) (*catalog.TableDescriptor, *catalog.IndexDescriptor, error) {
	tables, err := e.catalog.tables(e)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range tables {
		for _, idx := range vtable.TableIndexes(d) {
			want := vtable.IndexOID(d, idx.ID)
			if constraint {
				want = vtable.ConstraintOID(d, idx.ID)
			}
			if want == o {
				return d, &idx, nil
			}
		}
	}
	return nil, nil, nil
}

func indexColumns(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor) string {
	names := make([]string, len(idx.Columns))
	for i, c := range idx.Columns {
		names[i] = tree.NameString(d.Columns[c].Name)
	}
	return strings.Join(names, ", ")
}

// indexDef is pg_get_indexdef: the CREATE INDEX statement, or with column
// > 0 that key column's name. NULL for an OID that is no index.
func indexDef(e *evalCtx, o tree.Datum, column int) (tree.Datum, error) {
	d, idx, err := findIndex(e, oid.Oid(tree.MustBeDOid(o).Oid), false)
	if err != nil || d == nil {
		return tree.DNull, err
	}
	if column > 0 {
		if column > len(idx.Columns) {
			return tree.NewDString(""), nil
		}
		return tree.NewDString(tree.NameString(d.Columns[idx.Columns[column-1]].Name)), nil
	}
	unique := ""
	if idx.Unique {
		unique = "UNIQUE "
	}
	return tree.NewDString(fmt.Sprintf("CREATE %sINDEX %s ON public.%s USING btree (%s)",
		unique, tree.NameString(idx.Name), tree.NameString(d.Name), indexColumns(d, idx))), nil
}

// constraintDef is pg_get_constraintdef. The only constraints in
// pg_constraint so far are primary keys.
func constraintDef(e *evalCtx, a tree.Datums) (tree.Datum, error) {
	o := oid.Oid(tree.MustBeDOid(a[0]).Oid)
	d, idx, err := findIndex(e, o, true)
	if err != nil {
		return nil, err
	}
	if d != nil {
		kind := "PRIMARY KEY"
		if idx.ID != catalog.PrimaryIndexID {
			kind = "UNIQUE"
		}
		return tree.NewDString(fmt.Sprintf("%s (%s)", kind, indexColumns(d, idx))), nil
	}
	pretty := len(a) > 1 && a[1] == tree.DBoolTrue
	tables, err := e.catalog.tables(e)
	if err != nil {
		return nil, err
	}
	for _, d := range tables {
		for k, ck := range d.Checks {
			if vtable.CheckOID(d, k) == o {
				if pretty {
					return tree.NewDString("CHECK (" + vtable.DisplayExpr(ck.Expr) + ")"), nil
				}
				return tree.NewDString(checkDef(ck)), nil
			}
		}
		for k := range d.ForeignKeys {
			if vtable.FKOID(d, k) != o {
				continue
			}
			fk := &d.ForeignKeys[k]
			parent := "?"
			for _, p := range tables {
				if p.ID == fk.RefTable {
					parent = tree.NameString(p.Name)
				}
			}
			return tree.NewDString(fkDef(fk, parent)), nil
		}
	}
	return tree.DNull, nil
}

// typeResolver resolves the type names the grammar does not know as
// keywords, such as pg_catalog.text or regclass, which catalog queries
// use in casts.
type typeResolver struct{}

var _ tree.TypeReferenceResolver = typeResolver{}

func (typeResolver) ResolveType(ctx context.Context, name *tree.UnresolvedObjectName) (*types.T, error) {
	if name.NumParts == 1 || (name.NumParts == 2 && name.Parts[1] == "pg_catalog") {
		if t, ok, _ := types.TypeForNonKeywordTypeName(strings.ToLower(name.Parts[0])); ok {
			return t, nil
		}
	}
	return nil, pgerror.Newf("42704", "type %q does not exist", name.String())
}

func (typeResolver) ResolveTypeByOID(ctx context.Context, o oid.Oid) (*types.T, error) {
	if t, ok := types.OidToType[o]; ok {
		return t, nil
	}
	return nil, pgerror.Newf("42704", "type with OID %d does not exist", o)
}

func init() {
	// A string literal may stand for an OID, as in psql's
	// pg_relation_is_publishable('16384'): PostgreSQL's unknown-typed
	// literals take whatever type the function wants.
	tree.StrValAvailAllParsable = append(tree.StrValAvailAllParsable, types.Oid, types.MakeArray(types.Oid))
}

// formatTypeFn is format_type(type, sem.Typmod): a NULL sem.Typmod means none
// (as -1), not a NULL result.
func formatTypeFn() tree.Overload {
	ov := catalogFn(tree.ParamTypes{{Name: "type", Typ: types.Oid}, {Name: "typmod", Typ: types.Int}}, types.String,
		func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			if a[0] == tree.DNull {
				return tree.DNull, nil
			}
			typmod := int32(-1)
			if a[1] != tree.DNull {
				typmod = int32(tree.MustBeDInt(a[1]))
			}
			return tree.NewDString(sem.FormatType(oid.Oid(tree.MustBeDOid(a[0]).Oid), typmod)), nil
		})
	ov.CalledOnNullInput = true
	return ov
}

// tableByOID finds the relation with pg_class OID o (nil if none).
func tableByOID(e *evalCtx, o tree.Datum) (*catalog.TableDescriptor, error) {
	tables, err := e.catalog.tables(e)
	if err != nil {
		return nil, err
	}
	want := tree.MustBeDOid(o).Oid
	for _, d := range tables {
		if vtable.RelOID(d) == want {
			return d, nil
		}
	}
	return nil, nil
}

// tableComment is obj_description of a relation: its COMMENT ON TABLE.
func tableComment(e *evalCtx, a tree.Datums) (tree.Datum, error) {
	if len(a) > 1 && string(tree.MustBeDString(a[1])) != "pg_class" {
		return tree.DNull, nil
	}
	d, err := tableByOID(e, a[0])
	if err != nil || d == nil || d.Comment == "" {
		return tree.DNull, err
	}
	return tree.NewDString(d.Comment), nil
}

// sessionFn is a function of the session, such as current_user.
func sessionFn(f func(*session) tree.Datum) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Name), Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			if e.sess == nil {
				return tree.DNull, nil
			}
			return f(e.sess), nil
		}),
	}
}

func currentSetting(e *evalCtx, name string, missingOK bool) (tree.Datum, error) {
	if e.sess == nil {
		return tree.DNull, nil
	}
	v, err := e.sess.setting(strings.ToLower(name))
	if err != nil {
		if missingOK {
			return tree.DNull, nil
		}
		return nil, err
	}
	return tree.NewDString(v), nil
}

// castRegclass is ::regclass: a relation's OID, which prints as the
// relation's name. A string is looked up by name (42P01 if there is no
// such relation); a number whose relation does not exist stays a number,
// as in PostgreSQL.
func castRegclass(e *evalCtx, d tree.Datum) (tree.Datum, error) {
	rels, err := e.catalog.relations(e)
	if err != nil {
		return nil, err
	}
	if s, ok := d.(*tree.DString); ok {
		// A string of digits is an OID, as in PostgreSQL ('16384'::regclass).
		if n, err := strconv.ParseUint(strings.TrimSpace(string(*s)), 10, 32); err == nil {
			d = tree.NewDOid(oid.Oid(n))
		}
	}
	switch x := d.(type) {
	case *tree.DString:
		// [schema.]name, each part folded to lower case unless quoted.
		parts := strings.Split(string(*x), ".")
		for i, p := range parts {
			if len(p) >= 2 && p[0] == '"' && p[len(p)-1] == '"' {
				parts[i] = p[1 : len(p)-1]
			} else {
				parts[i] = strings.ToLower(strings.TrimSpace(p))
			}
		}
		name := parts[len(parts)-1]
		if len(parts) > 2 || (len(parts) == 2 && parts[0] != "public" && parts[0] != "pg_catalog") {
			name = "" // no such relation
		}
		for _, r := range rels {
			if string(tree.MustBeDString(r[1])) == name {
				return tree.NewDOidWithTypeAndName(tree.MustBeDOid(r[0]).Oid, types.RegClass, name), nil
			}
		}
		return nil, pgerror.Newf(pgerror.CodeUndefinedTable, "relation %q does not exist", string(*x))
	case *tree.DOid, *tree.DInt:
		var o oid.Oid
		if do, ok := x.(*tree.DOid); ok {
			o = do.Oid
		} else {
			o = oid.Oid(tree.MustBeDInt(x))
		}
		for _, r := range rels {
			if tree.MustBeDOid(r[0]).Oid == o {
				return tree.NewDOidWithTypeAndName(o, types.RegClass, string(tree.MustBeDString(r[1]))), nil
			}
		}
		return tree.NewDOidWithType(o, types.RegClass), nil
	}
	return nil, unsupported("cannot cast %s to regclass", d.ResolvedType().SQLString())
}

// stmtCatalog reads the catalog once per statement for the functions that
// consult it row after row (::regclass, pg_get_indexdef): a statement
// sees one catalog, as in PostgreSQL. A nil one (outside a statement)
// holds nothing.
type stmtCatalog struct {
	tabs []*catalog.TableDescriptor
	rels []tree.Datums // pg_class's rows
	// seqs are the sequences nextval and friends named, by argument: a
	// SERIAL column's default names its sequence once per row.
	seqs map[string]*catalog.TableDescriptor
	// roleList are the roles, for pg_get_userbyid on every row of a
	// catalog query.
	roleList []*catalog.Role
}

// roles returns every role; without a transaction to read them in, the
// built-in root, which owns every object.
func (c *stmtCatalog) roles(e *evalCtx) ([]*catalog.Role, error) {
	if c == nil || e.txn == nil {
		return []*catalog.Role{{ID: catalog.RootRoleID, Name: catalog.RootRoleName}}, nil
	}
	if c.roleList == nil {
		roles, err := catalog.ListRoles(e.ctx, e.txn)
		if err != nil {
			return nil, err
		}
		c.roleList = roles
	}
	return c.roleList, nil
}

func (c *stmtCatalog) tables(e *evalCtx) ([]*catalog.TableDescriptor, error) {
	if c == nil || e.txn == nil {
		return nil, nil
	}
	if c.tabs == nil {
		tabs, err := catalog.ListTables(e.ctx, e.txn)
		if err != nil {
			return nil, err
		}
		c.tabs = append([]*catalog.TableDescriptor{}, tabs...)
	}
	return c.tabs, nil
}

func (c *stmtCatalog) relations(e *evalCtx) ([]tree.Datums, error) {
	if c == nil || e.txn == nil {
		return nil, nil
	}
	if c.rels == nil {
		pgClass, _ := vtable.Lookup("pg_catalog", "pg_class")
		rels, err := pgClass.Rows(e.ctx, e.txn)
		if err != nil {
			return nil, err
		}
		c.rels = append([]tree.Datums{}, rels...)
	}
	return c.rels, nil
}

// sizePretty formats a byte count as PostgreSQL's pg_size_pretty does:
// bytes below 10240, then the first unit in which the value, kept in
// half-units and rounded half away from zero, stays below 10240.
func sizePretty(n int64) string {
	const limit = 10 * 1024
	if n > -limit && n < limit {
		return fmt.Sprintf("%d bytes", n)
	}
	halves := n >> 9 // half-kilobytes
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		if halves > -(2*limit-1) && halves < 2*limit-1 {
			return fmt.Sprintf("%d %s", halfRounded(halves), unit)
		}
		halves >>= 10
	}
	return fmt.Sprintf("%d PB", halfRounded(halves))
}

func halfRounded(x int64) int64 {
	if x < 0 {
		return (x - 1) / 2
	}
	return (x + 1) / 2
}
