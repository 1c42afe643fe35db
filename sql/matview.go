package sql

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// Materialized views, as PostgreSQL's: a relation whose rows are stored
// like a table's (a hidden rowid key, secondary indexes by CREATE INDEX)
// and are its query's result as of its creation or its last REFRESH
// MATERIALIZED VIEW, which replaces them in the statement's transaction.
// The descriptor keeps the query's SQL (MatViewQuery) and what it reads
// (DependsOn, as a view's), so DROP's dependency rules apply alike. DML
// is refused (writableTable); WITH NO DATA leaves it unpopulated, and
// scanning it then fails (scanNode.next).

// createMatView is CREATE MATERIALIZED VIEW: the relation, and unless
// WITH NO DATA, the query's rows (the tag is then SELECT n, as in
// PostgreSQL).
func (b schemaChanger) createMatView(cv *tree.CreateView, r *runner) (*result, error) {
	res := &result{tag: "CREATE MATERIALIZED VIEW"}
	if cv.Persistence != tree.PersistencePermanent {
		return nil, pgerror.Unsupported("%s materialized views are not supported", cv.Persistence)
	}
	key, existing, err := b.newRelation(&cv.Name)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if cv.IfNotExists {
			res.notices = append(res.notices, notice{pgerror.SeverityNotice, "42P07",
				fmt.Sprintf("relation %q already exists, skipping", key.Name), ""})
			return res, nil
		}
		return nil, pgerror.Newf("42P07", "relation %q already exists", key.Name)
	}
	b.deps = newViewDeps()
	src, err := b.buildSelect(cv.AsSource)
	deps := b.deps
	b.deps = nil
	if err == nil {
		// The query reads with the creator's privileges.
		err = b.priv.checkReqs()
	}
	if err != nil {
		return nil, err
	}
	for id := range deps.rels {
		dep, err := catalog.GetTableByID(b.ctx, b.txn, id)
		if err != nil {
			return nil, err
		}
		if dep != nil && strings.HasPrefix(dep.Schema, "pg_temp") {
			// It would outlive the session's relations it reads.
			return nil, pgerror.New("0A000", "materialized views must not use temporary tables or views")
		}
	}
	cols := visibleCols(src)
	if len(cv.ColumnNames) > len(cols) {
		return nil, pgerror.New(pgerror.CodeSyntaxError, "too many column names were specified")
	}
	d := newDescriptor(key)
	d.MatViewQuery = tree.AsStringWithFlags(cv.AsSource, tree.FmtParsable)
	d.Unpopulated = !cv.WithData
	if err := deps.record(b, d); err != nil {
		return nil, err
	}
	for i, c := range cols {
		name := c.name
		if i < len(cv.ColumnNames) {
			name = string(cv.ColumnNames[i])
		}
		if name == "" {
			name = "?column?"
		}
		if d.ColumnIndex(name) >= 0 {
			return nil, pgerror.Newf("42701", "column %q specified more than once", name)
		}
		t := c.typ
		if t.Family() == types.UnknownFamily {
			t = types.String // PostgreSQL makes an unknown-typed column text
		}
		if !rowenc.Storable(t) {
			return nil, pgerror.Unsupported("column %q: type %s is not supported yet", name, t.SQLString())
		}
		d.NextColumnID++
		d.Columns = append(d.Columns, catalog.ColumnDescriptor{ID: d.NextColumnID, Name: name, Nullable: true}.WithType(t))
	}
	if len(d.Columns) == 0 {
		return nil, pgerror.Unsupported("materialized views without columns are not supported")
	}
	addRowID(d)
	if err := b.createRelation(d); err != nil {
		return nil, err
	}
	if d.Unpopulated {
		return res, nil
	}
	n, err := b.insertQueryRows(d, src, len(cols), r)
	if err != nil {
		return nil, err
	}
	res.tag = fmt.Sprintf("SELECT %d", n)
	return res, nil
}

