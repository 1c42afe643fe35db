package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// ALTER TABLE, first version: ADD COLUMN (existing rows get the default,
// written in the statement's transaction), DROP COLUMN (not of the primary
// key or an index; stored values of a dropped column are skipped on read),
// RENAME COLUMN, and ALTER TABLE / VIEW ... RENAME TO.

func (b schemaChanger) alterTable(at *tree.AlterTable, r *runner, res *result) error {
	tn := at.Table.ToTableName()
	name := tn.Object()
	d, err := b.names.find(b.ctx, b.txn, &tn)
	if err != nil {
		return err
	}
	if d == nil {
		if at.IfExists {
			return nil
		}
		return pgerror.Newf(pgerror.CodeUndefinedTable, "relation %q does not exist", name)
	}
	if d.ViewQuery != "" {
		return pgerror.Newf("42809", "%q is a view", d.Name)
	}
	if d.Sequence != nil {
		return pgerror.Newf("42809", "%q is not a table", d.Name)
	}
	if d.IsMatView() {
		// A materialized view's columns are its query's (REFRESH fills
		// them by position): they may be renamed, nothing more.
		for _, cmd := range at.Cmds {
			if _, ok := cmd.(*tree.AlterTableRenameColumn); !ok {
				return pgerror.WithDetail(pgerror.Newf("42809", "ALTER action %s cannot be performed on relation %q", alterActionName(cmd), d.Name),
					"This operation is not supported for materialized views.")
			}
		}
	}
	if err := b.checkOwner(d); err != nil {
		return err
	}
	for _, cmd := range at.Cmds {
		switch c := cmd.(type) {
		case *tree.AlterTableAddColumn:
			if err := b.addColumn(d, c, r); err != nil {
				return err
			}
		case *tree.AlterTableDropColumn:
			if err := b.dropColumn(d, c, res); err != nil {
				return err
			}
		case *tree.AlterTableAddConstraint:
			switch def := c.ConstraintDef.(type) {
			case *tree.UniqueConstraintTableDef:
				if !def.PrimaryKey {
					return pgerror.Unsupported("ALTER TABLE ADD CONSTRAINT UNIQUE is not supported yet: use CREATE UNIQUE INDEX")
				}
				if len(def.Storing) > 0 {
					return pgerror.Unsupported("INCLUDE on a primary key is not supported yet")
				}
				if err := b.addPrimaryKey(d, def, r); err != nil {
					return err
				}
			case *tree.CheckConstraintTableDef:
				if err := b.addCheck(d, string(def.Name), def.Expr); err != nil {
					return err
				}
				if err := validateCheck(d, len(d.Checks)-1, r); err != nil {
					return err
				}
			case *tree.ForeignKeyConstraintTableDef:
				if err := b.alterAddForeignKey(d, def, r); err != nil {
					return err
				}
			default:
				return pgerror.Unsupported("ALTER TABLE ADD CONSTRAINT %T is not supported yet", def)
			}
		case *tree.AlterTableDropConstraint:
			if err := b.dropConstraint(d, c); err != nil {
				return err
			}
		case *tree.AlterTableSetDefault:
			if err := b.setDefault(d, c); err != nil {
				return err
			}
		case *tree.AlterTableAlterColumnType:
			if err := b.alterColumnType(d, c, r); err != nil {
				return err
			}
		case *tree.AlterTableSetNotNull:
			if err := setNotNull(d, c.Column, r); err != nil {
				return err
			}
		case *tree.AlterTableDropNotNull:
			i, err := alteredColumn(d, c.Column)
			if err != nil {
				return err
			}
			if rowenc.IsKeyColumn(d, i) {
				return pgerror.Newf("42P16", "column %q is in a primary key", c.Column)
			}
			if d.Columns[i].Identity != "" {
				return pgerror.Newf("42P16", "column %q of relation %q is an identity column", c.Column, d.Name)
			}
			d.Columns[i].Nullable = true
		case *tree.AlterTableDropStored:
			// DROP EXPRESSION: the column keeps its values and becomes
			// an ordinary one.
			i, err := alteredColumn(d, c.Column)
			if err != nil {
				return err
			}
			if d.Columns[i].Generated == "" {
				return pgerror.Newf("55000", "column %q of relation %q is not a stored generated column", c.Column, d.Name)
			}
			d.Columns[i].Generated, d.GeneratedExprs = "", nil
		case *tree.AlterTableRenameColumn:
			i := d.ColumnIndex(string(c.Column))
			if i < 0 || d.Columns[i].Hidden {
				return pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q does not exist", c.Column)
			}
			if d.ColumnIndex(string(c.NewName)) >= 0 {
				return pgerror.Newf("42701", "column %q of relation %q already exists", c.NewName, d.Name)
			}
			if err := b.renameInConstraints(d, string(c.Column), string(c.NewName)); err != nil {
				return err
			}
			for k := range d.Columns {
				if g := d.Columns[k].Generated; g != "" {
					if d.Columns[k].Generated, err = renameColumnInExpr(g, string(c.Column), string(c.NewName)); err != nil {
						return err
					}
				}
			}
			d.GeneratedExprs = nil
			for k := range d.Indexes {
				if p := d.Indexes[k].Predicate; p != "" {
					if d.Indexes[k].Predicate, err = renameColumnInExpr(p, string(c.Column), string(c.NewName)); err != nil {
						return err
					}
				}
			}
			d.PredicateExprs = nil
			d.Columns[i].Name = string(c.NewName)
		case *tree.AlterTableInjectStats:
			if err := b.injectStatistics(d, c, r); err != nil {
				return err
			}
		default:
			return pgerror.Unsupported("ALTER TABLE %s is not supported yet", cmd.TelemetryName())
		}
	}
	return catalog.PutDescriptor(b.ctx, b.txn, d)
}

