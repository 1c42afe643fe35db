package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
	"github.com/meridiandb/meridian/sql/vtable"
)

// The functions psql's \d and drivers call on catalog rows: type names,
// index and constraint definitions, default expressions.

var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"pg_get_userbyid": {{
		Types: tree.ParamTypes{{Name: "role", Typ: types.Oid}}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: sem.BuiltinFn(func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			id := uint32(tree.MustBeDOid(a[0]).Oid)
			roles, err := catalogOf(e).roles(e)
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
	"pg_type_is_visible": {{
		Types: tree.ParamTypes{{Name: "type", Typ: types.Oid}}, ReturnType: tree.FixedReturnType(types.Bool),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: sem.BuiltinFn(func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			d, err := userType(e, oid.Oid(tree.MustBeDOid(a[0]).Oid))
			if err != nil || d == nil {
				return tree.DBoolTrue, err
			}
			n := namesOf(e)
			return tree.MakeDBool(tree.DBool(n != nil && slices.Contains(n.path, d.Schema))), nil
		}),
	}},
	"pg_table_is_visible": {{
		Types: tree.ParamTypes{{Name: "table", Typ: types.Oid}}, ReturnType: tree.FixedReturnType(types.Bool),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: sem.BuiltinFn(func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tableVisible(e, tree.MustBeDOid(a[0]).Oid)
		}),
	}},
	"pg_encoding_to_char": {{
		Types: tree.ParamTypes{{Name: "encoding", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.Name),
		Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: sem.BuiltinFn(func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			if tree.MustBeDInt(a[0]) == vtable.UTF8EncodingID {
				return tree.NewDName("UTF8"), nil
			}
			return tree.NewDName(""), nil
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
		Fn: sem.BuiltinFn(func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) { return a[0], nil }),
	}},
	"pg_get_triggerdef": {
		constFn(tree.ParamTypes{{Name: "trigger", Typ: types.Oid}}, types.String, tree.DNull),
		constFn(tree.ParamTypes{{Name: "trigger", Typ: types.Oid}, {Name: "pretty", Typ: types.Bool}}, types.String, tree.DNull),
	},
	"pg_table_size": {constFn(tree.ParamTypes{{Name: "table", Typ: types.Oid}}, types.Int, tree.DNull)},
	"pg_size_pretty": {{
		Types: tree.ParamTypes{{Name: "size", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: sem.BuiltinFn(func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(sizePretty(int64(tree.MustBeDInt(a[0])))), nil
		}),
	}},
	// Comments are not stored: every object has none.
	"col_description": {catalogFn(tree.ParamTypes{{Name: "table", Typ: types.Oid}, {Name: "column", Typ: types.Int}}, types.String,
		func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
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
		catalogFn(tree.ParamTypes{{Name: "expr", Typ: types.String}, {Name: "rel", Typ: types.Oid}, {Name: "pretty", Typ: types.Bool}}, types.String,
			func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
				if a[0] == tree.DNull || a[2] != tree.DBoolTrue {
					return a[0], nil
				}
				return tree.NewDString(prettyExpr(string(tree.MustBeDString(a[0])))), nil
			}),
	},
	"pg_get_indexdef": {
		catalogFn(tree.ParamTypes{{Name: "index", Typ: types.Oid}}, types.String, func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			return indexDef(e, a[0], 0)
		}),
		catalogFn(tree.ParamTypes{{Name: "index", Typ: types.Oid}, {Name: "column", Typ: types.Int}, {Name: "pretty", Typ: types.Bool}}, types.String,
			func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
				return indexDef(e, a[0], int(tree.MustBeDInt(a[1])))
			}),
	},
	"pg_get_constraintdef": {
		catalogFn(tree.ParamTypes{{Name: "constraint", Typ: types.Oid}}, types.String, constraintDef),
		catalogFn(tree.ParamTypes{{Name: "constraint", Typ: types.Oid}, {Name: "pretty", Typ: types.Bool}}, types.String, constraintDef),
	},
	"string_agg": {{
		Types:      tree.ParamTypes{{Name: "value", Typ: types.String}, {Name: "delimiter", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.AggregateClass,
		Fn: sem.AggKind("string_agg"),
	}},
	// Publications do not exist yet, so no relation can be in one.
	"pg_relation_is_publishable": {constFn(tree.ParamTypes{{Name: "rel", Typ: types.Oid}}, types.Bool, tree.DBoolFalse)},
	// Nor do extended statistics objects.
	"pg_get_statisticsobjdef_columns": {constFn(tree.ParamTypes{{Name: "stats", Typ: types.Oid}}, types.String, tree.DNull)},
})

func catalogFn(params tree.ParamTypes, ret *types.T, fn sem.BuiltinFn) tree.Overload {
	return tree.Overload{Types: params, ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Stable, Class: tree.NormalClass, Fn: fn}
}

// constFn is a function whose answer Meridian knows without looking: NULL
// for what it does not store (comments, sizes), false for what it lacks.
func constFn(params tree.ParamTypes, ret *types.T, d tree.Datum) tree.Overload {
	return catalogFn(params, ret, func(*sem.EvalCtx, tree.Datums) (tree.Datum, error) { return d, nil })
}

func firstArg(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) { return a[0], nil }

// findIndex finds the table and index whose pg_class (or, with
// constraint, pg_constraint) OID is o.
func findIndex(e *sem.EvalCtx, o oid.Oid, constraint bool) (*catalog.TableDescriptor, *catalog.IndexDescriptor, error) {
	tables, err := catalogOf(e).tables(e)
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
		names[i] = indexColumnSQL(d, c)
	}
	return strings.Join(names, ", ")
}

