package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/idxtype"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// schemaChanger runs DDL: it changes descriptors (and the rows a change
// rewrites) in the statement's transaction. It plans with the builder the
// expressions and queries a statement holds (defaults, checks, a view's
// query, CREATE TABLE AS), but the builder itself only plans.
type schemaChanger struct {
	*builder
}

// exec runs stmt if it is DDL, and reports whether it was.
func (b schemaChanger) exec(stmt tree.Statement, r *runner) (*result, bool, error) {
	switch st := stmt.(type) {
	case *tree.CreateTable:
		if st.As() {
			n, err := b.createTableAs(st, r)
			return &result{tag: fmt.Sprintf("SELECT %d", n)}, true, err
		}
		return &result{tag: "CREATE TABLE"}, true, b.createTable(st)
	case *tree.DropTable:
		res, err := b.dropRelations(st.Names, "table", st.IfExists, st.DropBehavior == tree.DropCascade)
		return res, true, err
	case *tree.CreateSequence:
		return &result{tag: "CREATE SEQUENCE"}, true, b.createSequence(st)
	case *tree.CreateType:
		res, err := b.createType(st)
		return res, true, err
	case *tree.AlterType:
		res, err := b.alterType(st)
		return res, true, err
	case *tree.DropType:
		res, err := b.dropTypes(st)
		return res, true, err
	case *tree.CreateRoutine:
		res, err := b.createFunction(st)
		return res, true, err
	case *tree.DropRoutine:
		res, err := b.dropFunctions(st)
		return res, true, err
	case *tree.DropSequence:
		res, err := b.dropRelations(st.Names, "sequence", st.IfExists, st.DropBehavior == tree.DropCascade)
		return res, true, err
	case *tree.AlterSequence:
		return &result{tag: "ALTER SEQUENCE"}, true, b.alterSequence(st)
	case *tree.CommentOnTable, *tree.CommentOnColumn:
		return &result{tag: "COMMENT"}, true, b.commentOn(st)
	case *tree.Truncate:
		return &result{tag: "TRUNCATE TABLE"}, true, b.truncate(st)
	case *vacuumStmt:
		return &result{tag: st.tag}, true, b.vacuum(st, r)
	case *tree.CreateIndex:
		return &result{tag: "CREATE INDEX"}, true, b.createIndex(st, r)
	case *tree.AlterTable:
		res := &result{tag: "ALTER TABLE"}
		return res, true, b.alterTable(st, r, res)
	case *tree.RenameTable:
		tag := "ALTER TABLE"
		switch {
		case st.IsSequence:
			tag = "ALTER SEQUENCE"
		case st.IsMaterialized:
			tag = "ALTER MATERIALIZED VIEW"
		case st.IsView:
			tag = "ALTER VIEW"
		}
		return b.renameTable(st, tag)
	case *tree.CreateView:
		if st.Materialized {
			res, err := b.createMatView(st, r)
			return res, true, err
		}
		return &result{tag: "CREATE VIEW"}, true, b.createView(st)
	case *tree.RefreshMaterializedView:
		return &result{tag: "REFRESH MATERIALIZED VIEW"}, true, b.refreshMatView(st, r)
	case *tree.AlterTableOwner:
		return b.alterOwner(st)
	case *tree.DropView:
		kind := "view"
		if st.IsMaterialized {
			kind = "materialized view"
		}
		res, err := b.dropRelations(st.Names, kind, st.IfExists, st.DropBehavior == tree.DropCascade)
		return res, true, err
	case *tree.DropIndex:
		return &result{tag: "DROP INDEX"}, true, b.dropIndex(st)
	}
	return nil, false, nil
}

// columnType resolves the type of column name, refusing the types a
// column cannot have yet.
func (b schemaChanger) columnType(ref tree.ResolvableTypeReference, name string) (*types.T, error) {
	t, err := tree.ResolveType(b.ctx, ref, typeResolver{b.builder})
	if err != nil {
		return nil, sem.WithParserCode(err)
	}
	if !rowenc.Storable(t) {
		return nil, pgerror.Unsupported("column %q: type %s is not supported yet", name, t.SQLString())
	}
	return t, nil
}

