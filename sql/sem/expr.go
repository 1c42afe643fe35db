package sem

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq/oid"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// EvalCtx evaluates type-checked expressions (tree.TypedExpr) against one
// row and the statement's parameters. The parser's tree package resolves
// operators and function overloads during type checking; what an operator
// does is decided here, by its symbol and result type. Not safe for
// concurrent use.
//
// What evaluation needs of the layers above (the catalog, the session,
// subqueries) it reaches through the seams below, which package sql
// fills in for a statement (seams.go).
type EvalCtx struct {
	Ctx context.Context
	// Txn is the statement's transaction, for the functions that read the
	// catalog (pg_get_indexdef and friends, registered from package sql);
	// nil outside a statement.
	Txn kvapi.Txn
	// Catalog resolves relation names (::regclass) and caches what the
	// catalog functions read, for the statement.
	Catalog Catalog
	// Sequences are what the sequence functions use; nil outside a
	// statement.
	Sequences Sequences
	// Session is the session, for current_user and current_setting; nil
	// outside a statement.
	Session Session
	// Advisory are the session's advisory locks; nil outside a statement
	// (the functions then fail with 0A000).
	Advisory AdvisoryLocks
	Params   tree.Datums
	// Row holds the values of the IndexedVars (the source's columns).
	Row tree.Datums
	// StmtTime is the statement's time: now() and relative date literals.
	StmtTime time.Time
	// Outer is the enclosing query's current row, for the column
	// references of a correlated subquery (IndexedVar OuterBase+i).
	Outer tree.Datums
	// Subquery runs a subquery for the current row; all asks for every
	// first-column value (IN).
	Subquery func(sq *tree.Subquery, row tree.Datums, all bool) (tree.Datum, error)
	// inSets are the subquery value sets IN has seen (inSetOf).
	inSets map[*tree.DTuple]*inSet
	// SRFRow holds the values of the select list's set-returning calls
	// for the row being emitted (package sql's srf_render.go).
	SRFRow map[*tree.FuncExpr]tree.Datum
	// Location is the session's time zone (TimeZone): where a timestamptz
	// is read, shown and taken apart; nil is UTC.
	Location *time.Location
	// DateStyle is the session's: how dates and timestamps are written
	// as text, and the order of an ambiguous date's fields read (the
	// zero value is ISO, MDY).
	DateStyle pgdate.DateStyle
	// ByteaEscape: the session's bytea_output is escape, for the casts
	// and functions that write a bytea as text.
	ByteaEscape bool
}

// OuterBase offsets the column references of a correlated subquery into
// the enclosing query's row: IndexedVar OuterBase+i is that row's column
// i (see EvalCtx.Outer).
const OuterBase = 1 << 20

var _ tree.CompareContext = (*EvalCtx)(nil)

func (e *EvalCtx) UnwrapDatum(ctx context.Context, d tree.Datum) tree.Datum {
	if p, ok := d.(*tree.Placeholder); ok {
		return e.MustGetPlaceholderValue(ctx, p)
	}
	return tree.UnwrapDOidWrapper(d)
}
func (e *EvalCtx) GetLocation() *time.Location {
	if e == nil || e.Location == nil {
		return time.UTC
	}
	return e.Location
}

// OutStyle is how the session writes values as text.
func (e *EvalCtx) OutStyle() pgformat.Style {
	if e == nil {
		return pgformat.Style{}
	}
	return pgformat.Style{Loc: e.GetLocation(), DateStyle: e.DateStyle, ByteaEscape: e.ByteaEscape}
}

// OutText is d as its type's output function writes it in this session
// (the text a cast to text, concat and format see).
func (e *EvalCtx) OutText(d tree.Datum) string {
	return string(pgformat.EncodeTextStyle(d, e.OutStyle()))
}

// GetRelativeParseTime is the statement's time in the session's zone: a
// timestamptz literal without an offset is read in that zone.
func (e *EvalCtx) GetRelativeParseTime() time.Time { return e.StmtTime.In(e.GetLocation()) }

// ParseContext is how text is read as a value in this statement: the
// session's zone for timestamptz, its DateStyle's field order.
func (e *EvalCtx) ParseContext() tree.ParseContext {
	return tree.NewParseContext(e.GetRelativeParseTime(), tree.NewParseContextOptionDateStyle(e.DateStyle))
}

func (e *EvalCtx) MustGetPlaceholderValue(_ context.Context, p *tree.Placeholder) tree.Datum {
	return e.Params[p.Idx]
}

// Eval computes expr.
func (e *EvalCtx) Eval(expr tree.TypedExpr) (tree.Datum, error) {
	switch x := expr.(type) {
	case *tree.IndexedVar:
		if x.Idx >= OuterBase {
			return e.Outer[x.Idx-OuterBase], nil
		}
		return e.Row[x.Idx], nil
	case *tree.Subquery:
		if e.Subquery == nil {
			return nil, errors.AssertionFailedf("subquery outside a statement")
		}
		return e.Subquery(x, e.Row, false)
	case *tree.Placeholder:
		// Before tree.Datum: a Placeholder satisfies that interface too.
		if d, ok := e.Params[x.Idx].(*tree.DString); ok && IsRegType(x.ResolvedType()) {
			// A name sent for a regclass (regtype, ...) parameter: looked
			// up here, in the statement's catalog (Bind has none).
			return CastDatum(e, d, x.ResolvedType())
		}
		return e.Params[x.Idx], nil
	case tree.Datum:
		return x, nil
	case *tree.ParenExpr:
		return e.Eval(x.TypedInnerExpr())
	case *tree.AndExpr:
		return e.evalLogic(x.TypedLeft(), x.TypedRight(), true)
	case *tree.OrExpr:
		return e.evalLogic(x.TypedLeft(), x.TypedRight(), false)
	case *tree.NotExpr:
		d, err := e.Eval(x.TypedInnerExpr())
		if err != nil || d == tree.DNull {
			return d, err
		}
		return tree.MakeDBool(!tree.MustBeDBool(d)), nil
	case *tree.IsNullExpr:
		d, err := e.Eval(x.TypedInnerExpr())
		if err != nil {
			return nil, err
		}
		return tree.MakeDBool(d == tree.DNull), nil
	case *tree.IsNotNullExpr:
		d, err := e.Eval(x.TypedInnerExpr())
		if err != nil {
			return nil, err
		}
		return tree.MakeDBool(d != tree.DNull), nil
	case *tree.ComparisonExpr:
		return e.evalComparison(x)
	case *tree.RangeCond:
		return e.evalRange(x)
	case *tree.BinaryExpr:
		return e.EvalBinary(x)
	case *tree.UnaryExpr:
		return e.evalUnary(x)
	case *tree.CastExpr:
		inner := x.Expr.(tree.TypedExpr)
		d, err := e.Eval(inner)
		if err != nil {
			return nil, err
		}
		if _, ok := d.(*tree.DFloat); ok && inner.ResolvedType().Oid() == oid.T_float4 && x.ResolvedType().Family() == types.StringFamily {
			// A float4 is a DFloat like a float8: its text is its own
			// shortest form, which only its type tells (its numeric:
			// castExplicit).
			d = tree.NewDString(string(pgformat.EncodeTextAs(d, types.Float4, e.OutStyle())))
		}
		return castExplicit(e, d, inner.ResolvedType(), x.ResolvedType())
	case *tree.CoalesceExpr:
		for i := range x.Exprs {
			d, err := e.Eval(x.TypedExprAt(i))
			if err != nil || d != tree.DNull {
				return d, err
			}
		}
		return tree.DNull, nil
	case *tree.CaseExpr:
		return e.evalCase(x)
	case *tree.NullIfExpr:
		// Both sides, as PostgreSQL's NULLIF evaluates them (and raises
		// the second's error when the first is NULL).
		l, err := e.Eval(x.Expr1.(tree.TypedExpr))
		if err != nil {
			return nil, err
		}
		r, err := e.Eval(x.Expr2.(tree.TypedExpr))
		if err != nil {
			return nil, err
		}
		if l == tree.DNull || r == tree.DNull {
			return l, nil
		}
		c, err := e.Compare(l, r)
		if err != nil {
			return nil, err
		}
		if c == 0 {
			return tree.DNull, nil
		}
		return l, nil
	case *tree.Array:
		arr := tree.NewDArray(x.ResolvedType().ArrayContents())
		for i := range x.Exprs {
			d, err := e.Eval(x.Exprs[i].(tree.TypedExpr))
			if err != nil {
				return nil, err
			}
			if err := arr.Append(d); err != nil {
				return nil, err
			}
		}
		return arr, nil
	case *tree.IndirectionExpr:
		return e.evalSubscript(x)
	case *tree.ArrayFlatten:
		// ARRAY(subquery): the subquery's rows, in order, as one array.
		sq, ok := x.Subquery.(*tree.Subquery)
		if !ok {
			return nil, errors.AssertionFailedf("ARRAY of %T", x.Subquery)
		}
		rows, err := e.Subquery(sq, e.Row, true)
		if err != nil {
			return nil, err
		}
		arr := tree.NewDArray(x.ResolvedType().ArrayContents())
		for _, d := range rows.(*tree.DTuple).D {
			if err := arr.Append(d); err != nil {
				return nil, err
			}
		}
		return arr, nil
	case *tree.Tuple:
		t := tree.NewDTupleWithLen(x.ResolvedType(), len(x.Exprs))
		for i := range x.Exprs {
			d, err := e.Eval(x.Exprs[i].(tree.TypedExpr))
			if err != nil {
				return nil, err
			}
			t.D[i] = d
		}
		return t, nil
	case *tree.FuncExpr:
		return e.evalFunc(x)
	case *tree.ColumnAccessExpr:
		// (record).field: the type checker found the field's place.
		d, err := e.Eval(x.Expr.(tree.TypedExpr))
		if err != nil || d == tree.DNull {
			return d, err
		}
		t, ok := d.(*tree.DTuple)
		if !ok || x.ColIndex < 0 || x.ColIndex >= len(t.D) {
			return nil, errors.AssertionFailedf("field %d of %s", x.ColIndex, d.ResolvedType())
		}
		return t.D[x.ColIndex], nil
	}
	return nil, pgerror.Unsupported("unsupported expression %s (%T)", expr, expr)
}

