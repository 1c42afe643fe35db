package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/sem"
)

// Set-returning functions in the select list (SELECT jsonb_array_elements(doc)
// ->> 'name' FROM t), as PostgreSQL 10 and later run them: for each input
// row, every set-returning call in the select list is run once, and the row
// is emitted once per result row of the longest; a shorter one gives NULL
// once it is exhausted, and an input row whose calls all return nothing
// emits nothing.
//
// The functions are registered as builtins (so that the type checker
// resolves them) whose implementation is srfFn; the render node expands
// them (srfExpander), and evalFunc answers a call with the expander's
// current value for it. Anywhere else a call is refused.

// srfFn marks a set-returning function's overload.
type srfFn struct {
	name string
	srf  *jsonSRF
}

func (srfFn) IsSetReturning() {}

var _ = sem.RegisterFamily(func() map[string][]tree.Overload {
	m := map[string][]tree.Overload{}
	for name, srf := range jsonSRFs {
		ret := srf.outTypes[0]
		if len(srf.outTypes) > 1 {
			ret = types.MakeLabeledTuple(srf.outTypes, srf.outNames)
		}
		m[name] = []tree.Overload{{
			Types: tree.ParamTypes{{Name: "from_json", Typ: types.Jsonb}}, ReturnType: tree.FixedReturnType(ret),
			Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: srfFn{name: name, srf: srf},
		}}
	}
	return m
}())

// srfExpander runs a render node's set-returning calls.
type srfExpander struct {
	calls []*tree.FuncExpr
	// pending are the current input row's results, one list per call;
	// next is the index of the next output row.
	pending [][]tree.Datum
	row     tree.Datums
	next    int
	rows    int
}

// newSRFExpander finds the outermost set-returning calls in exprs; nil
// when there are none.
func newSRFExpander(exprs []tree.TypedExpr) *srfExpander {
	v := &srfFinder{}
	for _, e := range exprs {
		tree.WalkExpr(v, e)
	}
	if len(v.calls) == 0 {
		return nil
	}
	return &srfExpander{calls: v.calls}
}

type srfFinder struct{ calls []*tree.FuncExpr }

func (v *srfFinder) VisitPre(expr tree.Expr) (recurse bool, newExpr tree.Expr) {
	if f, ok := expr.(*tree.FuncExpr); ok {
		if ov := f.ResolvedOverload(); ov != nil {
			if _, ok := ov.Fn.(srfFn); ok {
				v.calls = append(v.calls, f)
				return false, expr
			}
		}
	}
	return true, expr
}

func (v *srfFinder) VisitPost(expr tree.Expr) tree.Expr { return expr }

// nextRow is the render node's next output row.
func (s *srfExpander) nextRow(r *runner, n *renderNode) (tree.Datums, error) {
	for s.next >= s.rows {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		if err := s.start(r, row); err != nil {
			return nil, err
		}
	}
	if r.eval.SRFRow == nil {
		r.eval.SRFRow = map[*tree.FuncExpr]tree.Datum{}
	}
	for i, f := range s.calls {
		d := tree.Datum(tree.DNull)
		if s.next < len(s.pending[i]) {
			d = s.pending[i][s.next]
		}
		r.eval.SRFRow[f] = d
	}
	s.next++
	defer func() {
		for _, f := range s.calls {
			delete(r.eval.SRFRow, f)
		}
	}()
	out := make(tree.Datums, len(n.exprs))
	for i, e := range n.exprs {
		var err error
		if out[i], err = r.evalIn(e, s.row); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// start runs every set-returning call for input row.
func (s *srfExpander) start(r *runner, row tree.Datums) error {
	s.row, s.next, s.rows = row, 0, 0
	s.pending = make([][]tree.Datum, len(s.calls))
	for i, f := range s.calls {
		fn := f.ResolvedOverload().Fn.(srfFn)
		arg, err := r.evalIn(f.Exprs[0].(tree.TypedExpr), row)
		if err != nil {
			return err
		}
		j, ok := sem.AsJSON(arg)
		if !ok {
			continue // NULL: no rows
		}
		rows, err := fn.srf.rows(fn.name, j)
		if err != nil {
			return err
		}
		for _, res := range rows {
			d := res[0]
			if len(res) > 1 {
				d = tree.NewDTuple(f.ResolvedType(), res...)
			}
			s.pending[i] = append(s.pending[i], d)
		}
		s.rows = max(s.rows, len(rows))
	}
	return nil
}
