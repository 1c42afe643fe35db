package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// Index-only scans. A query of one table that names only columns a
// secondary index's entries hold (its key columns and the primary key)
// reads the entries alone, not the rows they lead to: half the reads
// (SELECT count(*) FROM t WHERE a = 5, or SELECT k FROM t WHERE email =
// $1, with an index on a or email). Only types whose key encoding gives
// back the value exactly qualify: a decimal's key drops trailing zeros,
// a float's makes -0 of 0, a collated string's is its sort key.

// useIndexOnly makes src, the scan (with nothing above it yet) of a
// SELECT over one table, index-only when every column the statement
// names (in sc, the table's scope) is in its index's entries.
func useIndexOnly(src planNode, sc *scope, clauses ...tree.Expr) {
	n, ok := src.(*scanNode)
	if !ok || n.index == nil || n.locking || n.index.Predicate != "" || n.index.Inverted() {
		return
	}
	held := map[int]bool{}
	for _, c := range n.index.Columns {
		held[c] = true
	}
	for _, c := range n.desc.PrimaryKey {
		held[c] = true
	}
	for c := range held {
		if !exactKey(n.desc.Columns[c].Type()) {
			delete(held, c)
		}
	}
	covered := true
	for _, e := range clauses {
		if e == nil {
			continue
		}
		_, _ = tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
			switch x := x.(type) {
			case *tree.FuncExpr:
				if x.WindowDef != nil || x.Filter != nil || len(x.OrderBy) > 0 {
					covered = false // names in clauses the walk does not visit
				} else if isCountStar(x) {
					return false, x, nil // count(*) names no column
				}
			case *tree.Subquery, tree.UnqualifiedStar, *tree.AllColumnsSelector:
				covered = false // what it names is not known here
			case *tree.UnresolvedName:
				i, err := sc.resolve(x)
				if err != nil || !held[i] {
					covered = false // another column, the whole row, *
				}
				return false, x, nil
			}
			return covered, x, nil
		})
	}
	if covered && filterCovered(n.filter, held) {
		n.indexOnly = true
	}
}

// filterCovered reports whether the scan's filter reads only held
// columns.
func filterCovered(f tree.TypedExpr, held map[int]bool) bool {
	ok := true
	if f != nil {
		_, _ = tree.SimpleVisit(f, func(x tree.Expr) (bool, tree.Expr, error) {
			if v, isVar := x.(*tree.IndexedVar); isVar && !held[v.Idx] {
				ok = false
			}
			if _, sub := x.(*tree.Subquery); sub {
				ok = false
			}
			return ok, x, nil
		})
	}
	return ok
}

// exactKey reports whether a value of type t decodes from its key
// encoding exactly as it was.
func exactKey(t *types.T) bool {
	switch t.Family() {
	case types.IntFamily, types.BoolFamily, types.BytesFamily, types.DateFamily, types.TimestampFamily,
		types.TimestampTZFamily, types.UuidFamily, types.OidFamily, types.EnumFamily:
		return true
	case types.StringFamily:
		return t.Oid() != oid.T_bpchar
	}
	return false
}

// rowOfEntry is the row an index entry holds: its key columns and the
// primary key's; the others NULL (an index-only scan reads no others).
func rowOfEntry(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, key []byte) (tree.Datums, error) {
	row := make(tree.Datums, len(d.Columns))
	for i := range row {
		row[i] = tree.DNull
	}
	rest := key[len(d.IndexPrefixOf(idx.ID)):]
	var err error
	for _, cols := range [][]int{idx.Columns, d.PrimaryKey} {
		for _, i := range cols {
			if rest, row[i], err = rowenc.DecodeDatum(rest, d.Columns[i].Type()); err != nil {
				return nil, errors.Wrapf(err, "table %q index %q: corrupt entry", d.Name, idx.Name)
			}
		}
	}
	return row, nil
}
