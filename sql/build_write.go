package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// Planning INSERT (with ON CONFLICT), UPDATE and DELETE, and RETURNING.

// returning plans a RETURNING clause over a write node's full rows; it
// reports false when there is none.
func (b *builder) returning(rc tree.ReturningClause, desc *catalog.TableDescriptor, sc *scope) (*renderNode, bool, error) {
	exprs, ok := rc.(*tree.ReturningExprs)
	if !ok {
		return nil, false, nil
	}
	rn := &renderNode{}
	for _, se := range *exprs {
		if star(se.Expr) {
			for j, c := range sc.cols {
				if !c.hidden {
					rn.exprs = append(rn.exprs, tree.NewTypedOrdinalReference(j, c.typ))
					rn.cols = append(rn.cols, c)
				}
			}
			continue
		}
		te, err := b.typeCheck(se.Expr, sc, types.AnyElement)
		if err != nil {
			return nil, false, err
		}
		rn.exprs = append(rn.exprs, te)
		rn.cols = append(rn.cols, resultColumn{name: columnName(se, sc, te), typ: te.ResolvedType()})
	}
	return rn, true, nil
}

// buildOnConflict plans ON CONFLICT [(cols) | ON CONSTRAINT name] DO
// NOTHING | DO UPDATE SET ... [WHERE ...]: SET and WHERE see the existing
// row under the table's name and the proposed one as EXCLUDED.
func (b *builder) buildOnConflict(oc *tree.OnConflict, desc *catalog.TableDescriptor, sc *scope) (*onConflict, error) {
	if oc.IsUpsertAlias() {
		return nil, pgerror.Unsupported("UPSERT is not supported yet; use INSERT ... ON CONFLICT ... DO UPDATE")
	}
	// ON CONFLICT (cols) WHERE pred: a unique partial index on cols
	// whose predicate pred implies may arbitrate too, as in PostgreSQL.
	var arbiterPred tree.TypedExpr
	if oc.ArbiterPredicate != nil {
		if len(oc.Columns) == 0 {
			return nil, pgerror.Unsupported("ON CONFLICT ON CONSTRAINT ... WHERE is not supported")
		}
		var err error
		if arbiterPred, err = b.typeCheckBool(oc.ArbiterPredicate, &scope{cols: resultColumns(desc)}, "WHERE"); err != nil {
			return nil, err
		}
		if err := b.prepareIndexes(desc); err != nil {
			return nil, err
		}
	}
	out := &onConflict{doNothing: oc.DoNothing}
	switch {
	case len(oc.Columns) > 0:
		var cols []int
		for _, c := range oc.Columns {
			i := desc.ColumnIndex(string(c))
			if i < 0 {
				return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q does not exist", c)
			}
			cols = append(cols, i)
		}
		arb, ok := uniqueOn(desc, cols, arbiterPred)
		if !ok {
			return nil, pgerror.New("42P10", "there is no unique or exclusion constraint matching the ON CONFLICT specification")
		}
		out.arbiter = arb
	case oc.Constraint != "":
		name := string(oc.Constraint)
		if name == desc.Name+"_pkey" {
			out.arbiter = &arbiter{}
		} else if i := desc.FindIndex(name); i >= 0 && desc.Indexes[i].Unique {
			out.arbiter = &arbiter{index: &desc.Indexes[i]}
		} else {
			return nil, pgerror.Newf("42704", "constraint %q for table %q does not exist", name, desc.Name)
		}
	case !oc.DoNothing:
		return nil, pgerror.WithHint(pgerror.New("42601", "ON CONFLICT DO UPDATE requires inference specification or constraint name"),
			"For example, ON CONFLICT (column_name).")
	}
	if oc.DoNothing {
		return out, nil
	}
	// Existing row, then EXCLUDED.
	both := &scope{cols: append([]resultColumn{}, sc.cols...)}
	for _, c := range sc.cols {
		c.table = "excluded"
		both.cols = append(both.cols, c)
	}
	seen := map[int]bool{}
	for _, ue := range oc.Exprs {
		if ue.Tuple || len(ue.Names) != 1 {
			return nil, pgerror.Unsupported("UPDATE of a tuple of columns is not supported yet")
		}
		i := desc.ColumnIndex(string(ue.Names[0]))
		if i < 0 || desc.Columns[i].Hidden {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", ue.Names[0], desc.Name)
		}
		if seen[i] {
			return nil, pgerror.Newf("42601", "multiple assignments to same column %q", ue.Names[0])
		}
		seen[i] = true
		if err := refuseGeneratedUpdate(&desc.Columns[i], ue.Expr); err != nil {
			return nil, err
		}
		te, err := b.typeCheck(ue.Expr, both, desc.Columns[i].Type())
		if err != nil {
			return nil, err
		}
		out.setCols = append(out.setCols, i)
		out.setExprs = append(out.setExprs, te)
	}
	if oc.Where != nil {
		te, err := b.typeCheckBool(oc.Where.Expr, both, "WHERE")
		if err != nil {
			return nil, err
		}
		out.where = te
	}
	return out, nil
}

