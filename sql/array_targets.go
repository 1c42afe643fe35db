package sql

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// PostgreSQL's array syntax the grammar refuses, rewritten in the text:
//
//   - a type's further dimensions (int[][], int[3][3]): PostgreSQL
//     ignores the declared dimensions, so they are dropped (int[]);
//   - subscripted assignment targets (UPDATE t SET a[i] = v, ON CONFLICT
//     DO UPDATE SET a[i:j] = ..., INSERT INTO t (a[i]) ...): the target
//     becomes a quoted name holding the column's name and the index of
//     its subscripts' text (arrayTargetMark), which arrayTargets then
//     makes the column's assignment of sem.ArrayAssignDef.

// arrayTargetMark separates a column's name from its subscripts' index
// in a rewritten target; no name a client can write holds it.
const arrayTargetMark = "\x01"

// arrayTypeWords are the names after which a[1][2] is a type's
// dimensions and not subscripts.
var arrayTypeWords = map[string]bool{
	"int": true, "integer": true, "int2": true, "int4": true, "int8": true, "smallint": true, "bigint": true,
	"text": true, "varchar": true, "char": true, "character": true, "varying": true, "numeric": true, "decimal": true,
	"float": true, "float4": true, "float8": true, "real": true, "precision": true, "bool": true, "boolean": true,
	"date": true, "time": true, "timestamp": true, "timestamptz": true, "zone": true, "uuid": true, "bytea": true,
	"json": true, "jsonb": true, "interval": true, "name": true, "oid": true,
}

// mayHaveArrayTargets is a cheap test for text rewriteArrayTargets may
// change: a "[" at all.
func mayHaveArrayTargets(query string) bool { return strings.IndexByte(query, '[') >= 0 }

