package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treewindow"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Named windows (WINDOW w AS (...), OVER w, OVER (w ORDER BY ...)) and
// window frames (ROWS | RANGE | GROUPS BETWEEN ... AND ... [EXCLUDE ...]),
// as PostgreSQL 15 has them.

// resolveWindowDef returns the window w names or refines: OVER w is the
// named window itself; OVER (w ...) takes w's partitioning and ordering
// and adds its own ordering (if w has none) and frame.
func resolveWindowDef(w *tree.WindowDef, defs tree.Window) (*tree.WindowDef, error) {
	name := w.RefName
	if name == "" && w.Name != "" && len(w.Partitions) == 0 && len(w.OrderBy) == 0 && w.Frame == nil {
		name = w.Name
	}
	if name == "" {
		return w, nil
	}
	var base *tree.WindowDef
	for _, d := range defs {
		if d.Name == name {
			base = d
			break
		}
	}
	if base == nil {
		return nil, pgerror.Newf("42704", "window %q does not exist", string(name))
	}
	if w.RefName == "" {
		return base, nil
	}
	if len(w.Partitions) > 0 {
		return nil, pgerror.Newf("42P20", "cannot override PARTITION BY clause of window %q", string(name))
	}
	if len(base.OrderBy) > 0 && len(w.OrderBy) > 0 {
		return nil, pgerror.Newf("42P20", "cannot override ORDER BY clause of window %q", string(name))
	}
	if base.Frame != nil {
		return nil, pgerror.Newf("42P20", "cannot copy window %q because it has a frame clause", string(name))
	}
	out := &tree.WindowDef{Partitions: base.Partitions, OrderBy: base.OrderBy, Frame: w.Frame}
	if len(out.OrderBy) == 0 {
		out.OrderBy = w.OrderBy
	}
	return out, nil
}

// windowFrame is a frame clause, its offsets type-checked.
type windowFrame struct {
	mode                     treewindow.WindowFrameMode
	startType, endType       treewindow.WindowFrameBoundType
	startOffset, endOffset   tree.TypedExpr
	exclusion                treewindow.WindowFrameExclusion
	rangeOffsetType, keyType *types.T
}

// buildFrame checks and type-checks a frame clause for a window ordered by
// order (its expressions' types).
func (b *builder) buildFrame(f *tree.WindowFrame, order []tree.TypedExpr) (*windowFrame, error) {
	wf := &windowFrame{mode: f.Mode, exclusion: f.Exclusion, startType: f.Bounds.StartBound.BoundType, endType: treewindow.CurrentRow}
	if f.Bounds.EndBound != nil {
		wf.endType = f.Bounds.EndBound.BoundType
	}
	switch {
	case wf.startType == treewindow.UnboundedFollowing:
		return nil, pgerror.New("42P20", "frame start cannot be UNBOUNDED FOLLOWING")
	case wf.endType == treewindow.UnboundedPreceding:
		return nil, pgerror.New("42P20", "frame end cannot be UNBOUNDED PRECEDING")
	case wf.startType == treewindow.CurrentRow && wf.endType == treewindow.OffsetPreceding:
		return nil, pgerror.New("42P20", "frame starting from current row cannot have preceding rows")
	case wf.startType == treewindow.OffsetFollowing && (wf.endType == treewindow.OffsetPreceding || wf.endType == treewindow.CurrentRow):
		return nil, pgerror.New("42P20", "frame starting from following row cannot have preceding rows")
	}
	offsetType := types.Int
	if f.Mode == treewindow.RANGE && (f.Bounds.StartBound.HasOffset() || (f.Bounds.EndBound != nil && f.Bounds.EndBound.HasOffset())) {
		if len(order) != 1 {
			return nil, pgerror.New("42P20", "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column")
		}
		wf.keyType = order[0].ResolvedType()
		switch wf.keyType.Family() {
		case types.IntFamily, types.FloatFamily, types.DecimalFamily:
			offsetType = wf.keyType
		default:
			return nil, pgerror.Unsupported("RANGE with offset PRECEDING/FOLLOWING is not supported for column type %s", wf.keyType.SQLString())
		}
	}
	if f.Mode == treewindow.GROUPS && len(order) == 0 {
		return nil, pgerror.New("42P20", "GROUPS mode requires an ORDER BY clause")
	}
	check := func(bound *tree.WindowFrameBound) (tree.TypedExpr, error) {
		if bound == nil || !bound.HasOffset() {
			return nil, nil
		}
		return b.typeCheck(bound.OffsetExpr, &scope{}, offsetType)
	}
	var err error
	if wf.startOffset, err = check(f.Bounds.StartBound); err != nil {
		return nil, err
	}
	if wf.endOffset, err = check(f.Bounds.EndBound); err != nil {
		return nil, err
	}
	wf.rangeOffsetType = offsetType
	return wf, nil
}