// alteredColumn is the ordinal of the column an ALTER COLUMN names.
func alteredColumn(d *catalog.TableDescriptor, name tree.Name) (int, error) {
	i := d.ColumnIndex(string(name))
	if i < 0 || d.Columns[i].Hidden {
		return 0, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", name, d.Name)
	}
	return i, nil
}

// setDefault is ALTER COLUMN SET DEFAULT (or DROP DEFAULT, a nil
// default): rows written later take it, rows already there keep theirs.
func (b schemaChanger) setDefault(d *catalog.TableDescriptor, c *tree.AlterTableSetDefault) error {
	i, err := alteredColumn(d, c.Column)
	if err != nil {
		return err
	}
	if d.Columns[i].Identity != "" {
		return pgerror.Newf("42601", "column %q of relation %q is an identity column", c.Column, d.Name)
	}
	if d.Columns[i].Generated != "" {
		err := pgerror.Newf("42601", "column %q of relation %q is a generated column", c.Column, d.Name)
		if c.Default == nil || c.Default == tree.DNull {
			err = pgerror.WithHint(err, "Use ALTER TABLE ... ALTER COLUMN ... DROP EXPRESSION instead.")
		}
		return err
	}
	if c.Default == nil || c.Default == tree.DNull {
		d.Columns[i].Default = ""
		return nil
	}
	te, err := b.typeCheck(c.Default, &scope{}, d.Columns[i].Type())
	if err != nil {
		return err
	}
	d.Columns[i].Default = tree.Serialize(te)
	return nil
}

