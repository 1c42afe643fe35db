package sql

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// DROP TABLE and DROP VIEW with PostgreSQL's dependency rules: a view
// depends on the relations its query names (catalog's DependsOn), a
// foreign key on the table it references. RESTRICT (the default) refuses
// to drop what something else depends on (2BP01, listing it); CASCADE
// drops the dependent views too, and the dependent foreign key
// constraints (not their tables), with a NOTICE for each.

func relKind(d *catalog.TableDescriptor) string {
	switch {
	case d.ViewQuery != "":
		return "view"
	case d.IsMatView():
		return "materialized view"
	case d.Sequence != nil:
		return "sequence"
	}
	return "table"
}

// dropRelations drops the relations names, which must be of kind
// ("table", "view", "materialized view" or "sequence").
func (b schemaChanger) dropRelations(names tree.TableNames, kind string, ifExists, cascade bool) (*result, error) {
	res := &result{tag: "DROP " + strings.ToUpper(kind)}
	var roots []*catalog.TableDescriptor
	for i := range names {
		tn := &names[i]
		d, err := b.names.find(b.ctx, b.txn, tn)
		if err != nil {
			return nil, err
		}
		name := string(tn.ObjectName)
		switch {
		case d == nil && ifExists:
			res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
				fmt.Sprintf("%s %q does not exist, skipping", kind, name), ""})
			continue
		case d == nil:
			return nil, pgerror.Newf(pgerror.CodeUndefinedTable, "%s %q does not exist", kind, name)
		case relKind(d) != kind:
			return nil, pgerror.WithHint(pgerror.Newf("42809", "%q is not a %s", d.Name, kind),
				fmt.Sprintf("Use DROP %s to remove a %s.", strings.ToUpper(relKind(d)), relKind(d)))
		}
		if err := b.checkOwner(d); err != nil {
			return nil, err
		}
		roots = append(roots, d)
	}
	return res, b.dropCascading(res, roots, cascade)
}

// dropCascading drops the relations roots and, with cascade, what
// depends on them (views, foreign keys, column defaults drawing from a
// sequence), with PostgreSQL's NOTICE naming them (one in the NOTICE,
// more in its DETAIL); without cascade such dependents fail the statement
// (2BP01, listing them).
func (b schemaChanger) dropCascading(res *result, roots []*catalog.TableDescriptor, cascade bool) error {
	plan, err := b.planDrop(roots, nil, nil)
	if err != nil {
		return err
	}
	return b.carryOut(res, plan, cascade)
}

// carryOut refuses plan when it reaches dependents and not cascade
// (2BP01, listing them), else notes them in res's NOTICE and drops them.
func (b schemaChanger) carryOut(res *result, plan *dropPlan, cascade bool) error {
	if len(plan.reached) > 0 && !cascade {
		msg := "cannot drop desired object(s) because other objects depend on them"
		if len(plan.rootNames) == 1 {
			msg = fmt.Sprintf("cannot drop %s because other objects depend on it", plan.rootNames[0])
		}
		var lines []string
		for _, o := range plan.reached {
			lines = append(lines, o.name+" depends on "+o.by)
		}
		return pgerror.WithHint(pgerror.WithDetail(pgerror.New("2BP01", msg), dependentsDetail(lines)),
			"Use DROP ... CASCADE to drop the dependent objects too.")
	}
	var lines []string
	for _, o := range plan.reached {
		lines = append(lines, "drop cascades to "+o.name)
	}
	if n := cascadeNotice(lines); n != nil {
		res.notices = append(res.notices, *n)
	}
	return plan.apply(b)
}

// maxReportedDeps is how many dependents PostgreSQL names to the client.
const maxReportedDeps = 100

// dependentsDetail is the DETAIL listing dependents, as PostgreSQL cuts
// it after maxReportedDeps lines.
func dependentsDetail(lines []string) string {
	if len(lines) <= maxReportedDeps {
		return strings.Join(lines, "\n")
	}
	more := len(lines) - maxReportedDeps
	s := strings.Join(lines[:maxReportedDeps], "\n")
	if more == 1 {
		return s + "\nand 1 other object (see server log for list)"
	}
	return s + fmt.Sprintf("\nand %d other objects (see server log for list)", more)
}