// indexDef is pg_get_indexdef: the CREATE INDEX statement, or with column
// > 0 that key column's name. NULL for an OID that is no index.
func indexDef(e *sem.EvalCtx, o tree.Datum, column int) (tree.Datum, error) {
	d, idx, err := findIndex(e, oid.Oid(tree.MustBeDOid(o).Oid), false)
	if err != nil || d == nil {
		return tree.DNull, err
	}
	if column > 0 {
		if column > len(idx.Columns) {
			return tree.NewDString(""), nil
		}
		return tree.NewDString(indexColumnSQL(d, idx.Columns[column-1])), nil
	}
	return tree.NewDString(indexDefSQL(d, idx)), nil
}

func init() {
	vtable.IndexDef = func(d *catalog.TableDescriptor, idx catalog.IndexDescriptor) string { return indexDefSQL(d, &idx) }
}

// indexDefSQL is the CREATE INDEX statement of d's index idx, as
// pg_get_indexdef and pg_indexes show it.
func indexDefSQL(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor) string {
	unique := ""
	if idx.Unique {
		unique = "UNIQUE "
	}
	cols := indexColumns(d, idx)
	if idx.OpClass != "" {
		cols += " " + idx.OpClass // a default class is not shown
	}
	def := fmt.Sprintf("CREATE %sINDEX %s ON %s.%s USING %s (%s)",
		unique, tree.NameString(idx.Name), tree.NameString(d.Schema), tree.NameString(d.Name), idx.AccessMethod(), cols)
	if len(idx.Include) > 0 {
		names := make([]string, len(idx.Include))
		for i, c := range idx.Include {
			names[i] = tree.NameString(d.Columns[c].Name)
		}
		def += " INCLUDE (" + strings.Join(names, ", ") + ")"
	}
	if idx.Predicate != "" {
		def += " WHERE " + vtable.DisplayPredicate(idx.Predicate)
	}
	return def
}

// constraintDef is pg_get_constraintdef. The only constraints in
// pg_constraint so far are primary keys.
func constraintDef(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
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
	tables, err := catalogOf(e).tables(e)
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
					// As PostgreSQL's generate_relation_name: qualified
					// when its schema is not on the search path.
					if n := namesOf(e); n != nil && !slices.Contains(n.path, p.Schema) {
						parent = tree.NameString(p.Schema) + "." + parent
					}
				}
			}
			return tree.NewDString(fkDef(fk, parent)), nil
		}
	}
	return tree.DNull, nil
}

// typeResolver resolves the type names the grammar does not know as
// keywords, such as pg_catalog.text or regclass, which catalog queries
// use in casts, and the user-defined types (enums) of the builder's
// database, through search_path as PostgreSQL does. Without a builder
// (or one that resolves no names) it knows only the built-in types.
type typeResolver struct{ b *builder }

var _ tree.TypeReferenceResolver = typeResolver{}

func (r typeResolver) ResolveType(ctx context.Context, name *tree.UnresolvedObjectName) (*types.T, error) {
	if name.NumParts == 1 || (name.NumParts == 2 && name.Parts[1] == "pg_catalog") {
		if t, ok, _ := types.TypeForNonKeywordTypeName(strings.ToLower(name.Parts[0])); ok {
			return t, nil
		}
	}
	if r.b != nil && r.b.names != nil {
		d, err := r.b.findType(name)
		if err != nil || d != nil {
			if d != nil {
				return d.T(), nil
			}
			return nil, err
		}
		if name.NumParts == 2 && name.Parts[1] != "pg_catalog" {
			if sc, err := catalog.GetSchema(ctx, r.b.txn, r.b.names.db.ID, name.Parts[1]); err != nil || sc == nil {
				if err == nil {
					err = catalog.UndefinedSchema(name.Parts[1])
				}
				return nil, err
			}
		}
	}
	return nil, pgerror.Newf("42704", "type %q does not exist", name.String())
}

func (r typeResolver) ResolveTypeByOID(ctx context.Context, o oid.Oid) (*types.T, error) {
	if t, ok := types.OidToType[o]; ok {
		return t, nil
	}
	if r.b != nil && o > catalog.TypeOIDBase {
		d, err := catalog.GetTypeByID(ctx, r.b.txn, catalog.TypeIDOfOID(o))
		if err != nil {
			return nil, err
		}
		if d != nil {
			return d.T(), nil
		}
	}
	return nil, pgerror.Newf("42704", "type with OID %d does not exist", o)
}