// evalLogic is AND (and=true) or OR with SQL's three-valued logic.
func (e *EvalCtx) evalLogic(l, r tree.TypedExpr, and bool) (tree.Datum, error) {
	ld, err := e.Eval(l)
	if err != nil {
		return nil, err
	}
	if ld != tree.DNull && bool(tree.MustBeDBool(ld)) != and {
		return ld, nil // false AND ..., true OR ...
	}
	rd, err := e.Eval(r)
	if err != nil {
		return nil, err
	}
	if rd != tree.DNull && bool(tree.MustBeDBool(rd)) != and {
		return rd, nil
	}
	if ld == tree.DNull || rd == tree.DNull {
		return tree.DNull, nil
	}
	return tree.MakeDBool(tree.DBool(and)), nil
}

// Compare orders two non-NULL datums as PostgreSQL's comparison
// operators do: negative, zero or positive.
func (e *EvalCtx) Compare(a, b tree.Datum) (int, error) {
	if c, ok := compareJSON(a, b); ok {
		return c, nil
	}
	if c, ok := compareNaN(a, b); ok {
		return c, nil
	}
	if c, ok := compareDateTimestamp(a, b, e.GetLocation()); ok {
		return c, nil
	}
	if c, ok := compareIntervals(a, b); ok {
		return c, nil
	}
	if la, ok := a.(*tree.DArray); ok {
		if ra, ok := b.(*tree.DArray); ok {
			return e.compareArrays(la, ra)
		}
	}
	return a.Compare(e.Ctx, e, b)
}

// compareNaN orders a NaN float or numeric as PostgreSQL does, above
// every other value (and Infinity) and equal to itself; CockroachDB's
// datums put it below all. ok is false when neither is NaN.
func compareNaN(a, b tree.Datum) (c int, ok bool) {
	an, bn := isNaN(a), isNaN(b)
	switch {
	case !an && !bn:
		return 0, false
	case an && bn:
		return 0, true
	case an:
		return 1, true
	}
	return -1, true
}

func isNaN(d tree.Datum) bool {
	switch v := d.(type) {
	case *tree.DFloat:
		return math.IsNaN(float64(*v))
	case *tree.DDecimal:
		return v.Form == apd.NaN || v.Form == apd.NaNSignaling
	}
	return false
}

func (e *EvalCtx) evalComparison(x *tree.ComparisonExpr) (tree.Datum, error) {
	l, err := e.Eval(x.TypedLeft())
	if err != nil {
		return nil, err
	}
	var r tree.Datum
	if sq, ok := x.Right.(*tree.Subquery); ok && (x.Operator.Symbol == treecmp.In || x.Operator.Symbol == treecmp.NotIn ||
		x.Operator.Symbol == treecmp.Any || x.Operator.Symbol == treecmp.Some || x.Operator.Symbol == treecmp.All) {
		if r, err = e.Subquery(sq, e.Row, true); err == nil && (x.Operator.Symbol == treecmp.In || x.Operator.Symbol == treecmp.NotIn) {
			var set *inSet
			if set, err = e.inSetOf(r); set != nil && err == nil {
				return e.searchIn(l, set, x.Operator.Symbol == treecmp.NotIn)
			}
		}
	} else if tup, ok := x.Right.(*tree.Tuple); ok && (x.Operator.Symbol == treecmp.In || x.Operator.Symbol == treecmp.NotIn) && len(tup.Exprs) > 0 {
		return e.evalInList(l, tup, x.Operator.Symbol == treecmp.NotIn)
	} else {
		r, err = e.Eval(x.TypedRight())
	}
	if err != nil {
		return nil, err
	}
	sym := x.Operator.Symbol
	switch sym {
	case treecmp.Any, treecmp.Some, treecmp.All:
		return e.evalAnyAll(x, l, r)
	}
	return e.compareDatums(x, sym, l, r)
}

// evalSubscript is arr[i]: the element at subscript i (counted from the
// array's lower bound), NULL out of range.
func (e *EvalCtx) evalSubscript(x *tree.IndirectionExpr) (tree.Datum, error) {
	if len(x.Indirection) != 1 || x.Indirection[0].Slice {
		return nil, pgerror.Unsupported("array slices and multiple subscripts are not supported yet")
	}
	d, err := e.Eval(x.Expr.(tree.TypedExpr))
	if err != nil || d == tree.DNull {
		return d, err
	}
	i, err := e.Eval(x.Indirection[0].Begin.(tree.TypedExpr))
	if err != nil || i == tree.DNull {
		return i, err
	}
	arr, ok := d.(*tree.DArray)
	if !ok {
		return nil, pgerror.Unsupported("cannot subscript type %s", d.ResolvedType().SQLString())
	}
	idx := []int64{int64(tree.MustBeDInt(i))}
	if err := int4Subscripts(idx); err != nil {
		return nil, err
	}
	return arrayElement(arr, idx), nil
}

