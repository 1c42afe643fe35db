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

// CREATE TYPE … AS ENUM, ALTER TYPE and DROP TYPE, as PostgreSQL 15 runs
// them. A type lives in a schema (catalog/enum.go); the columns of an
// enum type carry a copy of its members, so a change of the type writes
// the descriptors of the tables that use it too.

// typeKeys are the keys a type name may name, in the order they are
// tried: its schema's, or each schema of search_path.
func (b *builder) typeKeys(name *tree.UnresolvedObjectName) ([]catalog.RelKey, error) {
	tn := name.ToTableName()
	if err := b.names.checkCatalog(&tn); err != nil {
		return nil, err
	}
	return b.names.candidates(&tn), nil
}

// findType returns the user-defined type name names; nil if none.
func (b *builder) findType(name *tree.UnresolvedObjectName) (*catalog.TypeDescriptor, error) {
	keys, err := b.typeKeys(name)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		d, err := catalog.GetType(b.ctx, b.txn, k)
		if err != nil || d != nil {
			return d, err
		}
	}
	return nil, nil
}

func undefinedType(name *tree.UnresolvedObjectName) error {
	return pgerror.Newf("42704", "type %q does not exist", name.String())
}

// checkEnumLabel refuses a label PostgreSQL's NAMEDATALEN does not hold.
func checkEnumLabel(l string) error {
	if l == "" || len(l) > 63 {
		return pgerror.WithDetail(pgerror.Newf("22023", "invalid enum label %q", l), "Labels must be 63 bytes or less.")
	}
	return nil
}

func (b schemaChanger) createType(ct *tree.CreateType) (*result, error) {
	res := &result{tag: "CREATE TYPE"}
	if ct.Variety != tree.Enum {
		return nil, pgerror.Unsupported("CREATE TYPE other than AS ENUM is not supported yet")
	}
	tn := ct.TypeName.ToTableName()
	k, err := b.names.createKey(b.ctx, b.txn, &tn)
	if err != nil {
		return nil, err
	}
	if old, err := catalog.GetType(b.ctx, b.txn, k); err != nil {
		return nil, err
	} else if old != nil {
		if ct.IfNotExists {
			res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
				fmt.Sprintf("type %q already exists, skipping", k.Name), ""})
			return res, nil
		}
		return nil, pgerror.Newf("42710", "type %q already exists", k.Name)
	}
	// A relation's name is its row type's in PostgreSQL.
	if rel, err := catalog.GetTable(b.ctx, b.txn, k); err != nil {
		return nil, err
	} else if rel != nil {
		return nil, pgerror.Newf("42710", "type %q already exists", k.Name)
	}
	labels := make([]string, len(ct.EnumLabels))
	seen := map[string]bool{}
	for i, l := range ct.EnumLabels {
		if err := checkEnumLabel(string(l)); err != nil {
			return nil, err
		}
		if seen[string(l)] {
			return nil, pgerror.WithDetail(pgerror.New("23505", `duplicate key value violates unique constraint "pg_enum_typid_label_index"`),
				fmt.Sprintf("Key (enumtypid, enumlabel)=(%d, %s) already exists.", catalog.TypeOIDBase, l))
		}
		seen[string(l)] = true
		labels[i] = string(l)
	}
	d := &catalog.TypeDescriptor{Name: k.Name, ParentID: k.DB, Schema: k.Schema, Enum: catalog.NewEnumMembers(labels)}
	return res, catalog.CreateType(b.ctx, b.txn, d)
}

