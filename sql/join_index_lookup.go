package sql

import (
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// Index lookup joins. Where the join condition fixes the leading columns
// of an index of the right table (a prefix of its primary key, or of a
// secondary index) from the left row, the right rows a left row can
// match are one span of that index: the join reads that span for each
// left row instead of reading the whole right table into a hash table.
// Reading a span per left row costs a request each, so the join order
// search picks it only when the statistics expect few left rows against
// a large right table (useIndexLookup). Through a secondary index, the
// rows of a batch of left rows' entries come in one read.

// indexLookup is how an index lookup join finds a left row's partners.
type indexLookup struct {
	// index is the secondary index read; nil: the primary index.
	index *catalog.IndexDescriptor
	// key are the values of the index's leading columns, over the left
	// row.
	key []tree.TypedExpr
}

// looksUp reports whether the join reads its right side by key, a left
// row at a time, rather than whole.
func (n *joinNode) looksUp() bool { return n.lookup != nil || n.byIndex != nil }

// spanLookupCost is what looking up one left row's span costs against
// reading one row in a scan: a request of its own.
const spanLookupCost = 4

// useIndexLookup makes j, an inner hash join whose right side is the
// table scan leaf, an index lookup join when the condition fixes the
// leading columns of one of leaf's indexes and leftRows spans cost less
// than reading the table (tableRows).
func useIndexLookup(j *joinNode, leaf *scanNode, leftRows, tableRows float64) {
	if j.kind != innerJoin || j.on == nil || leftRows*spanLookupCost >= tableRows {
		return
	}
	eq := equalitiesFromLeft(j.on, j.leftCols)
	best := func(cols []int) []tree.TypedExpr {
		var key []tree.TypedExpr
		for _, c := range cols {
			e, ok := eq[c]
			if !ok {
				break
			}
			key = append(key, e)
		}
		return key
	}
	var pick *indexLookup
	if key := best(leaf.desc.PrimaryKey); len(key) > 0 {
		pick = &indexLookup{key: key}
	}
	for i := range leaf.desc.Indexes {
		idx := &leaf.desc.Indexes[i]
		if idx.Predicate != "" || idx.Inverted() {
			continue // holds only some rows, or is keyed by parts of values
		}
		if key := best(idx.Columns); len(key) > 0 && (pick == nil || len(key) > len(pick.key)) {
			pick = &indexLookup{index: idx, key: key}
		}
	}
	if pick != nil {
		j.byIndex, j.hash = pick, nil
	}
}

// equalitiesFromLeft maps each right column (by ordinal in the right
// row) that the condition equates with an expression of the left row to
// that expression.
func equalitiesFromLeft(on tree.TypedExpr, leftCols int) map[int]tree.TypedExpr {
	eq := map[int]tree.TypedExpr{}
	for _, c := range conjuncts(on) {
		cmp, ok := c.(*tree.ComparisonExpr)
		if !ok || cmp.Operator.Symbol != treecmp.EQ {
			continue
		}
		l, r := cmp.TypedLeft(), cmp.TypedRight()
		for _, pair := range [2][2]tree.TypedExpr{{l, r}, {r, l}} {
			v, ok := pair[0].(*tree.IndexedVar)
			if ok && v.Idx >= leftCols && onlyVarsBelow(pair[1], leftCols) {
				eq[v.Idx-leftCols] = pair[1]
			}
		}
	}
	return eq
}

func (l *indexLookup) explain(rs *scanNode) string {
	name := rs.desc.Name + "_pkey"
	if l.index != nil {
		name = l.index.Name
	}
	return fmt.Sprintf("into %s@%s by its first %d columns", rs.desc.Name, name, len(l.key))
}

// lookupSpans reads, for each of a batch of left rows, the span of
// right rows it can match: one scan each, then (through a secondary
// index) the rows of all their entries in one read. Rows that fail the
// right side's filter are dropped.
func (n *joinNode) lookupSpans(r *runner, rows []lookupRow) error {
	rs := n.right.(*scanNode)
	if rs.desc.Unpopulated {
		return unpopulatedError(rs.desc)
	}
	l := n.byIndex
	cols := rs.desc.PrimaryKey
	prefix := rs.desc.IndexPrefix()
	if l.index != nil {
		cols, prefix = l.index.Columns, rs.desc.IndexPrefixOf(l.index.ID)
	}
	var pks [][]byte
	var owner []int // pks[j] belongs to rows[owner[j]]
	var kvs []kvapi.KeyValue
	for i := range rows {
		key := append([]byte(nil), prefix...)
		matchable := true
		for k, e := range l.key {
			d, err := r.evalIn(e, rows[i].left)
			if err != nil {
				return err
			}
			if d == tree.DNull {
				matchable = false
				break
			}
			if d, err = sem.CastDatum(r.eval, d, rs.desc.Columns[cols[k]].Type()); err != nil {
				matchable = false // a value the column cannot hold matches nothing
				break
			}
			if key, err = rowenc.EncodeDatum(key, d); err != nil {
				return err
			}
		}
		if !matchable {
			continue
		}
		span, err := r.reader().Scan(r.ctx, key, catalog.PrefixEnd(key), 0)
		if err != nil {
			return err
		}
		if l.index == nil {
			for _, kv := range span {
				if err := n.addPartner(r, rs, &rows[i], kv); err != nil {
					return err
				}
			}
			continue
		}
		for _, kv := range span {
			pk, err := rowenc.PrimaryKeyFromIndexKey(rs.desc, l.index, kv.Key)
			if err != nil {
				return err
			}
			pks, owner = append(pks, pk), append(owner, i)
		}
	}
	if len(pks) == 0 {
		return nil
	}
	vals, err := r.reader().GetMany(r.ctx, pks)
	if err != nil {
		return err
	}
	for j, v := range vals {
		if v == nil {
			return errors.AssertionFailedf("table %q: index %q entry names a missing row", rs.desc.Name, l.index.Name)
		}
		kvs = append(kvs[:0], kvapi.KeyValue{Key: pks[j], Value: v})
		if err := n.addPartner(r, rs, &rows[owner[j]], kvs[0]); err != nil {
			return err
		}
	}
	return nil
}

// addPartner decodes a right row and keeps it for lr if it passes the
// right side's filter.
func (n *joinNode) addPartner(r *runner, rs *scanNode, lr *lookupRow, kv kvapi.KeyValue) error {
	row, err := rowenc.DecodeRow(rs.desc, kv.Key, kv.Value)
	if err != nil {
		return err
	}
	if ok, err := r.passes(rs.filter, row); err != nil || !ok {
		return err
	}
	lr.right = append(lr.right, row)
	return nil
}
