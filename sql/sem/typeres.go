package sem

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/lib/pq/oid"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// PostgreSQL resolves an operator or a CASE/COALESCE/IN/ARRAY whose
// operands are of different numeric types by implicitly casting the
// narrower operand along int2 → int4 → int8 → numeric → float4 → float8
// (its pg_cast table, and the "preferred type" rules of
// typeconv-union-case). The parser's type checker (CockroachDB's) lacks
// most of these: int4 * float8 is "unsupported binary operator", and a
// CASE whose ELSE is a float8 and whose THEN is an int4 is refused. Its
// overload tables cannot be extended from outside the package (their
// fields are unexported), so this pass runs before tree.TypeCheck and
// writes the casts PostgreSQL would apply into the expression; what the
// type checker then sees has operands of one type.
//
// Only operands whose type is known without context are cast: column
// references, casts, function calls and the like. Literals and
// placeholders are left alone, so that the type checker still gives them
// the type the other operand asks for ($1 + i4 infers $1 as int4).

// numericRank orders the numeric types as PostgreSQL's implicit casts
// do; 0 for a type that is not numeric.
func numericRank(t *types.T) int {
	switch t.Family() {
	case types.IntFamily:
		switch t.Width() {
		case 16:
			return 1
		case 32:
			return 2
		}
		return 3
	case types.DecimalFamily:
		return 4
	case types.FloatFamily:
		if t.Width() == 32 {
			return 5
		}
		return 6
	}
	return 0
}

// ImplicitlyCastable reports whether PostgreSQL casts a value of type
// from to type to without being asked: up the numeric ranks, from date
// to timestamp to timestamptz, or between the string types.
func ImplicitlyCastable(from, to *types.T) bool {
	if a, b := numericRank(from), numericRank(to); a > 0 && b > 0 {
		return a <= b
	}
	if a, b := datetimeRank(from), datetimeRank(to); a > 0 && b > 0 {
		return a <= b
	}
	return from.Family() == types.StringFamily && to.Family() == types.StringFamily
}

// datetimeRank orders date, timestamp and timestamptz as PostgreSQL's
// implicit casts do; 0 for another type.
func datetimeRank(t *types.T) int {
	switch t.Family() {
	case types.DateFamily:
		return 1
	case types.TimestampFamily:
		return 2
	case types.TimestampTZFamily:
		return 3
	}
	return 0
}

// implicitCaster inserts PostgreSQL's implicit numeric casts (see above).
// It type-checks the operands it inspects in place, with the statement's
// semantic context, which the final type check then re-checks.
type implicitCaster struct {
	ctx  context.Context
	sema *tree.SemaContext
	// err is the first literal found unreadable (a bytea's, see
	// bytea_input.go).
	err error
}

// ImplicitCasts rewrites expr (its names resolved) as described above,
// type-checking the operands it inspects with sema. The error is a
// literal's that its type does not read.
func ImplicitCasts(ctx context.Context, sema *tree.SemaContext, expr tree.Expr) (tree.Expr, error) {
	c := implicitCaster{ctx: ctx, sema: sema}
	out, _ := tree.WalkExpr(&c, expr)
	return out, c.err
}

func (c *implicitCaster) VisitPre(e tree.Expr) (bool, tree.Expr) {
	// A subquery was planned (and rewritten) by its own builder.
	_, sub := e.(*tree.Subquery)
	return !sub, e
}

