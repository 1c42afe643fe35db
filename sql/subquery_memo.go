package sql

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// Memoized correlated subqueries. A correlated subquery runs once per
// outer row, but its answer depends only on the outer columns it names:
// in a query that writes nothing, an answer is kept per distinct tuple of
// those values and reused (x6.a = (SELECT max(y.a) FROM t y WHERE y.b =
// x6.k) over a cross join of thousands of rows runs once per distinct
// x6.k). A subquery that calls a volatile function (random(), nextval,
// a user-defined function) runs every time, as PostgreSQL's does.

// memoLimit bounds the answers kept per subquery.
const memoLimit = 4096

// subqueryMemo is a subquery's kept answers.
type subqueryMemo struct {
	// cols are the outer columns it names (positions in its outer row).
	cols    []int
	answers map[string]tree.Datum
}

// memoizable reports whether sel calls no volatile function.
func memoizable(sel tree.SelectStatement) bool {
	ok := true
	_, _ = tree.SimpleStmtVisit(&tree.Select{Select: sel}, func(e tree.Expr) (bool, tree.Expr, error) {
		if sq, isSub := e.(*tree.Subquery); isSub && ok {
			// The walk does not enter a subquery's own query.
			ok = memoizable(sq.Select)
			return false, e, nil
		}
		f, isFunc := e.(*tree.FuncExpr)
		if !isFunc || !ok {
			return ok, e, nil
		}
		if isAggregate(f) || isCountStar(f) {
			return true, e, nil
		}
		name := strings.ToLower(tree.AsString(f.Func))
		overloads := sem.Overloads(strings.TrimPrefix(name, "pg_catalog."))
		if len(overloads) == 0 {
			ok = false // a user-defined function, or one we cannot tell
		}
		for _, o := range overloads {
			if o.Volatility == volatility.Volatile {
				ok = false
			}
		}
		return ok, e, nil
	})
	return ok
}

// key is the memo key of outer's values at the columns the subquery
// names; ok false if one has no key encoding.
func (m *subqueryMemo) key(outer tree.Datums, all bool) (string, bool) {
	var k []byte
	if all {
		k = append(k, 1)
	}
	for _, c := range m.cols {
		if c >= len(outer) {
			return "", false
		}
		var err error
		if k, err = rowenc.EncodeDatum(k, outer[c]); err != nil {
			return "", false
		}
	}
	return string(k), true
}

// lookup returns the kept answer for outer, if any.
func (m *subqueryMemo) lookup(outer tree.Datums, all bool) (tree.Datum, string, bool) {
	if m == nil {
		return nil, "", false
	}
	k, ok := m.key(outer, all)
	if !ok {
		return nil, "", false
	}
	d, found := m.answers[k]
	return d, k, found
}

// keep records an answer, charging it to r's account; past memoLimit
// answers or the memory budget it keeps nothing more.
func (m *subqueryMemo) keep(r *runner, key string, d tree.Datum) {
	if m == nil || key == "" || len(m.answers) >= memoLimit {
		return
	}
	if r.grow(int64(len(key))+rowenc.DatumSize(d)+64) != nil {
		m.answers = nil // the budget is short: stop keeping
		return
	}
	if m.answers == nil {
		m.answers = map[string]tree.Datum{}
	}
	m.answers[key] = d
}

// writesNothing reports whether stmt is a query that writes nothing: a
// SELECT whose WITH queries are SELECTs too (or EXPLAIN ANALYZE of one).
func writesNothing(stmt tree.Statement) bool {
	if ea, ok := stmt.(*tree.ExplainAnalyze); ok {
		return writesNothing(ea.Statement)
	}
	sel, ok := stmt.(*tree.Select)
	if !ok {
		return false
	}
	if sel.With != nil {
		for _, cte := range sel.With.CTEList {
			if _, ok := cte.Stmt.(*tree.Select); !ok {
				return false
			}
		}
	}
	return true
}
