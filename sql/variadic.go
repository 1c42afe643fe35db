package sql

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// PostgreSQL's f(a, VARIADIC arr), which the grammar refuses
// ("unimplemented: this syntax"), is rewritten in the text as
// f(a, meridian__variadic(arr)) (rewriteVariadic); the builder
// resolves such a call (variadicCall): a builtin's through its VARIADIC
// counterpart (sem.VariadicCall), a SQL function's with the array as its
// VARIADIC parameter. The array's elements are spread when the call
// runs.

const variadicFn = sem.VariadicMarker

// variadicParen is an open parenthesis or bracket of the text.
type variadicParen struct {
	// call: the arguments of a function call, where VARIADIC may stand.
	call bool
	// params: a routine's parameter list; param counts its commas.
	params bool
	param  int
	// open: a VARIADIC argument of this call is open, to be closed at
	// the call's ")" or ORDER BY.
	open bool
}

// notCallWords precede a "(" that opens no function's arguments (or
// one the grammar reads itself, where PostgreSQL takes no VARIADIC
// either).
var notCallWords = map[string]bool{
	"values": true, "in": true, "any": true, "all": true, "some": true, "exists": true, "as": true,
	"on": true, "using": true, "over": true, "filter": true, "array": true, "row": true, "into": true,
	"table": true, "select": true, "where": true, "and": true, "or": true, "not": true, "when": true,
	"then": true, "else": true, "by": true, "from": true, "join": true, "with": true, "set": true,
	"coalesce": true, "greatest": true, "least": true, "nullif": true, "cast": true, "extract": true,
	"overlay": true, "position": true, "substring": true, "trim": true, "treat": true, "is": true,
	"like": true, "ilike": true, "similar": true, "between": true, "case": true, "return": true,
	"returning": true, "check": true, "default": true, "key": true, "unique": true, "include": true,
}

// routineWords precede the name of a routine whose parameter list, not
// a call, follows (CREATE FUNCTION f(VARIADIC xs int[]), DROP FUNCTION
// IF EXISTS f(...)).
var routineWords = map[string]bool{"function": true, "procedure": true, "routine": true, "aggregate": true, "exists": true}

// variadicParam is a VARIADIC parameter of a routine's parameter list,
// which the grammar refuses too: rewriteVariadic makes it an IN one, and
// markVariadicParams gives it its class back in the parsed statement.
type variadicParam struct {
	stmt, param int
}