// VisitPost rewrites a copy of each node it changes: the statement's AST
// may be planned again (a prepared statement, a view).
func (c *implicitCaster) VisitPost(e tree.Expr) tree.Expr {
	switch x := e.(type) {
	case *tree.BinaryExpr:
		n := *x
		return c.binary(&n)
	case *tree.ComparisonExpr:
		n := *x
		if r, done := c.byteaComparison(&n); done {
			return r
		}
		return c.comparison(&n)
	case *tree.CastExpr:
		n := *x
		if t, ok := n.Type.(*types.T); ok {
			if keepsInt8Cast(n.Expr, t) {
				// The type checker elides a cast of a constant to int8
				// ('1'::int8, 1::int8) into the bare constant 1, which
				// then passes for an int4 literal (PGIntWidth):
				// '2147483647'::int8 + 1 overflowed. Read as a numeric
				// first, the cast to int8 stays.
				n.Expr = &tree.CastExpr{Expr: n.Expr, Type: types.Decimal, SyntaxMode: tree.CastShort}
				return &n
			}
			if lit := ArrayLiteral(n.Expr, t); lit != n.Expr {
				return lit
			}
			if w := c.narrowerThanCast(n.Expr, t); w != nil {
				// The type checker elides a cast to the type it gives
				// the operand, int8 for i4 * 1 and float8 for f4 - f4,
				// which PGSemantics then narrows to PostgreSQL's int4 or
				// float4: (i4 * 1)::int8 * 2 overflowed as an int4. The
				// cast to the narrower type first stays.
				n.Expr = &tree.CastExpr{Expr: n.Expr, Type: w, SyntaxMode: tree.CastShort}
				return &n
			}
		}
		return c.byteaCast(&n)
	case *tree.CaseExpr:
		n := *x
		n.Whens = make([]*tree.When, len(x.Whens))
		// The ELSE counts as the first branch (PostgreSQL's order).
		vals := make([]*tree.Expr, 0, len(x.Whens)+1)
		if n.Else != nil {
			vals = append(vals, &n.Else)
		}
		for i, w := range x.Whens {
			wc := *w
			n.Whens[i] = &wc
			vals = append(vals, &wc.Val)
		}
		c.unify(vals)
		return &n
	case *tree.CoalesceExpr:
		n := *x
		n.Exprs = append(tree.Exprs(nil), x.Exprs...)
		c.unifyList(n.Exprs)
		return &n
	case *tree.NullIfExpr:
		n := *x
		first := c.pgTypeOf(&n.Expr1)
		orig := n.Expr1
		c.unifyValues([]*tree.Expr{&n.Expr1, &n.Expr2})
		if first != nil && n.Expr1 != orig && (first.Family() == types.IntFamily || first.Family() == types.FloatFamily) {
			if t := c.pgTypeOf(&n.Expr1); t != nil && t.Family() == first.Family() {
				// NULLIF is its first argument's type as the = operator
				// takes it: PostgreSQL has = of any two integer types
				// and of float4 and float8, so NULLIF(i4, i8) is an
				// int4 (compared as int8s here, and cast back).
				return castTo(&n, first)
			}
		}
		return &n
	case *tree.Array:
		n := *x
		n.Exprs = append(tree.Exprs(nil), x.Exprs...)
		c.unifyList(n.Exprs)
		return stackArrays(&n, c.typeOf)
	case *tree.FuncExpr:
		n := *x
		n.Exprs = append(tree.Exprs(nil), x.Exprs...)
		if name := funcName(x); name == "greatest" || name == "least" {
			c.unifyList(n.Exprs)
		} else if name == "length" || name == "char_length" || name == "character_length" {
			c.placeholdersAsText(Overloads(name), n.Exprs)
			c.trimChars(n.Exprs, false)
		} else {
			ovs := callOverloads(x, name)
			c.placeholdersAsText(ovs, n.Exprs)
			c.castArgs(ovs, n.Exprs)
		}
		return &n
	}
	return e
}

// funcName is the lower-cased name a call names, "" if unknown.
func funcName(f *tree.FuncExpr) string {
	switch n := f.Func.FunctionReference.(type) {
	case *tree.UnresolvedName:
		return strings.ToLower(n.Parts[0])
	case *tree.FunctionDefinition:
		return n.Name
	case *tree.ResolvedFunctionDefinition:
		return n.Name
	}
	return ""
}

// binary casts the narrower operand of arithmetic between an integer or
// numeric and a float (the pairs the parser has no operator for).
func (c *implicitCaster) binary(x *tree.BinaryExpr) tree.Expr {
	switch x.Operator.Symbol {
	case treebin.Concat:
		c.arrayLiterals(&x.Left, &x.Right)
		ops := []tree.Expr{x.Left, x.Right}
		c.trimChars(ops, false)
		x.Left, x.Right = ops[0], ops[1]
		c.byteaConcatText(x)
		return x
	case treebin.Plus, treebin.Minus, treebin.Mult, treebin.Div, treebin.Mod, treebin.Pow:
	default:
		return x
	}
	lt, rt := c.typeOf(&x.Left), c.typeOf(&x.Right)
	if lt == nil || rt == nil {
		return x
	}
	if x.Operator.Symbol == treebin.Minus {
		// timestamp - date, date - timestamptz, ...: PostgreSQL casts the
		// date to the other operand's type (the parser has no operator).
		isTS := func(t *types.T) bool {
			return t.Family() == types.TimestampFamily || t.Family() == types.TimestampTZFamily
		}
		switch {
		case lt.Family() == types.DateFamily && isTS(rt):
			x.Left = castTo(x.Left, rt)
			return x
		case rt.Family() == types.DateFamily && isTS(lt):
			x.Right = castTo(x.Right, lt)
			return x
		}
	}
	if x.Operator.Symbol == treebin.Div && lt.Family() == types.IntervalFamily && rt.Family() == types.DecimalFamily {
		// interval / numeric is interval / float8 (interval_div), the
		// numeric cast: the parser has no interval / decimal.
		x.Right = castTo(x.Right, types.Float)
		return x
	}
	lr, rr := numericRank(lt), numericRank(rt)
	if x.Operator.Symbol == treebin.Pow && lt.Family() == types.IntFamily && rt.Family() == types.IntFamily {
		// PostgreSQL has no integer ^: it is float8 ^ float8.
		x.Left, x.Right = castTo(x.Left, types.Float), castTo(x.Right, types.Float)
		return x
	}
	if lr == 0 || rr == 0 || lt.Family() == rt.Family() {
		return x
	}
	if x.Operator.Symbol == treebin.Mod && (lt.Family() == types.FloatFamily || rt.Family() == types.FloatFamily) {
		// PostgreSQL has no float % operator: its error, not a cast.
		return x
	}
	// A float4 meets an integer or a numeric as a float8, PostgreSQL's
	// preferred numeric type (it has no int4 + float4 operator); two
	// float4s stay float4 (pgSemantics).
	wide := lt
	if lr < rr {
		wide = rt
	}
	if wide.Oid() == oid.T_float4 {
		wide = types.Float
	}
	if wide.Family() == types.DecimalFamily {
		// numeric, not the operand's numeric(p, s): i4 - x::numeric(2,
		// 0) does not fit i4 into two digits.
		wide = types.Decimal
	}
	if !lt.Identical(wide) {
		x.Left = castTo(x.Left, wide)
	}
	if !rt.Identical(wide) {
		x.Right = castTo(x.Right, wide)
	}
	return x
}