// evalAnyAll is l op ANY/SOME/ALL (r), r an array or a subquery's rows:
// true if op holds for some (every) element, else NULL if an element
// compared NULL, else false.
func (e *EvalCtx) evalAnyAll(x *tree.ComparisonExpr, l, r tree.Datum) (tree.Datum, error) {
	if r == tree.DNull {
		return tree.DNull, nil
	}
	var elems tree.Datums
	switch v := r.(type) {
	case *tree.DArray:
		elems = pgarray.Flat(v)
	case *tree.DTuple:
		elems = v.D
	default:
		return nil, pgerror.Unsupported("%s needs an array or a subquery", x.Operator)
	}
	all := x.Operator.Symbol == treecmp.All
	sawNull := false
	for _, el := range elems {
		d, err := e.compareDatums(x, x.SubOperator.Symbol, l, el)
		if err != nil {
			return nil, err
		}
		switch {
		case d == tree.DNull:
			sawNull = true
		case bool(tree.MustBeDBool(d)) != all:
			return tree.MakeDBool(tree.DBool(!all)), nil
		}
	}
	if sawNull {
		return tree.DNull, nil
	}
	return tree.MakeDBool(tree.DBool(all)), nil
}

// compareDatums applies comparison sym to l and r.
func (e *EvalCtx) compareDatums(x *tree.ComparisonExpr, sym treecmp.ComparisonOperatorSymbol, l, r tree.Datum) (tree.Datum, error) {
	switch sym {
	case treecmp.IsDistinctFrom, treecmp.IsNotDistinctFrom:
		same := l == tree.DNull && r == tree.DNull
		if l != tree.DNull && r != tree.DNull {
			c, err := e.Compare(l, r)
			if err != nil {
				return nil, err
			}
			same = c == 0
		}
		return tree.MakeDBool(tree.DBool(same == (sym == treecmp.IsNotDistinctFrom))), nil
	case treecmp.In, treecmp.NotIn:
		return e.evalIn(l, r, sym == treecmp.NotIn)
	}
	if l == tree.DNull || r == tree.DNull {
		return tree.DNull, nil
	}
	switch sym {
	case treecmp.RegMatch, treecmp.NotRegMatch, treecmp.RegIMatch, treecmp.NotRegIMatch:
		fold := sym == treecmp.RegIMatch || sym == treecmp.NotRegIMatch
		m, err := matchRegex(DatumText(l), DatumText(r), fold)
		if err != nil {
			return nil, err
		}
		return tree.MakeDBool(tree.DBool(m == (sym == treecmp.RegMatch || sym == treecmp.RegIMatch))), nil
	case treecmp.Contains, treecmp.ContainedBy, treecmp.Overlaps:
		if _, arr := l.(*tree.DArray); arr {
			return e.arrayContainment(sym, l, r)
		}
	case treecmp.Like, treecmp.NotLike, treecmp.ILike, treecmp.NotILike:
		ls, ok1 := tree.AsDString(l)
		rs, ok2 := tree.AsDString(r)
		if !ok1 || !ok2 {
			return nil, pgerror.Unsupported("LIKE on %s", l.ResolvedType())
		}
		fold := sym == treecmp.ILike || sym == treecmp.NotILike
		m, err := likeMatchEscape(string(ls), string(rs), fold, '\\')
		if err != nil {
			return nil, err
		}
		return tree.MakeDBool(tree.DBool(m == (sym == treecmp.Like || sym == treecmp.ILike))), nil
	case treecmp.SimilarTo, treecmp.NotSimilarTo:
		m, err := similarMatch(DatumText(l), DatumText(r), "\\")
		if err != nil {
			return nil, err
		}
		return tree.MakeDBool(tree.DBool(m == (sym == treecmp.SimilarTo))), nil
	}
	if isJSONComparison(sym) {
		return evalJSONComparison(sym, l, r)
	}
	c, err := e.Compare(l, r)
	if err != nil {
		return nil, err
	}
	var res bool
	switch sym {
	case treecmp.EQ:
		res = c == 0
	case treecmp.NE:
		res = c != 0
	case treecmp.LT:
		res = c < 0
	case treecmp.LE:
		res = c <= 0
	case treecmp.GT:
		res = c > 0
	case treecmp.GE:
		res = c >= 0
	default:
		return nil, pgerror.Unsupported("unsupported comparison operator: %s", x.Operator)
	}
	return tree.MakeDBool(tree.DBool(res)), nil
}

// evalInList is l [NOT] IN (a, b, ...) evaluated as PostgreSQL's l = a
// OR l = b ... (l <> a AND ...): the elements one at a time, none after
// the first equal to l, so that a later element's error is not raised.
// Of a NULL l every element is evaluated (each comparison is NULL).
func (e *EvalCtx) evalInList(l tree.Datum, tup *tree.Tuple, not bool) (tree.Datum, error) {
	sawNull := false
	for _, el := range tup.Exprs {
		d, err := e.Eval(el.(tree.TypedExpr))
		if err != nil {
			return nil, err
		}
		if r, err := e.inStep(l, d, not, &sawNull); r != nil || err != nil {
			return r, err
		}
	}
	return inEnd(sawNull, not), nil
}

// inStep compares one element d of l [NOT] IN (...): the answer once d
// equals l, else nil, noting a NULL on either side in sawNull.
func (e *EvalCtx) inStep(l, d tree.Datum, not bool, sawNull *bool) (tree.Datum, error) {
	if d == tree.DNull || l == tree.DNull {
		*sawNull = true
		return nil, nil
	}
	c, err := e.Compare(l, d)
	if err != nil || c != 0 {
		return nil, err
	}
	return tree.MakeDBool(tree.DBool(!not)), nil
}

// inEnd is l [NOT] IN (...)'s answer when no element equals l: NULL if
// one of the comparisons was.
func inEnd(sawNull, not bool) tree.Datum {
	if sawNull {
		return tree.DNull
	}
	return tree.MakeDBool(tree.DBool(not))
}

// evalIn is l [NOT] IN of a tuple of values: NULL if l is NULL, or no
// element matches and one is NULL.
func (e *EvalCtx) evalIn(l, r tree.Datum, not bool) (tree.Datum, error) {
	t, ok := r.(*tree.DTuple)
	if !ok {
		return nil, pgerror.Unsupported("IN needs a list of values")
	}
	if len(t.D) == 0 {
		// Nothing is in an empty set, not even NULL.
		return tree.MakeDBool(tree.DBool(not)), nil
	}
	if l == tree.DNull {
		return tree.DNull, nil
	}
	sawNull := false
	for _, d := range t.D {
		if r, err := e.inStep(l, d, not, &sawNull); r != nil || err != nil {
			return r, err
		}
	}
	return inEnd(sawNull, not), nil
}

// inSet is a subquery's values sorted for IN: its non-NULL values in
// order, and whether it holds a NULL.
type inSet struct {
	uses    int
	vals    tree.Datums
	hasNull bool
}