// addRowID gives d, whose rows have no key of their own (CREATE TABLE AS,
// a materialized view), a hidden rowid column as its primary key: the
// last column.
func addRowID(d *catalog.TableDescriptor) {
	d.NextColumnID++
	d.Columns = append(d.Columns, catalog.ColumnDescriptor{ID: d.NextColumnID, Name: "rowid",
		Default: "unique_rowid()", Hidden: true}.WithType(types.Int))
	d.PrimaryKey = []int{len(d.Columns) - 1}
}

// visibleColumns is how many of d's columns are not hidden: those a
// CREATE TABLE AS or materialized view query fills, in order (the
// others are the rowid and expression indexes' keys, computed).
func visibleColumns(d *catalog.TableDescriptor) int {
	n := 0
	for i := range d.Columns {
		if !d.Columns[i].Hidden {
			n++
		}
	}
	return n
}

// insertQueryRows writes the rows of src (its first width columns, in
// order into d's visible columns; a rowid from addRowID for the key)
// into d, and returns how many it wrote.
func (b schemaChanger) insertQueryRows(d *catalog.TableDescriptor, src planNode, width int, r *runner) (int, error) {
	defaults, err := b.defaultExprs(d)
	if err != nil {
		return 0, err
	}
	fr := &fullRowNode{desc: d, src: &cutNode{src: src, width: width}, srcIdx: make([]int, len(d.Columns)), defaults: defaults}
	next := 0
	for i := range fr.srcIdx {
		fr.srcIdx[i] = -1
		if !d.Columns[i].Hidden {
			fr.srcIdx[i] = next
			next++
		}
	}
	ins := &insertNode{desc: d, src: fr}
	before := r.rowsAffected
	for {
		row, err := ins.next(r)
		if err != nil {
			return 0, err
		}
		if row == nil {
			return r.rowsAffected - before, nil
		}
	}
}

// refreshMatView is REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH
// [NO] DATA]: the rows are replaced by the query's (run with the owner's
// privileges, as PostgreSQL does) in the statement's transaction, so
// other transactions see the old rows or the new ones, never a mix.
// CONCURRENTLY, which in PostgreSQL spares readers a lock, has the same
// result here (readers never wait on a refresh), but keeps its
// preconditions: a populated view with a plain unique index.
func (b schemaChanger) refreshMatView(st *tree.RefreshMaterializedView, r *runner) error {
	if st.AsOf.Expr != nil {
		return pgerror.New(pgerror.CodeSyntaxError, `syntax error at or near "AS"`)
	}
	tn := st.Name.ToTableName()
	d, err := b.names.mustFind(b.ctx, b.txn, &tn)
	if err != nil {
		return err
	}
	if !d.HasRows() {
		return pgerror.Newf("42809", "%q is not a table or materialized view", d.Name)
	}
	if err := b.checkOwner(d); err != nil {
		return err
	}
	if !d.IsMatView() {
		return pgerror.Newf("0A000", "%q is not a materialized view", d.Name)
	}
	noData := st.RefreshDataOption == tree.RefreshDataClear
	if st.Concurrently {
		if d.Unpopulated {
			return pgerror.New("0A000", "CONCURRENTLY cannot be used when the materialized view is not populated")
		}
		if noData {
			return pgerror.New(pgerror.CodeSyntaxError, "CONCURRENTLY and WITH NO DATA options cannot be used together")
		}
		if !hasPlainUniqueIndex(d) {
			return pgerror.WithHint(pgerror.Newf("55000", "cannot refresh materialized view \"%s.%s\" concurrently", d.Schema, d.Name),
				"Create a unique index with no WHERE clause on one or more columns of the materialized view.")
		}
	}
	var src planNode
	if !noData {
		stmts, err := parseSQL(d.MatViewQuery)
		if err != nil {
			return err
		}
		q, ok := stmts[0].AST.(*tree.Select)
		if !ok || len(stmts) != 1 {
			return errors.AssertionFailedf("materialized view %q has a query that is not a SELECT", d.Name)
		}
		// The query reads with the owner's privileges.
		as := b.privAs
		b.privAs = d.OwnerID()
		src, err = b.buildSelect(q)
		b.privAs = as
		if err == nil {
			err = b.priv.checkReqs()
		}
		if err != nil {
			return err
		}
		if len(visibleCols(src)) < visibleColumns(d) {
			// A view's query is planned anew at each use as well;
			// what it reads may have lost a column since.
			return pgerror.Newf("42P16", "materialized view %q: its query no longer yields its %d columns", d.Name, visibleColumns(d))
		}
	}
	if err := catalog.ClearTable(b.ctx, b.txn, d); err != nil {
		return err
	}
	if noData != d.Unpopulated {
		d.Unpopulated = noData
		if err := catalog.PutDescriptor(b.ctx, b.txn, d); err != nil {
			return err
		}
	}
	if noData {
		return nil
	}
	width := visibleColumns(d)
	if st.Concurrently {
		src = &dupRowCheckNode{src: src, width: width, name: d.Name, seen: map[string]struct{}{}}
	}
	_, err = b.insertQueryRows(d, src, width, r)
	return err
}

