package sql

import (
	"fmt"
	"sort"
	"strings"
	"unsafe"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// Window functions (f(...) OVER (PARTITION BY ... ORDER BY ...)) are
// computed by a windowNode between the query's source (FROM and WHERE)
// and its select list: it reads every row, and appends one column per
// window function, which the select list names in their place. The frame
// is PostgreSQL's default — with ORDER BY, the partition's rows up to the
// current row and its peers (rows equal in the ORDER BY); without, the
// whole partition — unless a frame clause says otherwise (window_frame.go).

// windowSpec is one window function call.
type windowSpec struct {
	kind string // row_number, rank, dense_rank, lag, lead, first_value, last_value, or "agg"
	agg  aggSpec
	args []tree.TypedExpr
	// partition and order are the OVER clause's expressions.
	partition  []tree.TypedExpr
	order      []tree.TypedExpr
	desc       []bool
	nullsFirst []bool
	// frame is the frame clause; nil for PostgreSQL's default frame.
	frame *windowFrame
	typ   *types.T
}

var rankingWindows = map[string]bool{"row_number": true, "rank": true, "dense_rank": true, "percent_rank": true, "cume_dist": true}
var valueWindows = map[string]bool{"lag": true, "lead": true, "first_value": true, "last_value": true}

// hasWindow reports whether exprs call a window function.
func hasWindow(exprs ...tree.Expr) bool {
	found := false
	for _, e := range exprs {
		if e == nil {
			continue
		}
		tree.WalkExprConst(sem.ExprVisitor(func(x tree.Expr) {
			if f, ok := x.(*tree.FuncExpr); ok && f.WindowDef != nil {
				found = true
			}
		}), e)
	}
	return found
}

// planWindows puts a windowNode above src and rewrites the select list and
// ORDER BY to name its columns in place of the window calls.
func (b *builder) planWindows(src planNode, sc *scope, exprs tree.SelectExprs, orderBy tree.OrderBy, defs tree.Window) (planNode, *scope, tree.SelectExprs, tree.OrderBy, error) {
	n := &windowNode{src: src}
	byText := map[string]string{}
	rewrite := func(e tree.Expr) (tree.Expr, error) {
		return tree.SimpleVisit(e, func(x tree.Expr) (bool, tree.Expr, error) {
			f, ok := x.(*tree.FuncExpr)
			if !ok || f.WindowDef == nil {
				return true, x, nil
			}
			text := tree.AsString(f)
			if name, ok := byText[text]; ok {
				return false, &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{name}}, nil
			}
			spec, err := b.windowSpec(f, sc, defs)
			if err != nil {
				return false, nil, err
			}
			name := fmt.Sprintf("?window%d?", len(n.specs))
			byText[text] = name
			n.specs = append(n.specs, spec)
			n.extra = append(n.extra, resultColumn{name: name, typ: spec.typ, hidden: true})
			return false, &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{name}}, nil
		})
	}
	out := make(tree.SelectExprs, len(exprs))
	for i, se := range exprs {
		out[i] = se
		if se.As == "" && hasWindow(se.Expr) {
			// The column keeps the function's name, as PostgreSQL's does.
			if f, ok := se.Expr.(*tree.FuncExpr); ok {
				out[i].As = tree.UnrestrictedName(strings.ToLower(f.Func.String()))
			}
		}
		e, err := rewrite(se.Expr)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		out[i].Expr = e
	}
	ob := make(tree.OrderBy, len(orderBy))
	for i, o := range orderBy {
		c := *o
		e, err := rewrite(o.Expr)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		c.Expr = e
		ob[i] = &c
	}
	n.cols = append(append([]resultColumn{}, sc.cols...), n.extra...)
	return n, &scope{cols: n.cols}, out, ob, nil
}