// inSetOf returns d, a subquery's values under IN, sorted, the second
// time it comes: then it is a set kept for the statement (an
// uncorrelated subquery's), probed once per row, which a binary search
// serves in O(log n); nil before (a correlated subquery's come anew each
// row and are scanned).
func (e *EvalCtx) inSetOf(d tree.Datum) (*inSet, error) {
	t, ok := d.(*tree.DTuple)
	if !ok || len(t.D) < 8 {
		return nil, nil
	}
	if e.inSets == nil {
		e.inSets = map[*tree.DTuple]*inSet{}
	}
	s := e.inSets[t]
	if s == nil {
		e.inSets[t] = &inSet{uses: 1}
		return nil, nil
	}
	if s.vals == nil {
		for _, v := range t.D {
			if v == tree.DNull {
				s.hasNull = true
			} else {
				s.vals = append(s.vals, v)
			}
		}
		var err error
		sort.Slice(s.vals, func(i, j int) bool {
			c, cerr := e.Compare(s.vals[i], s.vals[j])
			if cerr != nil && err == nil {
				err = cerr
			}
			return c < 0
		})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// searchIn is evalIn over a sorted set: a binary search.
func (e *EvalCtx) searchIn(l tree.Datum, s *inSet, not bool) (tree.Datum, error) {
	if l == tree.DNull {
		return tree.DNull, nil
	}
	var err error
	i := sort.Search(len(s.vals), func(i int) bool {
		c, cerr := e.Compare(s.vals[i], l)
		if cerr != nil && err == nil {
			err = cerr
		}
		return c >= 0
	})
	if err != nil {
		return nil, err
	}
	if i < len(s.vals) {
		c, err := e.Compare(s.vals[i], l)
		if err != nil {
			return nil, err
		}
		if c == 0 {
			return tree.MakeDBool(tree.DBool(!not)), nil
		}
	}
	if s.hasNull {
		return tree.DNull, nil
	}
	return tree.MakeDBool(tree.DBool(not)), nil
}

func (e *EvalCtx) evalRange(x *tree.RangeCond) (tree.Datum, error) {
	l, err := e.Eval(x.TypedLeftFrom())
	if err != nil {
		return nil, err
	}
	from, err := e.Eval(x.TypedFrom())
	if err != nil {
		return nil, err
	}
	to, err := e.Eval(x.TypedTo())
	if err != nil {
		return nil, err
	}
	// x BETWEEN a AND b is x >= a AND x <= b, in three-valued logic
	// (1 BETWEEN 48 AND NULL is false, not NULL); SYMMETRIC is that OR
	// x BETWEEN b AND a (PostgreSQL's definition).
	between := func(lo, hi tree.Datum) (tree.Datum, error) {
		ge, err := e.compare3(l, lo, func(c int) bool { return c >= 0 })
		if err != nil {
			return nil, err
		}
		le, err := e.compare3(l, hi, func(c int) bool { return c <= 0 })
		if err != nil {
			return nil, err
		}
		return and3(ge, le), nil
	}
	in, err := between(from, to)
	if err != nil {
		return nil, err
	}
	if x.Symmetric {
		swapped, err := between(to, from)
		if err != nil {
			return nil, err
		}
		in = or3(in, swapped)
	}
	if x.Not && in != tree.DNull {
		return tree.MakeDBool(!tree.MustBeDBool(in)), nil
	}
	return in, nil
}

// compare3 is the comparison a op b as SQL has it: NULL if either is.
func (e *EvalCtx) compare3(a, b tree.Datum, op func(int) bool) (tree.Datum, error) {
	if a == tree.DNull || b == tree.DNull {
		return tree.DNull, nil
	}
	c, err := e.Compare(a, b)
	if err != nil {
		return nil, err
	}
	return tree.MakeDBool(tree.DBool(op(c))), nil
}

// and3 and or3 are AND and OR in three-valued logic.
func and3(a, b tree.Datum) tree.Datum {
	if a == tree.DBoolFalse || b == tree.DBoolFalse {
		return tree.DBoolFalse
	}
	if a == tree.DNull || b == tree.DNull {
		return tree.DNull
	}
	return tree.DBoolTrue
}

func or3(a, b tree.Datum) tree.Datum {
	if a == tree.DBoolTrue || b == tree.DBoolTrue {
		return tree.DBoolTrue
	}
	if a == tree.DNull || b == tree.DNull {
		return tree.DNull
	}
	return tree.DBoolFalse
}

func (e *EvalCtx) evalCase(x *tree.CaseExpr) (tree.Datum, error) {
	var operand tree.Datum
	if x.Expr != nil {
		var err error
		if operand, err = e.Eval(x.Expr.(tree.TypedExpr)); err != nil {
			return nil, err
		}
	}
	for _, w := range x.Whens {
		c, err := e.Eval(w.Cond.(tree.TypedExpr))
		if err != nil {
			return nil, err
		}
		match := false
		if operand != nil {
			if operand != tree.DNull && c != tree.DNull {
				cmp, err := e.Compare(operand, c)
				if err != nil {
					return nil, err
				}
				match = cmp == 0
			}
		} else {
			match = c != tree.DNull && bool(tree.MustBeDBool(c))
		}
		if match {
			return e.Eval(w.Val.(tree.TypedExpr))
		}
	}
	if x.Else != nil {
		return e.Eval(x.Else.(tree.TypedExpr))
	}
	return tree.DNull, nil
}

var errDivByZero = pgerror.New("22012", "division by zero")

// ErrIntOutOfRange is integer arithmetic's overflow (22003), in int4.
var ErrIntOutOfRange = pgerror.New(pgerror.CodeNumericValueOutOfRange, "integer out of range")

// intOutOfRange is the overflow of an integer of width bits, named as
// PostgreSQL names the type.
func intOutOfRange(width int32) error {
	switch width {
	case 16:
		return pgerror.New(pgerror.CodeNumericValueOutOfRange, "smallint out of range")
	case 32:
		return ErrIntOutOfRange
	}
	return pgerror.New(pgerror.CodeNumericValueOutOfRange, "bigint out of range")
}

// EvalBinary computes a binary operator.
func (e *EvalCtx) EvalBinary(x *tree.BinaryExpr) (tree.Datum, error) {
	var l, r tree.Datum
	var err error
	if swappedOperands(x) {
		// PostgreSQL's operator is a SQL function it inlines as the
		// commuted one (integer + date is select $2 + $1): the right
		// operand is evaluated first, and its error is the one raised.
		if r, err = e.Eval(x.TypedRight()); err != nil {
			return nil, err
		}
		if l, err = e.Eval(x.TypedLeft()); err != nil {
			return nil, err
		}
	} else {
		if l, err = e.Eval(x.TypedLeft()); err != nil {
			return nil, err
		}
		if r, err = e.Eval(x.TypedRight()); err != nil {
			return nil, err
		}
	}
	sym := x.Operator.Symbol
	res := x.ResolvedType()
	if res.Family() == types.ArrayFamily && sym == treebin.Concat {
		return concatArrays(l, r, x.TypedLeft().ResolvedType(), x.TypedRight().ResolvedType(), res)
	}
	if l == tree.DNull || r == tree.DNull {
		return tree.DNull, nil
	}
	if s, ok := AsJSONText(l); ok {
		return evalJSONTextBinary(sym, s, r)
	}
	if _, ok := AsJSON(l); ok {
		return evalJSONBinary(sym, l, r)
	}
	if d, ok, err := evalDatetimeBinary(sym, l, r, e.GetLocation()); ok {
		return d, err
	}
	switch res.Family() {
	case types.IntFamily:
		a, b := int64(tree.MustBeDInt(l)), int64(tree.MustBeDInt(r))
		width := res.Width()
		if sym == treebin.LShift || sym == treebin.RShift {
			// A shift keeps its left operand's type (int4 << int4 is int4).
			width = PGIntWidth(x.TypedLeft())
		}
		if width == 0 {
			width = 64
		}
		var v int64
		switch sym {
		case treebin.Plus:
			v = a + b
			if (v > a) != (b > 0) {
				return nil, intOutOfRange(width)
			}
		case treebin.Minus:
			v = a - b
			if (v < a) != (b > 0) {
				return nil, intOutOfRange(width)
			}
		case treebin.Mult:
			if a != 0 && b != 0 {
				v = a * b
				if v/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
					return nil, intOutOfRange(width)
				}
			}
		case treebin.FloorDiv, treebin.Div:
			if b == 0 {
				return nil, errDivByZero
			}
			if a == math.MinInt64 && b == -1 {
				return nil, intOutOfRange(width)
			}
			v = a / b
		case treebin.Mod:
			if b == 0 {
				return nil, errDivByZero
			}
			if b != -1 {
				v = a % b
			}
		case treebin.Bitand:
			v = a & b
		case treebin.Bitor:
			v = a | b
		case treebin.Bitxor:
			v = a ^ b
		case treebin.LShift, treebin.RShift:
			// The shift count is taken modulo the width, as the machine
			// PostgreSQL runs on does (int8 << 64 is the value itself).
			n := uint(b) & uint(width-1)
			if sym == treebin.LShift {
				v = a << n
			} else {
				v = a >> n
			}
			switch width {
			case 32:
				v = int64(int32(v))
			case 16:
				v = int64(int16(v))
			}
		default:
			return nil, pgerror.Unsupported("unsupported operator %s on integers", sym)
		}
		switch width {
		case 32:
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, ErrIntOutOfRange
			}
		case 16:
			if v < math.MinInt16 || v > math.MaxInt16 {
				return nil, intOutOfRange(16)
			}
		}
		return tree.NewDInt(tree.DInt(v)), nil
	case types.FloatFamily:
		a, b := ToFloat(l), ToFloat(r)
		var v float64
		switch sym {
		case treebin.Plus:
			v = a + b
		case treebin.Minus:
			v = a - b
		case treebin.Mult:
			v = a * b
		case treebin.Div:
			if b == 0 && !math.IsNaN(a) {
				// float8div and float4div: NaN / 0 is NaN.
				return nil, errDivByZero
			}
			v = a / b
		case treebin.Pow:
			return floatPow(a, b)
		default:
			return nil, pgerror.Unsupported("unsupported operator %s on floats", sym)
		}
		// PostgreSQL's float8 and float4 operators refuse a result that
		// overflows finite operands, or underflows to zero from nonzero
		// ones (22003); float4's is float4's.
		if res.Width() == 32 {
			v = float64(float32(v))
		}
		if math.IsInf(v, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) {
			return nil, errFloatOverflow
		}
		if v == 0 && a != 0 && (sym == treebin.Mult && b != 0 || sym == treebin.Div && !math.IsInf(b, 0)) {
			return nil, errFloatUnderflow
		}
		return tree.NewDFloat(tree.DFloat(v)), nil
	case types.DecimalFamily:
		a, b := ToDecimal(l), ToDecimal(r)
		d := &tree.DDecimal{}
		var cond apd.Condition
		var err error
		switch sym {
		case treebin.Plus:
			cond, err = numericExactCtx.Add(&d.Decimal, a, b)
		case treebin.Minus:
			cond, err = numericExactCtx.Sub(&d.Decimal, a, b)
		case treebin.Mult:
			cond, err = numericExactCtx.Mul(&d.Decimal, a, b)
		case treebin.Div:
			if b.IsZero() {
				return nil, errDivByZero
			}
			err = PGNumericDiv(&d.Decimal, a, b)
		case treebin.FloorDiv:
			if b.IsZero() {
				return nil, errDivByZero
			}
			cond, err = tree.HighPrecisionCtx.QuoInteger(&d.Decimal, a, b)
		case treebin.Mod:
			if b.IsZero() {
				return nil, errDivByZero
			}
			if cond, err = tree.HighPrecisionCtx.Rem(&d.Decimal, a, b); err == nil {
				var r *apd.Decimal
				if r, err = modScale(&d.Decimal, a, b); err == nil {
					d.Decimal = *r
				}
			}
		case treebin.Pow:
			return numericPow(a, b)
		default:
			return nil, pgerror.Unsupported("unsupported operator %s on decimals", sym)
		}
		if err == nil {
			_, err = cond.GoError(apd.DefaultTraps)
		}
		if err != nil {
			if cond.Overflow() {
				return nil, errNumericOverflow
			}
			return nil, pgerror.WithCode(err, pgerror.CodeNumericValueOutOfRange)
		}
		return d, nil
	case types.StringFamily:
		if sym == treebin.Concat {
			// A non-text side is cast to text (booleans spelled out).
			return tree.NewDString(e.castText(l) + e.castText(r)), nil
		}
	case types.BytesFamily:
		lb, ok1 := l.(*tree.DBytes)
		rb, ok2 := r.(*tree.DBytes)
		if sym == treebin.Concat && ok1 && ok2 {
			return tree.NewDBytes(*lb + *rb), nil
		}
	}
	return nil, pgerror.Unsupported("unsupported binary operator: %s %s %s", l.ResolvedType(), sym, r.ResolvedType())
}

