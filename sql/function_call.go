package sql

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// A call of a user-defined SQL function is planned as the query it
// stands for, as PostgreSQL inlines SQL functions:
//
//	f(a, b)  →  (SELECT CAST(r.c AS ret)
//	             FROM (SELECT 1), LATERAL (VALUES (CAST(a AS t1), CAST(b AS t2))) AS f(p1, p2),
//	                  LATERAL (<body>) AS r(c)
//	             [WHERE NOT (f.p1 IS NULL OR f.p2 IS NULL)]  -- STRICT
//	             LIMIT 1)
//
// A body that is one expression over no table is inlined as that
// expression instead (inlineCall). The arguments sit in a VALUES row, so
// each is evaluated once and names the caller's columns, never the
// body's; the body names the parameters by name (or as f.name, as in
// PostgreSQL) and by $n. A call in FROM is the same query, without LIMIT
// for a set-returning function, with a column per RETURNS TABLE column.
// A parameter named like a column of the body's tables loses to the
// column, as in PostgreSQL: the parameters are a FROM item around the
// body's.

// findFunction returns the functions tn names (in its schema, or the
// first schema of search_path that has some); nil if none.
func (b *builder) findFunction(tn tree.TableName) (*catalog.FunctionDescriptor, error) {
	if err := b.names.checkCatalog(&tn); err != nil {
		return nil, err
	}
	for _, k := range b.names.candidates(&tn) {
		d, err := catalog.GetFunction(b.ctx, b.txn, k)
		if err != nil || d != nil {
			return d, err
		}
	}
	return nil, nil
}

// userFunction returns the user-defined function f calls, the overload
// its arguments choose and the arguments of that overload's parameters
// (a VARIADIC parameter's as one array); nil if f calls a built-in
// function (they come first, as pg_catalog comes first in PostgreSQL's
// search path) or no user-defined one.
func (b *builder) userFunction(f *tree.FuncExpr, sc *scope) (*catalog.FunctionDescriptor, *catalog.FunctionOverload, tree.Exprs, error) {
	n, ok := f.Func.FunctionReference.(*tree.UnresolvedName)
	if !ok || n.NumParts > 2 || b.names == nil {
		return nil, nil, nil, nil
	}
	name := strings.ToLower(n.Parts[0])
	var tn tree.TableName
	if n.NumParts == 1 {
		if sem.Overloads(name) != nil {
			return nil, nil, nil, nil
		}
		tn = tree.MakeUnqualifiedTableName(tree.Name(n.Parts[0]))
	} else {
		if n.Parts[1] == "pg_catalog" || sem.Overloads(strings.ToLower(n.Parts[1])+"."+name) != nil {
			return nil, nil, nil, nil
		}
		tn = tree.MakeTableNameFromPrefix(tree.ObjectNamePrefix{SchemaName: tree.Name(n.Parts[1]), ExplicitSchema: true}, tree.Name(n.Parts[0]))
	}
	d, err := b.findFunction(tn)
	if err != nil {
		return nil, nil, nil, err
	}
	if d == nil {
		if tn.ExplicitSchema {
			if sc, err := catalog.GetSchema(b.ctx, b.txn, b.names.db.ID, string(tn.SchemaName)); err != nil || sc == nil {
				if err == nil {
					err = catalog.UndefinedSchema(string(tn.SchemaName))
				}
				return nil, nil, nil, err
			}
		}
		return nil, nil, nil, nil
	}
	if f.Type != 0 || f.Filter != nil || len(f.OrderBy) > 0 {
		return nil, nil, nil, pgerror.Newf("42809", "%s specified, but %s is not an aggregate function", aggClause(f), d.Name)
	}
	if f.WindowDef != nil {
		return nil, nil, nil, pgerror.Newf("42809", "OVER specified, but %s is not a window function nor an aggregate function", d.Name)
	}
	ov, args, err := b.chooseOverload(d, f.Exprs, sc)
	return d, ov, args, err
}

func aggClause(f *tree.FuncExpr) string {
	switch {
	case f.Type == tree.DistinctFuncType:
		return "DISTINCT"
	case f.Filter != nil:
		return "FILTER"
	}
	return "ORDER BY"
}