// uniqueOn returns the unique constraint on exactly the columns cols, in
// any order: a full one, or a partial unique index whose predicate pred
// (ON CONFLICT ... WHERE's, nil for none) implies.
func uniqueOn(d *catalog.TableDescriptor, cols []int, pred tree.TypedExpr) (*arbiter, bool) {
	same := func(a []int) bool {
		if len(a) != len(cols) {
			return false
		}
		set := map[int]bool{}
		for _, c := range a {
			set[c] = true
		}
		for _, c := range cols {
			if !set[c] {
				return false
			}
		}
		return true
	}
	if same(d.PrimaryKey) {
		return &arbiter{}, true
	}
	for i := range d.Indexes {
		// A partial index is an arbiter only with ON CONFLICT ... WHERE
		// implying its predicate, as in PostgreSQL.
		idx := &d.Indexes[i]
		if idx.Unique && same(idx.Columns) && (idx.Predicate == "" || predicateImplied(d, idx, pred)) {
			return &arbiter{index: idx}, true
		}
	}
	return nil, false
}

// withReturning puts a RETURNING clause's projection above write node n,
// which then returns the rows it writes; without one, n alone.
func (b *builder) withReturning(n planNode, wr *writeReturn, rc tree.ReturningClause, desc *catalog.TableDescriptor, sc *scope) (planNode, error) {
	rn, ok, err := b.returning(rc, desc, sc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return n, nil
	}
	wr.returning, wr.returnCols = true, sc.cols
	rn.src = n
	return rn, nil
}