func (e *EvalCtx) evalUnary(x *tree.UnaryExpr) (tree.Datum, error) {
	d, err := e.Eval(x.TypedInnerExpr())
	if err != nil || d == tree.DNull {
		return d, err
	}
	switch x.Operator.Symbol {
	case tree.UnaryPlus:
		return d, nil
	case tree.UnaryMinus:
	case tree.UnaryComplement:
		if v, ok := d.(*tree.DInt); ok {
			return tree.NewDInt(^*v), nil // within its width as the operand is
		}
		return nil, pgerror.Unsupported("unsupported unary operator ~ on %s", d.ResolvedType())
	case tree.UnarySqrt, tree.UnaryCbrt:
		f := ToFloat(d)
		if x.Operator.Symbol == tree.UnaryCbrt {
			return tree.NewDFloat(tree.DFloat(cbrt(f))), nil
		}
		if f < 0 {
			return nil, pgerror.New("2201F", "cannot take square root of a negative number")
		}
		return tree.NewDFloat(tree.DFloat(math.Sqrt(f))), nil
	default:
		return nil, pgerror.Unsupported("unsupported unary operator %s", x.Operator)
	}
	if r, ok, err := evalDatetimeUnaryMinus(d); ok {
		return r, err
	}
	switch v := d.(type) {
	case *tree.DInt:
		// -(-2147483648::int4) is out of int4's range, as -MinInt64 is of
		// int8's.
		w := PGIntWidth(x.TypedInnerExpr())
		if lim := int64(1) << (w - 1); w < 64 && -int64(*v) >= lim || *v == math.MinInt64 {
			return nil, intOutOfRange(w)
		}
		return tree.NewDInt(-*v), nil
	case *tree.DFloat:
		return tree.NewDFloat(-*v), nil
	case *tree.DDecimal:
		r := &tree.DDecimal{}
		r.Decimal.Neg(&v.Decimal)
		return r, nil
	}
	return nil, pgerror.Unsupported("unary minus on %s", d.ResolvedType())
}