// framePosition is what a row's frame is computed from: its place in the
// partition, its peers, its peer group and its ORDER BY key.
type framePosition struct {
	i, n               int
	peerStart, peerEnd int
	// groupStart[g] is the first row of peer group g; group is the row's.
	groupStart []int
	group      int
	// key returns row j's ORDER BY value (RANGE with an offset).
	key func(j int) tree.Datum
	// desc: the ORDER BY is descending.
	desc bool
}

// rows returns the indexes, within the partition, of the rows in p's
// frame, in order.
func (f *windowFrame) rows(r *runner, p framePosition) ([]int, error) {
	lo, err := f.bound(r, p, f.startType, f.startOffset, true)
	if err != nil {
		return nil, err
	}
	hi, err := f.bound(r, p, f.endType, f.endOffset, false)
	if err != nil {
		return nil, err
	}
	var out []int
	for j := max(lo, 0); j < min(hi, p.n); j++ {
		switch f.exclusion {
		case treewindow.ExcludeCurrentRow:
			if j == p.i {
				continue
			}
		case treewindow.ExcludeGroup:
			if j >= p.peerStart && j < p.peerEnd {
				continue
			}
		case treewindow.ExcludeTies:
			if j != p.i && j >= p.peerStart && j < p.peerEnd {
				continue
			}
		}
		out = append(out, j)
	}
	return out, nil
}

// bound is the frame's start (the first row in it) or end (one past the
// last row in it) for bound type t.
func (f *windowFrame) bound(r *runner, p framePosition, t treewindow.WindowFrameBoundType, offset tree.TypedExpr, start bool) (int, error) {
	switch t {
	case treewindow.UnboundedPreceding:
		return 0, nil
	case treewindow.UnboundedFollowing:
		return p.n, nil
	case treewindow.CurrentRow:
		switch {
		case f.mode == treewindow.ROWS && start:
			return p.i, nil
		case f.mode == treewindow.ROWS:
			return p.i + 1, nil
		case start:
			return p.peerStart, nil
		}
		return p.peerEnd, nil
	}
	which := "starting"
	if !start {
		which = "ending"
	}
	d, err := r.evalIn(offset, nil)
	if err != nil {
		return 0, err
	}
	if d == tree.DNull {
		return 0, pgerror.Newf("22004", "frame %s offset must not be null", which)
	}
	preceding := t == treewindow.OffsetPreceding
	switch f.mode {
	case treewindow.ROWS, treewindow.GROUPS:
		n := int(tree.MustBeDInt(d))
		if n < 0 {
			return 0, pgerror.Newf("22013", "frame %s offset must not be negative", which)
		}
		if preceding {
			n = -n
		}
		if f.mode == treewindow.ROWS {
			if start {
				return p.i + n, nil
			}
			return p.i + n + 1, nil
		}
		g := p.group + n
		switch {
		case g < 0:
			return 0, nil
		case g >= len(p.groupStart):
			return p.n, nil
		case start:
			return p.groupStart[g], nil
		case g+1 < len(p.groupStart):
			return p.groupStart[g+1], nil
		}
		return p.n, nil
	}
	// RANGE: the rows whose key is within the offset of the current
	// row's, in the ORDER BY's direction.
	if c, err := r.eval.Compare(d, tree.NewDInt(0)); err == nil && c < 0 {
		return 0, pgerror.New("22013", "invalid preceding or following size in window function")
	}
	cur := p.key(p.i)
	if cur == tree.DNull {
		// NULL keys frame their peers only.
		if start {
			return p.peerStart, nil
		}
		return p.peerEnd, nil
	}
	sym := treebin.Plus
	if preceding != p.desc {
		sym = treebin.Minus
	}
	edge, err := r.eval.EvalBinary(tree.NewTypedBinaryExpr(treebin.MakeBinaryOperator(sym), cur, d.(tree.TypedExpr), f.keyType))
	if err != nil {
		return 0, err
	}
	// inFrame: row j's key is on the frame's side of edge.
	inFrame := func(j int) (bool, error) {
		k := p.key(j)
		if k == tree.DNull {
			return false, nil
		}
		c, err := r.eval.Compare(k, edge)
		if err != nil {
			return false, err
		}
		if p.desc {
			c = -c
		}
		if start {
			return c >= 0, nil
		}
		return c <= 0, nil
	}
	if start {
		for j := 0; j < p.n; j++ {
			ok, err := inFrame(j)
			if err != nil || ok {
				return j, err
			}
		}
		return p.n, nil
	}
	for j := p.n - 1; j >= 0; j-- {
		ok, err := inFrame(j)
		if err != nil || ok {
			return j + 1, err
		}
	}
	return 0, nil
}
