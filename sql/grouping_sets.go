package sql

import (
	"regexp"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// GROUP BY GROUPING SETS / ROLLUP / CUBE and GROUPING(), as PostgreSQL 15.
//
// The grammar of the parser refuses all four, so parseSQL first rewrites
// them, outside literals, quoted names and comments, into calls of
// functions no one can name otherwise (groupingFn + "sets" ...), and an
// empty grouping set "()" into ROW(). The builder expands a GROUP BY of
// such calls into its grouping sets (groupingSets); the group node
// aggregates every row once per set, the columns a set leaves out NULL,
// and GROUPING(args) is an aggregate that answers the bit mask of the
// arguments its row's set leaves out.

const groupingFn = "meridian__grouping_"

var (
	mayHaveGroupingSets = regexp.MustCompile(`(?i)\b(rollup|cube|grouping)\b`)
	groupingKeyword     = regexp.MustCompile(`(?i)^(grouping\s+sets|rollup|cube|grouping)\s*\(`)
)

// rewriteGroupingSets rewrites the grouping set syntax of query into
// the function calls the builder expands.
func rewriteGroupingSets(query string) string {
	if !mayHaveGroupingSets.MatchString(query) {
		return query
	}
	var out strings.Builder
	prev := "" // the last word or punctuation written, lower case
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c {
						j += 2
						continue
					}
					break
				}
				if c == '\'' && query[j] == '\\' && i > 0 && (query[i-1] == 'e' || query[i-1] == 'E') {
					j++
				}
				j++
			}
			out.WriteString(query[i:min(j+1, len(query))])
			i, prev = j+1, "lit"
			continue
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			out.WriteString(query[i : i+j])
			i += j
			continue
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				out.WriteString(query[i:])
				return out.String()
			}
			out.WriteString(query[i : i+2+j+2])
			i += 2 + j + 2
			continue
		case c == '$':
			// A dollar-quoted string: $tag$ ... $tag$.
			if m := dollarTag.FindString(query[i:]); m != "" {
				j := strings.Index(query[i+len(m):], m)
				end := len(query)
				if j >= 0 {
					end = i + len(m) + j + len(m)
				}
				out.WriteString(query[i:end])
				i, prev = end, "lit"
				continue
			}
		case c == '(' && (prev == "(" || prev == "," || prev == "by" || prev == groupingFn):
			j := i + 1
			for j < len(query) && (query[j] == ' ' || query[j] == '\t' || query[j] == '\n' || query[j] == '\r') {
				j++
			}
			if j < len(query) && query[j] == ')' {
				// An empty grouping set.
				out.WriteString("ROW()")
				i, prev = j+1, ")"
				continue
			}
		case isIdentStart(c) && (i == 0 || !isIdentChar(query[i-1])):
			if m := groupingKeyword.FindStringSubmatch(query[i:]); m != nil {
				kw := strings.ToLower(strings.Join(strings.Fields(m[1]), "_"))
				if kw == "grouping_sets" {
					kw = "sets"
				}
				out.WriteString(groupingFn + kw + "(")
				i += len(m[0])
				prev = "("
				continue
			}
			j := i
			for j < len(query) && isIdentChar(query[j]) {
				j++
			}
			out.WriteString(query[i:j])
			i, prev = j, strings.ToLower(query[i:j])
			continue
		}
		out.WriteByte(c)
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			prev = string(c)
		}
		i++
	}
	return out.String()
}