// chooseOverload picks the overload of d that args call: the one whose
// parameters (those without defaults) they fill, preferring, among
// several, the one whose parameter types their own types (constants and
// casts say theirs) match best, and one that is not variadic to one that
// is (PostgreSQL). It returns the arguments of the overload's
// parameters: trailing arguments of a VARIADIC parameter make one array,
// a last argument marked VARIADIC is that array itself.
func (b *builder) chooseOverload(d *catalog.FunctionDescriptor, args tree.Exprs, sc *scope) (*catalog.FunctionOverload, tree.Exprs, error) {
	variadic := false
	if len(args) > 0 {
		if arr := variadicArg(args[len(args)-1]); arr != nil {
			args = append(append(tree.Exprs(nil), args[:len(args)-1]...), arr)
			variadic = true
		}
	}
	argTypes := make([]*types.T, len(args))
	for j, a := range args {
		argTypes[j] = b.argType(a, sc)
	}
	best, bestScore, bestExpands, tied := -1, -1, false, false
	for i := range d.Overloads {
		ov := &d.Overloads[i]
		// expands: the call passes the VARIADIC parameter's elements,
		// at least one.
		expands := ov.Variadic && !variadic && len(args) >= len(ov.Params)
		if !expands && (len(args) > len(ov.Params) || len(args) < len(ov.Params) && ov.Params[len(args)].Default == "") {
			continue
		}
		score := 0
		fits := true
		for j, t := range argTypes {
			if t == nil {
				continue
			}
			pi := min(j, len(ov.Params)-1)
			pt, err := b.resolveTypeText(ov.Params[pi].Type)
			if err != nil {
				return nil, nil, err
			}
			if expands && j >= len(ov.Params)-1 {
				pt = pt.ArrayContents()
			}
			switch {
			case t.Equivalent(pt):
				score += 2
			case t.Family() == types.UnknownFamily, sem.ImplicitlyCastable(t, pt):
				score++
			default:
				fits = false
			}
		}
		if !fits {
			continue
		}
		switch {
		case score > bestScore, score == bestScore && bestExpands && !expands:
			best, bestScore, bestExpands, tied = i, score, expands, false
		case score == bestScore && bestExpands == expands:
			tied = true
		}
	}
	var names []string
	for _, t := range argTypes {
		names = append(names, typeName(t))
	}
	sig := fmt.Sprintf("%s(%s)", d.Name, strings.Join(names, ", "))
	switch {
	case best < 0:
		return nil, nil, pgerror.WithHint(pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s does not exist", sig),
			"No function matches the given name and argument types. You might need to add explicit type casts.")
	case tied:
		return nil, nil, pgerror.WithHint(pgerror.Newf("42725", "function %s is not unique", sig),
			"Could not choose a best candidate function. You might need to add explicit type casts.")
	}
	ov := &d.Overloads[best]
	if bestExpands {
		// The trailing arguments as one array of the parameter's type.
		last := len(ov.Params) - 1
		pt, err := b.resolveTypeText(ov.Params[last].Type)
		if err != nil {
			return nil, nil, err
		}
		elems := make(tree.Exprs, len(args)-last)
		for j, a := range args[last:] {
			elems[j] = &tree.CastExpr{Expr: a, Type: pt.ArrayContents(), SyntaxMode: tree.CastShort}
		}
		args = append(args[:last:last], &tree.Array{Exprs: elems})
	}
	return ov, args, nil
}

// syntacticType is the type an argument has before it is type-checked:
// a cast's, a constant's; nil when only type checking would tell.
func syntacticType(e tree.Expr) *types.T {
	switch e := e.(type) {
	case *tree.CastExpr:
		if t, ok := e.Type.(*types.T); ok {
			return t
		}
	case *tree.NumVal:
		if e.ShouldBeInt64() {
			return types.Int4
		}
		return types.Decimal
	case *tree.StrVal:
		return types.Unknown
	case *tree.DBool:
		return types.Bool
	case tree.Datum:
		return e.ResolvedType()
	case *tree.ParenExpr:
		return syntacticType(e.Expr)
	}
	return nil
}

