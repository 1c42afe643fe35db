package vtable

import (
	"context"
	"sort"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sem"
)

// pg_depend and pg_rewrite: the dependencies between the objects of the
// session's database that Meridian tracks, in PostgreSQL 15's rows
// (classid, objid, objsubid) → (refclassid, refobjid, refobjsubid)
// with its deptype: n (normal: dropping the referenced object needs
// CASCADE), a (auto: goes with it silently), i (internal: part of it).
// The OIDs are those the other catalogs give the objects, so joins
// with pg_class, pg_constraint, pg_attrdef, pg_type, pg_proc, pg_rewrite
// and pg_namespace work. Dependencies on pinned objects (built-in types,
// pg_catalog) are not recorded, as in PostgreSQL. Not listed: table row
// types and their array types and TOAST tables (Meridian has none), the
// triggers that enforce foreign keys in PostgreSQL (Meridian's need
// none), and what a view's query or a function's body calls (functions,
// types of casts), which Meridian does not record.

// The catalogs' own OIDs, pg_depend's classid and refclassid.
const (
	pgTypeOID       = 1247
	pgProcOID       = 1255
	pgAttrDefOID    = 2604
	pgConstraintOID = 2606
	pgDependOID     = 2608
	pgRewriteOID    = 2618
	pgNamespaceOID  = 2615
)

// RewriteOID is the pg_rewrite OID of view d's _RETURN rule: PostgreSQL
// stores a view's query as that rule, which the view's dependencies
// hang from.
func RewriteOID(d *catalog.TableDescriptor) oid.Oid {
	return oid.Oid(RelOIDBase + 1<<28 + d.ID)
}

func init() {
	pgCatalog["pg_depend"] = &Table{
		Cols: vcols("classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 deptype:char"),
		Rows: dependRows,
	}
	pgCatalog["pg_rewrite"] = &Table{
		Cols: vcols("oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool ev_qual:text ev_action:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			tables, err := env.Tables(ctx)
			if err != nil {
				return nil, err
			}
			var out []tree.Datums
			for _, d := range tables {
				if d.ViewQuery == "" {
					continue
				}
				// ev_qual and ev_action are node trees in PostgreSQL,
				// which no client reads; the query's text stands in.
				out = append(out, tree.Datums{tree.NewDOid(RewriteOID(d)), tree.NewDName("_RETURN"), tree.NewDOid(RelOID(d)),
					tree.NewDString("1"), tree.NewDString("O"), tree.DBoolTrue, tree.NewDString("<>"), tree.NewDString(d.ViewQuery)})
			}
			return out, nil
		},
	}
}

type depender struct {
	out []tree.Datums
}

func (dp *depender) add(classid, objid oid.Oid, objsubid int, refclassid, refobjid oid.Oid, refobjsubid int, deptype string) {
	dp.out = append(dp.out, tree.Datums{tree.NewDOid(classid), tree.NewDOid(objid), tree.NewDInt(tree.DInt(objsubid)),
		tree.NewDOid(refclassid), tree.NewDOid(refobjid), tree.NewDInt(tree.DInt(refobjsubid)), tree.NewDString(deptype)})
}