var dollarTag = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z_0-9]*)?\$`)

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }

// groupingCall is the kind of a rewritten call ("sets", "rollup",
// "cube", "grouping"), "" for any other expression.
func groupingCall(e tree.Expr) (string, *tree.FuncExpr) {
	f, ok := e.(*tree.FuncExpr)
	if !ok {
		return "", nil
	}
	name, ok := f.Func.FunctionReference.(*tree.UnresolvedName)
	if !ok || name.NumParts != 1 || !strings.HasPrefix(name.Parts[0], groupingFn) {
		return "", nil
	}
	return strings.TrimPrefix(name.Parts[0], groupingFn), f
}

// isGroupingFn reports whether f is GROUPING(...), which makes a query
// grouped as an aggregate does.
func isGroupingFn(f *tree.FuncExpr) bool {
	k, _ := groupingCall(f)
	return k == "grouping"
}

// hasGroupingSets reports whether a GROUP BY uses grouping sets.
func hasGroupingSets(gb tree.GroupBy) bool {
	for _, e := range gb {
		if k, _ := groupingCall(e); k != "" {
			return true
		}
		if t, ok := e.(*tree.Tuple); ok && len(t.Exprs) == 0 {
			return true
		}
	}
	return false
}

// groupingSets expands a GROUP BY list into its grouping sets, each a
// list of expressions: the cross product of its items' sets, as
// PostgreSQL's expand_grouping_sets (in its order).
func groupingSets(gb tree.GroupBy) ([][]tree.Expr, error) {
	sets := [][]tree.Expr{{}}
	for _, item := range gb {
		itemSets, err := itemGroupingSets(item, true)
		if err != nil {
			return nil, err
		}
		var next [][]tree.Expr
		for _, s := range sets {
			for _, is := range itemSets {
				next = append(next, append(append([]tree.Expr{}, s...), is...))
			}
		}
		sets = next
	}
	return sets, nil
}

// unit is the expressions of a ROLLUP or CUBE element, or of a set in
// GROUPING SETS: a parenthesized list is several, ROW() none.
func unit(e tree.Expr) []tree.Expr {
	if t, ok := e.(*tree.Tuple); ok {
		return append([]tree.Expr{}, t.Exprs...)
	}
	if p, ok := e.(*tree.ParenExpr); ok {
		return unit(p.Expr)
	}
	return []tree.Expr{e}
}

func itemGroupingSets(item tree.Expr, top bool) ([][]tree.Expr, error) {
	kind, f := groupingCall(item)
	switch kind {
	case "":
		if top {
			// A plain GROUP BY item (a tuple at the top groups by
			// itself, except the empty one).
			if t, ok := item.(*tree.Tuple); ok && len(t.Exprs) == 0 {
				return [][]tree.Expr{{}}, nil
			}
			return [][]tree.Expr{{item}}, nil
		}
		return [][]tree.Expr{unit(item)}, nil
	case "rollup":
		var out [][]tree.Expr
		for n := len(f.Exprs); n >= 0; n-- {
			var s []tree.Expr
			for _, e := range f.Exprs[:n] {
				s = append(s, unit(e)...)
			}
			out = append(out, s)
		}
		return out, nil
	case "cube":
		n := len(f.Exprs)
		if n > 12 {
			return nil, pgerror.New("54001", "CUBE is limited to 12 elements")
		}
		// PostgreSQL lists the subsets from the full one down, each
		// size's in the order of the elements it keeps.
		var out [][]tree.Expr
		for size := n; size >= 0; size-- {
			for _, mask := range subsetsOfSize(n, size) {
				var s []tree.Expr
				for i, e := range f.Exprs {
					if mask&(1<<i) != 0 {
						s = append(s, unit(e)...)
					}
				}
				out = append(out, s)
			}
		}
		return out, nil
	case "sets":
		var out [][]tree.Expr
		for _, e := range f.Exprs {
			sub, err := itemGroupingSets(e, false)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
		return out, nil
	}
	return nil, pgerror.New(pgerror.CodeSyntaxError, "GROUPING is not allowed in GROUP BY")
}

// subsetsOfSize are the masks of n bits with size set, the lowest
// elements first.
func subsetsOfSize(n, size int) []int {
	var out []int
	var rec func(start, left, mask int)
	rec = func(start, left, mask int) {
		if left == 0 {
			out = append(out, mask)
			return
		}
		for i := start; i <= n-left; i++ {
			rec(i+1, left-1, mask|1<<i)
		}
	}
	rec(0, size, 0)
	return out
}