// argType is an argument's type before the call is type-checked: what
// it says itself (syntacticType), or what the type checker finds in sc;
// nil if neither tells.
func (b *builder) argType(e tree.Expr, sc *scope) *types.T {
	if t := syntacticType(e); t != nil || sc == nil {
		return t
	}
	if n, ok := e.(*tree.UnresolvedName); ok {
		if i, err := sc.resolve(n); err == nil {
			return sc.cols[i].typ
		}
		return nil
	}
	if hasSubquery(e) {
		return nil
	}
	te, err := b.typeCheck(e, sc, types.AnyElement)
	if err != nil {
		return nil
	}
	return te.ResolvedType()
}

func typeName(t *types.T) string {
	switch {
	case t == nil:
		return "?"
	case t.Family() == types.UnknownFamily:
		return "unknown"
	}
	return sem.FormatTypeOf(t, -1)
}

// resolveTypeText resolves a type kept as SQL text.
func (b *builder) resolveTypeText(s string) (*types.T, error) {
	ref, err := parser.GetTypeFromValidSQLSyntax(s)
	if err != nil {
		return nil, err
	}
	return tree.ResolveType(b.ctx, ref, typeResolver{b})
}

// functionQuery is the query a call of ov with args stands for: its one
// value (as nil) or, in FROM, its rows under alias as.
func (b *builder) functionQuery(d *catalog.FunctionDescriptor, ov *catalog.FunctionOverload, args tree.Exprs, as *tree.AliasClause) (*tree.Select, error) {
	stmts, err := parseSQL(ov.Body)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, pgerror.Unsupported("SQL functions whose body is not one query are not supported yet (%s has %d statements)", d.Name, len(stmts))
	}
	body, ok := stmts[0].AST.(*tree.Select)
	if !ok {
		return nil, pgerror.Unsupported("SQL functions whose body is %s are not supported yet: only a query", stmts[0].AST.StatementTag())
	}
	fname := tree.Name(d.Name)
	// The parameters: a VALUES row of the arguments, cast to their types.
	var row tree.Exprs
	var paramCols tree.ColumnDefList
	for i, p := range ov.Params {
		t, err := b.resolveTypeText(p.Type)
		if err != nil {
			return nil, err
		}
		var arg tree.Expr
		if i < len(args) {
			arg = args[i]
		} else if arg, err = parser.ParseExpr(p.Default); err != nil {
			return nil, err
		}
		row = append(row, &tree.CastExpr{Expr: arg, Type: t, SyntaxMode: tree.CastShort})
		col := p.Name
		if col == "" {
			col = fmt.Sprintf("$%d", i+1)
		}
		paramCols = append(paramCols, tree.ColumnDef{Name: tree.Name(col)})
	}
	// $n in the body is the n-th parameter.
	replaced, err := tree.SimpleStmtVisit(body, func(e tree.Expr) (bool, tree.Expr, error) {
		if ph, ok := e.(*tree.Placeholder); ok {
			if int(ph.Idx) >= len(paramCols) {
				return false, nil, pgerror.Newf("42P02", "there is no parameter $%d", ph.Idx+1)
			}
			return false, tree.NewUnresolvedName(string(fname), string(paramCols[ph.Idx].Name)), nil
		}
		return true, e, nil
	})
	if err != nil {
		return nil, err
	}
	body = replaced.(*tree.Select)

	// The result's columns.
	type outCol struct {
		name string
		typ  *types.T
	}
	var outs []outCol
	if len(ov.Columns) > 0 {
		for _, c := range ov.Columns {
			t, err := b.resolveTypeText(c.Type)
			if err != nil {
				return nil, err
			}
			outs = append(outs, outCol{c.Name, t})
		}
	} else {
		t, err := b.resolveTypeText(ov.Returns)
		if err != nil {
			return nil, err
		}
		// One column of a base type: named after the function, or the
		// alias in FROM (PostgreSQL).
		name := d.Name
		if as != nil && as.Alias != "" {
			name = string(as.Alias)
		}
		outs = append(outs, outCol{name, t})
	}
	bodyCols := make(tree.ColumnDefList, len(outs))
	for i := range outs {
		bodyCols[i] = tree.ColumnDef{Name: tree.Name(fmt.Sprintf("c%d", i+1))}
	}
	const bodyAlias = "function body"
	var from tree.TableExprs
	if len(row) > 0 {
		// The arguments may name the caller's columns: a LATERAL item
		// sees the enclosing query, a plain derived table does not, and
		// the first item is never LATERAL, hence the one-row item first.
		from = append(from, &tree.AliasedTableExpr{
			Expr: &tree.Subquery{Select: &tree.ParenSelect{Select: &tree.Select{Select: &tree.SelectClause{
				Exprs: tree.SelectExprs{{Expr: tree.NewDInt(1)}}}}}},
			As: tree.AliasClause{Alias: "function call"},
		}, &tree.AliasedTableExpr{
			Expr:    &tree.Subquery{Select: &tree.ParenSelect{Select: &tree.Select{Select: &tree.ValuesClause{Rows: []tree.Exprs{row}}}}},
			Lateral: true,
			As:      tree.AliasClause{Alias: fname, Cols: paramCols},
		})
	}
	from = append(from, &tree.AliasedTableExpr{
		Expr:    &tree.Subquery{Select: &tree.ParenSelect{Select: body}},
		Lateral: len(row) > 0,
		As:      tree.AliasClause{Alias: bodyAlias, Cols: bodyCols},
	})
	sc := &tree.SelectClause{From: tree.From{Tables: from}}
	for i, o := range outs {
		name := o.name
		if as != nil && i < len(as.Cols) {
			name = string(as.Cols[i].Name)
		}
		sc.Exprs = append(sc.Exprs, tree.SelectExpr{
			Expr: &tree.CastExpr{Expr: tree.NewUnresolvedName(bodyAlias, string(bodyCols[i].Name)), Type: o.typ, SyntaxMode: tree.CastShort},
			As:   tree.UnrestrictedName(name),
		})
	}
	if ov.Strict && len(paramCols) > 0 {
		var anyNull tree.Expr
		for _, c := range paramCols {
			isNull := &tree.IsNullExpr{Expr: tree.NewUnresolvedName(string(fname), string(c.Name))}
			if anyNull == nil {
				anyNull = isNull
			} else {
				anyNull = &tree.OrExpr{Left: anyNull, Right: isNull}
			}
		}
		sc.Where = tree.NewWhere(tree.AstWhere, &tree.NotExpr{Expr: &tree.ParenExpr{Expr: anyNull}})
	}
	sel := &tree.Select{Select: sc}
	if !ov.ReturnsSet {
		// A function of one value gives the first row's (PostgreSQL).
		sel.Limit = &tree.Limit{Count: tree.NewDInt(1)}
	}
	return sel, nil
}

