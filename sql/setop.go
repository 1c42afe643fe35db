package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// buildSetOp plans UNION, INTERSECT and EXCEPT, with or without ALL.
func (b *builder) buildSetOp(u *tree.UnionClause) (planNode, error) {
	left, err := b.buildSelect(u.Left)
	if err != nil {
		return nil, err
	}
	right, err := b.buildSelect(u.Right)
	if err != nil {
		return nil, err
	}
	lc, rc := visibleCols(left), visibleCols(right)
	if len(lc) != len(rc) {
		return nil, pgerror.Newf(pgerror.CodeSyntaxError, "each %s query must have the same number of columns", u.Type)
	}
	cols := make([]resultColumn, len(lc))
	for i := range lc {
		cols[i] = resultColumn{name: lc[i].name, typ: lc[i].typ}
		lt, rt := lc[i].typ, rc[i].typ
		typ, ok := sem.SetOpColumnType(lt, rt)
		if !ok {
			return nil, pgerror.Newf("42804", "%s types %s and %s cannot be matched", u.Type, sem.FormatTypeOf(lt, -1), sem.FormatTypeOf(rt, -1))
		}
		if !u.All {
			if err := sem.NoJSONEquality(typ); err != nil {
				return nil, err
			}
		}
		cols[i].typ = typ
	}
	return &setOpNode{kind: u.Type, all: u.All, left: left, right: right, cols: cols}, nil
}

// setOpNode combines two inputs' rows as a set operation: rows are equal
// when their values' key encodings are (so NULLs are equal, as set
// operations want).
type setOpNode struct {
	kind        tree.UnionType
	all         bool
	left, right planNode
	cols        []resultColumn

	started bool
	out     []tree.Datums
	i       int
}

func (n *setOpNode) columns() []resultColumn { return n.cols }

func (n *setOpNode) explain() (string, []*planNode) {
	s := n.kind.String()
	if n.all {
		s += " ALL"
	}
	return s, []*planNode{&n.left, &n.right}
}

func rowKey(row tree.Datums, cols []resultColumn, r *runner) (string, tree.Datums, error) {
	var key []byte
	out := make(tree.Datums, len(cols))
	for i := range cols {
		d, err := sem.CastDatum(r.eval, row[i], cols[i].typ)
		if err != nil {
			return "", nil, err
		}
		out[i] = d
		if key, err = rowenc.EncodeDatum(key, d); err != nil {
			return "", nil, err
		}
	}
	return string(key), out, nil
}

func (n *setOpNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		if err := n.run(r); err != nil {
			return nil, err
		}
	}
	if n.i >= len(n.out) {
		return nil, nil
	}
	n.i++
	return n.out[n.i-1], nil
}

func (n *setOpNode) run(r *runner) error {
	read := func(p planNode) ([]string, []tree.Datums, error) {
		var keys []string
		var rows []tree.Datums
		for {
			row, err := p.next(r)
			if err != nil {
				return nil, nil, err
			}
			if row == nil {
				return keys, rows, nil
			}
			k, vals, err := rowKey(row, n.cols, r)
			if err != nil {
				return nil, nil, err
			}
			// The key, the row, and (at most) an entry in one of the
			// maps below.
			if err := r.grow(2*rowenc.KeySize(k) + rowenc.DatumsSize(vals)); err != nil {
				return nil, nil, err
			}
			keys, rows = append(keys, k), append(rows, vals)
		}
	}
	lk, lrows, err := read(n.left)
	if err != nil {
		return err
	}
	rk, rrows, err := read(n.right)
	if err != nil {
		return err
	}
	rightCount := map[string]int{}
	for _, k := range rk {
		rightCount[k]++
	}
	emitted := map[string]bool{}
	switch n.kind {
	case tree.UnionOp:
		rows := append(append([]tree.Datums{}, lrows...), rrows...)
		for i, k := range append(append([]string{}, lk...), rk...) {
			row := rows[i]
			if !n.all {
				if emitted[k] {
					continue
				}
				emitted[k] = true
			}
			n.out = append(n.out, row)
		}
	case tree.IntersectOp:
		for i, k := range lk {
			if rightCount[k] == 0 || (!n.all && emitted[k]) {
				continue
			}
			rightCount[k]--
			emitted[k] = true
			n.out = append(n.out, lrows[i])
		}
	case tree.ExceptOp:
		for i, k := range lk {
			if rightCount[k] > 0 {
				if n.all {
					rightCount[k]--
				}
				continue
			}
			if !n.all && emitted[k] {
				continue
			}
			emitted[k] = true
			n.out = append(n.out, lrows[i])
		}
	}
	return nil
}