// windowSpec type-checks one window call over the source's scope.
func (b *builder) windowSpec(f *tree.FuncExpr, sc *scope, defs tree.Window) (windowSpec, error) {
	f = stripVariadic(f)
	w, err := resolveWindowDef(f.WindowDef, defs)
	if err != nil {
		return windowSpec{}, err
	}
	if len(f.OrderBy) > 0 {
		return windowSpec{}, errAggOrderInWindow
	}
	if f.Filter != nil || f.Type == tree.DistinctFuncType {
		return windowSpec{}, pgerror.Unsupported("FILTER and DISTINCT in window functions are not supported yet")
	}
	var spec windowSpec
	for _, p := range w.Partitions {
		te, err := b.typeCheck(p, sc, types.AnyElement)
		if err != nil {
			return spec, err
		}
		spec.partition = append(spec.partition, te)
	}
	for _, o := range w.OrderBy {
		if o.OrderType != tree.OrderByColumn {
			return spec, pgerror.Unsupported("this ORDER BY in a window is not supported yet")
		}
		te, err := b.typeCheck(o.Expr, sc, types.AnyElement)
		if err != nil {
			return spec, err
		}
		desc, nullsFirst := orderDirection(o)
		spec.order = append(spec.order, te)
		spec.desc = append(spec.desc, desc)
		spec.nullsFirst = append(spec.nullsFirst, nullsFirst)
	}
	if w.Frame != nil && !w.Frame.IsDefaultFrame() {
		if spec.frame, err = b.buildFrame(w.Frame, spec.order); err != nil {
			return spec, err
		}
	}
	name := strings.ToLower(tree.AsString(f.Func))
	name = strings.TrimPrefix(name, "pg_catalog.")
	switch {
	case rankingWindows[name]:
		if len(f.Exprs) != 0 {
			return spec, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s takes no arguments", name)
		}
		spec.kind, spec.typ = name, types.Int
		if name == "percent_rank" || name == "cume_dist" {
			spec.typ = types.Float
		}
	case name == "ntile":
		if len(f.Exprs) != 1 {
			return spec, pgerror.Newf(pgerror.CodeUndefinedFunction, "function ntile with %d arguments does not exist", len(f.Exprs))
		}
		te, err := b.typeCheck(f.Exprs[0], sc, types.Int)
		if err != nil {
			return spec, err
		}
		spec.kind, spec.typ, spec.args = name, types.Int, []tree.TypedExpr{te}
	case valueWindows[name]:
		max := 1
		if name == "lag" || name == "lead" {
			max = 3
		}
		if len(f.Exprs) < 1 || len(f.Exprs) > max {
			return spec, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s with %d arguments does not exist", name, len(f.Exprs))
		}
		for i, a := range f.Exprs {
			want := types.AnyElement
			if i == 1 {
				want = types.Int
			} else if i == 2 {
				want = spec.args[0].ResolvedType()
			}
			te, err := b.typeCheck(a, sc, want)
			if err != nil {
				return spec, err
			}
			spec.args = append(spec.args, te)
		}
		spec.kind, spec.typ = name, spec.args[0].ResolvedType()
	default:
		fcall := &tree.FuncExpr{Func: f.Func, Exprs: f.Exprs}
		plain := rewriteCountStar(fcall)
		if !isAggregate(fcall) && !isCountStar(fcall) {
			return spec, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s is not a window function Meridian supports", name)
		}
		call := &tree.FuncExpr{Func: plain.Func, Exprs: make(tree.Exprs, len(plain.Exprs))}
		for i, a := range plain.Exprs {
			ra, err := b.resolveNames(a, sc)
			if err != nil {
				return spec, err
			}
			call.Exprs[i] = ra
		}
		te, err := b.typeCheckResolved(call, sc.cols, types.AnyElement)
		if err != nil {
			return spec, err
		}
		fe := te.(*tree.FuncExpr)
		spec.kind = "agg"
		spec.agg = aggSpec{kind: fe.ResolvedOverload().Fn.(sem.AggKind), typ: fe.ResolvedType()}
		if len(fe.Exprs) > 0 {
			spec.agg.arg = fe.Exprs[0].(tree.TypedExpr)
			spec.agg.typ = pgAggType(spec.agg.kind, spec.agg.arg.ResolvedType(), spec.agg.typ)
		}
		if spec.agg.kind == "string_agg" {
			return spec, pgerror.Unsupported("string_agg as a window function is not supported yet")
		}
		spec.typ = spec.agg.typ
	}
	return spec, nil
}

// windowNode computes its specs over all of its source's rows and passes
// each row on with their results appended.
type windowNode struct {
	src   planNode
	specs []windowSpec
	extra []resultColumn
	cols  []resultColumn
	bufferedRows
}

func (n *windowNode) columns() []resultColumn { return n.cols }

func (n *windowNode) explain() (string, []*planNode) {
	var fns []string
	for _, s := range n.specs {
		if s.kind == "agg" {
			fns = append(fns, string(s.agg.kind))
		} else {
			fns = append(fns, s.kind)
		}
	}
	return "window " + strings.Join(fns, ", "), []*planNode{&n.src}
}