// defaultExprs type-checks the default expressions of desc's columns.
func (b *builder) defaultExprs(desc *catalog.TableDescriptor) ([]tree.TypedExpr, error) {
	out := make([]tree.TypedExpr, len(desc.Columns))
	for i, c := range desc.Columns {
		if c.Default == "" {
			continue
		}
		e, err := sem.ParseExpr(c.Default)
		if err != nil {
			return nil, err
		}
		if out[i], err = b.typeCheck(e, &scope{}, c.Type()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writableTable is table for the target of a write: a view is refused.
func (b *builder) writableTable(te tree.TableExpr, verb string) (*catalog.TableDescriptor, *scope, error) {
	desc, sc, err := b.table(te)
	if err == nil && desc.ViewQuery != "" {
		err = pgerror.Newf("55000", "cannot %s view %q", verb, desc.Name)
	}
	if err == nil && desc.Sequence != nil {
		err = pgerror.Newf("42809", "cannot change sequence %q", desc.Name)
	}
	if err == nil && desc.IsMatView() {
		// Its rows are its query's: only REFRESH MATERIALIZED VIEW
		// writes them.
		err = pgerror.Newf("42809", "cannot change materialized view %q", desc.Name)
	}
	if err == nil {
		priv := catalog.PrivInsert
		switch verb {
		case "update":
			priv = catalog.PrivUpdate
		case "delete from":
			priv = catalog.PrivDelete
		}
		b.priv.require(desc, priv, b.privAs)
		b.names.written = desc.ID
	}
	return desc, sc, err
}

func (b *builder) buildInsert(ins *tree.Insert) (planNode, error) {
	if ins.With != nil {
		inner := *ins
		inner.With = nil
		return b.underWith(ins.With, func() (planNode, error) { return b.buildInsert(&inner) })
	}
	desc, sc, err := b.writableTable(ins.Table, "insert into")
	if err != nil {
		return nil, err
	}
	n := &insertNode{desc: desc}
	// RETURNING reads the rows, ON CONFLICT reads the arbiter's columns
	// (and DO UPDATE updates): PostgreSQL's privileges for them.
	if _, ok := ins.Returning.(*tree.ReturningExprs); ok || ins.OnConflict != nil {
		b.priv.require(desc, catalog.PrivSelect, b.privAs)
	}
	if oc := ins.OnConflict; oc != nil && !oc.DoNothing {
		b.priv.require(desc, catalog.PrivUpdate, b.privAs)
	}
	if oc := ins.OnConflict; oc != nil {
		if n.onConflict, err = b.buildOnConflict(oc, desc, sc); err != nil {
			return nil, err
		}
	}
	// Target columns: the named ones, else every visible column in order.
	var targets []int
	if len(ins.Columns) > 0 {
		seen := map[int]bool{}
		for _, name := range ins.Columns {
			i := desc.ColumnIndex(string(name))
			if i < 0 {
				return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", name, desc.Name)
			}
			if seen[i] {
				return nil, pgerror.Newf("42701", "column %q specified more than once", name)
			}
			seen[i] = true
			targets = append(targets, i)
		}
	} else {
		for i, c := range desc.Columns {
			if !c.Hidden {
				targets = append(targets, i)
			}
		}
	}
	defaults, err := b.defaultExprs(desc)
	if err != nil {
		return nil, err
	}
	if err := checkIdentityAlways(desc, targets, ins); err != nil {
		return nil, err
	}
	if err := refuseGeneratedInsert(desc, targets, ins); err != nil {
		return nil, err
	}
	var src planNode
	if ins.DefaultValues() {
		src = &valuesNode{rows: [][]tree.TypedExpr{{}}}
		targets = nil
	} else if v, ok := ins.Rows.Select.(*tree.ValuesClause); ok && ins.Rows.OrderBy == nil && ins.Rows.Limit == nil {
		want := make([]*types.T, len(targets))
		for i, t := range targets {
			want[i] = desc.Columns[t].Type()
		}
		// DEFAULT in a VALUES row: the column's default.
		for _, row := range v.Rows {
			for i, e := range row {
				if _, ok := e.(tree.DefaultVal); ok && i < len(targets) {
					if defaults[targets[i]] != nil {
						row[i] = defaults[targets[i]]
					} else {
						row[i] = tree.DNull
					}
				}
			}
		}
		vn, err := b.buildValues(v, want)
		if err != nil {
			return nil, err
		}
		src = vn
	} else {
		if src, err = b.buildSelect(ins.Rows); err != nil {
			return nil, err
		}
	}
	if got := len(src.columns()); len(ins.Columns) == 0 && targets != nil && got < len(targets) {
		// INSERT INTO t VALUES (...) with fewer values than columns:
		// the leading columns, the rest take their defaults.
		targets = targets[:got]
	}
	if got := len(src.columns()); targets != nil && got != len(targets) {
		if got > len(targets) {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "INSERT has more expressions than target columns")
		}
		return nil, pgerror.New(pgerror.CodeSyntaxError, "INSERT has more target columns than expressions")
	}
	fr := &fullRowNode{desc: desc, src: src, srcIdx: make([]int, len(desc.Columns)), defaults: defaults}
	for i := range fr.srcIdx {
		fr.srcIdx[i] = -1
	}
	for j, t := range targets {
		fr.srcIdx[t] = j
	}
	n.src = fr
	if _, isValues := src.(*valuesNode); !isValues {
		// A query's rows are read at the statement's snapshot.
		n.src = &snapshotReadNode{src: fr}
	}
	return b.withReturning(n, &n.writeReturn, ins.Returning, desc, sc)
}

// checkIdentityAlways refuses a value for a GENERATED ALWAYS identity
// column other than DEFAULT, as PostgreSQL does (there is no OVERRIDING
// SYSTEM VALUE yet).
func checkIdentityAlways(desc *catalog.TableDescriptor, targets []int, ins *tree.Insert) error {
	if ins.DefaultValues() {
		return nil
	}
	for j, t := range targets {
		c := &desc.Columns[t]
		if c.Identity != "a" {
			continue
		}
		if insertGivesValue(ins, j) {
			return pgerror.WithHint(pgerror.WithDetail(
				pgerror.Newf("428C9", "cannot insert a non-DEFAULT value into column %q", c.Name),
				fmt.Sprintf("Column %q is an identity column defined as GENERATED ALWAYS.", c.Name)),
				"Use OVERRIDING SYSTEM VALUE to override.")
		}
	}
	return nil
}

// insertGivesValue reports whether INSERT gives target column j a value
// other than DEFAULT: any row of a VALUES list that is not DEFAULT there,
// or any query source.
func insertGivesValue(ins *tree.Insert, j int) bool {
	v, ok := ins.Rows.Select.(*tree.ValuesClause)
	if !ok {
		return true
	}
	for _, row := range v.Rows {
		if j < len(row) {
			if _, isDefault := row[j].(tree.DefaultVal); !isDefault {
				return true
			}
		}
	}
	return false
}

func (b *builder) buildUpdate(upd *tree.Update) (planNode, error) {
	if upd.OrderBy != nil || upd.Limit != nil {
		return nil, pgerror.Unsupported("UPDATE with ORDER BY or LIMIT is not supported yet")
	}
	if upd.With != nil {
		inner := *upd
		inner.With = nil
		return b.underWith(upd.With, func() (planNode, error) { return b.buildUpdate(&inner) })
	}
	desc, targetScope, err := b.writableTable(upd.Table, "update")
	if err != nil {
		return nil, err
	}
	n := &updateNode{desc: desc}
	if readsRows(upd.Where, upd.Returning) || len(upd.From) > 0 || updateReadsColumns(upd.Exprs) {
		b.priv.require(desc, catalog.PrivSelect, b.privAs)
	}
	// sc is what SET and WHERE see: the target's columns, then those of
	// FROM's tables (the rows joined to each target row).
	sc := targetScope
	if len(upd.From) > 0 {
		if n.src, sc, err = b.buildFrom(append(tree.TableExprs{upd.Table}, upd.From...), upd.Where); err != nil {
			return nil, err
		}
		n.joined = true
	} else {
		scan, err := b.scan(desc, sc, upd.Where)
		if err != nil {
			return nil, err
		}
		scan.locking = true
		n.src = scan
	}
	// The rows to change are read at the statement's snapshot.
	n.src = &snapshotReadNode{src: n.src}
	seen := map[int]bool{}
	for _, ue := range upd.Exprs {
		if ue.Tuple || len(ue.Names) != 1 {
			return nil, pgerror.Unsupported("UPDATE of a tuple of columns is not supported yet")
		}
		i := desc.ColumnIndex(string(ue.Names[0]))
		if i < 0 || desc.Columns[i].Hidden {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", ue.Names[0], desc.Name)
		}
		if seen[i] {
			return nil, pgerror.Newf("42601", "multiple assignments to same column %q", ue.Names[0])
		}
		seen[i] = true
		if err := refuseGeneratedUpdate(&desc.Columns[i], ue.Expr); err != nil {
			return nil, err
		}
		var te tree.TypedExpr
		if _, ok := ue.Expr.(tree.DefaultVal); ok {
			defaults, err := b.defaultExprs(desc)
			if err != nil {
				return nil, err
			}
			te = defaults[i]
			if te == nil {
				te = tree.DNull
			}
		} else if desc.Columns[i].Identity == "a" {
			return nil, pgerror.WithDetail(pgerror.Newf("428C9", "column %q can only be updated to DEFAULT", desc.Columns[i].Name),
				fmt.Sprintf("Column %q is an identity column defined as GENERATED ALWAYS.", desc.Columns[i].Name))
		} else if te, err = b.typeCheck(ue.Expr, sc, desc.Columns[i].Type()); err != nil {
			return nil, err
		}
		n.setCols = append(n.setCols, i)
		n.setExprs = append(n.setExprs, te)
	}
	return b.withReturning(n, &n.writeReturn, upd.Returning, desc, targetScope)
}

func (b *builder) buildDelete(del *tree.Delete) (planNode, error) {
	if del.OrderBy != nil || del.Limit != nil {
		return nil, pgerror.Unsupported("DELETE with ORDER BY or LIMIT is not supported yet")
	}
	if del.With != nil {
		inner := *del
		inner.With = nil
		return b.underWith(del.With, func() (planNode, error) { return b.buildDelete(&inner) })
	}
	desc, sc, err := b.writableTable(del.Table, "delete from")
	if err != nil {
		return nil, err
	}
	n := &deleteNode{desc: desc}
	if readsRows(del.Where, del.Returning) || len(del.Using) > 0 {
		b.priv.require(desc, catalog.PrivSelect, b.privAs)
	}
	if len(del.Using) > 0 {
		// The target's rows joined to USING's: each target row that
		// joins at least once is deleted.
		if n.src, _, err = b.buildFrom(append(tree.TableExprs{del.Table}, del.Using...), del.Where); err != nil {
			return nil, err
		}
		n.joined = true
	} else {
		scan, err := b.scan(desc, sc, del.Where)
		if err != nil {
			return nil, err
		}
		scan.locking = true
		n.src = scan
	}
	if len(del.Using) > 0 || (del.Where != nil && hasSubquery(del.Where.Expr)) {
		// Reading the table as it deletes would see its own deletions.
		n.src = &snapshotReadNode{src: n.src}
	}
	return b.withReturning(n, &n.writeReturn, del.Returning, desc, sc)
}

// readsRows reports whether a write reads its target's columns through a
// WHERE or RETURNING clause: it then needs SELECT, as in PostgreSQL.
func readsRows(where *tree.Where, rc tree.ReturningClause) bool {
	_, returning := rc.(*tree.ReturningExprs)
	return returning || (where != nil && where.Expr != nil)
}

// updateReadsColumns reports whether an UPDATE's SET expressions name a
// column (SET a = a + 1 reads a).
func updateReadsColumns(exprs tree.UpdateExprs) bool {
	for _, ue := range exprs {
		v := &columnRefFinder{}
		tree.WalkExprConst(v, ue.Expr)
		if v.found {
			return true
		}
	}
	return false
}

// columnRefFinder finds a column reference in an expression (one in a
// subquery's own FROM included: reading more is the safe side).
type columnRefFinder struct{ found bool }

func (v *columnRefFinder) VisitPre(e tree.Expr) (bool, tree.Expr) {
	switch e.(type) {
	case *tree.UnresolvedName, *tree.ColumnItem, tree.UnqualifiedStar, *tree.AllColumnsSelector, *tree.IndexedVar:
		v.found = true
		return false, e
	}
	return !v.found, e
}

func (v *columnRefFinder) VisitPost(e tree.Expr) tree.Expr { return e }
