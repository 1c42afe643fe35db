package sql

import (
	"regexp"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Regular expression functions. Patterns compile with Go's regexp (RE2),
// which covers the common subset of PostgreSQL's advanced regular
// expressions; as in PostgreSQL, . matches a newline unless the flag n
// says otherwise.
var _ = addBuiltins(map[string][]tree.Overload{
	"regexp_replace": {
		strOverload(tree.ParamTypes{{Name: "source", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "replacement", Typ: types.String}}, types.String,
			func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpReplace(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2])), "")
			}),
		strOverload(tree.ParamTypes{{Name: "source", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "replacement", Typ: types.String}, {Name: "flags", Typ: types.String}}, types.String,
			func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpReplace(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2])), string(tree.MustBeDString(a[3])))
			}),
	},
	"regexp_match": {
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}}, types.StringArray,
			func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpMatch(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), "")
			}),
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "flags", Typ: types.String}}, types.StringArray,
			func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpMatch(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2])))
			}),
	},
})

// compileFlagged compiles pattern under PostgreSQL's flags, reporting
// whether g (every match) was among them.
func compileFlagged(pattern, flags string) (*regexp.Regexp, bool, error) {
	global, fold, newline := false, false, false
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			fold = true
		case 'c':
			fold = false
		case 'n', 'm':
			newline = true
		case 's':
			newline = false
		default:
			return nil, false, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid regular expression option: \"%c\"", f)
		}
	}
	prefix := "(?s)"
	if newline {
		prefix = "(?m)"
	}
	if fold {
		prefix += "(?i)"
	}
	key := prefix + pattern
	if re, ok := regexCache.Load(key); ok {
		return re.(*regexp.Regexp), global, nil
	}
	re, err := regexp.Compile(key)
	if err != nil {
		return nil, false, errorf("2201B", "invalid regular expression: %v", err)
	}
	regexCache.Store(key, re)
	return re, global, nil
}

// regexpReplace replaces the first match (every match with g); in the
// replacement, \1 to \9 stand for subexpressions and \& for the match.
func regexpReplace(s, pattern, repl, flags string) (tree.Datum, error) {
	re, global, err := compileFlagged(pattern, flags)
	if err != nil {
		return nil, err
	}
	n := 1
	if global {
		n = -1
	}
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, n) {
		b.WriteString(s[last:m[0]])
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			if c != '\\' || i+1 == len(repl) {
				b.WriteByte(c)
				continue
			}
			i++
			switch d := repl[i]; {
			case d >= '1' && d <= '9':
				if g := int(d - '0'); g < len(m)/2 && m[2*g] >= 0 {
					b.WriteString(s[m[2*g]:m[2*g+1]])
				}
			case d == '&':
				b.WriteString(s[m[0]:m[1]])
			case d == '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte('\\')
				b.WriteByte(d)
			}
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return tree.NewDString(b.String()), nil
}

// regexpMatch is regexp_match: the first match's subexpressions (or the
// whole match when there are none) as text[], NULL when there is no match.
func regexpMatch(s, pattern, flags string) (tree.Datum, error) {
	re, global, err := compileFlagged(pattern, flags)
	if err != nil {
		return nil, err
	}
	if global {
		return nil, pgerror.WithHint(pgerror.New(pgerror.CodeInvalidParameterValue, "regexp_match() does not support the \"global\" option"),
			"Use the regexp_matches function instead.")
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return tree.DNull, nil
	}
	out := tree.NewDArray(types.String)
	groups := len(m)/2 - 1
	if groups == 0 {
		return out, out.Append(tree.NewDString(s[m[0]:m[1]]))
	}
	for g := 1; g <= groups; g++ {
		d := tree.Datum(tree.DNull)
		if m[2*g] >= 0 {
			d = tree.NewDString(s[m[2*g]:m[2*g+1]])
		}
		if err := out.Append(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}