func (b schemaChanger) alterType(at *tree.AlterType) (*result, error) {
	res := &result{tag: "ALTER TYPE"}
	d, err := b.findType(at.Type)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, undefinedType(at.Type)
	}
	m := &d.Enum
	switch c := at.Cmd.(type) {
	case *tree.AlterTypeAddValue:
		l := string(c.NewVal)
		if err := checkEnumLabel(l); err != nil {
			return nil, err
		}
		if m.Index(l) >= 0 {
			if c.IfNotExists {
				res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
					fmt.Sprintf("enum label %q already exists, skipping", l), ""})
				return res, nil
			}
			return nil, pgerror.Newf("42710", "enum label %q already exists", l)
		}
		at := len(m.Labels)
		if p := c.Placement; p != nil {
			i := m.Index(string(p.ExistingVal))
			if i < 0 {
				return nil, pgerror.Newf("22023", "%q is not an existing enum label", string(p.ExistingVal))
			}
			at = i
			if !p.Before {
				at = i + 1
			}
		}
		m.Insert(at, l)
	case *tree.AlterTypeRenameValue:
		i := m.Index(string(c.OldVal))
		if i < 0 {
			return nil, pgerror.Newf("22023", "%q is not an existing enum label", string(c.OldVal))
		}
		if m.Index(string(c.NewVal)) >= 0 {
			return nil, pgerror.Newf("42710", "enum label %q already exists", string(c.NewVal))
		}
		if err := checkEnumLabel(string(c.NewVal)); err != nil {
			return nil, err
		}
		m.Labels[i] = string(c.NewVal)
	case *tree.AlterTypeRename:
		old := d.Key()
		d.Name = string(c.NewName)
		if other, err := catalog.GetType(b.ctx, b.txn, d.Key()); err != nil {
			return nil, err
		} else if other != nil {
			return nil, pgerror.Newf("42710", "type %q already exists", d.Name)
		}
		if err := catalog.RenameTypeKey(b.ctx, b.txn, d, old); err != nil {
			return nil, err
		}
		return res, b.rewriteTypeUsers(d)
	case *tree.AlterTypeSetSchema:
		old := d.Key()
		sc, err := catalog.GetSchema(b.ctx, b.txn, old.DB, string(c.Schema))
		if err != nil {
			return nil, err
		}
		if sc == nil {
			return nil, catalog.UndefinedSchema(string(c.Schema))
		}
		d.Schema = sc.Name
		if other, err := catalog.GetType(b.ctx, b.txn, d.Key()); err != nil {
			return nil, err
		} else if other != nil {
			if other.ID == d.ID {
				return res, nil
			}
			return nil, pgerror.Newf("42710", "type %q already exists in schema %q", d.Name, d.Schema)
		}
		if err := catalog.RenameTypeKey(b.ctx, b.txn, d, old); err != nil {
			return nil, err
		}
		return res, b.rewriteTypeUsers(d)
	case *tree.AlterTypeDropValue:
		return nil, pgerror.Unsupported("dropping an enum value is not supported")
	default:
		return nil, pgerror.Unsupported("ALTER TYPE%s is not supported yet", tree.AsString(at.Cmd))
	}
	if err := catalog.PutType(b.ctx, b.txn, d); err != nil {
		return nil, err
	}
	return res, b.rewriteTypeUsers(d)
}