// rewriteArrayTargets rewrites query as described above, and returns the
// subscripts' texts of the rewritten targets.
func rewriteArrayTargets(query string) (string, []string) {
	toks := rewriteTokens(query)
	type edit struct {
		start, end int
		ins        string
	}
	var edits []edit
	var subs []string
	// group reports the end (token index after "]") of a [] or [N] at i.
	group := func(i int) (int, bool, bool) {
		if i+1 < len(toks) && toks[i].text == "[" && toks[i+1].text == "]" {
			return i + 2, true, true
		}
		if i+2 < len(toks) && toks[i].text == "[" && toks[i+2].text == "]" && isDigits(toks[i+1].text) {
			return i + 3, false, true
		}
		return 0, false, false
	}
	// subscripts returns the token index after the [...] groups at i.
	subscripts := func(i int) int {
		for i < len(toks) && toks[i].text == "[" {
			depth := 0
			j := i
			for ; j < len(toks); j++ {
				switch toks[j].text {
				case "[":
					depth++
				case "]":
					depth--
				}
				if depth == 0 {
					break
				}
			}
			if j >= len(toks) {
				return i
			}
			i = j + 1
		}
		return i
	}
	// target rewrites name[...]... = at i (a SET item or an INSERT
	// column) and returns whether it did.
	target := func(i int, wantEq bool) bool {
		if i+1 >= len(toks) || toks[i+1].text != "[" {
			return false
		}
		name := toks[i].text
		switch {
		case name == `"`:
			name = strings.ReplaceAll(query[toks[i].start+1:toks[i].end-1], `""`, `"`)
		case !identByte(name[0]):
			return false
		}
		end := subscripts(i + 1)
		if end == i+1 || end >= len(toks) {
			return false
		}
		if wantEq && toks[end].text != "=" {
			return false
		}
		if !wantEq && toks[end].text != "," && toks[end].text != ")" {
			return false
		}
		subs = append(subs, query[toks[i+1].start:toks[end-1].end])
		ins := `"` + strings.ReplaceAll(name, `"`, `""`) + arrayTargetMark + strconv.Itoa(len(subs)-1) + `"`
		edits = append(edits, edit{toks[i].start, toks[end-1].end, ins})
		return true
	}
	stmtStart := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i].text
		switch {
		case t == ";":
			stmtStart = i + 1
		case t == "[":
			first, empty, ok := group(i)
			if !ok || i == 0 {
				continue
			}
			j, anyEmpty := first, empty
			for {
				next, e, ok := group(j)
				if !ok {
					break
				}
				j, anyEmpty = next, anyEmpty || e
			}
			// A type's name, or its width: varchar(5)[3][3].
			typeBefore := arrayTypeWords[toks[i-1].text] ||
				(i >= 4 && toks[i-1].text == ")" && isDigits(toks[i-2].text) && toks[i-3].text == "(" && arrayTypeWords[toks[i-4].text])
			if j > first && (anyEmpty || typeBefore) {
				edits = append(edits, edit{toks[first-1].end, toks[j-1].end, ""})
				i = j - 1
			}
		case t == "set" && i > stmtStart && toks[i-1].text != "local" && toks[i-1].text != "session":
			// The items of an UPDATE's SET list, at this depth.
			depth := 0
			item := true
			for j := i + 1; j < len(toks); j++ {
				switch toks[j].text {
				case "(", "[":
					depth++
				case ")", "]":
					depth--
				}
				if depth < 0 || (depth == 0 && (toks[j].text == "from" || toks[j].text == "where" || toks[j].text == "returning" || toks[j].text == ";")) {
					break
				}
				if depth == 0 && toks[j].text == "," {
					item = true
					continue
				}
				if item && depth == 0 {
					item = false
					if target(j, true) {
						// Skip the rewritten target's tokens.
						j = subscripts(j+1) - 1
					}
				}
			}
		case t == "into" && i+1 < len(toks):
			// INSERT INTO name [AS alias] (columns).
			isName := func(k int) bool {
				return k < len(toks) && (toks[k].text == `"` || identByte(toks[k].text[0]))
			}
			j := i + 1
			if !isName(j) {
				continue
			}
			for j++; j+1 < len(toks) && toks[j].text == "." && isName(j+1); j += 2 {
			}
			if j+1 < len(toks) && toks[j].text == "as" {
				j += 2
			}
			if j >= len(toks) || toks[j].text != "(" {
				continue
			}
			for k := j + 1; k < len(toks) && toks[k].text != ")"; k++ {
				if toks[k-1].text == "(" || toks[k-1].text == "," {
					if target(k, false) {
						k = subscripts(k+1) - 1
					}
				}
			}
		}
	}
	if len(edits) == 0 {
		return query, nil
	}
	var b strings.Builder
	last := 0
	for _, e := range edits {
		if e.start < last {
			continue
		}
		b.WriteString(query[last:e.start])
		b.WriteString(e.ins)
		last = e.end
	}
	b.WriteString(query[last:])
	return b.String(), subs
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// arrayTargetName splits a rewritten target into the column's name and
// its subscripts' text; ok is false for any other name.
func arrayTargetName(n string, subs []string) (col, sub string, ok bool) {
	i := strings.Index(n, arrayTargetMark)
	if i < 0 {
		return "", "", false
	}
	k, err := strconv.Atoi(n[i+len(arrayTargetMark):])
	if err != nil || k < 0 || k >= len(subs) {
		return "", "", false
	}
	return n[:i], subs[k], true
}

// arrayAssignCall is base's assignment of value at the subscripts sub
// (their text, brackets included).
func arrayAssignCall(base, value tree.Expr, sub string) (tree.Expr, error) {
	e, err := sem.ParseExpr("x" + sub)
	if err != nil {
		return nil, err
	}
	ind, ok := e.(*tree.IndirectionExpr)
	if !ok {
		return nil, pgerror.New(pgerror.CodeSyntaxError, "syntax error in array subscripts")
	}
	slice, args := sem.SubscriptArgs(ind.Indirection)
	return &tree.FuncExpr{
		Func:  tree.ResolvableFunctionReference{FunctionReference: sem.ArrayAssignDef},
		Exprs: append(tree.Exprs{base, value, tree.MakeDBool(tree.DBool(slice))}, args...),
	}, nil
}

// arrayTargets makes the rewritten targets of stmts (see above) the
// assignments of their columns.
func arrayTargets(stmts statements.Statements, subs []string) (statements.Statements, error) {
	out := append(statements.Statements(nil), stmts...)
	for i := range out {
		ast, err := arrayTargetsStmt(out[i].AST, subs)
		if err != nil {
			return nil, err
		}
		out[i].AST = ast
	}
	return out, nil
}