// alterColumnType is ALTER COLUMN TYPE: every row's value is cast to the
// new type (USING expr computes it instead) and the row rewritten, in the
// statement's transaction. A column of the primary key or of an index is
// not supported yet (their entries would have to be rebuilt).
func (b schemaChanger) alterColumnType(d *catalog.TableDescriptor, c *tree.AlterTableAlterColumnType, r *runner) error {
	i, err := alteredColumn(d, c.Column)
	if err != nil {
		return err
	}
	if c.Collation != "" {
		return pgerror.Unsupported("COLLATE is not supported yet")
	}
	if deps, err := generatedDependents(d, d.Columns[i].Name); err != nil {
		return err
	} else if len(deps) > 0 {
		return pgerror.WithDetail(pgerror.New(pgerror.CodeFeatureNotSupported, "cannot alter type of a column used by a generated column"),
			fmt.Sprintf("Column %q is used by generated column %q.", d.Columns[i].Name, deps[0]))
	}
	// A view's query was planned with the column's type: as PostgreSQL,
	// refuse rather than re-plan it.
	all, err := catalog.ListTables(b.ctx, b.txn, b.names.db.ID)
	if err != nil {
		return err
	}
	if vs := columnReaders(all, d, i); len(vs) > 0 {
		return pgerror.WithDetail(pgerror.New(pgerror.CodeFeatureNotSupported, "cannot alter type of a column used by a view or rule"),
			fmt.Sprintf("rule _RETURN on %s %s depends on column %q", relKind(vs[0]), b.names.display(vs[0]), d.Columns[i].Name))
	}
	if d.Columns[i].Generated != "" {
		return pgerror.Unsupported("ALTER COLUMN TYPE of a generated column is not supported yet")
	}
	t, err := b.columnType(c.ToType, string(c.Column))
	if err != nil {
		return err
	}
	if rowenc.IsKeyColumn(d, i) {
		return pgerror.Unsupported("changing the type of a primary key column is not supported yet")
	}
	for _, idx := range d.Indexes {
		for _, col := range idx.Columns {
			if col == i {
				return pgerror.Unsupported("column %q is in index %q: drop the index first to change its type", c.Column, idx.Name)
			}
		}
	}
	if d.Columns[i].Identity != "" && t.Family() != types.IntFamily {
		return pgerror.Newf(pgerror.CodeInvalidParameterValue, "identity column type must be smallint, integer, or bigint")
	}
	from := d.Columns[i].Type()
	var using tree.TypedExpr
	if c.Using != nil {
		if using, err = b.typeCheck(c.Using, &scope{cols: resultColumns(d)}, t); err != nil {
			return err
		}
	} else if !assignmentCast(from, t) {
		return pgerror.WithHint(
			pgerror.Newf("42804", "column %q cannot be cast automatically to type %s", c.Column, t.SQLStandardName()),
			fmt.Sprintf("You might need to specify \"USING %s::%s\".", c.Column, t.SQLString()))
	}
	old := *d
	old.Columns = append([]catalog.ColumnDescriptor{}, d.Columns...)
	d.Columns[i] = d.Columns[i].WithType(t)
	if d.Columns[i].Default != "" {
		// The default must fit the new type too, by an assignment cast.
		if !assignmentCast(from, t) {
			return pgerror.Newf("42804", "default for column %q cannot be cast automatically to type %s", c.Column, t.SQLStandardName())
		}
		e, err := sem.ParseExpr(d.Columns[i].Default)
		if err != nil {
			return err
		}
		te, err := b.typeCheck(&tree.CastExpr{Expr: e, Type: t}, &scope{}, t)
		if err != nil {
			return pgerror.Newf("42804", "default for column %q cannot be cast automatically to type %s", c.Column, t.SQLString())
		}
		d.Columns[i].Default = tree.Serialize(te)
	}
	return forEachRow(r, &old, func(row tree.Datums) error {
		v := row[i]
		var err error
		if using != nil {
			if v, err = r.evalIn(using, row); err != nil {
				return err
			}
		}
		if v != tree.DNull {
			if v, err = sem.CastDatum(r.eval, v, t); err != nil {
				return err
			}
		}
		newRow := append(tree.Datums{}, row...)
		newRow[i] = v
		key, err := rowenc.RowKey(d, newRow)
		if err != nil {
			return err
		}
		return putRow(d, r, key, newRow)
	})
}

// assignmentCast reports whether PostgreSQL converts from to to
// automatically when assigning (its implicit and assignment casts among
// the types columns have here): within a family, among numbers, to text
// from anything, and among dates and timestamps.
func assignmentCast(from, to *types.T) bool {
	f, t := from.Family(), to.Family()
	number := func(f types.Family) bool {
		return f == types.IntFamily || f == types.FloatFamily || f == types.DecimalFamily
	}
	when := func(f types.Family) bool {
		return f == types.DateFamily || f == types.TimestampFamily || f == types.TimestampTZFamily
	}
	switch {
	case f == t, t == types.StringFamily, number(f) && number(t), when(f) && when(t):
		return true
	}
	return false
}

