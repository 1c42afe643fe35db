package sql

import (
	"fmt"
	"slices"
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
// sequence), with a NOTICE for each; without cascade such dependents fail
// the statement (2BP01).
func (b schemaChanger) dropCascading(res *result, roots []*catalog.TableDescriptor, cascade bool) error {
	all, err := catalog.ListTables(b.ctx, b.txn, b.names.db.ID)
	if err != nil {
		return err
	}
	byID := map[uint32]*catalog.TableDescriptor{}
	for _, d := range all {
		byID[d.ID] = d
	}
	dropping := map[uint32]*catalog.TableDescriptor{}
	var order []*catalog.TableDescriptor
	for _, r := range roots {
		d := byID[r.ID]
		if d == nil {
			d = r
		}
		if dropping[d.ID] == nil {
			dropping[d.ID] = d
			order = append(order, d)
		}
	}
	// What depends on what is dropped: views (all the way down) and
	// foreign keys of the tables that stay.
	type fkDrop struct {
		child *catalog.TableDescriptor
		name  string
		from  uint32
	}
	var fks []fkDrop
	var depends []string // "view v depends on table t", for RESTRICT's error
	for i := 0; i < len(order); i++ {
		d := order[i]
		for _, v := range all {
			if dropping[v.ID] == nil && slices.Contains(v.DependsOn, d.ID) {
				depends = append(depends, fmt.Sprintf("%s %s depends on %s %s", relKind(v), v.Name, relKind(d), d.Name))
				if cascade {
					dropping[v.ID] = v
					order = append(order, v)
					res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion, "drop cascades to " + relKind(v) + " " + b.names.display(v), ""})
				}
			}
		}
	}
	// Column defaults that draw from a sequence dropped (its owner's
	// included, unless the owner goes too).
	type defaultDrop struct {
		table *catalog.TableDescriptor
		col   int
	}
	var defaults []defaultDrop
	for _, d := range order {
		if d.Sequence == nil {
			continue
		}
		for _, t := range all {
			if dropping[t.ID] != nil || !t.IsTable() {
				continue
			}
			for i, c := range t.Columns {
				if strings.Contains(c.Default, "nextval('"+d.Name+"'") || strings.Contains(c.Default, "nextval('"+d.Schema+"."+d.Name+"'") {
					depends = append(depends, fmt.Sprintf("default value for column %s of table %s depends on sequence %s", c.Name, t.Name, d.Name))
					defaults = append(defaults, defaultDrop{t, i})
					res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
						fmt.Sprintf("drop cascades to default value for column %s of table %s", c.Name, b.names.display(t)), ""})
				}
			}
		}
	}
	for _, d := range order {
		for _, in := range d.InboundFKs {
			if in.Table == d.ID || dropping[in.Table] != nil {
				continue
			}
			child, err := catalog.GetTableByID(b.ctx, b.txn, in.Table)
			if err != nil {
				return err
			}
			if child == nil {
				continue
			}
			depends = append(depends, fmt.Sprintf("constraint %s on table %s depends on table %s", in.Name, child.Name, d.Name))
			fks = append(fks, fkDrop{child: child, name: in.Name, from: d.ID})
			res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
				fmt.Sprintf("drop cascades to constraint %s on table %s", in.Name, b.names.display(child)), ""})
		}
	}
	if !cascade && len(depends) > 0 {
		first := order[0]
		for _, d := range order {
			if strings.HasSuffix(depends[0], relKind(d)+" "+d.Name) {
				first = d
				break
			}
		}
		return pgerror.WithHint(pgerror.WithDetail(
			pgerror.Newf("2BP01", "cannot drop %s %s because other objects depend on it", relKind(first), first.Name),
			strings.Join(depends, "\n")),
			"Use DROP ... CASCADE to drop the dependent objects too.")
	}
	for _, dd := range defaults {
		dd.table.Columns[dd.col].Default = ""
		if err := catalog.PutDescriptor(b.ctx, b.txn, dd.table); err != nil {
			return err
		}
	}
	// The dependent foreign keys go from their tables, which stay.
	for _, fk := range fks {
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
	for _, d := range order {
		if relKind(d) == "table" {
			if err := b.unlinkOutboundFKs(d, dropping); err != nil {
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