func arrayTargetsStmt(stmt tree.Statement, subs []string) (tree.Statement, error) {
	switch s := stmt.(type) {
	case *tree.Update:
		exprs, err := arrayTargetUpdates(s.Exprs, subs, tableRefName(s.Table))
		if err != nil || exprs == nil {
			return stmt, err
		}
		n := *s
		n.Exprs = exprs
		return &n, nil
	case *tree.Insert:
		return arrayTargetInsert(s, subs)
	}
	return stmt, nil
}

// arrayTargetUpdates rewrites a SET list; nil when it has no rewritten
// target. Several assignments to one column's elements apply in order,
// as PostgreSQL's.
func arrayTargetUpdates(exprs tree.UpdateExprs, subs []string, table string) (tree.UpdateExprs, error) {
	var out tree.UpdateExprs
	changed := false
	first := map[string]int{}
	for _, ue := range exprs {
		col, sub, ok := "", "", false
		for _, n := range ue.Names {
			if _, _, isTarget := arrayTargetName(string(n), subs); isTarget {
				if ue.Tuple || len(ue.Names) != 1 {
					return nil, pgerror.Unsupported("assignment to array subscripts in a tuple of columns is not supported yet")
				}
				col, sub, ok = arrayTargetName(string(n), subs)
			}
		}
		if !ok {
			out = append(out, ue)
			continue
		}
		changed = true
		if j, seen := first[col]; seen {
			e, err := arrayAssignCall(out[j].Expr, ue.Expr, sub)
			if err != nil {
				return nil, err
			}
			c := *out[j]
			c.Expr = e
			out[j] = &c
			continue
		}
		// The column of the table written (UPDATE ... FROM and ON
		// CONFLICT's excluded have columns of the same name).
		ref := &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{col}}
		if table != "" {
			ref = &tree.UnresolvedName{NumParts: 2, Parts: tree.NameParts{col, table}}
		}
		e, err := arrayAssignCall(ref, ue.Expr, sub)
		if err != nil {
			return nil, err
		}
		first[col] = len(out)
		out = append(out, &tree.UpdateExpr{Names: tree.NameList{tree.Name(col)}, Expr: e})
	}
	if !changed {
		return nil, nil
	}
	return out, nil
}

// arrayTargetInsert rewrites an INSERT whose columns have subscripts:
// each such column's value becomes its assignment into NULL (several
// into one column apply in order), in each row of a VALUES list or in
// the select list of a simple SELECT, where the values keep the
// columns' types as their context, as PostgreSQL's; any other query
// (UNION, DISTINCT, *) becomes a subquery whose columns are assigned.
func arrayTargetInsert(s *tree.Insert, subs []string) (tree.Statement, error) {
	n := *s
	if s.OnConflict != nil {
		exprs, err := arrayTargetUpdates(s.OnConflict.Exprs, subs, tableRefName(s.Table))
		if err != nil {
			return nil, err
		}
		if exprs != nil {
			oc := *s.OnConflict
			oc.Exprs = exprs
			n.OnConflict = &oc
		}
	}
	marked := false
	for _, c := range s.Columns {
		if _, _, ok := arrayTargetName(string(c), subs); ok {
			marked = true
		}
	}
	if !marked {
		return &n, nil
	}
	if s.Rows == nil || s.Rows.Select == nil {
		// DEFAULT VALUES takes no column list.
		return nil, pgerror.New(pgerror.CodeSyntaxError, `syntax error at or near "DEFAULT"`)
	}
	countErr := func(have int) error {
		if have < len(s.Columns) {
			return pgerror.New(pgerror.CodeSyntaxError, "INSERT has more target columns than expressions")
		}
		return pgerror.New(pgerror.CodeSyntaxError, "INSERT has more expressions than target columns")
	}
	sel := *s.Rows
	q, isSelect := s.Rows.Select.(*tree.SelectClause)
	vc, isValues := s.Rows.Select.(*tree.ValuesClause)
	switch {
	case isValues:
		q := vc
		rows := make([]tree.Exprs, len(q.Rows))
		for r := range rows {
			if len(q.Rows[r]) != len(s.Columns) {
				return nil, countErr(len(q.Rows[r]))
			}
			var err error
			if n.Columns, rows[r], err = arrayTargetRow(s.Columns, q.Rows[r], subs); err != nil {
				return nil, err
			}
		}
		sel.Select = &tree.ValuesClause{Rows: rows}
	case isSelect && simpleSelectList(q):
		if len(q.Exprs) != len(s.Columns) {
			return nil, countErr(len(q.Exprs))
		}
		vals := make(tree.Exprs, len(q.Exprs))
		for i := range q.Exprs {
			vals[i] = q.Exprs[i].Expr
		}
		cols, row, err := arrayTargetRow(s.Columns, vals, subs)
		if err != nil {
			return nil, err
		}
		c := *q
		c.Exprs = make(tree.SelectExprs, len(row))
		for i := range row {
			c.Exprs[i] = tree.SelectExpr{Expr: row[i]}
		}
		n.Columns = cols
		sel.Select = &c
	default:
		// SELECT ... FROM (query) AS src(c1, ...): the query's columns
		// by names no client can write.
		srcCols := make(tree.ColumnDefList, len(s.Columns))
		vals := make(tree.Exprs, len(s.Columns))
		for i := range srcCols {
			name := arrayTargetMark + "c" + strconv.Itoa(i)
			srcCols[i] = tree.ColumnDef{Name: tree.Name(name)}
			vals[i] = &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{name}}
		}
		cols, row, err := arrayTargetRow(s.Columns, vals, subs)
		if err != nil {
			return nil, err
		}
		outer := &tree.SelectClause{From: tree.From{Tables: tree.TableExprs{&tree.AliasedTableExpr{
			Expr: &tree.Subquery{Select: &tree.ParenSelect{Select: s.Rows}},
			As:   tree.AliasClause{Alias: tree.Name(arrayTargetMark + "src"), Cols: srcCols},
		}}}}
		for _, e := range row {
			outer.Exprs = append(outer.Exprs, tree.SelectExpr{Expr: e})
		}
		n.Columns = cols
		sel = tree.Select{Select: outer}
	}
	n.Rows = &sel
	return &n, nil
}