func (b schemaChanger) createTable(ct *tree.CreateTable) error {
	key, existing, err := b.newRelation(&ct.Table)
	if err != nil {
		return err
	}
	name := key.Name
	if existing != nil {
		if ct.IfNotExists {
			return nil
		}
		return pgerror.Newf("42P07", "relation %q already exists", name)
	}
	d := newDescriptor(key)
	var pk []string
	// Secondary indexes, created once the columns are known.
	type indexDef struct {
		name   string
		cols   []string
		unique bool
		// elems, include and where: an INDEX (...) definition's, made
		// by addIndexDef (cols is then unused).
		elems   tree.IndexElemList
		include tree.NameList
		where   tree.Expr
	}
	var indexes []indexDef
	// seqs are the sequences of SERIAL and identity columns.
	var seqs []*catalog.TableDescriptor
	// Constraints added once every column is known (and, for foreign
	// keys, once the table has its ID).
	type checkDef struct {
		name string
		expr tree.Expr
	}
	var checks []checkDef
	type fkDef struct {
		name          string
		cols, refCols []string
		table         tree.TableName
		actions       tree.ReferenceActions
		match         tree.CompositeKeyMatchMethod
	}
	var fks []fkDef
	// Generated columns, checked once every column is known.
	type genDef struct {
		col  int
		expr tree.Expr
	}
	var gens []genDef
	for _, def := range ct.Defs {
		switch def := def.(type) {
		case *tree.ColumnTableDef:
			t, err := b.columnType(def.Type, string(def.Name))
			if err != nil {
				return err
			}
			if d.ColumnIndex(string(def.Name)) >= 0 {
				return pgerror.Newf("42701", "column %q specified more than once", def.Name)
			}
			d.NextColumnID++
			c := catalog.ColumnDescriptor{ID: d.NextColumnID, Name: string(def.Name),
				Nullable: def.Nullable.Nullability != tree.NotNull}.WithType(t)
			if def.IsSerial || def.GeneratedIdentity.IsGeneratedAsIdentity {
				// A sequence of its own, as in PostgreSQL: SERIAL is
				// INT4 (BIGSERIAL INT8, SMALLSERIAL INT2) DEFAULT
				// nextval('<table>_<column>_seq') NOT NULL.
				if def.IsSerial {
					c = c.WithType(serialType(def.Type))
				}
				if c.Type().Family() != types.IntFamily {
					return pgerror.Newf(pgerror.CodeInvalidParameterValue, "identity column type must be smallint, integer, or bigint")
				}
				c.Nullable = false
				seq, err := columnSequence(d, &c, def.GeneratedIdentity.SeqOptions)
				if err != nil {
					return err
				}
				if def.GeneratedIdentity.IsGeneratedAsIdentity {
					c.Identity = "d"
					if def.GeneratedIdentity.GeneratedAsIdentityType == tree.GeneratedAlways {
						c.Identity = "a"
					}
				}
				seqs = append(seqs, seq)
			}
			if def.HasDefaultExpr() {
				te, err := b.typeCheck(def.DefaultExpr.Expr, &scope{}, t)
				if err != nil {
					return err
				}
				c.Default = tree.Serialize(te)
			}
			if def.PrimaryKey.IsPrimaryKey {
				if pk != nil {
					return pgerror.Newf("42P16", "multiple primary keys for table %q are not allowed", name)
				}
				pk = []string{c.Name}
			}
			if def.Unique.IsUnique && !def.PrimaryKey.IsPrimaryKey {
				indexes = append(indexes, indexDef{name: string(def.Unique.ConstraintName), cols: []string{string(def.Name)}, unique: true})
			}
			if def.Computed.Computed {
				switch {
				case def.Computed.Virtual:
					return pgerror.Unsupported("virtual generated columns are not supported: PostgreSQL 15 has only STORED ones")
				case def.HasDefaultExpr():
					return pgerror.Newf(pgerror.CodeSyntaxError, "both default and generation expression specified for column %q of table %q", c.Name, name)
				case def.IsSerial || def.GeneratedIdentity.IsGeneratedAsIdentity:
					return pgerror.Newf(pgerror.CodeSyntaxError, "both identity and generation expression specified for column %q of table %q", c.Name, name)
				}
				gens = append(gens, genDef{col: len(d.Columns), expr: def.Computed.Expr})
			}
			for _, ce := range def.CheckExprs {
				checks = append(checks, checkDef{name: string(ce.ConstraintName), expr: ce.Expr})
			}
			if ref := def.References; ref.Table != nil {
				var refCols []string
				if ref.Col != "" {
					refCols = []string{string(ref.Col)}
				}
				fks = append(fks, fkDef{name: string(ref.ConstraintName), cols: []string{c.Name}, refCols: refCols,
					table: *ref.Table, actions: ref.Actions, match: ref.Match})
			}
			d.Columns = append(d.Columns, c)
		case *tree.UniqueConstraintTableDef:
			if !def.PrimaryKey {
				var cols []string
				for _, c := range def.Columns {
					if c.Expr != nil {
						return pgerror.Unsupported("expression indexes are not supported yet")
					}
					cols = append(cols, string(c.Column))
				}
				if len(def.Storing) > 0 || def.Predicate != nil {
					indexes = append(indexes, indexDef{name: string(def.Name), unique: true, elems: def.Columns, include: def.Storing, where: def.Predicate})
					continue
				}
				indexes = append(indexes, indexDef{name: string(def.Name), cols: cols, unique: true})
				continue
			}
			if pk != nil {
				return pgerror.Newf("42P16", "multiple primary keys for table %q are not allowed", name)
			}
			if len(def.Storing) > 0 {
				return pgerror.Unsupported("INCLUDE on a primary key is not supported yet")
			}
			for _, col := range def.Columns {
				pk = append(pk, string(col.Column))
			}
		case *tree.CheckConstraintTableDef:
			checks = append(checks, checkDef{name: string(def.Name), expr: def.Expr})
		case *tree.ForeignKeyConstraintTableDef:
			fks = append(fks, fkDef{name: string(def.Name), cols: nameStrings(def.FromCols), refCols: nameStrings(def.ToCols),
				table: def.Table, actions: def.Actions, match: def.Match})
		case *tree.IndexTableDef:
			indexes = append(indexes, indexDef{name: string(def.Name), elems: def.Columns, include: def.Storing, where: def.Predicate})
		default:
			return pgerror.Unsupported("%T in CREATE TABLE is not supported yet", def)
		}
	}
	if len(d.Columns) == 0 {
		return pgerror.Unsupported("tables without columns are not supported")
	}
	for _, g := range gens {
		d.Columns[g.col].Generated = "x" // for checkGeneratedExpr
	}
	for _, g := range gens {
		if _, err := b.checkGeneratedExpr(d, g.col, g.expr); err != nil {
			return err
		}
		d.Columns[g.col].Generated = tree.Serialize(g.expr)
	}
	if pk == nil {
		// A table without a primary key gets a hidden one, as in CockroachDB.
		d.NextColumnID++
		d.Columns = append(d.Columns, catalog.ColumnDescriptor{ID: d.NextColumnID, Name: "rowid",
			Default: "unique_rowid()", Hidden: true}.WithType(types.Int))
		pk = []string{"rowid"}
	}
	for _, col := range pk {
		i := d.ColumnIndex(col)
		if i < 0 {
			return pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q named in key does not exist", col)
		}
		if err := catalog.CheckKeyColumn(&d.Columns[i]); err != nil {
			return err
		}
		d.Columns[i].Nullable = false
		d.PrimaryKey = append(d.PrimaryKey, i)
	}
	for _, idx := range indexes {
		var added *catalog.IndexDescriptor
		var err error
		if idx.elems != nil {
			added, err = b.addIndexDef(d, idx.name, idx.elems, idx.include, idx.where, idx.unique, "", nil)
		} else {
			added, err = d.AddIndex(idx.name, idx.cols, idx.unique)
		}
		if err != nil {
			return err
		}
		// Every unique index here comes from a UNIQUE constraint (CREATE
		// TABLE has no other way to make one).
		added.Constraint = idx.unique
	}
	for _, ck := range checks {
		if err := b.addCheck(d, ck.name, ck.expr); err != nil {
			return err
		}
	}
	if err := b.createRelation(d); err != nil {
		return err
	}
	for _, fk := range fks {
		parent := d
		p, err := b.names.mustFind(b.ctx, b.txn, &fk.table)
		if err != nil {
			return err
		}
		if p.ID != d.ID {
			if err := b.priv.checkTable(p, catalog.PrivReferences); err != nil {
				return err
			}
		}
		if p.ID != d.ID {
			parent = p
		}
		if _, err := b.addForeignKey(d, parent, fk.name, fk.cols, fk.refCols, fk.actions, fk.match); err != nil {
			return err
		}
		if parent != d {
			if err := catalog.PutDescriptor(b.ctx, b.txn, parent); err != nil {
				return err
			}
		}
	}
	if len(fks) > 0 {
		if err := catalog.PutDescriptor(b.ctx, b.txn, d); err != nil {
			return err
		}
	}
	for _, seq := range seqs {
		seq.ParentID, seq.Schema = d.ParentID, d.Schema
		if existing, err := catalog.GetTable(b.ctx, b.txn, seq.Key()); err != nil {
			return err
		} else if existing != nil {
			return pgerror.Newf("42P07", "relation %q already exists", seq.Name)
		}
		seq.Sequence.OwnedByTable = d.ID
		if err := b.createSequenceRel(seq); err != nil {
			return err
		}
	}
	return nil
}