// comparison unifies the list of IN (...) and the array of = ANY (ARRAY
// [...]) with the left operand; a plain comparison of mixed numeric types
// the parser resolves itself.
func (c *implicitCaster) comparison(x *tree.ComparisonExpr) tree.Expr {
	c.arrayLiterals(&x.Left, &x.Right)
	switch x.Operator.Symbol {
	case treecmp.EQ, treecmp.NE, treecmp.LT, treecmp.LE, treecmp.GT, treecmp.GE,
		treecmp.IsDistinctFrom, treecmp.IsNotDistinctFrom:
		ops := []tree.Expr{x.Left, x.Right}
		c.trimChars(ops, true)
		x.Left, x.Right = ops[0], ops[1]
	case treecmp.In, treecmp.NotIn:
		orig, ok := x.Right.(*tree.Tuple)
		if !ok {
			return x
		}
		t := *orig
		t.Exprs = append(tree.Exprs(nil), orig.Exprs...)
		x.Right = &t
		ptrs := []*tree.Expr{&x.Left}
		for i := range t.Exprs {
			ptrs = append(ptrs, &t.Exprs[i])
		}
		c.unifyValues(ptrs)
	case treecmp.Any, treecmp.Some, treecmp.All:
		right := x.Right
		for {
			p, ok := right.(*tree.ParenExpr)
			if !ok {
				break
			}
			right = p.Expr
		}
		orig, ok := right.(*tree.Array)
		if !ok {
			return x
		}
		a := *orig
		a.Exprs = append(tree.Exprs(nil), orig.Exprs...)
		x.Right = &a
		ptrs := []*tree.Expr{&x.Left}
		for i := range a.Exprs {
			ptrs = append(ptrs, &a.Exprs[i])
		}
		c.unifyValues(ptrs)
	}
	return x
}

// arrayLiterals gives a literal the parser's reader refuses as an array
// ('{{1,2}}', see ArrayLiteral) the array type of the other operand.
func (c *implicitCaster) arrayLiterals(l, r *tree.Expr) {
	for _, p := range [2][2]*tree.Expr{{l, r}, {r, l}} {
		if s, ok := (*p[0]).(*tree.StrVal); ok && pgarray.NeedsParse(s.RawString()) {
			if t := c.typeOf(p[1]); t != nil && t.Family() == types.ArrayFamily {
				*p[0] = ArrayLiteral(s, t)
			}
		}
	}
}

func (c *implicitCaster) unifyList(exprs tree.Exprs) {
	ptrs := make([]*tree.Expr, len(exprs))
	for i := range exprs {
		ptrs[i] = &exprs[i]
	}
	c.unify(ptrs)
}

// unify casts the branches of a CASE, COALESCE, ... that are of a
// narrower numeric type than the widest one to it: their common type,
// which is the result's (PostgreSQL's common type of int and float is
// float8, of int and numeric numeric). A numeric literal counts as the
// type PostgreSQL gives it (literalType): GREATEST(i2, 1) is an int4,
// COALESCE(i4, 5000000000) an int8.
func (c *implicitCaster) unify(exprs []*tree.Expr) { c.unifyNumeric(exprs, true) }

// unifyValues is unify for the operands of a comparison (IN, = ANY):
// the result is a boolean, so a literal counts only where it does not
// fit the others' common type (i4 IN (1, 5000000000) compares int8s,
// i2 IN (1, 2) int2s).
func (c *implicitCaster) unifyValues(exprs []*tree.Expr) { c.unifyNumeric(exprs, false) }

func (c *implicitCaster) unifyNumeric(exprs []*tree.Expr, literalsCount bool) {
	typs := make([]*types.T, len(exprs))
	lits := make([]*types.T, len(exprs))
	// checker: the type checker's type of the expression is of another
	// family than PostgreSQL's (i4 / i4, numeric to the checker).
	checker := make([]bool, len(exprs))
	var best *types.T
	bestRank, ranks := 0, map[int]bool{}
	for i, p := range exprs {
		if lt := literalType(*p); lt != nil {
			lits[i] = lt
			continue
		}
		t := c.pgTypeOf(p)
		if t == nil {
			continue
		}
		typs[i] = t
		if ct := c.typeOf(p); ct != nil && ct.Family() != t.Family() {
			checker[i] = true
		}
		r := numericRank(t)
		if r == 0 {
			// A branch of another kind: no numeric unification.
			if !c.unifyDatetimes(exprs, typs) {
				c.unifyStrings(exprs, typs)
			}
			return
		}
		ranks[r] = true
		if r > bestRank {
			best, bestRank = t, r
		}
	}
	for i, lt := range lits {
		if lt == nil {
			continue
		}
		if !literalsCount && lt.Family() == types.IntFamily && best != nil && best.Family() == types.IntFamily && literalFits(*exprs[i], best) {
			continue
		}
		r := numericRank(lt)
		ranks[r] = true
		if r > bestRank {
			best, bestRank = lt, r
		}
	}
	if best == nil {
		return
	}
	if best.Family() == types.DecimalFamily {
		best = types.Decimal // without a numeric(p, s)'s typmod
	}
	for i, p := range exprs {
		switch {
		case typs[i] != nil:
			if numericRank(typs[i]) < bestRank || checker[i] && numericRank(typs[i]) > 0 {
				// The narrower ones; and those the checker types
				// otherwise, which it would not unify with the others.
				*p = castTo(*p, best)
			}
		case lits[i] != nil && best.Oid() == oid.T_float4,
			isUnknownLiteral(*p) && (best.Oid() == oid.T_float4 || best.Width() == 16):
			// A literal of a float4 or int2 common type is cast to it
			// here: the type checker reads 1 or '1' as an int8 or a
			// float8 constant, which made COALESCE(f4, 1) a float8 once
			// the expression was typed again (as a call's argument is).
			*p = castTo(*p, best)
		}
	}
}

