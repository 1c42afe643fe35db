package sql

import (
	"sort"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// Scans through a GIN index (index_inverted.go). The filter's conjuncts
// that the index serves (col @> v, v <@ col, col && v, col ? k, col ?| ks,
// col ?& ks, with v and k constants or parameters) become, once their
// values are known, a conjunction of disjunctions of entry spans
// (rowenc.InvertedQuery); the scan reads each conjunct's spans, keeps
// the primary keys every conjunct has (an intersection), and reads those
// rows in key order. The whole filter is checked again on each row: the
// entries only narrow (they drop the positions of array elements, for
// one). A query the entries cannot narrow (@> of an empty array, say,
// which every array contains) reads the table instead.

// invertedPlan is what a scan through an inverted index was planned
// with, and its state as it runs.
type invertedPlan struct {
	conds []invertedCond

	// Set as the scan runs.
	started bool
	full    *scanNode // the table's scan, when the index cannot narrow
	pks     [][]byte  // the rows' keys still to read, in key order
}

// invertedCond is one conjunct the index serves: the indexed column op
// val.
type invertedCond struct {
	op  treecmp.ComparisonOperatorSymbol // Contains, Overlaps, JSONExists, JSONSomeExists, JSONAllExists
	val tree.TypedExpr
}

// chooseInvertedIndex points n at the first inverted index that some
// conjunct of its filter can use, and reports whether there was one.
func chooseInvertedIndex(n *scanNode) bool {
	for i := range n.desc.Indexes {
		idx := &n.desc.Indexes[i]
		if !idx.Inverted() || !predicateImplied(n.desc, idx, n.filter) {
			continue
		}
		if conds := invertedConds(n.desc, idx, n.filter); len(conds) > 0 {
			n.index, n.inverted = idx, &invertedPlan{conds: conds}
			return true
		}
	}
	return false
}

// invertedConds are the conjuncts of filter that inverted index idx
// serves.
func invertedConds(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, filter tree.TypedExpr) []invertedCond {
	col := idx.Columns[0]
	isJSON := d.Columns[col].Type().Family() == types.JsonFamily
	isCol := func(e tree.TypedExpr) bool {
		v, ok := e.(*tree.IndexedVar)
		return ok && v.Idx == col
	}
	var out []invertedCond
	for _, c := range conjuncts(filter) {
		x, ok := c.(*tree.ComparisonExpr)
		if !ok {
			continue
		}
		l, r := x.TypedLeft(), x.TypedRight()
		switch sym := x.Operator.Symbol; sym {
		case treecmp.Contains, treecmp.Overlaps:
			if sym == treecmp.Overlaps && isJSON {
				continue
			}
			if isCol(l) && !hasVars(r) {
				out = append(out, invertedCond{sym, r})
			} else if sym == treecmp.Overlaps && isCol(r) && !hasVars(l) {
				out = append(out, invertedCond{sym, l})
			}
		case treecmp.ContainedBy:
			if isCol(r) && !hasVars(l) {
				out = append(out, invertedCond{treecmp.Contains, l})
			}
		case treecmp.JSONExists, treecmp.JSONSomeExists, treecmp.JSONAllExists:
			// jsonb_path_ops keeps no keys apart from their paths'
			// values: PostgreSQL's serves @> alone.
			if isJSON && idx.OpClass == "" && isCol(l) && !hasVars(r) {
				out = append(out, invertedCond{sym, r})
			}
		}
	}
	// A constant the index cannot narrow by (@> '{}', which every object
	// matches) does not make the index worth reading; a parameter's
	// value is known only as the statement runs, which then reads the
	// table if it must.
	kept := out[:0]
	for _, c := range out {
		if v, ok := c.val.(tree.Datum); ok && v != tree.DNull {
			if q, err := condQuery(c.op, v, d.Columns[col].Type()); err != nil || len(q) == 0 {
				continue
			}
		}
		kept = append(kept, c)
	}
	return kept
}

// query is the plan's InvertedQuery for the values of this run.
func (p *invertedPlan) query(r *runner, d *catalog.TableDescriptor, idx *catalog.IndexDescriptor) (rowenc.InvertedQuery, error) {
	colType := d.Columns[idx.Columns[0]].Type()
	var q rowenc.InvertedQuery
	for _, c := range p.conds {
		v, err := r.evalIn(c.val, nil)
		if err != nil {
			return nil, err
		}
		if v == tree.DNull {
			// The comparison is NULL: no row passes.
			return rowenc.InvertedQuery{{}}, nil
		}
		cq, err := condQuery(c.op, v, colType)
		if err != nil {
			return nil, err
		}
		q = append(q, cq...)
	}
	return q, nil
}

// condQuery is the InvertedQuery of one conjunct, the indexed column (of
// type colType) op v, v not NULL: none when the index cannot narrow it.
func condQuery(op treecmp.ComparisonOperatorSymbol, v tree.Datum, colType *types.T) (rowenc.InvertedQuery, error) {
	v = tree.UnwrapDOidWrapper(v)
	var q rowenc.InvertedQuery
	switch op {
	case treecmp.Contains, treecmp.Overlaps:
		if j, ok := sem.AsJSON(v); ok && colType.Family() == types.JsonFamily {
			return rowenc.JSONContainsQuery(j), nil
		}
		arr, ok := v.(*tree.DArray)
		if !ok || colType.Family() != types.ArrayFamily || arr.ParamTyp.Family() != colType.ArrayContents().Family() {
			return nil, nil // left to the filter: elements of another type need its comparison
		}
		spans, err := rowenc.ArrayElementSpans(pgarray.Flat(arr))
		if err != nil {
			return nil, err
		}
		if op == treecmp.Overlaps {
			return rowenc.InvertedQuery{spans}, nil // no non-NULL element: nothing overlaps
		}
		for _, s := range spans {
			q = append(q, []rowenc.InvertedSpan{s})
		}
	case treecmp.JSONExists:
		if s, ok := tree.AsDString(v); ok {
			q = append(q, rowenc.JSONExistsSpans(string(s)))
		}
	case treecmp.JSONSomeExists, treecmp.JSONAllExists:
		arr, ok := v.(*tree.DArray)
		if !ok {
			return nil, nil
		}
		var some []rowenc.InvertedSpan
		for _, e := range arr.Array {
			s, ok := tree.AsDString(e)
			if !ok {
				continue // a NULL key is skipped, as the operator skips it
			}
			if op == treecmp.JSONAllExists {
				q = append(q, rowenc.JSONExistsSpans(string(s)))
			} else {
				some = append(some, rowenc.JSONExistsSpans(string(s))...)
			}
		}
		if op == treecmp.JSONSomeExists {
			q = append(q, some)
		}
	}
	return q, nil
}

// nextInverted is scanNode.next for a scan through an inverted index.
func (n *scanNode) nextInverted(r *runner) (tree.Datums, error) {
	p := n.inverted
	if !p.started {
		p.started = true
		q, err := p.query(r, n.desc, n.index)
		if err != nil {
			return nil, err
		}
		if len(q) == 0 {
			p.full = &scanNode{desc: n.desc, cols: n.cols, filter: n.filter, locking: n.locking}
		} else if p.pks, err = n.invertedKeys(r, q); err != nil {
			return nil, err
		}
	}
	if p.full != nil {
		return p.full.next(r)
	}
	for {
		if len(n.buf) == 0 {
			if len(p.pks) == 0 {
				return nil, nil
			}
			batch := p.pks[:min(len(p.pks), scanBatch)]
			p.pks = p.pks[len(batch):]
			var vals [][]byte
			if n.locking {
				vals = make([][]byte, len(batch))
				for i, pk := range batch {
					v, err := r.reader().GetForUpdate(r.ctx, pk)
					if err != nil {
						return nil, err
					}
					vals[i] = v
				}
			} else {
				var err error
				if vals, err = r.reader().GetMany(r.ctx, batch); err != nil {
					return nil, err
				}
			}
			for i, v := range vals {
				if v == nil {
					return nil, errors.AssertionFailedf("table %q: index %q entry names a missing row", n.desc.Name, n.index.Name)
				}
				n.buf = append(n.buf, kvapi.KeyValue{Key: batch[i], Value: v})
			}
		}
		kv := n.buf[0]
		n.buf = n.buf[1:]
		row, err := rowenc.DecodeRow(n.desc, kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		if ok, err := r.passes(n.filter, row); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		return row, nil
	}
}

// invertedKeys reads the entries of q's spans and returns the primary
// keys of the rows that have an entry in some span of every conjunct, in
// key order. Only the keys the first conjunct found are ever held (each
// later one keeps those of them it finds too), charged to the
// statement's memory.
func (n *scanNode) invertedKeys(r *runner, q rowenc.InvertedQuery) ([][]byte, error) {
	prefix := n.desc.IndexPrefixOf(n.index.ID)
	var have map[string]bool
	var charged int64
	defer func() { r.mem.Shrink(charged) }()
	for _, disj := range q {
		found := map[string]bool{}
		for _, sp := range disj {
			start := append(append([]byte(nil), prefix...), sp.Prefix...)
			end := catalog.PrefixEnd(start)
			for {
				kvs, err := r.reader().Scan(r.ctx, start, end, scanBatch)
				if err != nil {
					return nil, err
				}
				for _, kv := range kvs {
					pk, err := rowenc.PrimaryKeyFromInvertedKey(n.desc, n.index, kv.Key)
					if err != nil {
						return nil, err
					}
					if (have == nil || have[string(pk)]) && !found[string(pk)] {
						found[string(pk)] = true
						if have == nil {
							size := int64(len(pk) + 48)
							if err := r.grow(size); err != nil {
								return nil, err
							}
							charged += size
						}
					}
				}
				if len(kvs) < scanBatch {
					break
				}
				start = append(append([]byte(nil), kvs[len(kvs)-1].Key...), 0)
			}
		}
		have = found
		if len(have) == 0 {
			break
		}
	}
	out := make([][]byte, 0, len(have))
	for pk := range have {
		out = append(out, []byte(pk))
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i]) < string(out[j]) })
	return out, nil
}