func nameStrings(l tree.NameList) []string {
	out := make([]string, len(l))
	for i, n := range l {
		out[i] = string(n)
	}
	return out
}

// unlinkInbound removes the record of foreign key name of table child
// from table parent.
func (b schemaChanger) unlinkInbound(parentID, child uint32, name string) error {
	parent, err := catalog.GetTableByID(b.ctx, b.txn, parentID)
	if err != nil || parent == nil {
		return err
	}
	kept := parent.InboundFKs[:0]
	for _, in := range parent.InboundFKs {
		if in.Table != child || in.Name != name {
			kept = append(kept, in)
		}
	}
	parent.InboundFKs = kept
	return catalog.PutDescriptor(b.ctx, b.txn, parent)
}

// commentOn is COMMENT ON TABLE / COLUMN: the text is kept with the
// table's descriptor (NULL or an empty text removes it), for obj_description and
// col_description (psql's \d+ and \dt+).
func (b schemaChanger) commentOn(stmt tree.Statement) error {
	var table tree.TableName
	var column string
	var comment *string
	switch c := stmt.(type) {
	case *tree.CommentOnTable:
		table, comment = c.Table.ToTableName(), c.Comment
	case *tree.CommentOnColumn:
		if c.TableName == nil {
			return pgerror.New(pgerror.CodeSyntaxError, "column name must be qualified")
		}
		table, column, comment = c.TableName.ToTableName(), string(c.ColumnName), c.Comment
	}
	d, err := b.names.mustFind(b.ctx, b.txn, &table)
	if err != nil {
		return err
	}
	if err := b.checkOwner(d); err != nil {
		return err
	}
	text := ""
	if comment != nil {
		text = *comment
	}
	if column == "" {
		d.Comment = text
	} else {
		i := d.ColumnIndex(column)
		if i < 0 || d.Columns[i].Hidden {
			return pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", column, d.Name)
		}
		d.Columns[i].Comment = text
	}
	return catalog.PutDescriptor(b.ctx, b.txn, d)
}