// rewriteTypeUsers writes the type's members into the columns of the
// tables that use it.
func (b schemaChanger) rewriteTypeUsers(d *catalog.TypeDescriptor) error {
	tables, err := catalog.ListTables(b.ctx, b.txn, b.names.db.ID)
	if err != nil {
		return err
	}
	t := d.T()
	for _, tab := range tables {
		changed := false
		for i, c := range tab.Columns {
			if c.Enum != nil && c.Enum.TypeID == d.ID {
				tab.Columns[i] = c.WithType(t)
				changed = true
			}
		}
		if changed {
			if err := catalog.PutDescriptor(b.ctx, b.txn, tab); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b schemaChanger) dropTypes(dt *tree.DropType) (*result, error) {
	res := &result{tag: "DROP TYPE"}
	cascade := dt.DropBehavior == tree.DropCascade
	var drop []*catalog.TypeDescriptor
	for _, n := range dt.Names {
		d, err := b.findType(n)
		if err != nil {
			return nil, err
		}
		if d == nil {
			if dt.IfExists {
				res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
					fmt.Sprintf("type %q does not exist, skipping", n.String()), ""})
				continue
			}
			return nil, undefinedType(n)
		}
		drop = append(drop, d)
	}
	if len(drop) == 0 {
		return res, nil
	}
	tables, err := catalog.ListTables(b.ctx, b.txn, b.names.db.ID)
	if err != nil {
		return nil, err
	}
	fns, err := catalog.ListFunctions(b.ctx, b.txn, b.names.db.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range drop {
		var depends []string
		// What uses the type: columns, and functions (by an argument or
		// their result), each with its key standing for PostgreSQL's OID.
		type use struct {
			key  uint32
			tab  *catalog.TableDescriptor
			col  string
			ord  int
			fn   *catalog.FunctionDescriptor
			ovID uint32
			name string
		}
		var uses []use
		for _, tab := range tables {
			for i, c := range tab.Columns {
				if c.Enum != nil && c.Enum.TypeID == d.ID {
					uses = append(uses, use{key: tab.ID, tab: tab, col: c.Name, ord: i,
						name: fmt.Sprintf("column %s of table %s", c.Name, b.names.display(tab))})
				}
			}
		}
		for _, f := range fns {
			for i := range f.Overloads {
				if ov := &f.Overloads[i]; functionUsesType(ov, f.Schema, d) {
					uses = append(uses, use{key: ov.ID, fn: f, ovID: ov.ID, name: "function " + b.functionDescription(f, ov)})
				}
			}
		}
		// PostgreSQL's order: as they were made, a table's columns last
		// first.
		sort.Slice(uses, func(i, j int) bool {
			if uses[i].key != uses[j].key {
				return uses[i].key < uses[j].key
			}
			return uses[i].ord > uses[j].ord
		})
		for _, u := range uses {
			depends = append(depends, u.name+" depends on type "+d.Name)
		}
		if len(depends) > 0 && !cascade {
			msg := fmt.Sprintf("cannot drop type %s because other objects depend on it", d.Name)
			if len(drop) > 1 {
				msg = "cannot drop desired object(s) because other objects depend on them"
			}
			return nil, pgerror.WithHint(pgerror.WithDetail(pgerror.New("2BP01", msg), dependentsDetail(depends)),
				"Use DROP ... CASCADE to drop the dependent objects too.")
		}
		var lines []string
		for _, u := range uses {
			lines = append(lines, "drop cascades to "+u.name)
		}
		if n := cascadeNotice(lines); n != nil {
			res.notices = append(res.notices, *n)
		}
		for _, u := range uses {
			if u.fn != nil {
				f := u.fn
				f.Overloads = slices.DeleteFunc(f.Overloads, func(ov catalog.FunctionOverload) bool { return ov.ID == u.ovID })
				if err := catalog.PutFunction(b.ctx, b.txn, f); err != nil {
					return nil, err
				}
				continue
			}
			if err := b.dropColumn(u.tab, &tree.AlterTableDropColumn{Column: tree.Name(u.col)}, nil); err != nil {
				return nil, err
			}
			if err := catalog.PutDescriptor(b.ctx, b.txn, u.tab); err != nil {
				return nil, err
			}
		}
		if err := catalog.DropType(b.ctx, b.txn, d); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// functionUsesType reports whether overload ov (of a function in
// schema) takes or returns type d or an array of it. Its types are kept
// as SQL text: an unqualified name is d's when d is in schema or public,
// as the function's search path found it.
func functionUsesType(ov *catalog.FunctionOverload, schema string, d *catalog.TypeDescriptor) bool {
	texts := []string{ov.Returns}
	for _, p := range append(append([]catalog.FunctionParam{}, ov.Params...), ov.Columns...) {
		texts = append(texts, p.Type)
	}
	for _, s := range texts {
		s = strings.TrimSuffix(strings.TrimSpace(s), "[]")
		name, sch := s, ""
		if i := strings.LastIndexByte(s, '.'); i >= 0 {
			sch, name = strings.Trim(s[:i], `"`), s[i+1:]
		}
		if strings.Trim(name, `"`) != d.Name {
			continue
		}
		if sch == d.Schema || sch == "" && (d.Schema == schema || d.Schema == catalog.PublicSchema) {
			return true
		}
	}
	return false
}