// cascadeNotice is DROP ... CASCADE's NOTICE for lines ("drop cascades
// to ..."): the one line, or their count with the lines in its DETAIL;
// nil for none.
func cascadeNotice(lines []string) *notice {
	switch len(lines) {
	case 0:
		return nil
	case 1:
		return &notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion, lines[0], ""}
	}
	return &notice{sev: pgerror.SeverityNotice, code: pgerror.CodeSuccessfulCompletion,
		msg: fmt.Sprintf("drop cascades to %d other objects", len(lines)), detail: dependentsDetail(lines)}
}

// dropObject is something a DROP of relations reaches: a relation, a
// foreign key of a table that stays, or a column default that draws from
// a dropped sequence.
type dropObject struct {
	// id tells objects apart; key stands for PostgreSQL's OID, the order
	// the objects were made in.
	id  string
	key uint32
	rel *catalog.TableDescriptor
	// schema, typ and fn: a schema DROP SCHEMA names, or one of its
	// types or functions (overload ovID).
	schema *schemaDrop
	typ    *catalog.TypeDescriptor
	fn     *catalog.FunctionDescriptor
	ovID   uint32
	fk     *fkDrop
	def    *defaultDrop
	col    *columnDrop
	name   string // "view v", "constraint c on table t", ...
	by     string // the object it was reached from (RESTRICT's "depends on")
	// silent: reached through an automatic dependency (a table's owned
	// sequence), dropped without being named.
	silent bool
}

// columnDrop is a column ALTER TABLE ... DROP COLUMN drops: the views
// reading it (DependsOnColumns) depend on it.
type columnDrop struct {
	table *catalog.TableDescriptor
	col   int // ordinal in table.Columns
}

type fkDrop struct {
	child *catalog.TableDescriptor
	name  string
	from  uint32
}

type defaultDrop struct {
	table *catalog.TableDescriptor
	col   int
}

// schemaDrop is a schema DROP SCHEMA drops, with what is in it.
type schemaDrop struct {
	name  string
	rels  []*catalog.TableDescriptor
	types []*catalog.TypeDescriptor
	fns   []*catalog.FunctionDescriptor
}

// dropPlan is what dropping some relations (or schemas) drops.
type dropPlan struct {
	rootNames []string
	// reached are the objects beyond the roots, in PostgreSQL's order
	// of report, the silent ones left out.
	reached []*dropObject
	// rels are the relations to drop, dependents before what they
	// depend on; fks and defaults what goes from tables that stay.
	rels     []*catalog.TableDescriptor
	dropping map[uint32]*catalog.TableDescriptor
	fks      []*fkDrop
	defaults []*defaultDrop
}