// serialType is the integer type of a SERIAL column: the parser gives
// SERIAL4 and friends their integer widths.
func serialType(ref tree.ResolvableTypeReference) *types.T {
	if t, ok := ref.(*types.T); ok {
		switch t.Width() {
		case 16:
			return types.Int2
		case 32:
			return types.Int4
		}
	}
	return types.Int
}

// createIndex adds an index to an existing table and writes its entries
// for the rows already there, in the statement's transaction.
func (b schemaChanger) createIndex(ci *tree.CreateIndex, r *runner) error {
	d, err := b.names.mustFind(b.ctx, b.txn, &ci.Table)
	if err != nil {
		return err
	}
	if !d.HasRows() {
		return pgerror.Newf("42809", "%q is not a table or materialized view", d.Name)
	}
	if err := b.checkOwner(d); err != nil {
		return err
	}
	if ci.Sharded != nil {
		return pgerror.Unsupported("hash-sharded indexes (USING HASH) are not supported")
	}
	if ci.IfNotExists && ci.Name != "" && d.FindIndex(string(ci.Name)) >= 0 {
		return nil
	}
	method := ""
	if ci.Type == idxtype.INVERTED {
		method = catalog.MethodGIN
	}
	idx, err := b.addIndexDef(d, string(ci.Name), ci.Columns, ci.Storing, ci.Predicate, ci.Unique, method, r)
	if err != nil {
		return err
	}
	// Backfill: one entry per row, unique ones checked as they go in.
	only := *d
	only.Indexes = []catalog.IndexDescriptor{*idx}
	scan := &scanNode{desc: d, cols: resultColumns(d)}
	for {
		row, err := scan.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		if err := updateIndexes(&only, r, nil, row); err != nil {
			return err
		}
	}
	return catalog.PutDescriptor(b.ctx, b.txn, d)
}