func (n *windowNode) next(r *runner) (tree.Datums, error) {
	return n.nextFilled(func() error { return n.compute(r) })
}

func (n *windowNode) compute(r *runner) error {
	width := len(n.cols) - len(n.extra)
	for {
		row, err := n.src.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		out := make(tree.Datums, len(n.cols))
		copy(out, row[:width])
		// The window columns' values are charged as computeSpec fills
		// them in.
		if err := r.growRow(out); err != nil {
			return err
		}
		n.rows = append(n.rows, out)
	}
	for k := range n.specs {
		if err := n.computeSpec(r, k, width+k); err != nil {
			return err
		}
	}
	return nil
}

// computeSpec fills column col of every row with spec k's results.
func (n *windowNode) computeSpec(r *runner, k, col int) error {
	spec := &n.specs[k]
	type entry struct {
		row        int
		part, keys tree.Datums
		partKey    string
	}
	entries := make([]entry, len(n.rows))
	// The entries live while this spec is computed.
	var entriesSize int64
	defer func() { r.mem.Shrink(entriesSize) }()
	for i, row := range n.rows {
		e := entry{row: i}
		for _, p := range spec.partition {
			d, err := r.evalIn(p, row)
			if err != nil {
				return err
			}
			e.part = append(e.part, d)
		}
		e.partKey = partitionKey(e.part)
		for _, o := range spec.order {
			d, err := r.evalIn(o, row)
			if err != nil {
				return err
			}
			e.keys = append(e.keys, d)
		}
		sz := int64(unsafe.Sizeof(e)) + rowenc.KeySize(e.partKey) + rowenc.DatumsSize(e.part) + rowenc.DatumsSize(e.keys)
		if err := r.grow(sz); err != nil {
			return err
		}
		entriesSize += sz
		entries[i] = e
	}
	var sortErr error
	// cmpKeys orders by the OVER clause's ORDER BY, as a query's ORDER BY.
	cmpKeys := func(a, b tree.Datums) int {
		for j := range a {
			c, err := compareOrdered(r, a[j], b[j], spec.desc[j], spec.nullsFirst[j])
			if err != nil && sortErr == nil {
				sortErr = err
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].partKey != entries[j].partKey {
			return entries[i].partKey < entries[j].partKey
		}
		return cmpKeys(entries[i].keys, entries[j].keys) < 0
	})
	if sortErr != nil {
		return sortErr
	}
	for start := 0; start < len(entries); {
		end := start + 1
		for end < len(entries) && entries[end].partKey == entries[start].partKey {
			end++
		}
		part := entries[start:end]
		// peerEnd[i] is one past the last peer of row i.
		peerEnd := make([]int, len(part))
		for i := len(part) - 1; i >= 0; i-- {
			if i+1 < len(part) && len(spec.order) > 0 && cmpKeys(part[i].keys, part[i+1].keys) == 0 {
				peerEnd[i] = peerEnd[i+1]
			} else if len(spec.order) == 0 {
				peerEnd[i] = len(part)
			} else {
				peerEnd[i] = i + 1
			}
		}
		rank, dense := 0, 0
		var state aggState
		accumulated := 0
		// With a frame clause: each row's peer group and where it starts.
		var groupStart, groupOf, peerStart []int
		if spec.frame != nil {
			groupOf, peerStart = make([]int, len(part)), make([]int, len(part))
			for i := range part {
				if i == 0 || len(spec.order) == 0 || cmpKeys(part[i-1].keys, part[i].keys) != 0 {
					groupStart = append(groupStart, i)
				}
				groupOf[i], peerStart[i] = len(groupStart)-1, groupStart[len(groupStart)-1]
			}
		}
		framed := func(i int) ([]int, error) {
			pos := framePosition{i: i, n: len(part), peerStart: peerStart[i], peerEnd: peerEnd[i], groupStart: groupStart, group: groupOf[i]}
			if len(spec.order) == 1 {
				pos.desc = spec.desc[0]
				pos.key = func(j int) tree.Datum { return part[j].keys[0] }
			}
			return spec.frame.rows(r, pos)
		}
		for i, e := range part {
			out := n.rows[e.row]
			newPeer := i == 0 || len(spec.order) == 0 || cmpKeys(part[i-1].keys, e.keys) != 0
			if newPeer {
				rank, dense = i+1, dense+1
			}
			var v tree.Datum
			var err error
			switch spec.kind {
			case "row_number":
				v = tree.NewDInt(tree.DInt(i + 1))
			case "rank":
				v = tree.NewDInt(tree.DInt(rank))
			case "dense_rank":
				v = tree.NewDInt(tree.DInt(dense))
			case "percent_rank":
				// (rank - 1) / (rows - 1), 0 for a partition of one row.
				f := 0.0
				if len(part) > 1 {
					f = float64(rank-1) / float64(len(part)-1)
				}
				v = tree.NewDFloat(tree.DFloat(f))
			case "cume_dist":
				// The rows up to the current row's last peer, over all.
				v = tree.NewDFloat(tree.DFloat(float64(peerEnd[i]) / float64(len(part))))
			case "ntile":
				// Buckets 1..k as equal as can be, the first ones larger.
				d, err := r.evalIn(spec.args[0], out)
				if err != nil {
					return err
				}
				if d == tree.DNull {
					out[col] = tree.DNull
					continue
				}
				k := int(tree.MustBeDInt(d))
				if k <= 0 {
					return pgerror.New("22014", "argument of ntile must be greater than zero")
				}
				size, extra := len(part)/k, len(part)%k
				bucket, pos := 1, i
				for bucket < k {
					b := size
					if bucket <= extra {
						b++
					}
					if pos < b {
						break
					}
					pos -= b
					bucket++
				}
				v = tree.NewDInt(tree.DInt(bucket))
			case "lag", "lead":
				// The argument offset rows back (lag) or forward (lead) in
				// the partition, else the default (NULL without one).
				offset := 1
				if len(spec.args) > 1 {
					d, err := r.evalIn(spec.args[1], out)
					if err != nil {
						return err
					}
					if d == tree.DNull {
						out[col] = tree.DNull
						continue
					}
					offset = int(tree.MustBeDInt(d))
				}
				j := i - offset
				if spec.kind == "lead" {
					j = i + offset
				}
				switch {
				case j >= 0 && j < len(part):
					v, err = r.evalIn(spec.args[0], n.rows[part[j].row])
				case len(spec.args) > 2:
					v, err = r.evalIn(spec.args[2], out)
				default:
					v = tree.DNull
				}
			case "first_value", "last_value":
				if spec.frame != nil {
					var rows []int
					if rows, err = framed(i); err != nil {
						return err
					}
					v = tree.DNull
					if len(rows) > 0 {
						j := rows[0]
						if spec.kind == "last_value" {
							j = rows[len(rows)-1]
						}
						v, err = r.evalIn(spec.args[0], n.rows[part[j].row])
					}
					break
				}
				if spec.kind == "first_value" {
					v, err = r.evalIn(spec.args[0], n.rows[part[0].row])
				} else {
					v, err = r.evalIn(spec.args[0], n.rows[part[peerEnd[i]-1].row])
				}
			case "agg":
				if spec.frame != nil {
					// Over the row's own frame, accumulated afresh.
					var rows []int
					if rows, err = framed(i); err != nil {
						return err
					}
					var fs aggState
					for _, j := range rows {
						if err = accumulate(r, &fs, spec.agg, n.rows[part[j].row]); err != nil {
							return err
						}
					}
					v, err = finish(&fs, spec.agg)
					break
				}
				// Accumulate through the current row's last peer.
				for ; accumulated < peerEnd[i]; accumulated++ {
					if err = accumulate(r, &state, spec.agg, n.rows[part[accumulated].row]); err != nil {
						return err
					}
				}
				snapshot := state
				v, err = finish(&snapshot, spec.agg)
			default:
				return errors.AssertionFailedf("unknown window function %s", spec.kind)
			}
			if err != nil {
				return err
			}
			if err := r.grow(int64(v.Size())); err != nil {
				return err
			}
			out[col] = v
		}
		start = end
	}
	return nil
}

// partitionKey is the key rows of one partition share: the values' key
// encodings, equal exactly when = says the values are (1.0 and 1 as
// numeric or jsonb, which their text tells apart); for a type without
// one, its text.
func partitionKey(part tree.Datums) string {
	var key []byte
	for _, d := range part {
		enc, err := rowenc.EncodeDatum(key, d)
		if err != nil {
			enc = encoding.EncodeStringAscending(append(key, 0xff), tree.AsString(d))
		}
		key = enc
	}
	return string(key)
}