// userFunctionTable plans a call of a user-defined function in FROM; nil
// if f calls none.
func (b *builder) userFunctionTable(f *tree.FuncExpr, as tree.AliasClause) (planNode, *scope, error) {
	d, ov, args, err := b.userFunction(f, nil)
	if err != nil || d == nil {
		return nil, nil, err
	}
	sel, err := b.functionQuery(d, ov, args, &as)
	if err != nil {
		return nil, nil, err
	}
	if as.Alias == "" {
		as.Alias = tree.Name(d.Name)
	}
	// Its arguments may name the FROM items before it (b.outer, when
	// the call is LATERAL, as a function in FROM always is).
	p, sc, used, err := b.buildDerivedSeeing(sel, tree.AliasClause{Alias: as.Alias}, b.outer)
	if used {
		b.usedOuter = true
	}
	return p, sc, err
}

// inlineCall is what a call of ov with args is planned as: the body's
// expression itself, its parameters replaced by the arguments, when the
// body is one expression over no table (as PostgreSQL inlines it) and
// no argument that is more than a name or a constant would be evaluated
// twice; else, unless exprOnly, the query functionQuery makes, as a
// scalar subquery. With exprOnly (a grouped query's select list, which
// cannot hold a correlated subquery), a call that cannot be inlined is
// refused.
func (b *builder) inlineCall(d *catalog.FunctionDescriptor, ov *catalog.FunctionOverload, args tree.Exprs, exprOnly bool) (tree.Expr, error) {
	if e, ok, err := b.inlineExpr(d, ov, args); err != nil || ok {
		return e, err
	}
	if exprOnly {
		return nil, pgerror.Unsupported("calling %s, whose body is a query, in a grouped query's select list is not supported yet", d.Name)
	}
	sel, err := b.functionQuery(d, ov, args, nil)
	if err != nil {
		return nil, err
	}
	return &tree.Subquery{Select: &tree.ParenSelect{Select: sel}}, nil
}