func dependRows(ctx context.Context, env *Env) ([]tree.Datums, error) {
	tables, err := env.Tables(ctx)
	if err != nil {
		return nil, err
	}
	enums, err := env.Types(ctx)
	if err != nil {
		return nil, err
	}
	fns, err := catalog.ListFunctions(ctx, env.Txn, env.DB.ID)
	if err != nil {
		return nil, err
	}
	byID := map[uint32]*catalog.TableDescriptor{}
	for _, d := range tables {
		byID[d.ID] = d
	}
	var dp depender
	for _, d := range tables {
		rel := RelOID(d)
		dp.add(pgClassOID, rel, 0, pgNamespaceOID, env.SchemaOID(d.Schema), 0, "n")
		switch {
		case d.Sequence != nil:
			dp.sequenceOwner(d, byID)
		case d.ViewQuery != "":
			dp.view(d, byID)
		default:
			if err := dp.table(d, byID, tables); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range enums {
		dp.add(pgTypeOID, catalog.TypeOID(t.ID), 0, pgNamespaceOID, env.SchemaOID(t.Schema), 0, "n")
		dp.add(pgTypeOID, catalog.ArrayTypeOID(t.ID), 0, pgTypeOID, catalog.TypeOID(t.ID), 0, "i")
	}
	for _, f := range fns {
		for i := range f.Overloads {
			ov := &f.Overloads[i]
			dp.add(pgProcOID, ov.OID(), 0, pgNamespaceOID, env.SchemaOID(f.Schema), 0, "n")
			// The user-defined types of its arguments and result, each
			// once (PostgreSQL drops duplicates).
			seen := map[oid.Oid]bool{}
			texts := []string{ov.Returns}
			for _, p := range append(append([]catalog.FunctionParam{}, ov.Params...), ov.Columns...) {
				texts = append(texts, p.Type)
			}
			for _, s := range texts {
				if o := userTypeOID(s, f.Schema, enums); o != 0 && !seen[o] {
					seen[o] = true
					dp.add(pgProcOID, ov.OID(), 0, pgTypeOID, o, 0, "n")
				}
			}
		}
	}
	return dp.out, nil
}

// sequenceOwner is a sequence's dependency on the column that owns it:
// auto for SERIAL and OWNED BY, internal for an identity column's.
func (dp *depender) sequenceOwner(d *catalog.TableDescriptor, byID map[uint32]*catalog.TableDescriptor) {
	if d.Sequence.OwnedByTable == 0 {
		return
	}
	owner := byID[d.Sequence.OwnedByTable]
	if owner == nil {
		return
	}
	i := owner.ColumnIndex(d.Sequence.OwnedByColumn)
	if i < 0 {
		return
	}
	kind := "a"
	if owner.Columns[i].Identity != "" {
		kind = "i"
	}
	dp.add(pgClassOID, RelOID(d), 0, pgClassOID, RelOID(owner), i+1, kind)
}

// view is a view's rule: internal to the view, and depending on the
// view itself (PostgreSQL 15's rule query keeps the view's OLD and NEW
// entries) and on each column of another relation its query uses, or
// on the relation when it uses none (SELECT count(*) FROM t).
func (dp *depender) view(d *catalog.TableDescriptor, byID map[uint32]*catalog.TableDescriptor) {
	rule := RewriteOID(d)
	dp.add(pgRewriteOID, rule, 0, pgClassOID, RelOID(d), 0, "i")
	dp.add(pgRewriteOID, rule, 0, pgClassOID, RelOID(d), 0, "n")
	for _, id := range d.DependsOn {
		ref := byID[id]
		if ref == nil {
			continue
		}
		any := false
		for _, c := range d.DependsOnColumns {
			if c.Table != id {
				continue
			}
			for i := range ref.Columns {
				if ref.Columns[i].ID == c.Column {
					dp.add(pgRewriteOID, rule, 0, pgClassOID, RelOID(ref), i+1, "n")
					any = true
				}
			}
		}
		if !any {
			dp.add(pgRewriteOID, rule, 0, pgClassOID, RelOID(ref), 0, "n")
		}
	}
}

// table is a table's columns' dependencies (on enum types; defaults on
// their columns and sequences), its indexes' and its constraints'.
func (dp *depender) table(d *catalog.TableDescriptor, byID map[uint32]*catalog.TableDescriptor, all []*catalog.TableDescriptor) error {
	rel := RelOID(d)
	// attnums are the attribute numbers of columns named in SQL text.
	attnums := func(expr string) ([]int, error) {
		e, err := sem.ParseExpr(expr)
		if err != nil {
			return nil, err
		}
		var out []int
		for _, n := range sem.ExprColumns(e) {
			if i := d.ColumnIndex(n); i >= 0 {
				out = append(out, i+1)
			}
		}
		sort.Ints(out)
		return out, nil
	}
	for i := range d.Columns {
		c := &d.Columns[i]
		if c.Enum != nil && !c.Hidden {
			dp.add(pgClassOID, rel, i+1, pgTypeOID, catalog.TypeOID(c.Enum.TypeID), 0, "n")
		}
		switch {
		case c.Hidden:
		case c.Generated != "":
			// A generated column's expression is part of the column,
			// and depends on the columns it reads.
			def := AttrDefOID(d, i)
			cols, err := attnums(c.Generated)
			if err != nil {
				return err
			}
			for _, n := range cols {
				dp.add(pgAttrDefOID, def, 0, pgClassOID, rel, n, "n")
			}
			dp.add(pgAttrDefOID, def, 0, pgClassOID, rel, i+1, "i")
		case c.Default != "" && c.Identity == "":
			def := AttrDefOID(d, i)
			dp.add(pgAttrDefOID, def, 0, pgClassOID, rel, i+1, "a")
			for _, s := range all {
				if s.Sequence != nil && c.UsesSequence(s) {
					dp.add(pgAttrDefOID, def, 0, pgClassOID, RelOID(s), 0, "n")
				}
			}
		}
	}
	constraintCols := func(con oid.Oid, cols []int, deptype string) {
		for _, o := range cols {
			dp.add(pgConstraintOID, con, 0, pgClassOID, rel, o+1, deptype)
		}
	}
	for _, idx := range TableIndexes(d) {
		io := IndexOID(d, idx.ID)
		if idx.ID == catalog.PrimaryIndexID || idx.Constraint {
			// The index of a key is part of its constraint, which
			// depends on the key's columns.
			con := ConstraintOID(d, idx.ID)
			dp.add(pgClassOID, io, 0, pgConstraintOID, con, 0, "i")
			constraintCols(con, idx.Columns, "a")
			continue
		}
		// An index goes with each column it holds, or reads in an
		// expression or its predicate; with the table itself when it
		// has no plain column.
		seen := map[int]bool{}
		var cols []int
		plain := false
		note := func(n int) {
			if !seen[n] {
				seen[n] = true
				cols = append(cols, n)
			}
		}
		for _, o := range append(append([]int{}, idx.Columns...), idx.Include...) {
			if c := &d.Columns[o]; c.IsExprColumn() {
				ns, err := attnums(c.Generated)
				if err != nil {
					return err
				}
				for _, n := range ns {
					note(n)
				}
				continue
			}
			plain = true
			note(o + 1)
		}
		if idx.Predicate != "" {
			ns, err := attnums(idx.Predicate)
			if err != nil {
				return err
			}
			for _, n := range ns {
				note(n)
			}
		}
		if !plain {
			dp.add(pgClassOID, io, 0, pgClassOID, rel, 0, "a")
		}
		for _, n := range cols {
			dp.add(pgClassOID, io, 0, pgClassOID, rel, n, "a")
		}
	}
	for k, ck := range d.Checks {
		cols, err := attnums(ck.Expr)
		if err != nil {
			return err
		}
		// Auto on its columns (conkey), normal on those its
		// expression reads: the same columns.
		for _, n := range cols {
			dp.add(pgConstraintOID, CheckOID(d, k), 0, pgClassOID, rel, n, "a")
			dp.add(pgConstraintOID, CheckOID(d, k), 0, pgClassOID, rel, n, "n")
		}
	}
	for k, fk := range d.ForeignKeys {
		con := FKOID(d, k)
		constraintCols(con, d.Ordinals(fk.Columns), "a")
		parent := byID[fk.RefTable]
		if parent == nil {
			continue
		}
		for _, o := range parent.Ordinals(fk.RefColumns) {
			dp.add(pgConstraintOID, con, 0, pgClassOID, RelOID(parent), o+1, "n")
		}
		// The referenced key's index, as pg_constraint.conindid.
		ri := IndexOID(parent, catalog.PrimaryIndexID)
		if uk := parent.UniqueKeyOn(fk.RefColumns); uk != nil && uk.Index != nil {
			ri = IndexOID(parent, uk.Index.ID)
		}
		dp.add(pgConstraintOID, con, 0, pgClassOID, ri, 0, "n")
	}
	return nil
}

// userTypeOID is the pg_type OID of the user-defined type (or array of
// one) that type text s names, 0 for a built-in one. An unqualified
// name is looked for in schema (the function's) first, then public,
// then any schema.
func userTypeOID(s, schema string, enums []*catalog.TypeDescriptor) oid.Oid {
	s = strings.TrimSpace(s)
	array := strings.HasSuffix(s, "[]")
	s = strings.TrimSuffix(s, "[]")
	name, sch := s, ""
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		sch, name = strings.Trim(s[:i], `"`), s[i+1:]
	}
	name = strings.Trim(name, `"`)
	var found *catalog.TypeDescriptor
	for _, pass := range []string{sch, schema, catalog.PublicSchema, ""} {
		for _, t := range enums {
			if t.Name == name && (pass == "" || t.Schema == pass) {
				found = t
				break
			}
		}
		if found != nil || sch != "" {
			break
		}
	}
	switch {
	case found == nil:
		return 0
	case array:
		return catalog.ArrayTypeOID(found.ID)
	}
	return catalog.TypeOID(found.ID)
}