// simpleSelectList reports whether q's select list holds one value per
// column, in place (no DISTINCT, which would compare the assigned
// arrays, and no *).
func simpleSelectList(q *tree.SelectClause) bool {
	if q.Distinct || q.DistinctOn != nil || q.TableSelect {
		return false
	}
	for _, e := range q.Exprs {
		switch e.Expr.(type) {
		case tree.UnqualifiedStar, *tree.UnqualifiedStar, *tree.AllColumnsSelector, *tree.TupleStar:
			return false
		}
		if un, ok := e.Expr.(*tree.UnresolvedName); ok && un.Star {
			return false
		}
	}
	return true
}

// arrayTargetRow gives the INSERT's columns (each subscripted one once)
// and a row's values for them: a subscripted column's the assignment of
// its values into NULL, in order.
func arrayTargetRow(columns tree.NameList, vals tree.Exprs, subs []string) (tree.NameList, tree.Exprs, error) {
	var cols tree.NameList
	var row tree.Exprs
	first := map[string]int{}
	for i, c := range columns {
		col, sub, ok := arrayTargetName(string(c), subs)
		if !ok {
			cols = append(cols, c)
			row = append(row, vals[i])
			continue
		}
		if _, isDefault := vals[i].(tree.DefaultVal); isDefault {
			return nil, nil, pgerror.Unsupported("cannot set an array element to DEFAULT")
		}
		j, seen := first[col]
		var base tree.Expr = tree.DNull
		if seen {
			base = row[j]
		}
		e, err := arrayAssignCall(base, vals[i], sub)
		if err != nil {
			return nil, nil, err
		}
		if seen {
			row[j] = e
			continue
		}
		first[col] = len(cols)
		cols = append(cols, tree.Name(col))
		row = append(row, e)
	}
	return cols, row, nil
}

// tableRefName is the name a written table's columns are qualified by:
// its alias, or its own name; "" when unknown.
func tableRefName(te tree.TableExpr) string {
	switch t := te.(type) {
	case *tree.AliasedTableExpr:
		if t.As.Alias != "" {
			return string(t.As.Alias)
		}
		return tableRefName(t.Expr)
	case *tree.TableName:
		return string(t.ObjectName)
	}
	return ""
}