// ToFloat is a number as a float8 (NaN for a non-number).
func ToFloat(d tree.Datum) float64 {
	switch v := d.(type) {
	case *tree.DInt:
		return float64(*v)
	case *tree.DFloat:
		return float64(*v)
	case *tree.DDecimal:
		f, _ := v.Float64()
		return f
	}
	return math.NaN()
}

// ToDecimal is a number as a numeric.
func ToDecimal(d tree.Datum) *apd.Decimal {
	switch v := d.(type) {
	case *tree.DInt:
		return apd.New(int64(*v), 0)
	case *tree.DFloat:
		return floatToNumeric(float64(*v), float8Digits)
	case *tree.DDecimal:
		return &v.Decimal
	}
	return &apd.Decimal{Form: apd.NaN}
}

// numericExactCtx adds, subtracts and multiplies numerics exactly over
// apd's whole exponent range: the parser's ExactCtx stops at 1e2000,
// where PostgreSQL's numeric goes on to 131,072 digits (apd's range ends
// at 100,000; past it, "value overflows numeric format" as PostgreSQL's
// past its own).
var numericExactCtx = func() *apd.Context {
	c := *tree.ExactCtx
	c.MaxExponent, c.MinExponent = apd.MaxExponent, apd.MinExponent
	return &c
}()

// The significant digits float8 and float4 keep when they become
// numeric (C's DBL_DIG and FLT_DIG).
const float8Digits, float4Digits = 15, 6

// floatToNumeric is float8_numeric (digits float8Digits) or
// float4_numeric (float4Digits): f rounded to that many significant
// digits, as printf's %.*g does, read as a numeric (0.1::float8 is 0.1,
// not the binary value's 17 digits; 0.1::float8 + 0.2::float8 is 0.3 as
// a numeric); numeric has no -0.
func floatToNumeric(f float64, digits int) *apd.Decimal {
	switch {
	case math.IsNaN(f):
		return &apd.Decimal{Form: apd.NaN}
	case math.IsInf(f, 0):
		return &apd.Decimal{Form: apd.Infinite, Negative: f < 0}
	case f == 0:
		return apd.New(0, 0)
	}
	r, _, err := apd.NewFromString(strconv.FormatFloat(f, 'g', digits, 64))
	if err != nil {
		r = &apd.Decimal{}
		_, _ = r.SetFloat64(f)
	}
	return r
}

// DatumText is a datum's text form, as PostgreSQL prints it.
func DatumText(d tree.Datum) string {
	if s, ok := tree.AsDString(d); ok {
		return string(s)
	}
	if j, ok := AsJSON(d); ok {
		return pgjson.Format(j)
	}
	return tree.AsStringWithFlags(d, tree.FmtPgwireText)
}

// castText is d cast to text, which || also reads: its output function's
// text under the session's settings, except that the cast spells
// booleans out (true::text is 'true'; their output function, which
// concat and format use, prints t).
func (e *EvalCtx) castText(d tree.Datum) string {
	switch v := d.(type) {
	case *tree.DBool:
		if *v {
			return "true"
		}
		return "false"
	}
	return e.OutText(d)
}

// castExplicit is CAST(d AS t) of a value of type from: as CastDatum,
// except that a char(n) value loses its padding as any other string type
// (bpchar's cast to text), and a string too long for t's length is cut
// to it, as PostgreSQL's explicit casts do (an assignment of one fails
// with 22001: CastDatum).
func castExplicit(e *EvalCtx, d tree.Datum, from, t *types.T) (tree.Datum, error) {
	if f, ok := d.(*tree.DFloat); ok && from.Oid() == oid.T_float4 && t.Family() == types.DecimalFamily {
		// float4_numeric: the float4's 6 significant digits (FLT_DIG).
		return limitNumeric(&tree.DDecimal{Decimal: *floatToNumeric(float64(*f), float4Digits)}, t)
	}
	if t.Family() != types.StringFamily || t.Oid() == oid.T_name || d == tree.DNull {
		return CastDatum(e, d, t)
	}
	var v string
	if s, ok := d.(*tree.DString); ok {
		v = string(*s)
	} else {
		v = e.castText(d) // its text, then cut as a string's
	}
	if from.Oid() == oid.T_bpchar && t.Oid() != oid.T_bpchar {
		v = strings.TrimRight(v, " ")
	}
	if w := int(t.Width()); w > 0 && utf8.RuneCountInString(v) > w {
		v = string([]rune(v)[:w])
	}
	return CastDatum(e, tree.NewDString(v), t)
}