// setNotNull is ALTER COLUMN SET NOT NULL: the rows already there must
// have a value (23502 otherwise).
func setNotNull(d *catalog.TableDescriptor, name tree.Name, r *runner) error {
	i, err := alteredColumn(d, name)
	if err != nil {
		return err
	}
	if !d.Columns[i].Nullable {
		return nil
	}
	if err := forEachRow(r, d, func(row tree.Datums) error {
		if row[i] == tree.DNull {
			return pgerror.Newf("23502", "column %q of relation %q contains null values", name, d.Name)
		}
		return nil
	}); err != nil {
		return err
	}
	d.Columns[i].Nullable = false
	return nil
}

func (b schemaChanger) addColumn(d *catalog.TableDescriptor, c *tree.AlterTableAddColumn, r *runner) error {
	def := c.ColumnDef
	if d.ColumnIndex(string(def.Name)) >= 0 {
		if c.IfNotExists {
			return nil
		}
		return pgerror.Newf("42701", "column %q of relation %q already exists", def.Name, d.Name)
	}
	if def.PrimaryKey.IsPrimaryKey || def.Unique.IsUnique || len(def.CheckExprs) > 0 || def.References.Table != nil {
		return pgerror.Unsupported("ADD COLUMN with a constraint is not supported yet")
	}
	if def.IsSerial || def.GeneratedIdentity.IsGeneratedAsIdentity {
		// The existing rows would need values from a sequence this
		// statement's transaction creates, which nextval (a transaction
		// of its own) cannot see yet.
		return pgerror.Unsupported("ADD COLUMN with SERIAL or an identity is not supported yet")
	}
	t, err := b.columnType(def.Type, string(def.Name))
	if err != nil {
		return err
	}
	d.NextColumnID++
	col := catalog.ColumnDescriptor{ID: d.NextColumnID, Name: string(def.Name),
		Nullable: def.Nullable.Nullability != tree.NotNull}.WithType(t)
	var defExpr tree.TypedExpr
	if def.HasDefaultExpr() {
		if defExpr, err = b.typeCheck(def.DefaultExpr.Expr, &scope{}, t); err != nil {
			return err
		}
		col.Default = tree.Serialize(defExpr)
	}
	// Existing rows take the default (or NULL, which NOT NULL refuses if
	// there is a row), or a generated column's value.
	old := *d
	old.Columns = append([]catalog.ColumnDescriptor{}, d.Columns...)
	scan := &scanNode{desc: &old, cols: resultColumns(&old)}
	d.Columns = append(d.Columns, col)
	var genExpr tree.TypedExpr
	if def.Computed.Computed {
		switch {
		case def.Computed.Virtual:
			return pgerror.Unsupported("virtual generated columns are not supported: PostgreSQL 15 has only STORED ones")
		case def.HasDefaultExpr():
			return pgerror.Newf(pgerror.CodeSyntaxError, "both default and generation expression specified for column %q of table %q", col.Name, d.Name)
		}
		last := len(d.Columns) - 1
		d.Columns[last].Generated = "x" // for checkGeneratedExpr
		if genExpr, err = b.checkGeneratedExpr(d, last, def.Computed.Expr); err != nil {
			return err
		}
		d.Columns[last].Generated = tree.Serialize(def.Computed.Expr)
		d.GeneratedExprs = nil
	}
	for {
		row, err := scan.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			return nil
		}
		var v tree.Datum = tree.DNull
		if genExpr != nil {
			if v, err = r.evalIn(genExpr, append(row, tree.DNull)); err != nil {
				return err
			}
			if v, err = sem.CastDatum(r.eval, v, t); err != nil {
				return err
			}
		}
		if defExpr != nil {
			if v, err = r.evalIn(defExpr, nil); err != nil {
				return err
			}
			if v, err = sem.CastDatum(r.eval, v, t); err != nil {
				return err
			}
		}
		if v == tree.DNull {
			if !col.Nullable {
				return pgerror.Newf("23502", "column %q of relation %q contains null values", col.Name, d.Name)
			}
			continue // a missing column reads as NULL
		}
		full := append(row, v)
		key, err := rowenc.RowKey(d, full)
		if err != nil {
			return err
		}
		if err := putRow(d, r, key, full); err != nil {
			return err
		}
	}
}

