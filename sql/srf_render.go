package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/sem"
)

// Set-returning functions in the select list (SELECT generate_series(1, 3),
// SELECT jsonb_array_elements(doc) ->> 'name' FROM t), as PostgreSQL 10 and
// later run them: for each input row, every set-returning call in the
// select list is started once, and the calls yield their rows in lockstep,
// one output row per step, until the longest is done; a shorter one gives
// NULL once it is exhausted, and an input row whose calls all yield
// nothing emits nothing.
//
// The functions are registered as builtins (so that the type checker
// resolves them and their result types) whose implementation is srfFn;
// the render node expands them (srfExpander), and evalFunc answers a call
// with the expander's current value for it. Anywhere else a call is
// refused. srf_builtins.go has the series, array and catalog ones,
// srf_json.go the jsonb ones.

// srfFn marks a set-returning function's overload and runs it.
type srfFn struct {
	// start begins the function over its arguments, none of them NULL
	// (the functions are strict: a NULL argument yields no rows); ret is
	// the call's result type (a labeled tuple for a function with OUT
	// columns).
	start func(args tree.Datums, ret *types.T) (srfIter, error)
	// ofSession, instead of start, begins a function of the session's
	// state (pg_listening_channels).
	ofSession func(s *session, args tree.Datums) (srfIter, error)
}

func (srfFn) IsSetReturning() {}

// begin starts the function for a statement that runs in r.
func (f srfFn) begin(r *runner, args tree.Datums, ret *types.T) (srfIter, error) {
	if f.ofSession != nil {
		s := sessionOf(r.eval)
		if s == nil {
			return sliceIter(nil), nil
		}
		return f.ofSession(s, args)
	}
	return f.start(args, ret)
}

// srfIter yields a set-returning call's rows one at a time; ok is false
// once it is done.
type srfIter func() (d tree.Datum, ok bool, err error)

// sliceIter yields rows computed at once.
func sliceIter(rows []tree.Datum) srfIter {
	return func() (tree.Datum, bool, error) {
		if len(rows) == 0 {
			return nil, false, nil
		}
		d := rows[0]
		rows = rows[1:]
		return d, true, nil
	}
}

var _ = sem.RegisterFamily(func() map[string][]tree.Overload {
	m := map[string][]tree.Overload{}
	for name, srf := range jsonSRFs {
		ret := srf.outTypes[0]
		if len(srf.outTypes) > 1 {
			ret = types.MakeLabeledTuple(srf.outTypes, srf.outNames)
		}
		m[name] = []tree.Overload{{
			Types: tree.ParamTypes{{Name: "from_json", Typ: srf.argType()}}, ReturnType: tree.FixedReturnType(ret),
			Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: srfFn{start: jsonStart(name, srf)},
		}}
	}
	return m
}())

// jsonStart runs a jsonb set-returning function for the select list.
func jsonStart(name string, srf *jsonSRF) func(tree.Datums, *types.T) (srfIter, error) {
	return func(args tree.Datums, ret *types.T) (srfIter, error) {
		if args[0] == tree.DNull {
			return sliceIter(nil), nil
		}
		rows, err := srf.run(name, args[0])
		if err != nil {
			return nil, err
		}
		out := make([]tree.Datum, len(rows))
		for i, res := range rows {
			out[i] = res[0]
			if len(res) > 1 {
				out[i] = tree.NewDTuple(ret, res...)
			}
		}
		return sliceIter(out), nil
	}
}

// srfExpander runs a render node's set-returning calls.
type srfExpander struct {
	calls []*tree.FuncExpr
	// iters are the current input row's calls; nil for one that is done,
	// and all nil before the first row and between rows.
	iters []srfIter
	row   tree.Datums
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
	return &srfExpander{calls: v.calls, iters: make([]srfIter, len(v.calls))}
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
	if r.eval.SRFRow == nil {
		r.eval.SRFRow = map[*tree.FuncExpr]tree.Datum{}
	}
	defer func() {
		for _, f := range s.calls {
			delete(r.eval.SRFRow, f)
		}
	}()
	for {
		yielded := false
		for i, f := range s.calls {
			d := tree.Datum(tree.DNull)
			if it := s.iters[i]; it != nil {
				v, ok, err := it()
				if err != nil {
					return nil, err
				}
				if ok {
					d, yielded = v, true
				} else {
					s.iters[i] = nil
				}
			}
			r.eval.SRFRow[f] = d
		}
		if yielded {
			if err := r.checkCancel(); err != nil {
				return nil, err
			}
			out := make(tree.Datums, len(n.exprs))
			for i, e := range n.exprs {
				var err error
				if out[i], err = r.evalIn(e, s.row); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		if err := s.start(r, row); err != nil {
			return nil, err
		}
	}
}

// start begins every set-returning call for input row.
func (s *srfExpander) start(r *runner, row tree.Datums) error {
	s.row = row
	for i, f := range s.calls {
		s.iters[i] = nil
		args := make(tree.Datums, len(f.Exprs))
		null := false
		for j, a := range f.Exprs {
			d, err := r.evalIn(a.(tree.TypedExpr), row)
			if err != nil {
				return err
			}
			args[j], null = d, null || d == tree.DNull
		}
		if null {
			continue // strict: no rows
		}
		it, err := f.ResolvedOverload().Fn.(srfFn).begin(r, args, f.ResolvedType())
		if err != nil {
			return err
		}
		s.iters[i] = it
	}
	return nil
}