// literalType is the type PostgreSQL gives a numeric literal (in
// parentheses or negated or not): an integer is an int4 if it fits, else
// an int8 if it fits, else a numeric, as is one with a fraction or an
// exponent. nil: e is not a numeric literal.
func literalType(e tree.Expr) *types.T {
	nv := numericLiteral(e)
	if nv == nil {
		return nil
	}
	if !isIntegerLiteral(nv) {
		return types.Decimal
	}
	v, err := nv.AsInt64()
	switch {
	case err != nil:
		return types.Decimal
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return types.Int4
	}
	return types.Int
}

// numericLiteral is the literal e is, under parentheses; nil if none.
func numericLiteral(e tree.Expr) *tree.NumVal {
	for {
		p, ok := e.(*tree.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	nv, _ := e.(*tree.NumVal)
	return nv
}

// literalFits: the integer literal e is within the range of the
// integer type t.
func literalFits(e tree.Expr, t *types.T) bool {
	v, err := numericLiteral(e).AsInt64()
	if err != nil {
		return false
	}
	switch t.Width() {
	case 16:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case 32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	}
	return true
}

// isUnknownLiteral: e is a string literal, of a type its context decides.
func isUnknownLiteral(e tree.Expr) bool {
	_, ok := e.(*tree.StrVal)
	return ok
}

// unifyDatetimes casts the dates among date, timestamp and timestamptz
// expressions to the widest of their types (timestamptz, else
// timestamp), PostgreSQL's common type: ts IN (d1, d2) compares
// timestamps. False when the typed expressions are not all of those
// types, or all of one. exprs past a first non-datetime are not typed
// yet (typs has nil for them): those are typed here.
func (c *implicitCaster) unifyDatetimes(exprs []*tree.Expr, typs []*types.T) bool {
	rank := datetimeRank
	var best *types.T
	seen := map[int]bool{}
	for i, p := range exprs {
		t := typs[i]
		if t == nil {
			if t = c.typeOf(p); t == nil {
				continue // a literal adapts by itself
			}
			typs[i] = t
		}
		r := rank(t)
		if r == 0 {
			return false
		}
		seen[r] = true
		if best == nil || r > rank(best) {
			best = t
		}
	}
	if len(seen) < 2 {
		return false
	}
	for i, p := range exprs {
		if typs[i] != nil && rank(typs[i]) < rank(best) {
			*p = castTo(*p, best)
		}
	}
	return true
}

func isIntegerLiteral(nv *tree.NumVal) bool {
	s := nv.OrigString()
	return !strings.ContainsAny(s, ".eE")
}

// typeOf type-checks *p in place and returns its type, or nil when its
// type depends on context: a literal, NULL, or anything holding a
// placeholder (typing that alone would fix the placeholder's type).
func (c *implicitCaster) typeOf(p *tree.Expr) *types.T {
	switch (*p).(type) {
	case *tree.NumVal, *tree.StrVal, *tree.Placeholder, tree.Datum:
		if d, ok := (*p).(tree.Datum); ok && d != tree.DNull {
			if _, ph := d.(*tree.Placeholder); !ph {
				return d.ResolvedType()
			}
		}
		return nil
	}
	if hasUntypedPlaceholder(*p) {
		return nil
	}
	te, err := (*p).TypeCheck(c.ctx, c.sema, types.AnyElement)
	if err != nil {
		// The final type check reports it, in context.
		return nil
	}
	*p = te
	t := te.ResolvedType()
	if t.Family() == types.UnknownFamily {
		return nil
	}
	return t
}

// pgTypeOf is typeOf's type as PostgreSQL gives it: the checker types
// f4 - f4 a float8, i4 * 1 an int8 and i4 / i4 a numeric, which
// PGSemantics narrows to float4 and int4. Common types are PostgreSQL's;
// overloads are the checker's (typeOf).
func (c *implicitCaster) pgTypeOf(p *tree.Expr) *types.T {
	if c.typeOf(p) == nil {
		return nil
	}
	te, ok := (*p).(tree.TypedExpr)
	if !ok {
		return nil
	}
	return PGSemantics(te).ResolvedType()
}

// hasUntypedPlaceholder: e holds a placeholder whose type its context
// decides (one not under a cast).
func hasUntypedPlaceholder(e tree.Expr) bool {
	found := false
	tree.WalkExprConst(exprFinder(func(e tree.Expr) bool {
		switch e.(type) {
		case *tree.Placeholder:
			found = true
		case *tree.CastExpr:
			return false
		}
		return !found
	}), e)
	return found
}

// exprFinder visits until the function returns false.
type exprFinder func(tree.Expr) bool

func (f exprFinder) VisitPre(e tree.Expr) (bool, tree.Expr) { return f(e), e }
func (f exprFinder) VisitPost(e tree.Expr) tree.Expr        { return e }

// castTo is e::t, the cast PostgreSQL applies implicitly.
func castTo(e tree.Expr, t *types.T) tree.Expr {
	if te, ok := e.(tree.TypedExpr); ok {
		return tree.NewTypedCastExpr(te, t)
	}
	return &tree.CastExpr{Expr: e, Type: t, SyntaxMode: tree.CastShort}
}

// floatPow is float8 ^ float8, power()'s float overload.
func floatPow(a, b float64) (tree.Datum, error) {
	return powerFns()[0].Fn.(BuiltinFn)(nil, tree.Datums{tree.NewDFloat(tree.DFloat(a)), tree.NewDFloat(tree.DFloat(b))})
}

// numericPow is numeric ^ numeric, power()'s numeric overload.
func numericPow(a, b *apd.Decimal) (tree.Datum, error) {
	r, err := numericPower(a, b)
	if err != nil {
		return nil, err
	}
	return &tree.DDecimal{Decimal: *r}, nil
}

// unsupportedOperator matches the type checker's message for an operator
// no overload of which takes its operands' types.
var unsupportedOperator = regexp.MustCompile(`^unsupported (?:binary|comparison) operator: <([^>]+)> (\S+|NOT I?LIKE) <([^>]+)>$`)

// pgOperatorNames are PostgreSQL's names of the operators the parser
// spells as words.
var pgOperatorNames = map[string]string{"LIKE": "~~", "NOT LIKE": "!~~", "ILIKE": "~~*", "NOT ILIKE": "!~~*"}

// OperatorDoesNotExist turns that message into PostgreSQL's (42883, with
// PostgreSQL's type names).
func OperatorDoesNotExist(err error) error {
	m := unsupportedOperator.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	l, lerr := ParseType(m[1])
	r, rerr := ParseType(m[3])
	if lerr != nil || rerr != nil {
		return err
	}
	op := m[2]
	if name, ok := pgOperatorNames[op]; ok {
		op = name
	}
	return pgerror.Newf(pgerror.CodeUndefinedFunction, "operator does not exist: %s %s %s", l.SQLStandardName(), op, r.SQLStandardName())
}

// castArgs picks, for a call no overload of which takes its arguments'
// types as they are, the overload PostgreSQL would reach by implicit
// numeric casts (typeconv-func: the most exact matches, then the
// preferred type of the numeric category, float8), and casts the
// arguments to its parameters: round(int4, 2) is round(numeric, int),
// ceil(int4) is ceil(float8). Arguments of unknown type (literals,
// placeholders) match any parameter.
func (c *implicitCaster) castArgs(overloads []tree.Overload, args tree.Exprs) {
	if len(overloads) == 0 || len(args) == 0 {
		return
	}
	c.castPolymorphicArgs(overloads, args)
	typs := make([]*types.T, len(args))
	known := false
	for i := range args {
		if typs[i] = c.typeOf(&args[i]); typs[i] != nil {
			known = true
		}
	}
	if !known {
		return
	}
	var best tree.ParamTypes
	bestExact, bestFloat, tie := -1, -1, false
	for i := range overloads {
		params, ok := overloads[i].Types.(tree.ParamTypes)
		if !ok {
			return // variadic or homogeneous: the type checker decides
		}
		if len(params) != len(args) {
			continue
		}
		exact, floats, fits := 0, 0, true
		for j, p := range params {
			switch t := typs[j]; {
			case t == nil || p.Typ.Family() == types.AnyFamily || t.Equivalent(p.Typ):
				exact++
			case numericRank(t) > 0 && numericRank(t) < numericRank(p.Typ):
				if p.Typ.Family() == types.FloatFamily {
					floats++
				}
			default:
				fits = false
			}
		}
		switch {
		case !fits:
		case exact == len(args):
			return // it resolves as it is
		case exact > bestExact || (exact == bestExact && floats > bestFloat):
			best, bestExact, bestFloat, tie = params, exact, floats, false
		case exact == bestExact && floats == bestFloat:
			tie = true
		}
	}
	if best == nil || tie {
		return
	}
	for j, p := range best {
		if t := typs[j]; t != nil && !t.Equivalent(p.Typ) && p.Typ.Family() != types.AnyFamily {
			args[j] = castTo(args[j], p.Typ)
		}
	}
}

// trimChars gives the char(n) operands among exprs (blank-padded as
// stored) without their trailing blanks: PostgreSQL ignores them when it
// compares char(n) values, concatenates them or casts them to text, and
// in length(). With literals (compared), a literal is a char(n) as well
// when the other operand is, so its trailing blanks go too.
func (c *implicitCaster) trimChars(exprs []tree.Expr, literals bool) {
	anyChar := false
	typs := make([]*types.T, len(exprs))
	for i := range exprs {
		typs[i] = c.typeOf(&exprs[i])
		if typs[i] != nil && typs[i].Oid() == oid.T_bpchar {
			anyChar = true
		}
	}
	if !anyChar {
		return
	}
	for i, e := range exprs {
		_, lit := e.(*tree.StrVal)
		if (typs[i] != nil && typs[i].Oid() == oid.T_bpchar) || (literals && lit) {
			exprs[i] = &tree.FuncExpr{Func: tree.WrapFunction("rtrim"), Exprs: tree.Exprs{e}}
		}
	}
}

// unifyStrings: when the first branch of known type is text or varchar,
// the char(n) branches are cast to it, losing their trailing blanks.
func (c *implicitCaster) unifyStrings(exprs []*tree.Expr, typs []*types.T) {
	var first *types.T
	for i, p := range exprs {
		if typs[i] == nil {
			typs[i] = c.typeOf(p)
		}
		if first == nil {
			first = typs[i]
		}
	}
	if first == nil || first.Family() != types.StringFamily || first.Oid() == oid.T_bpchar {
		return
	}
	for i, p := range exprs {
		if typs[i] != nil && typs[i].Oid() == oid.T_bpchar {
			*p = &tree.FuncExpr{Func: tree.WrapFunction("rtrim"), Exprs: tree.Exprs{*p}}
		}
	}
}

// roundedPow is x^y correctly rounded, as C's pow (PostgreSQL's) is:
// Go's math.Pow can be an ulp off (2^2.5 printed 5.65685424949238, not
// ...381), which shows in float8's shortest output. It computes in 40
// digits where the result is a finite, non-zero float.
func roundedPow(x, y float64) float64 {
	r := math.Pow(x, y)
	if r == 0 || math.IsInf(r, 0) || math.IsNaN(r) || x == 0 {
		return r
	}
	var dx, dy, dr apd.Decimal
	if _, err := dx.SetFloat64(math.Abs(x)); err != nil {
		return r
	}
	if _, err := dy.SetFloat64(y); err != nil {
		return r
	}
	if _, err := apd.BaseContext.WithPrecision(40).Pow(&dr, &dx, &dy); err != nil {
		return r
	}
	f, err := dr.Float64()
	if err != nil || math.IsInf(f, 0) || f == 0 {
		return r
	}
	if r < 0 {
		f = -f
	}
	return f
}

// SetOpColumnType is the type of a UNION/INTERSECT/EXCEPT column whose
// sides are of types l and r, by PostgreSQL's typeconv-union-case rules:
// the wider numeric type (int4 and int8: int8; int and numeric: numeric;
// numeric and float8: float8), the left one's for differing string types,
// an unknown side taking the other's type.
func SetOpColumnType(l, r *types.T) (*types.T, bool) {
	switch {
	case l.Family() == types.UnknownFamily:
		return r, true
	case r.Family() == types.UnknownFamily:
		return l, true
	}
	if lr, rr := numericRank(l), numericRank(r); lr > 0 && rr > 0 {
		if rr > lr {
			return r, true
		}
		return l, true
	}
	if lr, rr := datetimeRank(l), datetimeRank(r); lr > 0 && rr > 0 {
		// date, timestamp, timestamptz: the wider.
		if rr > lr {
			return r, true
		}
		return l, true
	}
	if l.Family() == types.StringFamily && r.Family() == types.StringFamily && !l.Identical(r) {
		// The left side's type wins (text, varchar and char cast to
		// each other implicitly both ways), without a length.
		switch l.Oid() {
		case oid.T_bpchar:
			return types.BPChar, true
		case oid.T_varchar:
			return types.VarChar, true
		}
		return types.String, true
	}
	return l, l.Equivalent(r)
}

// PGSemantics rewrites a type-checked expression where CockroachDB's type
// checker resolves it unlike PostgreSQL: integer / integer is an integer
// (truncated toward zero) in PostgreSQL, a decimal in CockroachDB.
func PGSemantics(te tree.TypedExpr) tree.TypedExpr {
	out, _ := tree.WalkExpr(pgSemantics{}, te)
	return out.(tree.TypedExpr)
}

type pgSemantics struct{}

func (pgSemantics) VisitPre(e tree.Expr) (bool, tree.Expr) {
	// A subquery's expressions were rewritten when it was planned; its
	// AST holds unresolved names.
	_, sub := e.(*tree.Subquery)
	return !sub, e
}

func (pgSemantics) VisitPost(e tree.Expr) tree.Expr {
	if r := intWidthOfBranches(e); r != nil {
		return r
	}
	if r := floatWidthOfBranches(e); r != nil {
		return r
	}
	if u, ok := e.(*tree.UnaryExpr); ok {
		// |/ and ||/ are float8's alone in PostgreSQL: a numeric or
		// integer operand is cast.
		if s := u.Operator.Symbol; (s == tree.UnarySqrt || s == tree.UnaryCbrt) && u.ResolvedType().Oid() != oid.T_float8 {
			return tree.NewTypedUnaryExpr(u.Operator, tree.NewTypedCastExpr(u.TypedInnerExpr(), types.Float), types.Float)
		}
		if u.Operator.Symbol == tree.UnaryMinus && u.TypedInnerExpr().ResolvedType().Oid() == oid.T_float4 && u.ResolvedType().Oid() != oid.T_float4 {
			// -float4 is a float4 (float4um).
			return tree.NewTypedUnaryExpr(u.Operator, u.TypedInnerExpr(), types.Float4)
		}
		return e
	}
	if f, ok := e.(*tree.FuncExpr); ok && len(f.Exprs) == 1 && strings.EqualFold(f.Func.String(), "abs") &&
		f.Exprs[0].(tree.TypedExpr).ResolvedType().Oid() == oid.T_float4 && f.ResolvedType().Oid() != oid.T_float4 {
		// abs(float4) is a float4 (float4abs); the float8 overload's
		// result is exact, and only its type changes.
		return tree.NewTypedCastExpr(f, types.Float4)
	}
	x, ok := e.(*tree.BinaryExpr)
	if !ok {
		return e
	}
	l, r := x.TypedLeft(), x.TypedRight()
	if x.Operator.Symbol == treebin.Minus && l.ResolvedType().Family() == types.DateFamily && r.ResolvedType().Family() == types.DateFamily &&
		x.ResolvedType().Oid() != oid.T_int4 {
		// date - date is an int4 (date_mi).
		return tree.NewTypedBinaryExpr(x.Operator, l, r, types.Int4)
	}
	if lt, rt := l.ResolvedType(), r.ResolvedType(); lt.Oid() == oid.T_float4 && rt.Oid() == oid.T_float4 {
		// float4 arithmetic is float4's (1.1::real * 2::real is 2.2).
		switch x.Operator.Symbol {
		case treebin.Plus, treebin.Minus, treebin.Mult, treebin.Div:
			if x.ResolvedType().Oid() != oid.T_float4 {
				return tree.NewTypedBinaryExpr(x.Operator, l, r, types.Float4)
			}
		}
		return e
	}
	if l.ResolvedType().Family() != types.IntFamily || r.ResolvedType().Family() != types.IntFamily {
		return e
	}
	switch x.Operator.Symbol {
	case treebin.Plus, treebin.Minus, treebin.Mult, treebin.Div, treebin.Mod, treebin.Bitand, treebin.Bitor, treebin.Bitxor:
	case treebin.LShift, treebin.RShift:
		// int2 << int4 is an int2: the left operand's width.
		if w := PGIntWidth(l); w < 64 && x.ResolvedType().Width() != w {
			return tree.NewTypedBinaryExpr(x.Operator, l, r, intOfWidth(w))
		}
		return e
	default:
		return e
	}
	// Integer arithmetic keeps the wider operand's width, as in
	// PostgreSQL (int4 * int4 is an int4 that can overflow), where an
	// integer literal is an int4 if it fits.
	typ := types.Int
	switch max(PGIntWidth(l), PGIntWidth(r)) {
	case 16:
		typ = types.Int2
	case 32:
		typ = types.Int4
	}
	op := x.Operator
	if op.Symbol == treebin.Div {
		op = treebin.MakeBinaryOperator(treebin.FloorDiv)
	}
	if op == x.Operator && typ == x.ResolvedType() {
		return e
	}
	return tree.NewTypedBinaryExpr(op, l, r, typ)
}

// intWidthOfBranches retypes an integer CASE, COALESCE or NULLIF, a
// negation, or abs, gcd or lcm of narrower integers to the width
// PostgreSQL gives it: its branches' (arguments') widest, where an
// integer literal counts as an int4 when it fits (PGIntWidth); the
// parser types them all int8, so COALESCE(i4, 0) + 1 did not overflow
// as an int4. nil: e needs nothing.
func intWidthOfBranches(e tree.Expr) tree.Expr {
	te, ok := e.(tree.TypedExpr)
	if !ok || te.ResolvedType().Family() != types.IntFamily || te.ResolvedType().Width() == 16 {
		return nil
	}
	widest := func(es ...tree.TypedExpr) *types.T {
		w := int32(16)
		for _, x := range es {
			if x == nil || x == tree.DNull {
				continue
			}
			if x.ResolvedType().Family() != types.IntFamily {
				return nil
			}
			w = max(w, PGIntWidth(x))
		}
		switch w {
		case 16:
			return types.Int2
		case 32:
			return types.Int4
		}
		return nil
	}
	// The checker's int8 (width 64, or 0 for a bare int).
	narrower := func(t *types.T) bool {
		w := te.ResolvedType().Width()
		return t != nil && (w == 0 || t.Width() < w)
	}
	switch x := e.(type) {
	case *tree.CaseExpr:
		var vals []tree.TypedExpr
		for _, w := range x.Whens {
			vals = append(vals, w.Val.(tree.TypedExpr))
		}
		if x.Else != nil {
			vals = append(vals, x.Else.(tree.TypedExpr))
		}
		if t := widest(vals...); narrower(t) {
			var subj tree.TypedExpr
			if x.Expr != nil {
				subj = x.Expr.(tree.TypedExpr)
			}
			var els tree.TypedExpr
			if x.Else != nil {
				els = x.Else.(tree.TypedExpr)
			}
			if r, err := tree.NewTypedCaseExpr(subj, x.Whens, els, t); err == nil {
				return r
			}
		}
	case *tree.CoalesceExpr:
		vals := make([]tree.TypedExpr, len(x.Exprs))
		for i := range x.Exprs {
			vals[i] = x.TypedExprAt(i)
		}
		if t := widest(vals...); narrower(t) {
			r := tree.NewTypedCoalesceExpr(vals, t)
			r.Name = x.Name
			return r
		}
	case *tree.NullIfExpr:
		// NULLIF is its first argument's type.
		if t := widest(x.Expr1.(tree.TypedExpr)); narrower(t) {
			return tree.NewTypedCastExpr(x, t)
		}
	case *tree.UnaryExpr:
		if x.Operator.Symbol == tree.UnaryMinus || x.Operator.Symbol == tree.UnaryComplement {
			if t := widest(x.TypedInnerExpr()); narrower(t) {
				if _, lit := x.TypedInnerExpr().(*tree.DInt); !lit {
					return tree.NewTypedUnaryExpr(x.Operator, x.TypedInnerExpr(), t)
				}
			}
		}
	case *tree.FuncExpr:
		if name := funcName(x); (name == "greatest" || name == "least" || name == "mod") && len(x.Exprs) > 0 {
			// The first argument's type, as the checker typed it (int8
			// for i4 * 1): their common type is the widest (mod(int2,
			// int4) is mod(int4, int4), an int4).
			args := make([]tree.TypedExpr, len(x.Exprs))
			for i := range x.Exprs {
				a, ok := x.Exprs[i].(tree.TypedExpr)
				if !ok {
					return nil
				}
				args[i] = a
			}
			if t := widest(args...); narrower(t) {
				return tree.NewTypedCastExpr(x, t)
			}
			return nil
		}
		if name := funcName(x); (name == "abs" || name == "gcd" || name == "lcm") && len(x.Exprs) > 0 {
			args := make([]tree.TypedExpr, len(x.Exprs))
			for i := range x.Exprs {
				a, ok := x.Exprs[i].(tree.TypedExpr)
				if !ok {
					return nil
				}
				if _, lit := a.(*tree.DInt); lit {
					return nil // a constant: the parser's int8 stands
				}
				args[i] = a
			}
			if t := widest(args...); narrower(t) {
				return tree.NewTypedCastExpr(x, t)
			}
		}
	}
	return nil
}

// narrowerThanCast is the type PostgreSQL gives e when that is an
// integer or float narrower than t, an int8 or float8 (the type checker
// may give e t itself, and elide the cast, now or when the expression,
// typed in place, is typed again); else nil.
func (c *implicitCaster) narrowerThanCast(e tree.Expr, t *types.T) *types.T {
	if t.Oid() != oid.T_int8 && t.Oid() != oid.T_float8 {
		return nil
	}
	if numericLiteral(e) != nil || isUnknownLiteral(e) {
		return nil
	}
	p := e
	pg := c.pgTypeOf(&p)
	if pg != nil && pg.Family() == t.Family() && pg.Width() != 0 && pg.Width() < t.Width() {
		return pg
	}
	return nil
}

// floatWidthOfBranches retypes a float8 CASE, COALESCE, NULLIF,
// GREATEST or LEAST whose branches (arguments) are all float4 as
// PGSemantics typed them (f4 - f4, -f4, abs(f4), which the checker types
// float8) a float4, as PostgreSQL's common type of them is. nil: e needs
// nothing.
func floatWidthOfBranches(e tree.Expr) tree.Expr {
	te, ok := e.(tree.TypedExpr)
	if !ok || te.ResolvedType().Oid() != oid.T_float8 {
		return nil
	}
	allFloat4 := func(es ...tree.Expr) bool {
		n := 0
		for _, x := range es {
			if x == nil || x == tree.DNull {
				continue
			}
			t, ok := x.(tree.TypedExpr)
			if !ok {
				return false
			}
			if t.ResolvedType().Family() == types.UnknownFamily {
				continue
			}
			if t.ResolvedType().Oid() != oid.T_float4 {
				return false
			}
			n++
		}
		return n > 0
	}
	switch x := e.(type) {
	case *tree.CaseExpr:
		vals := []tree.Expr{x.Else}
		for _, w := range x.Whens {
			vals = append(vals, w.Val)
		}
		if allFloat4(vals...) {
			var subj, els tree.TypedExpr
			if x.Expr != nil {
				subj = x.Expr.(tree.TypedExpr)
			}
			if x.Else != nil {
				els = x.Else.(tree.TypedExpr)
			}
			if r, err := tree.NewTypedCaseExpr(subj, x.Whens, els, types.Float4); err == nil {
				return r
			}
		}
	case *tree.CoalesceExpr:
		if allFloat4(x.Exprs...) {
			vals := make([]tree.TypedExpr, len(x.Exprs))
			for i := range x.Exprs {
				vals[i] = x.TypedExprAt(i)
			}
			r := tree.NewTypedCoalesceExpr(vals, types.Float4)
			r.Name = x.Name
			return r
		}
	case *tree.NullIfExpr:
		if allFloat4(x.Expr1) {
			return tree.NewTypedCastExpr(x, types.Float4)
		}
	case *tree.FuncExpr:
		if name := funcName(x); (name == "greatest" || name == "least") && allFloat4(x.Exprs...) {
			return tree.NewTypedCastExpr(x, types.Float4)
		}
	}
	return nil
}

// keepsInt8Cast reports whether e cast to t is a constant of unsigned
// digits within int8's range cast to int8, whose cast the type checker
// would elide (see implicitCaster.VisitPost).
func keepsInt8Cast(e tree.Expr, t *types.T) bool {
	if t.Family() != types.IntFamily || t.Width() != 64 {
		return false
	}
	var v string
	switch c := e.(type) {
	case *tree.StrVal:
		v = c.RawString()
	case *tree.NumVal:
		v = c.OrigString()
	default:
		return false
	}
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil
}