// dropIndex removes indexes and their entries. An index named without its
// table is looked for in every table.
func (b schemaChanger) dropIndex(di *tree.DropIndex) error {
	for _, tin := range di.IndexList {
		name := string(tin.Index)
		var tables []*catalog.TableDescriptor
		if tin.Table.ObjectName != "" {
			d, err := b.names.mustFind(b.ctx, b.txn, &tin.Table)
			if err != nil {
				return err
			}
			tables = []*catalog.TableDescriptor{d}
		} else {
			all, err := catalog.ListTables(b.ctx, b.txn, b.names.db.ID)
			if err != nil {
				return err
			}
			tables = all
		}
		found := false
		for _, d := range tables {
			i := d.FindIndex(name)
			if i < 0 {
				continue
			}
			found = true
			if err := b.priv.checkOwner(d); err != nil {
				return insufficient("must be owner of index %s", name)
			}
			prefix := d.IndexPrefixOf(d.Indexes[i].ID)
			if _, err := b.txn.DelRange(b.ctx, prefix, catalog.PrefixEnd(prefix)); err != nil {
				return err
			}
			d.Indexes = append(d.Indexes[:i], d.Indexes[i+1:]...)
			if err := b.dropUnusedExprColumns(d); err != nil {
				return err
			}
			if err := catalog.PutDescriptor(b.ctx, b.txn, d); err != nil {
				return err
			}
			break
		}
		if !found && !di.IfExists {
			return pgerror.Newf("42704", "index %q does not exist", name)
		}
	}
	return nil
}

// truncate empties tables, in the statement's transaction like any write
// (PostgreSQL's TRUNCATE is transactional too).
func (b schemaChanger) truncate(t *tree.Truncate) error {
	if t.DropBehavior == tree.DropCascade {
		return pgerror.Unsupported("TRUNCATE ... CASCADE is not supported yet")
	}
	var descs []*catalog.TableDescriptor
	for i := range t.Tables {
		d, err := b.names.mustFind(b.ctx, b.txn, &t.Tables[i])
		if err != nil {
			return err
		}
		if !d.IsTable() {
			return pgerror.Newf("42809", "%q is not a table", d.Name)
		}
		if err := b.priv.checkTable(d, catalog.PrivTruncate); err != nil {
			return err
		}
		descs = append(descs, d)
	}
	for _, d := range descs {
		for _, in := range d.InboundFKs {
			truncated := false
			for _, o := range descs {
				truncated = truncated || o.ID == in.Table
			}
			if !truncated {
				child, err := catalog.GetTableByID(b.ctx, b.txn, in.Table)
				if err != nil {
					return err
				}
				name := "?"
				if child != nil {
					name = child.Name
				}
				return pgerror.WithHint(pgerror.WithDetail(
					pgerror.New("0A000", "cannot truncate a table referenced in a foreign key constraint"),
					fmt.Sprintf("Table %q references %q.", name, d.Name)),
					fmt.Sprintf("Truncate table %q at the same time.", name))
			}
		}
	}
	for _, d := range descs {
		if err := catalog.ClearTable(b.ctx, b.txn, d); err != nil {
			return err
		}
	}
	return nil
}

// createView stores a view: its query's SQL and output columns. The query
// is planned now to check it, and again at each use.
func (b schemaChanger) createView(cv *tree.CreateView) error {
	if cv.Persistence == tree.PersistenceUnlogged {
		return pgerror.Unsupported("unlogged views are not supported")
	}
	key, existing, err := b.newRelation(&cv.Name)
	if err != nil {
		return err
	}
	name := key.Name
	if existing != nil {
		switch {
		case cv.IfNotExists:
			return nil
		case !cv.Replace || existing.ViewQuery == "":
			return pgerror.Newf("42P07", "relation %q already exists", name)
		}
	}
	b.deps = newViewDeps()
	p, err := b.buildSelect(cv.AsSource)
	deps := b.deps
	b.deps = nil
	if err != nil {
		return err
	}
	cols := visibleCols(p)
	if len(cv.ColumnNames) > len(cols) {
		return pgerror.New("42601", "CREATE VIEW specifies more column names than columns")
	}
	d := &catalog.TableDescriptor{Name: name, ParentID: key.DB, Schema: key.Schema, ViewQuery: tree.AsStringWithFlags(cv.AsSource, tree.FmtParsable)}
	if err := deps.record(b, d); err != nil {
		return err
	}
	for i, c := range cols {
		n := c.name
		if i < len(cv.ColumnNames) {
			n = string(cv.ColumnNames[i])
		}
		typ := c.typ
		if typ.Family() == types.UnknownFamily {
			typ = types.String
		}
		d.NextColumnID++
		d.Columns = append(d.Columns, catalog.ColumnDescriptor{ID: d.NextColumnID, Name: n, Nullable: true}.WithType(typ))
	}
	if existing != nil {
		// OR REPLACE may add columns at the end, as PostgreSQL allows,
		// but not drop, rename or retype the ones there are.
		if len(d.Columns) < len(existing.Columns) {
			return pgerror.New("42P16", "cannot drop columns from view")
		}
		for i, old := range existing.Columns {
			nc := d.Columns[i]
			if nc.Name != old.Name {
				return pgerror.Newf("42P16", "cannot change name of view column %q to %q", old.Name, nc.Name)
			}
			if !nc.Type().Identical(old.Type()) {
				return pgerror.Newf("42P16", "cannot change data type of view column %q from %s to %s", old.Name, old.Type().SQLString(), nc.Type().SQLString())
			}
		}
		if err := catalog.DropTable(b.ctx, b.txn, existing); err != nil {
			return err
		}
	}
	return b.createRelation(d)
}