func (b *builder) inlineExpr(d *catalog.FunctionDescriptor, ov *catalog.FunctionOverload, args tree.Exprs) (tree.Expr, bool, error) {
	if ov.ReturnsSet || len(ov.Columns) > 0 {
		return nil, false, nil
	}
	stmts, err := parseSQL(ov.Body)
	if err != nil || len(stmts) != 1 {
		return nil, false, err
	}
	sel, ok := stmts[0].AST.(*tree.Select)
	if !ok || sel.With != nil || sel.OrderBy != nil || sel.Limit != nil || sel.Locking != nil {
		return nil, false, nil
	}
	sc, ok := sel.Select.(*tree.SelectClause)
	if !ok || len(sc.Exprs) != 1 || len(sc.From.Tables) > 0 || sc.Where != nil || sc.GroupBy != nil ||
		sc.Having != nil || sc.Distinct || sc.DistinctOn != nil || sc.Window != nil {
		return nil, false, nil
	}
	full := make(tree.Exprs, len(ov.Params))
	for i, p := range ov.Params {
		t, err := b.resolveTypeText(p.Type)
		if err != nil {
			return nil, false, err
		}
		arg := tree.Expr(nil)
		if i < len(args) {
			arg = args[i]
		} else if arg, err = parser.ParseExpr(p.Default); err != nil {
			return nil, false, err
		}
		full[i] = &tree.CastExpr{Expr: &tree.ParenExpr{Expr: arg}, Type: t, SyntaxMode: tree.CastShort}
	}
	param := func(e tree.Expr) int {
		switch e := e.(type) {
		case *tree.Placeholder:
			return int(e.Idx)
		case *tree.UnresolvedName:
			if e.Star || e.NumParts > 2 || e.NumParts == 2 && !strings.EqualFold(e.Parts[1], d.Name) {
				return -1
			}
			for i, p := range ov.Params {
				if p.Name != "" && p.Name == e.Parts[0] {
					return i
				}
			}
		}
		return -1
	}
	uses := make([]int, len(full))
	var simple bool = true
	expr, err := tree.SimpleVisit(sc.Exprs[0].Expr, func(e tree.Expr) (bool, tree.Expr, error) {
		switch e.(type) {
		case *tree.Subquery:
			simple = false
			return false, e, nil
		case *tree.FuncExpr:
			if isAggregate(e.(*tree.FuncExpr)) || e.(*tree.FuncExpr).WindowDef != nil {
				simple = false
			}
		}
		if i := param(e); i >= 0 && i < len(full) {
			uses[i]++
			return false, full[i], nil
		}
		return true, e, nil
	})
	if err != nil || !simple {
		return nil, false, err
	}
	for i, n := range uses {
		if n > 1 && !plainArg(full[i]) || ov.Strict && !plainArg(full[i]) {
			return nil, false, nil
		}
	}
	ret, err := b.resolveTypeText(ov.Returns)
	if err != nil {
		return nil, false, err
	}
	out := tree.Expr(&tree.CastExpr{Expr: &tree.ParenExpr{Expr: expr}, Type: ret, SyntaxMode: tree.CastShort})
	if ov.Strict && len(full) > 0 {
		var anyNull tree.Expr
		for _, a := range full {
			isNull := &tree.IsNullExpr{Expr: a}
			if anyNull == nil {
				anyNull = isNull
			} else {
				anyNull = &tree.OrExpr{Left: anyNull, Right: isNull}
			}
		}
		out = &tree.CaseExpr{Whens: []*tree.When{{Cond: anyNull, Val: &tree.CastExpr{Expr: tree.DNull, Type: ret, SyntaxMode: tree.CastShort}}}, Else: out}
	}
	return out, true, nil
}

// plainArg reports whether a (cast) argument costs nothing to evaluate
// twice and gives the same value each time: a name or a constant.
func plainArg(e tree.Expr) bool {
	for {
		switch x := e.(type) {
		case *tree.CastExpr:
			e = x.Expr
		case *tree.ParenExpr:
			e = x.Expr
		case *tree.UnresolvedName, *tree.NumVal, *tree.StrVal, *tree.Placeholder, tree.Datum:
			return true
		default:
			return false
		}
	}
}