// dropColumn drops column c of d; res takes the NOTICE of what CASCADE
// drops with it (nil: refuse to drop what views read).
func (b schemaChanger) dropColumn(d *catalog.TableDescriptor, c *tree.AlterTableDropColumn, res *result) error {
	i := d.ColumnIndex(string(c.Column))
	if i < 0 || d.Columns[i].Hidden {
		if c.IfExists {
			return nil
		}
		return pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", c.Column, d.Name)
	}
	if rowenc.IsKeyColumn(d, i) {
		return pgerror.Unsupported("dropping a primary key column is not supported")
	}
	if deps, err := generatedDependents(d, d.Columns[i].Name); err != nil {
		return err
	} else if len(deps) > 0 {
		if c.DropBehavior != tree.DropCascade {
			return pgerror.WithHint(pgerror.WithDetail(pgerror.Newf("2BP01", "cannot drop column %s of table %s because other objects depend on it", c.Column, d.Name),
				fmt.Sprintf("column %s of table %s depends on column %s of table %s", deps[0], d.Name, c.Column, d.Name)),
				"Use DROP ... CASCADE to drop the dependent objects too.")
		}
		return pgerror.Unsupported("DROP COLUMN ... CASCADE of a column generated columns depend on is not supported yet: drop them first")
	}
	// The views reading the column depend on it: RESTRICT refuses,
	// CASCADE drops them (and what depends on them) first.
	plan, err := b.planDrop(nil, nil, []*columnDrop{{table: d, col: i}})
	if err != nil {
		return err
	}
	if len(plan.reached) > 0 && res == nil {
		// DROP TYPE ... CASCADE's dropping of a column does not carry on
		// to the views reading it.
		return pgerror.Unsupported("dropping column %s of table %s, which views depend on, is not supported yet: drop them first", c.Column, d.Name)
	}
	if res != nil {
		if err := b.carryOut(res, plan, c.DropBehavior == tree.DropCascade); err != nil {
			return err
		}
	}
	if idx, err := indexUsesColumn(d, i); err != nil {
		return err
	} else if idx != "" {
		return pgerror.Unsupported("column %q is in index %q: drop the index first", c.Column, idx)
	}
	// Constraints involving the column go with it, as in PostgreSQL.
	name := d.Columns[i].Name
	keptChecks := d.Checks[:0]
	for _, ck := range d.Checks {
		e, err := sem.ParseExpr(ck.Expr)
		if err != nil {
			return err
		}
		if !containsString(sem.ExprColumns(e), name) {
			keptChecks = append(keptChecks, ck)
		}
	}
	d.Checks, d.CheckExprs = keptChecks, nil
	keptFKs := d.ForeignKeys[:0]
	for _, fk := range d.ForeignKeys {
		if !containsString(fk.Columns, name) {
			keptFKs = append(keptFKs, fk)
			continue
		}
		if fk.RefTable == d.ID {
			d.RemoveInbound(d.ID, fk.Name)
		} else if err := b.unlinkInbound(fk.RefTable, d.ID, fk.Name); err != nil {
			return err
		}
	}
	d.ForeignKeys = keptFKs
	removeColumn(d, i)
	return nil
}

// renameTable is ALTER TABLE | VIEW | MATERIALIZED VIEW ... RENAME TO.
// As in PostgreSQL, ALTER TABLE also renames a materialized view, but
// ALTER VIEW and ALTER MATERIALIZED VIEW only their own kind.
func (b schemaChanger) renameTable(rt *tree.RenameTable, tag string) (*result, bool, error) {
	res := &result{tag: tag}
	tn := rt.Name.ToTableName()
	name, newName := tn.Object(), rt.NewName.Object()
	d, err := b.names.find(b.ctx, b.txn, &tn)
	if err != nil {
		return nil, true, err
	}
	if d == nil {
		if rt.IfExists {
			res.notices = append(res.notices, notice{pgerror.SeverityNotice, pgerror.CodeSuccessfulCompletion,
				fmt.Sprintf("relation %q does not exist, skipping", name), ""})
			return res, true, nil
		}
		return nil, true, pgerror.Newf(pgerror.CodeUndefinedTable, "relation %q does not exist", name)
	}
	var kind string
	switch {
	case rt.IsMaterialized && !d.IsMatView():
		kind = "materialized view"
	case rt.IsView && !rt.IsMaterialized && d.ViewQuery == "":
		kind = "view"
	case !rt.IsView && d.ViewQuery != "":
		kind = "table"
	}
	if kind != "" {
		return nil, true, pgerror.Newf("42809", "%q is not a %s", name, kind)
	}
	if err := b.checkOwner(d); err != nil {
		return nil, true, err
	}
	if other, err := catalog.GetTable(b.ctx, b.txn, catalog.RelKey{DB: d.ParentID, Schema: d.Schema, Name: newName}); err != nil || other != nil {
		if err != nil {
			return nil, true, err
		}
		return nil, true, pgerror.Newf("42P07", "relation %q already exists", newName)
	}
	return res, true, catalog.RenameTable(b.ctx, b.txn, d, newName)
}