// rewriteVariadic rewrites each VARIADIC argument of a call in query as
// a call of variadicFn, and each VARIADIC parameter of a routine's
// parameter list as IN, listed in the result. It walks the text as the
// lexer would, so that strings, quoted identifiers and comments stay. A
// VARIADIC argument that is not the call's last is PostgreSQL's syntax
// error.
func rewriteVariadic(query string) (string, []variadicParam, error) {
	type edit struct {
		at, del int
		ins     string
	}
	var (
		edits []edit
		stack []variadicParen
		// hist: the last significant tokens, words in lower case, a
		// quoted identifier as `"`, a literal as `'`.
		hist      [4]string
		lastEnd   int
		stmtFirst string
		stmt      int
		params    []variadicParam
	)
	push := func(tok string, end int) {
		copy(hist[:], hist[1:])
		hist[3] = tok
		lastEnd = end
		if stmtFirst == "" {
			stmtFirst = tok
		}
	}
	closeOpen := func() {
		edits = append(edits, edit{at: lastEnd, ins: ")"})
		stack[len(stack)-1].open = false
	}
	for _, t := range rewriteTokens(query) {
		switch c := t.text; {
		case c == "'" || c == `"`:
			push(c, t.end)
		case identByte(c[0]):
			word := c
			top := len(stack) - 1
			switch {
			case word == "variadic" && top >= 0 && stack[top].call && !stack[top].open && (hist[3] == "(" || hist[3] == ","):
				edits = append(edits, edit{at: t.start, del: t.end - t.start, ins: variadicFn + "("})
				stack[top].open = true
			case word == "variadic" && top >= 0 && stack[top].params && (hist[3] == "(" || hist[3] == ","):
				edits = append(edits, edit{at: t.start, del: t.end - t.start, ins: "IN"})
				params = append(params, variadicParam{stmt: stmt, param: stack[top].param})
			case word == "order" && top >= 0 && stack[top].open:
				closeOpen()
			}
			push(word, t.end)
		case c == "(":
			call := isCallParen(hist, stmtFirst)
			stack = append(stack, variadicParen{call: call, params: !call && isParamsParen(hist, stmtFirst)})
			push("(", t.end)
		case c == "[":
			stack = append(stack, variadicParen{})
			push("[", t.end)
		case c == ")" || c == "]":
			if n := len(stack); n > 0 {
				if stack[n-1].open {
					closeOpen()
				}
				stack = stack[:n-1]
			}
			push(c, t.end)
		case c == ",":
			if n := len(stack); n > 0 && stack[n-1].params {
				stack[n-1].param++
			}
			if n := len(stack); n > 0 && stack[n-1].open {
				return "", nil, pgerror.WithPosition(pgerror.New(pgerror.CodeSyntaxError, `syntax error at or near ","`),
					utf8.RuneCountInString(query[:t.start])+1)
			}
			push(",", t.end)
		case c == ";":
			if stmtFirst != "" {
				stmt++
			}
			stack, hist, stmtFirst = nil, [4]string{}, ""
		default:
			push(c, t.end)
		}
	}
	if len(edits) == 0 {
		return query, nil, nil
	}
	sort.SliceStable(edits, func(a, b int) bool { return edits[a].at < edits[b].at })
	var out strings.Builder
	last := 0
	for _, e := range edits {
		out.WriteString(query[last:e.at])
		out.WriteString(e.ins)
		last = e.at + e.del
	}
	out.WriteString(query[last:])
	return out.String(), params, nil
}

// markVariadicParams makes the parameters params lists VARIADIC in the
// CREATE FUNCTION statements of stmts (copies: the grammar's statements
// may be a parse cache's, of a text with IN where this one had VARIADIC).
func markVariadicParams(stmts statements.Statements, params []variadicParam) statements.Statements {
	out := append(statements.Statements(nil), stmts...)
	for _, p := range params {
		if p.stmt >= len(out) {
			continue
		}
		cr, ok := out[p.stmt].AST.(*tree.CreateRoutine)
		if !ok || p.param >= len(cr.Params) {
			continue
		}
		c := *cr
		c.Params = append(tree.RoutineParams(nil), cr.Params...)
		c.Params[p.param].Class = tree.RoutineParamVariadic
		out[p.stmt].AST = &c
	}
	return out
}

// isCallParen reports whether a "(" after the tokens hist (the last
// one last) opens a function call's arguments: it follows a name that is
// not a keyword of notCallWords, nor a routine's name in a statement
// that declares or names routines.
func isCallParen(hist [4]string, stmtFirst string) bool {
	name := hist[3]
	if name == "" || !(name == `"` || identByte(name[0])) || notCallWords[name] {
		return false
	}
	before := hist[2]
	if before == "." {
		before = hist[0]
	}
	if routineWords[before] {
		return false
	}
	// DROP FUNCTION f(int), g(VARIADIC int[]); GRANT ... ON FUNCTION ...
	switch stmtFirst {
	case "drop", "grant", "revoke", "comment", "alter":
		if before == "," {
			return false
		}
	}
	return true
}

// isParamsParen reports whether a "(" after the tokens hist opens a
// routine's parameter list: it follows the routine's name, after
// FUNCTION, PROCEDURE, ... or, in a statement that names several, a
// comma.
func isParamsParen(hist [4]string, stmtFirst string) bool {
	name := hist[3]
	if name == "" || !(name == `"` || identByte(name[0])) {
		return false
	}
	before := hist[2]
	if before == "." {
		before = hist[0]
	}
	switch stmtFirst {
	case "drop", "grant", "revoke", "comment", "alter":
		if before == "," {
			return true
		}
	}
	return routineWords[before]
}