// dupRowCheckNode passes on its source's rows, failing as PostgreSQL's
// REFRESH ... CONCURRENTLY does on two equal rows without a NULL (which
// its row-by-row diff cannot tell apart): 21000, before the unique
// index would report the same rows as 23505. It keeps a key per row.
type dupRowCheckNode struct {
	src   planNode
	width int
	name  string
	seen  map[string]struct{}
}

func (n *dupRowCheckNode) columns() []resultColumn { return n.src.columns() }

func (n *dupRowCheckNode) explain() (string, []*planNode) {
	return "duplicate row check", []*planNode{&n.src}
}

func (n *dupRowCheckNode) next(r *runner) (tree.Datums, error) {
	row, err := n.src.next(r)
	if err != nil || row == nil {
		return nil, err
	}
	vals := row[:n.width]
	for _, v := range vals {
		if v == tree.DNull {
			return row, nil
		}
	}
	key, _, err := rowKey(vals, n.src.columns()[:n.width], r)
	if err != nil {
		return nil, err
	}
	if _, ok := n.seen[key]; ok {
		shown := make([]string, len(vals))
		for i, v := range vals {
			shown[i] = tree.AsStringWithFlags(v, tree.FmtPgwireText)
		}
		return nil, pgerror.WithDetail(pgerror.Newf("21000", "new data for materialized view %q contains duplicate rows without any null columns", n.name),
			"Row: ("+strings.Join(shown, ",")+")")
	}
	n.seen[key] = struct{}{}
	return row, nil
}

// hasPlainUniqueIndex reports whether d has what REFRESH MATERIALIZED
// VIEW CONCURRENTLY needs in PostgreSQL: a unique index on columns (no
// expression), with no WHERE.
func hasPlainUniqueIndex(d *catalog.TableDescriptor) bool {
	for _, idx := range d.Indexes {
		if !idx.Unique || idx.Predicate != "" || idx.Inverted() {
			continue
		}
		plain := true
		for _, c := range idx.Columns {
			plain = plain && !d.Columns[c].IsExprColumn()
		}
		if plain {
			return true
		}
	}
	return false
}

// unpopulatedError is the error of a scan of a materialized view made or
// refreshed WITH NO DATA.
func unpopulatedError(d *catalog.TableDescriptor) error {
	return pgerror.WithHint(pgerror.Newf("55000", "materialized view %q has not been populated", d.Name),
		"Use the REFRESH MATERIALIZED VIEW command.")
}

// alterActionName names an ALTER TABLE command as PostgreSQL's errors do
// (ADD COLUMN, ALTER COLUMN TYPE, ...).
func alterActionName(cmd tree.AlterTableCmd) string {
	return strings.ToUpper(strings.ReplaceAll(cmd.TelemetryName(), "_", " "))
}