// addPrimaryKey gives a table created without a primary key (keyed by its
// hidden rowid) one, as pgbench -i does after loading: every row moves to
// its new key and every secondary index entry to the new key suffix, in
// the statement's transaction. The key columns become NOT NULL; rowid
// stays as a hidden column.
func (b schemaChanger) addPrimaryKey(d *catalog.TableDescriptor, u *tree.UniqueConstraintTableDef, r *runner) error {
	if !(len(d.PrimaryKey) == 1 && d.Columns[d.PrimaryKey[0]].Hidden) {
		return pgerror.Newf("42P16", "multiple primary keys for table %q are not allowed", d.Name)
	}
	var cols []int
	for _, ic := range u.Columns {
		i := d.ColumnIndex(string(ic.Column))
		if i < 0 || d.Columns[i].Hidden {
			return pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", ic.Column, d.Name)
		}
		for _, c := range cols {
			if c == i {
				return pgerror.Newf("42701", "column %q appears twice in primary key constraint", ic.Column)
			}
		}
		cols = append(cols, i)
	}
	old := *d
	old.Columns = append([]catalog.ColumnDescriptor{}, d.Columns...)
	scan := &scanNode{desc: &old, cols: resultColumns(&old)}
	var rows []tree.Datums
	for {
		row, err := scan.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		rows = append(rows, append(tree.Datums(nil), row...))
	}
	for _, c := range cols {
		if err := catalog.CheckKeyColumn(&d.Columns[c]); err != nil {
			return err
		}
	}
	d.PrimaryKey = cols
	for _, c := range cols {
		d.Columns[c].Nullable = false
	}
	// Check every row before writing anything.
	keys := make([][]byte, len(rows))
	seen := make(map[string]struct{}, len(rows))
	for n, row := range rows {
		for _, c := range cols {
			if row[c] == tree.DNull {
				return pgerror.Newf("23502", "column %q of relation %q contains null values", d.Columns[c].Name, d.Name)
			}
		}
		key, err := rowenc.RowKey(d, row)
		if err != nil {
			return err
		}
		if _, dup := seen[string(key)]; dup {
			return pgerror.WithDetail(pgerror.Newf(pgerror.CodeUniqueViolation, "could not create unique index %q", d.Name+"_pkey"),
				fmt.Sprintf("Key %s is duplicated.", keyText(d, cols, row)))
		}
		seen[string(key)] = struct{}{}
		keys[n] = key
	}
	if err := catalog.ClearTable(b.ctx, b.txn, &old); err != nil {
		return err
	}
	const batch = 256
	var kvs []kvapi.KeyValue
	for n, row := range rows {
		v, err := rowenc.RowValue(d, row)
		if err != nil {
			return err
		}
		kvs = append(kvs, kvapi.KeyValue{Key: keys[n], Value: v})
		for i := range d.Indexes {
			iks, err := indexEntries(d, &d.Indexes[i], r, row)
			if err != nil {
				return err
			}
			for _, ik := range iks {
				kvs = append(kvs, kvapi.KeyValue{Key: ik, Value: []byte{0}})
			}
		}
		if len(kvs) >= batch || n == len(rows)-1 {
			if err := b.txn.PutMany(b.ctx, kvs); err != nil {
				return err
			}
			kvs = kvs[:0]
		}
	}
	return nil
}