// variadicArg is the array a call's argument passes as VARIADIC; nil if
// it is no VARIADIC argument.
func variadicArg(e tree.Expr) tree.Expr {
	f, ok := e.(*tree.FuncExpr)
	if !ok || len(f.Exprs) != 1 {
		return nil
	}
	n, ok := f.Func.FunctionReference.(*tree.UnresolvedName)
	if !ok || n.NumParts != 1 || !strings.EqualFold(n.Parts[0], variadicFn) {
		return nil
	}
	return f.Exprs[0]
}

// isVariadicMarker reports whether f is a VARIADIC argument's marker.
func isVariadicMarker(f *tree.FuncExpr) bool {
	n, ok := f.Func.FunctionReference.(*tree.UnresolvedName)
	return ok && n.NumParts == 1 && strings.EqualFold(n.Parts[0], variadicFn)
}

// variadicCall resolves f when its last argument is VARIADIC: a call of
// a builtin as its VARIADIC counterpart; of a function that is not
// variadic, with the argument as it is (PostgreSQL ignores VARIADIC
// there: abs(VARIADIC 1) is abs(1)). ok is false if f has no VARIADIC
// argument; a user-defined function's call is left to userFunction.
func (b *builder) variadicCall(f *tree.FuncExpr, sc *scope) (call *tree.FuncExpr, ok bool, err error) {
	if len(f.Exprs) == 0 {
		return nil, false, nil
	}
	arr := variadicArg(f.Exprs[len(f.Exprs)-1])
	if arr == nil {
		return nil, false, nil
	}
	args := append(append(tree.Exprs(nil), f.Exprs[:len(f.Exprs)-1]...), arr)
	n, isName := f.Func.FunctionReference.(*tree.UnresolvedName)
	if !isName || n.NumParts > 2 {
		return nil, false, nil
	}
	name := strings.ToLower(n.Parts[0])
	key := name
	if n.NumParts == 2 && n.Parts[1] != "pg_catalog" {
		key = strings.ToLower(n.Parts[1]) + "." + name
	}
	if sem.Overloads(key) == nil {
		// A user-defined function (userFunction) or none.
		return nil, false, nil
	}
	if !sem.IsVariadic(key) {
		c := *f
		c.Exprs = args
		return &c, true, nil
	}
	if sem.VariadicAnyArity(key, len(args)) {
		// PostgreSQL checks the type when it resolves the call, rows or
		// not; what only the type checker can type is checked as it runs.
		if t := b.argType(arr, sc); t != nil && t.Family() != types.ArrayFamily {
			return nil, false, sem.VariadicError()
		}
	}
	if t := syntacticType(arr); t != nil && t.Family() == types.UnknownFamily || isPlaceholder(arr) {
		// An untyped literal is read as the variadic array type, as
		// PostgreSQL coerces an unknown to the parameter's type.
		if at := sem.VariadicArrayType(key, len(args)); at != nil {
			args[len(args)-1] = &tree.CastExpr{Expr: arr, Type: at, SyntaxMode: tree.CastShort}
		}
	}
	return sem.VariadicCall(f, key, name, args), true, nil
}

// stripVariadic is f with its VARIADIC argument passed as it is: no
// aggregate or window function is variadic, and PostgreSQL ignores
// VARIADIC in a call of a function that is not (count(VARIADIC a) is
// count(a)).
func stripVariadic(f *tree.FuncExpr) *tree.FuncExpr {
	if len(f.Exprs) == 0 {
		return f
	}
	arr := variadicArg(f.Exprs[len(f.Exprs)-1])
	if arr == nil {
		return f
	}
	c := *f
	c.Exprs = append(append(tree.Exprs(nil), f.Exprs[:len(f.Exprs)-1]...), arr)
	return &c
}

func isPlaceholder(e tree.Expr) bool {
	_, ok := e.(*tree.Placeholder)
	return ok
}