// createTableAs is CREATE TABLE ... AS query: a table with the query's
// columns (named by the optional column list), a hidden rowid key, and
// the query's rows, written in the statement's transaction. It returns
// the number of rows, for the command tag (SELECT n).
func (b schemaChanger) createTableAs(ct *tree.CreateTable, r *runner) (int, error) {
	key, existing, err := b.newRelation(&ct.Table)
	if err != nil {
		return 0, err
	}
	name := key.Name
	if existing != nil {
		if ct.IfNotExists {
			return 0, nil
		}
		return 0, pgerror.Newf("42P07", "relation %q already exists", name)
	}
	if ct.AsHasUserSpecifiedPrimaryKey() {
		return 0, pgerror.Unsupported("a PRIMARY KEY in CREATE TABLE AS is not supported yet")
	}
	src, err := b.buildSelect(ct.AsSource)
	if err == nil {
		// The query reads with the creator's privileges.
		err = b.priv.checkReqs()
	}
	if err != nil {
		return 0, err
	}
	cols := visibleCols(src)
	var names []string
	for _, def := range ct.Defs {
		cd, ok := def.(*tree.ColumnTableDef)
		if !ok {
			return 0, pgerror.Unsupported("%T in CREATE TABLE AS is not supported yet", def)
		}
		names = append(names, string(cd.Name))
	}
	if len(names) > len(cols) {
		return 0, pgerror.New(pgerror.CodeSyntaxError, "too many column names were specified")
	}
	d := newDescriptor(key)
	for i, c := range cols {
		colName := c.name
		if i < len(names) {
			colName = names[i]
		}
		if colName == "" || colName == "?column?" {
			colName = "?column?"
		}
		if d.ColumnIndex(colName) >= 0 {
			return 0, pgerror.Newf("42701", "column %q specified more than once", colName)
		}
		t := c.typ
		if t.Family() == types.UnknownFamily {
			t = types.String // PostgreSQL makes an unknown-typed column text
		}
		if !rowenc.Storable(t) {
			return 0, pgerror.Unsupported("column %q: type %s is not supported yet", colName, t.SQLString())
		}
		d.NextColumnID++
		d.Columns = append(d.Columns, catalog.ColumnDescriptor{ID: d.NextColumnID, Name: colName, Nullable: true}.WithType(t))
	}
	if len(d.Columns) == 0 {
		return 0, pgerror.Unsupported("tables without columns are not supported")
	}
	addRowID(d)
	if err := b.createRelation(d); err != nil {
		return 0, err
	}
	return b.insertQueryRows(d, src, len(cols), r)
}

// cutNode passes on the first width columns of its source's rows (a
// query's visible columns, without its hidden ordering ones).
type cutNode struct {
	src   planNode
	width int
}

func (n *cutNode) columns() []resultColumn { return n.src.columns()[:n.width] }

func (n *cutNode) explain() (string, []*planNode) {
	return fmt.Sprintf("first %d columns", n.width), []*planNode{&n.src}
}

func (n *cutNode) next(r *runner) (tree.Datums, error) {
	row, err := n.src.next(r)
	if err != nil || row == nil {
		return nil, err
	}
	return row[:n.width], nil
}