// planDrop finds what dropping roots reaches, as PostgreSQL's
// findDependentObjects does: depth first, each object's dependents
// visited newest first and before it, an object reached twice kept where
// it was reached first; the report is that order reversed.
// cols are columns dropped (by ALTER TABLE, which drops them itself):
// only what depends on them is planned.
func (b schemaChanger) planDrop(roots []*catalog.TableDescriptor, schemas []*schemaDrop, cols []*columnDrop) (*dropPlan, error) {
	all, err := catalog.ListTables(b.ctx, b.txn, b.names.db.ID)
	if err != nil {
		return nil, err
	}
	byID := map[uint32]*catalog.TableDescriptor{}
	for _, d := range all {
		byID[d.ID] = d
	}
	plan := &dropPlan{dropping: map[uint32]*catalog.TableDescriptor{}}
	relName := func(d *catalog.TableDescriptor) string { return relKind(d) + " " + b.names.display(d) }
	visited := map[string]bool{}
	var rootObjs []*dropObject
	for _, r := range roots {
		d := byID[r.ID]
		if d == nil {
			d = r
		}
		id := fmt.Sprint("rel ", d.ID)
		if visited[id] {
			continue
		}
		visited[id] = true
		plan.dropping[d.ID] = d
		plan.rootNames = append(plan.rootNames, relName(d))
		rootObjs = append(rootObjs, &dropObject{id: id, key: d.ID, rel: d, name: relName(d)})
	}
	for _, sc := range schemas {
		id := "schema " + sc.name
		visited[id] = true
		plan.rootNames = append(plan.rootNames, "schema "+sc.name)
		rootObjs = append(rootObjs, &dropObject{id: id, schema: sc, name: "schema " + sc.name})
	}
	for _, cd := range cols {
		c := &cd.table.Columns[cd.col]
		id := fmt.Sprint("col ", cd.table.ID, " ", c.ID)
		visited[id] = true
		name := fmt.Sprintf("column %s of %s", c.Name, relName(cd.table))
		plan.rootNames = append(plan.rootNames, name)
		rootObjs = append(rootObjs, &dropObject{id: id, key: cd.table.ID, col: cd, name: name})
	}
	// ownerDropped: a sequence owned by a table in a schema dropped,
	// which goes with the table silently.
	ownerDropped := func(s *catalog.TableDescriptor) bool {
		if s.Sequence == nil || s.Sequence.OwnedByTable == 0 {
			return false
		}
		for _, sc := range schemas {
			for _, r := range sc.rels {
				if r.ID == s.Sequence.OwnedByTable {
					return true
				}
			}
		}
		return false
	}
	// dependents are the objects that depend on o, not yet reached.
	dependents := func(o *dropObject) ([]*dropObject, error) {
		var out []*dropObject
		if sc := o.schema; sc != nil {
			for _, r := range sc.rels {
				if !ownerDropped(r) {
					out = append(out, &dropObject{id: fmt.Sprint("rel ", r.ID), key: r.ID, rel: r, name: relName(r)})
				}
			}
			for _, t := range sc.types {
				out = append(out, &dropObject{id: fmt.Sprint("type ", t.ID), key: t.ID, typ: t, name: "type " + b.typeDescription(t)})
			}
			for _, f := range sc.fns {
				for i := range f.Overloads {
					ov := &f.Overloads[i]
					out = append(out, &dropObject{id: fmt.Sprint("fn ", ov.ID), key: ov.ID, fn: f, ovID: ov.ID, name: "function " + b.functionDescription(f, ov)})
				}
			}
			sort.SliceStable(out, func(i, j int) bool { return out[i].key > out[j].key })
			return out, nil
		}
		if cd := o.col; cd != nil {
			for _, v := range columnReaders(all, cd.table, cd.col) {
				out = append(out, &dropObject{id: fmt.Sprint("rel ", v.ID), key: v.ID, rel: v, name: relName(v)})
			}
			sort.SliceStable(out, func(i, j int) bool { return out[i].key > out[j].key })
			return out, nil
		}
		d := o.rel
		if d == nil {
			return nil, nil // a foreign key, default, type or function: nothing here depends on it
		}
		for _, v := range all {
			if slices.Contains(v.DependsOn, d.ID) {
				out = append(out, &dropObject{id: fmt.Sprint("rel ", v.ID), key: v.ID, rel: v, name: relName(v)})
			}
		}
		if d.Sequence != nil {
			for _, t := range all {
				if !t.IsTable() || plan.dropping[t.ID] != nil {
					continue
				}
				for i := range t.Columns {
					if t.Columns[i].UsesSequence(d) {
						// A default is made with its table (or later, by
						// ALTER: then its key is early).
						out = append(out, &dropObject{id: fmt.Sprint("default ", t.ID, " ", i), key: t.ID, def: &defaultDrop{t, i},
							name: fmt.Sprintf("default value for column %s of table %s", t.Columns[i].Name, b.names.display(t))})
					}
				}
			}
		}
		if d.IsTable() {
			for _, in := range d.InboundFKs {
				if in.Table == d.ID || plan.dropping[in.Table] != nil {
					continue
				}
				child := byID[in.Table]
				if child == nil {
					continue
				}
				out = append(out, &dropObject{id: fmt.Sprint("fk ", child.ID, " ", in.Name), key: child.ID, fk: &fkDrop{child: child, name: in.Name, from: d.ID},
					name: fmt.Sprintf("constraint %s on table %s", in.Name, b.names.display(child))})
			}
			for _, s := range all {
				if s.Sequence != nil && s.Sequence.OwnedByTable == d.ID {
					out = append(out, &dropObject{id: fmt.Sprint("rel ", s.ID), key: s.ID, rel: s, name: relName(s), silent: true})
				}
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].key > out[j].key })
		return out, nil
	}
	var order []*dropObject // deletion order
	var visit func(o *dropObject) error
	visit = func(o *dropObject) error {
		deps, err := dependents(o)
		if err != nil {
			return err
		}
		for _, dep := range deps {
			if visited[dep.id] {
				continue
			}
			visited[dep.id] = true
			dep.by = o.name
			if dep.rel != nil && !dep.silent {
				plan.dropping[dep.rel.ID] = dep.rel
			}
			if err := visit(dep); err != nil {
				return err
			}
		}
		order = append(order, o)
		return nil
	}
	for _, o := range rootObjs {
		if err := visit(o); err != nil {
			return nil, err
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		o := order[i]
		switch {
		case o.def != nil:
			plan.defaults = append(plan.defaults, o.def)
		case o.fk != nil:
			plan.fks = append(plan.fks, o.fk)
		}
		if o.silent || slices.Contains(rootObjs, o) {
			continue
		}
		plan.reached = append(plan.reached, o)
	}
	for _, o := range order {
		if o.rel != nil && !o.silent {
			plan.rels = append(plan.rels, o.rel)
		}
	}
	return plan, nil
}