// CastDatum converts d to type t.
func CastDatum(e *EvalCtx, d tree.Datum, t *types.T) (tree.Datum, error) {
	if d == tree.DNull {
		return d, nil
	}
	if res, ok, err := castJSON(d, t); ok {
		return res, err
	}
	if t.Family() == types.ArrayFamily {
		return castArray(e, d, t)
	}
	if IsRegType(t) {
		if e.Catalog == nil {
			return nil, errors.AssertionFailedf("::%s outside a statement", t.SQLStandardName())
		}
		return e.Catalog.Reg(e, d, t)
	}
	switch t.Oid() {
	case oid.T_oid:
		if o, ok := d.(*tree.DOid); ok {
			return tree.NewDOid(o.Oid), nil
		}
		if i, ok := d.(*tree.DInt); ok {
			// int4 to oid reinterprets the bits (-1 is 4294967295); int8
			// to oid must fit in 32 bits. A DInt does not say which it
			// was: a negative int4 value wraps for both.
			if *i < math.MinInt32 || *i > math.MaxUint32 {
				return nil, pgerror.New(pgerror.CodeNumericValueOutOfRange, "OID out of range")
			}
			return tree.NewDOid(oid.Oid(uint32(*i))), nil
		}
	}
	if i, ok := d.(*tree.DInt); ok && t.Family() == types.IntFamily && t.Width() > 0 && t.Width() < 64 {
		// int8 to int4 or int2 (a DInt is any of them): in range or
		// PostgreSQL's error, never the value unchanged.
		if lim := int64(1) << (t.Width() - 1); int64(*i) < -lim || int64(*i) >= lim {
			return nil, intOutOfRange(t.Width())
		}
	}
	if f, ok := d.(*tree.DFloat); ok && t.Family() == types.FloatFamily && t.Width() == 32 {
		return floatOfWidth(float64(*f), 32, "")
	}
	if d.ResolvedType().Equivalent(t) && t.Family() != types.StringFamily && t.Family() != types.DecimalFamily {
		return d, nil
	}
	if r, ok, err := castDatetime(e, d, t); ok {
		return r, err
	}
	switch t.Family() {
	case types.StringFamily:
		s := e.castText(d)
		if w := int(t.Width()); w > 0 {
			n := utf8.RuneCountInString(s)
			if n > w {
				// PostgreSQL lets trailing spaces beyond the width go.
				trimmed := strings.TrimRight(s, " ")
				if utf8.RuneCountInString(trimmed) > w {
					return nil, pgerror.Newf("22001", "value too long for type %s", FormatType(t.Oid(), Typmod(t)))
				}
				s = string([]rune(s)[:w])
				n = w
			}
			if t.Oid() == types.BPChar.Oid() && n < w {
				// char(n) is blank-padded to its width.
				s += strings.Repeat(" ", w-n)
			}
		}
		return tree.NewDString(s), nil
	case types.IntFamily:
		var v int64
		switch x := d.(type) {
		case *tree.DInt:
			v = int64(*x)
		case *tree.DFloat:
			f := math.RoundToEven(float64(*x))
			if math.IsNaN(f) || f < math.MinInt64 || f >= math.MaxInt64 {
				return nil, intOutOfRange(t.Width())
			}
			v = int64(f)
		case *tree.DDecimal:
			switch x.Form {
			case apd.NaN, apd.NaNSignaling:
				return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "cannot convert NaN to %s", t.SQLStandardName())
			case apd.Infinite:
				// PostgreSQL's numeric_int4 and numeric_int8: 0A000.
				return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "cannot convert infinity to %s", t.SQLStandardName())
			}
			// Past 20 digits it is out of range (and may be past what
			// the rounding context takes).
			if x.NumDigits()+int64(x.Exponent) > 20 {
				return nil, intOutOfRange(t.Width())
			}
			var r apd.Decimal
			if _, err := tree.ExactCtx.RoundToIntegralValue(&r, &x.Decimal); err != nil {
				return nil, err
			}
			i, err := r.Int64()
			if err != nil {
				return nil, intOutOfRange(t.Width())
			}
			v = i
		case *tree.DBool:
			if *x {
				v = 1
			}
		case *tree.DOid:
			v = int64(x.Oid)
		case *tree.DString:
			i, err := tree.ParseDInt(strings.TrimSpace(string(*x)))
			if err != nil {
				if strings.Contains(err.Error(), "out of range") {
					return nil, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "value %q is out of range for type %s", string(*x), t.SQLStandardName())
				}
				return nil, InvalidInput(t, string(*x))
			}
			v = int64(*i)
		default:
			return nil, pgerror.Unsupported("cannot cast %s to %s", d.ResolvedType(), t)
		}
		switch t.Width() {
		case 16:
			if v < math.MinInt16 || v > math.MaxInt16 {
				return nil, pgerror.New(pgerror.CodeNumericValueOutOfRange, "smallint out of range")
			}
		case 32:
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, ErrIntOutOfRange
			}
		}
		return tree.NewDInt(tree.DInt(v)), nil
	case types.FloatFamily:
		switch x := d.(type) {
		case *tree.DDecimal:
			f := ToFloat(d)
			if f == 0 {
				// numeric has no -0: a negative zero numeric (-0.00
				// of -5 % 5) is 0 as a float.
				f = 0
			}
			if x.Form == apd.Finite && (math.IsInf(f, 0) || f == 0 && !x.IsZero()) {
				// numeric_float8 and numeric_float4 read the numeric's
				// text as the float's input, which refuses it.
				return nil, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "%q is out of range for type %s", x.Decimal.Text('f'), FormatType(t.Oid(), -1))
			}
			return floatOfWidth(f, t.Width(), x.Decimal.Text('f'))
		case *tree.DInt, *tree.DFloat:
			return floatOfWidth(ToFloat(d), t.Width(), "")
		case *tree.DString:
			in := strings.TrimSpace(string(*x))
			f, err := tree.ParseDFloat(in)
			if err != nil {
				if strings.Contains(err.Error(), "out of range") {
					return nil, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "%q is out of range for type %s", in, FormatType(t.Oid(), -1))
				}
				return nil, InvalidInput(t, string(*x))
			}
			return floatOfWidth(float64(*f), t.Width(), in)
		}
	case types.DecimalFamily:
		var r *tree.DDecimal
		switch x := d.(type) {
		case *tree.DFloat:
			r = &tree.DDecimal{Decimal: *floatToNumeric(float64(*x), float8Digits)}
		case *tree.DInt, *tree.DDecimal:
			r = &tree.DDecimal{}
			r.Decimal.Set(ToDecimal(d))
		case *tree.DString:
			var err error
			if r, err = tree.ParseDDecimal(strings.TrimSpace(string(*x))); err != nil {
				return nil, InvalidInput(t, string(*x))
			}
		default:
			return nil, pgerror.Unsupported("cannot cast %s to %s", d.ResolvedType(), t.SQLString())
		}
		return limitNumeric(r, t)
	case types.BoolFamily:
		switch x := d.(type) {
		case *tree.DInt:
			return tree.MakeDBool(*x != 0), nil
		case *tree.DString:
			b, err := tree.ParseDBool(strings.TrimSpace(string(*x)))
			if err != nil {
				return nil, InvalidInput(t, string(*x))
			}
			return b, nil
		}
	case types.BytesFamily:
		if s, ok := d.(*tree.DString); ok {
			b, err := pgformat.ParseBytea(string(*s))
			if err != nil {
				return nil, err
			}
			return tree.NewDBytes(tree.DBytes(b)), nil
		}
	default:
		if s, ok := d.(*tree.DString); ok {
			r, _, err := tree.ParseAndRequireString(t, string(*s), e.ParseContext())
			if err != nil {
				return nil, InvalidInput(t, string(*s))
			}
			return r, nil
		}
		switch t.Family() {
		case types.TimestampTZFamily:
			if ts, ok := d.(*tree.DTimestamp); ok {
				return &tree.DTimestampTZ{Time: relocate(ts.Time, e.GetLocation())}, nil
			}
		case types.TimestampFamily:
			if ts, ok := d.(*tree.DTimestampTZ); ok {
				return &tree.DTimestamp{Time: wallClock(ts.Time, e.GetLocation())}, nil
			}
		}
	}
	return nil, pgerror.Unsupported("cannot cast %s to %s", d.ResolvedType(), t.SQLString())
}

var (
	errFloatOverflow  = pgerror.New(pgerror.CodeNumericValueOutOfRange, "value out of range: overflow")
	errFloatUnderflow = pgerror.New(pgerror.CodeNumericValueOutOfRange, "value out of range: underflow")
)

// floatOfWidth is f as a float4 (width 32: rounded to the nearest
// float32, PostgreSQL's errors for one that overflows or underflows to
// zero; input is the text it was read from, if any) or a float8.
func floatOfWidth(f float64, width int32, input string) (tree.Datum, error) {
	if width == 32 {
		r := float64(float32(f))
		if math.IsInf(r, 0) && !math.IsInf(f, 0) || r == 0 && f != 0 {
			if input != "" {
				return nil, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "%q is out of range for type real", input)
			}
			if r == 0 {
				return nil, errFloatUnderflow
			}
			return nil, errFloatOverflow
		}
		f = r
	}
	return tree.NewDFloat(tree.DFloat(f)), nil
}

// errorf is errors.Newf with a SQLSTATE.
func errorf(code pgerror.Code, format string, args ...interface{}) error {
	return pgerror.WithCode(errors.Newf(format, args...), code)
}

// PGNumericDiv sets d = a / b rounded (half away from zero) to the scale
// PostgreSQL's select_div_scale picks: at least 16 significant digits, and
// no fewer decimals than either input shows.
func PGNumericDiv(d, a, b *apd.Decimal) error {
	w1, f1 := nbaseFirst(a)
	w2, f2 := nbaseFirst(b)
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := 16 - qweight*4
	rscale = max(rscale, displayScale(a), displayScale(b), 0)
	rscale = min(rscale, 1000)
	// Enough digits for the integer part, the scale, and a guard digit.
	prec := uint32(max(int(a.NumDigits())+int(a.Exponent)-int(b.Exponent)+rscale+2, 20))
	ctx := tree.DecimalCtx.WithPrecision(prec)
	if _, err := ctx.Quo(d, a, b); err != nil {
		return err
	}
	rctx := *ctx
	rctx.Rounding = apd.RoundHalfUp
	_, err := rctx.Quantize(d, d, -int32(rscale))
	return err
}