func init() {
	// A string literal may stand for an OID, as in psql's
	// pg_relation_is_publishable('16384'): PostgreSQL's unknown-typed
	// literals take whatever type the function wants.
	tree.StrValAvailAllParsable = append(tree.StrValAvailAllParsable, types.Oid, types.MakeArray(types.Oid))
}

// userType is the user-defined type of OID o, or of the array type o;
// nil if o is neither.
func userType(e *sem.EvalCtx, o oid.Oid) (*catalog.TypeDescriptor, error) {
	if o <= catalog.TypeOIDBase || e.Txn == nil {
		return nil, nil
	}
	id := catalog.TypeIDOfOID(o)
	if id >= catalog.ArrayOIDOffset {
		id -= catalog.ArrayOIDOffset
	}
	return catalog.GetTypeByID(e.Ctx, e.Txn, id)
}

// userTypeName is format_type of a user-defined type: qualified by its
// schema unless that schema is on the search path, as PostgreSQL's.
func userTypeName(e *sem.EvalCtx, o oid.Oid) (string, bool, error) {
	d, err := userType(e, o)
	if err != nil || d == nil {
		return "", false, err
	}
	name := tree.NameString(d.Name)
	if n := namesOf(e); n == nil || !slices.Contains(n.path, d.Schema) {
		name = tree.NameString(d.Schema) + "." + name
	}
	if o >= catalog.TypeOIDBase+catalog.ArrayOIDOffset {
		name += "[]"
	}
	return name, true, nil
}

// formatTypeFn is format_type(type, sem.Typmod): a NULL sem.Typmod means none
// (as -1), not a NULL result.
func formatTypeFn() tree.Overload {
	ov := catalogFn(tree.ParamTypes{{Name: "type", Typ: types.Oid}, {Name: "typmod", Typ: types.Int}}, types.String,
		func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			if a[0] == tree.DNull {
				return tree.DNull, nil
			}
			typmod := int32(-1)
			if a[1] != tree.DNull {
				typmod = int32(tree.MustBeDInt(a[1]))
			}
			o := oid.Oid(tree.MustBeDOid(a[0]).Oid)
			if name, ok, err := userTypeName(e, o); err != nil || ok {
				if ok {
					return tree.NewDString(name), nil
				}
				return nil, err
			}
			return tree.NewDString(sem.FormatType(o, typmod)), nil
		})
	ov.CalledOnNullInput = true
	return ov
}

// tableByOID finds the relation with pg_class OID o (nil if none).
func tableByOID(e *sem.EvalCtx, o tree.Datum) (*catalog.TableDescriptor, error) {
	tables, err := catalogOf(e).tables(e)
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
func tableComment(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
	if len(a) > 1 && string(tree.MustBeDString(a[1])) != "pg_class" {
		return tree.DNull, nil
	}
	d, err := tableByOID(e, a[0])
	if err != nil || d == nil || d.Comment == "" {
		return tree.DNull, err
	}
	return tree.NewDString(d.Comment), nil
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

// tableVisible is pg_table_is_visible: a relation is visible when its
// schema is on the search path (after the session's temporary schema)
// and no schema before it there has a relation of the same name (an index
// goes with its table).
func tableVisible(e *sem.EvalCtx, o oid.Oid) (tree.Datum, error) {
	if o < vtable.RelOIDBase {
		return tree.DBoolTrue, nil // pg_catalog's
	}
	id := uint32(o - vtable.RelOIDBase)
	if id >= 1<<24 {
		id = (id - 1<<24) >> 8 // an index: its table's
	}
	tabs, err := catalogOf(e).tables(e)
	if err != nil {
		return nil, err
	}
	var d *catalog.TableDescriptor
	for _, t := range tabs {
		if t.ID == id {
			d = t
		}
	}
	if d == nil {
		return tree.DNull, nil
	}
	for _, s := range namesOf(e).relationPath() {
		for _, t := range tabs {
			if t.Schema == s && t.Name == d.Name {
				return tree.MakeDBool(t.ID == d.ID), nil
			}
		}
	}
	return tree.DBoolFalse, nil
}

// prettyExpr is pg_get_expr's pretty form of a stored expression's text:
// without the parentheses around the whole of it (PostgreSQL's pretty
// printing drops every unneeded one; the stored texts here have those
// around the whole expression, as a generated column's).
func prettyExpr(s string) string {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return s
	}
	depth, inString := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			inString = !inString
		case inString:
		case s[i] == '(':
			depth++
		case s[i] == ')':
			depth--
			if depth == 0 && i != len(s)-1 {
				return s // the first parenthesis closes before the end
			}
		}
	}
	return s[1 : len(s)-1]
}