// columnReaders are the views (and materialized views) among all whose
// query reads column col of t, oldest first. Views made before their
// columns were recorded (no DependsOnColumns) are not found.
func columnReaders(all []*catalog.TableDescriptor, t *catalog.TableDescriptor, col int) []*catalog.TableDescriptor {
	ref := catalog.ColumnRef{Table: t.ID, Column: t.Columns[col].ID}
	var out []*catalog.TableDescriptor
	for _, v := range all {
		if slices.Contains(v.DependsOnColumns, ref) {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// apply drops what plan reached.
func (plan *dropPlan) apply(b schemaChanger) error {
	for _, dd := range plan.defaults {
		dd.table.Columns[dd.col].Default = ""
		if err := catalog.PutDescriptor(b.ctx, b.txn, dd.table); err != nil {
			return err
		}
	}
	// The dependent foreign keys go from their tables, which stay.
	for _, fk := range plan.fks {
		kept := fk.child.ForeignKeys[:0]
		for _, f := range fk.child.ForeignKeys {
			if !(f.RefTable == fk.from && f.Name == fk.name) {
				kept = append(kept, f)
			}
		}
		fk.child.ForeignKeys = kept
		if err := catalog.PutDescriptor(b.ctx, b.txn, fk.child); err != nil {
			return err
		}
	}
	for _, d := range plan.rels {
		if relKind(d) == "table" {
			if err := b.unlinkOutboundFKs(d, plan.dropping); err != nil {
				return err
			}
		}
		if err := catalog.DropTable(b.ctx, b.txn, d); err != nil {
			return err
		}
		if relKind(d) == "table" {
			if err := dropOwnedSequences(b.ctx, b.txn, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// unlinkOutboundFKs removes the records d's own foreign keys left on the
// tables they reference (those not dropped with it).
func (b schemaChanger) unlinkOutboundFKs(d *catalog.TableDescriptor, dropping map[uint32]*catalog.TableDescriptor) error {
	for _, fk := range d.ForeignKeys {
		if fk.RefTable == d.ID || dropping[fk.RefTable] != nil {
			continue
		}
		if err := b.unlinkInbound(fk.RefTable, d.ID, fk.Name); err != nil {
			return err
		}
	}
	return nil
}

// typeDescription is how PostgreSQL names a type in dependency messages:
// qualified by its schema unless that schema is on the search path.
func (b schemaChanger) typeDescription(t *catalog.TypeDescriptor) string {
	if slices.Contains(b.names.path, t.Schema) {
		return t.Name
	}
	return t.Schema + "." + t.Name
}