func displayScale(d *apd.Decimal) int {
	if d.Exponent < 0 {
		return int(-d.Exponent)
	}
	return 0
}

// nbaseFirst returns the weight of d's first non-zero base-10000 digit
// and that digit, as PostgreSQL's numeric stores them.
func nbaseFirst(d *apd.Decimal) (weight int, first int) {
	if d.IsZero() {
		return 0, 0
	}
	digits := d.Coeff.String()
	// The position of the first digit relative to the decimal point: the
	// value is 0.digits * 10^pos.
	pos := len(digits) + int(d.Exponent)
	// Base-10000 weight w: 10000^w <= |d| < 10000^(w+1).
	w := floorDiv(pos-1, 4)
	// The first base-10000 digit holds the decimal digits of positions
	// 4w+4 .. 4w+1 (counting from the point); those before digits[0] are 0.
	lead := 4*w + 4 - pos // zeros before the first significant digit
	group := strings.Repeat("0", lead) + digits
	if len(group) > 4 {
		group = group[:4]
	} else {
		group += strings.Repeat("0", 4-len(group))
	}
	v := 0
	for _, c := range group {
		v = v*10 + int(c-'0')
	}
	return w, v
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// limitNumeric applies numeric(p,s): the value rounded (half away from
// zero) to s decimals, and at most p-s digits before the point.
func limitNumeric(d *tree.DDecimal, t *types.T) (tree.Datum, error) {
	p, sc := t.Precision(), t.Scale()
	if p != 0 && d.Form == apd.Infinite {
		// apply_typmod_special: NaN fits any numeric(p, s), the
		// infinities none.
		return nil, pgerror.WithDetail(pgerror.New(pgerror.CodeNumericValueOutOfRange, "numeric field overflow"),
			fmt.Sprintf("A field with precision %d, scale %d cannot hold an infinite value.", p, sc))
	}
	if p == 0 || d.Form != apd.Finite {
		return d, nil
	}
	ctx := *tree.DecimalCtx
	ctx.Rounding = apd.RoundHalfUp
	ctx.Precision = uint32(p) + 2000
	if _, err := ctx.Quantize(&d.Decimal, &d.Decimal, -sc); err != nil {
		return nil, pgerror.WithCode(err, pgerror.CodeNumericValueOutOfRange)
	}
	intDigits := int(d.NumDigits()) + int(d.Exponent)
	if !d.IsZero() && intDigits > int(p-sc) {
		return nil, pgerror.WithDetail(pgerror.New(pgerror.CodeNumericValueOutOfRange, "numeric field overflow"),
			fmt.Sprintf("A field with precision %d, scale %d must round to an absolute value less than 10^%d.", p, sc, p-sc))
	}
	return d, nil
}

// concatArrays is || on arrays (or an array and an element): a NULL array
// adds nothing, as in PostgreSQL's array_cat and array_append.
func concatArrays(l, r tree.Datum, lt, rt, t *types.T) (tree.Datum, error) {
	elem := FlatArrayType(t).ArrayContents()
	lArr, rArr := lt.Family() == types.ArrayFamily, rt.Family() == types.ArrayFamily
	if l == tree.DNull && r == tree.DNull && lArr == rArr {
		// Two NULL arrays; a NULL array and a NULL element are array_append's
		// {NULL}.
		return tree.DNull, nil
	}
	switch {
	case lArr && rArr:
		if l == tree.DNull {
			return r, nil
		}
		if r == tree.DNull {
			return l, nil
		}
		return pgarray.Cat(elem, l.(*tree.DArray), r.(*tree.DArray))
	case lArr:
		return appendElem(elem, l, r, false)
	default:
		return appendElem(elem, r, l, true)
	}
}

// appendElem is array_append (array_prepend with front) of d to arr
// (NULL: the empty array), which must have at most one dimension. The
// result keeps arr's lower bound, as PostgreSQL's (which readjusts it
// after a prepend).
func appendElem(elem *types.T, arr, d tree.Datum, front bool) (tree.Datum, error) {
	var src tree.Datums
	var lower []int
	if arr != tree.DNull {
		a := arr.(*tree.DArray)
		if pgarray.IsMulti(a) {
			return nil, pgarray.ErrNotOneDim()
		}
		src = a.Array
		lower = pgarray.Lower(a)
	}
	if lower != nil && ((!front && int64(lower[0])+int64(len(src)) > 1<<31-1) || (front && int64(lower[0])-1 < -1<<31)) {
		// The new element's subscript would not fit an int4.
		return nil, pgerror.New(pgerror.CodeNumericValueOutOfRange, "integer out of range")
	}
	out := make(tree.Datums, 0, len(src)+1)
	if front {
		out = append(out, d)
	}
	out = append(out, src...)
	if !front {
		out = append(out, d)
	}
	res := pgarray.FromElems(elem, out)
	if err := pgarray.CheckBounds(pgarray.Dims(res), lower); err != nil {
		return nil, err
	}
	return pgarray.WithLower(res, lower), nil
}

// matchRegex is s ~ pattern (~* with fold).
func matchRegex(s, pattern string, fold bool) (bool, error) {
	re, err := compileSQLRegex(pattern, fold)
	if err != nil {
		return false, err
	}
	return re.match(s)
}

// compareIntervals orders two intervals as PostgreSQL's interval_cmp
// does, by their span with a month of 30 days and a day of 24 hours
// ('10 mons -7 days' < '9 mons 26 days', '1 mon' = '30 days');
// CockroachDB's compares the normalized fields one after the other.
// ok is false unless both are intervals.
func compareIntervals(a, b tree.Datum) (c int, ok bool) {
	x, okx := tree.UnwrapDOidWrapper(a).(*tree.DInterval)
	y, oky := tree.UnwrapDOidWrapper(b).(*tree.DInterval)
	if !okx || !oky {
		return 0, false
	}
	return intervalSpan(x).Cmp(intervalSpan(y)), true
}

func intervalSpan(d *tree.DInterval) *big.Int {
	days := new(big.Int).Mul(big.NewInt(d.Months), big.NewInt(30))
	days.Add(days, big.NewInt(d.Days))
	span := days.Mul(days, big.NewInt(24*60*60*1e9))
	return span.Add(span, big.NewInt(d.Nanos()))
}

// swappedOperands says whether x is one of the + operators PostgreSQL
// defines as a SQL function calling the commuted operator: integer +
// date, interval + date, time, timetz, timestamp or timestamptz, and
// time or timetz + date.
func swappedOperands(x *tree.BinaryExpr) bool {
	if x.Operator.Symbol != treebin.Plus {
		return false
	}
	lf, rf := x.TypedLeft().ResolvedType().Family(), x.TypedRight().ResolvedType().Family()
	switch lf {
	case types.IntFamily:
		return rf == types.DateFamily
	case types.IntervalFamily:
		switch rf {
		case types.DateFamily, types.TimeFamily, types.TimeTZFamily, types.TimestampFamily, types.TimestampTZFamily:
			return true
		}
	case types.TimeFamily, types.TimeTZFamily:
		return rf == types.DateFamily
	}
	return false
}
