package sem

import (
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Regular expression functions. Patterns are PostgreSQL's advanced
// regular expressions (regex_are.go), run by regex_engine.go's pgRegex;
// as in PostgreSQL, . matches a newline unless the flag n says otherwise,
// and repeated searches follow PostgreSQL's loop (empty matches included).
var _ = RegisterFamily(map[string][]tree.Overload{
	"regexp_replace": {
		strOverload(tree.ParamTypes{{Name: "source", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "replacement", Typ: types.String}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpReplace(a, "", 1, -1)
			}),
		strOverload(tree.ParamTypes{{Name: "source", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "replacement", Typ: types.String}, {Name: "flags", Typ: types.String}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				flags := string(tree.MustBeDString(a[3]))
				if flags != "" && flags[0] >= '0' && flags[0] <= '9' {
					return nil, pgerror.WithHint(pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid regular expression option: \"%c\"", flags[0]),
						"If you meant to use regexp_replace() with a start parameter, cast the fourth argument to integer explicitly.")
				}
				return regexpReplace(a, flags, 1, -1)
			}),
		// PostgreSQL 15's forms with a start position and which match to
		// replace (0: all).
		strOverload(tree.ParamTypes{{Name: "source", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "replacement", Typ: types.String}, {Name: "start", Typ: types.Int}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpReplace(a, "", int64(tree.MustBeDInt(a[3])), -1)
			}),
		strOverload(tree.ParamTypes{{Name: "source", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "replacement", Typ: types.String}, {Name: "start", Typ: types.Int}, {Name: "n", Typ: types.Int}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpReplace(a, "", int64(tree.MustBeDInt(a[3])), int64(tree.MustBeDInt(a[4])))
			}),
		strOverload(tree.ParamTypes{{Name: "source", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "replacement", Typ: types.String}, {Name: "start", Typ: types.Int}, {Name: "n", Typ: types.Int}, {Name: "flags", Typ: types.String}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpReplace(a, string(tree.MustBeDString(a[5])), int64(tree.MustBeDInt(a[3])), int64(tree.MustBeDInt(a[4])))
			}),
	},
	"regexp_like": {
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}}, types.Bool,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return regexpLike(a, "") }),
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "flags", Typ: types.String}}, types.Bool,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpLike(a, string(tree.MustBeDString(a[2])))
			}),
	},
	"regexp_count": {
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}}, types.Int4,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return regexpCount(a, 1, "") }),
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "start", Typ: types.Int}}, types.Int4,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpCount(a, int64(tree.MustBeDInt(a[2])), "")
			}),
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "start", Typ: types.Int}, {Name: "flags", Typ: types.String}}, types.Int4,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpCount(a, int64(tree.MustBeDInt(a[2])), string(tree.MustBeDString(a[3])))
			}),
	},
	"regexp_split_to_array": {
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}}, types.StringArray,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpSplit(a, "", "regexp_split_to_array()")
			}),
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "flags", Typ: types.String}}, types.StringArray,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpSplit(a, string(tree.MustBeDString(a[2])), "regexp_split_to_array()")
			}),
	},
	"regexp_substr": regexpSubstrFns(),
	"regexp_instr":  regexpInstrFns(),
	"regexp_match": {
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}}, types.StringArray,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpMatch(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), "")
			}),
		strOverload(tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "flags", Typ: types.String}}, types.StringArray,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return regexpMatch(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2])))
			}),
	},
})

// compileFlagged compiles pattern under PostgreSQL's flags, reporting
// whether g (every match) was among them.
func compileFlagged(pattern, flags string) (*pgRegex, bool, error) {
	re, err := compileRegex(pattern, flags)
	if err != nil {
		return nil, false, err
	}
	return re, re.prog.global, nil
}

// regexpReplace is regexp_replace on its arguments a (source, pattern,
// replacement): from character start (1 first), the nth match, or every
// match when n is 0; n < 0 means none was given, so the flag g decides.
// In the replacement, \1 to \9 stand for subexpressions and \& for the
// match.
func regexpReplace(a tree.Datums, flags string, start, n int64) (tree.Datum, error) {
	s, pattern, repl := string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2]))
	if start <= 0 {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"start\": %d", start)
	}
	if n < -1 || (n == -1 && len(a) > 4) {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"n\": %d", n)
	}
	re, global, err := compileFlagged(pattern, flags)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		n = 1
		if global {
			n = 0
		}
	}
	off, ok := charOffset(s, start)
	if !ok {
		return tree.NewDString(s), nil
	}
	var b strings.Builder
	b.WriteString(s[:off])
	last := off
	// The search starts at off but sees the text before it.
	ms, err := re.matches(s, off, true, false, int(min(n, 1<<30)))
	if err != nil {
		return nil, err
	}
	if n > 0 {
		if int64(len(ms)) < n {
			ms = nil
		} else {
			ms = ms[n-1:]
		}
	}
	for _, m := range ms {
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

// charOffset is the byte offset in s of character start (1 first), where
// a search from it begins (seeing the text before it, as in PostgreSQL);
// ok is false past the end (the position right after the last character
// still counts).
func charOffset(s string, start int64) (int, bool) {
	for i := range s {
		if start--; start == 0 {
			return i, true
		}
	}
	return len(s), start == 1
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
	m, err := re.find(&regexInput{s: s}, 0)
	if err != nil || m == nil {
		return tree.DNull, err
	}
	return matchArray(s, m)
}

// matchArray is one match (FindStringSubmatchIndex's) as regexp_match
// shows it: its subexpressions, or the whole match when there are none.
func matchArray(s string, m []int) (tree.Datum, error) {
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

// RegexpMatches is the set-returning regexp_matches: each match (every
// one with the flag g, else the first) as a text[], like regexp_match's.
func RegexpMatches(s, pattern, flags string) ([]tree.Datum, error) {
	re, global, err := compileFlagged(pattern, flags)
	if err != nil {
		return nil, err
	}
	ms, err := re.matches(s, 0, global, false, 0)
	if err != nil {
		return nil, err
	}
	var out []tree.Datum
	for _, m := range ms {
		d, err := matchArray(s, m)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// RegexpSplit is regexp_split_to_table's pieces: regexp_split_to_array's
// elements.
func RegexpSplit(s, pattern, flags string) ([]tree.Datum, error) {
	d, err := regexpSplit(tree.Datums{tree.NewDString(s), tree.NewDString(pattern)}, flags, "regexp_split_to_table()")
	if err != nil {
		return nil, err
	}
	return d.(*tree.DArray).Array, nil
}

func errNoGlobal(fn string) error {
	return pgerror.Newf(pgerror.CodeInvalidParameterValue, "%s does not support the \"global\" option", fn)
}

func regexpLike(a tree.Datums, flags string) (tree.Datum, error) {
	re, global, err := compileFlagged(string(tree.MustBeDString(a[1])), flags)
	if err != nil {
		return nil, err
	}
	if global {
		return nil, errNoGlobal("regexp_like()")
	}
	m, err := re.match(string(tree.MustBeDString(a[0])))
	return tree.MakeDBool(tree.DBool(m)), err
}

// regexpCount counts the matches from character start (1 first).
func regexpCount(a tree.Datums, start int64, flags string) (tree.Datum, error) {
	if start <= 0 {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"start\": %d", start)
	}
	re, global, err := compileFlagged(string(tree.MustBeDString(a[1])), flags)
	if err != nil {
		return nil, err
	}
	if global {
		return nil, errNoGlobal("regexp_count()")
	}
	s := string(tree.MustBeDString(a[0]))
	off, ok := charOffset(s, start)
	if !ok {
		return tree.NewDInt(0), nil
	}
	ms, err := re.matches(s, off, true, false, 0)
	return tree.NewDInt(tree.DInt(len(ms))), err
}

// regexpSplit is regexp_split_to_array: the pieces between matches,
// ignoring, as PostgreSQL does, empty matches at either end of the string
// or right after another match.
func regexpSplit(a tree.Datums, flags, fn string) (tree.Datum, error) {
	s := string(tree.MustBeDString(a[0]))
	re, global, err := compileFlagged(string(tree.MustBeDString(a[1])), flags)
	if err != nil {
		return nil, err
	}
	if global {
		return nil, errNoGlobal(fn)
	}
	ms, err := re.matches(s, 0, true, true, 0)
	if err != nil {
		return nil, err
	}
	out := tree.NewDArray(types.String)
	last := 0
	for _, m := range ms {
		if err := out.Append(tree.NewDString(s[last:m[0]])); err != nil {
			return nil, err
		}
		last = m[1]
	}
	return out, out.Append(tree.NewDString(s[last:]))
}

// regexpSubstrFns is regexp_substr(string, pattern [, start [, n [,
// flags [, subexpr]]]]): the nth match from character start, or its
// subexpr-th subexpression; NULL when there is none.
func regexpSubstrFns() []tree.Overload {
	params := tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "start", Typ: types.Int},
		{Name: "n", Typ: types.Int}, {Name: "flags", Typ: types.String}, {Name: "subexpr", Typ: types.Int}}
	fn := func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		start, n, flags, sub := int64(1), int64(1), "", int64(0)
		if len(a) > 2 {
			start = int64(tree.MustBeDInt(a[2]))
		}
		if len(a) > 3 {
			n = int64(tree.MustBeDInt(a[3]))
		}
		if len(a) > 4 {
			flags = string(tree.MustBeDString(a[4]))
		}
		if len(a) > 5 {
			sub = int64(tree.MustBeDInt(a[5]))
		}
		switch {
		case start <= 0:
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"start\": %d", start)
		case n <= 0:
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"n\": %d", n)
		case sub < 0:
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"subexpr\": %d", sub)
		}
		re, global, err := compileFlagged(string(tree.MustBeDString(a[1])), flags)
		if err != nil {
			return nil, err
		}
		if global {
			return nil, errNoGlobal("regexp_substr()")
		}
		s := string(tree.MustBeDString(a[0]))
		off, ok := charOffset(s, start)
		if !ok {
			return tree.DNull, nil
		}
		ms, err := re.matches(s, off, true, false, int(min(n, 1<<30)))
		if err != nil {
			return nil, err
		}
		if int64(len(ms)) < n {
			return tree.DNull, nil
		}
		m := ms[n-1]
		if 2*sub+1 >= int64(len(m)) || m[2*sub] < 0 {
			return tree.DNull, nil
		}
		return tree.NewDString(s[m[2*sub]:m[2*sub+1]]), nil
	}
	var ovs []tree.Overload
	for k := 2; k <= len(params); k++ {
		ovs = append(ovs, strOverload(params[:k], types.String, fn))
	}
	return ovs
}

// regexpInstrFns is regexp_instr(string, pattern [, start [, n [,
// endoption [, flags [, subexpr]]]]]): where, in characters from 1, the
// nth match from start (or its subexpr-th subexpression) begins, or with
// endoption 1 where it ends; 0 when there is none.
func regexpInstrFns() []tree.Overload {
	params := tree.ParamTypes{{Name: "string", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "start", Typ: types.Int},
		{Name: "n", Typ: types.Int}, {Name: "endoption", Typ: types.Int}, {Name: "flags", Typ: types.String}, {Name: "subexpr", Typ: types.Int}}
	fn := func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		start, n, end, flags, sub := int64(1), int64(1), int64(0), "", int64(0)
		if len(a) > 2 {
			start = int64(tree.MustBeDInt(a[2]))
		}
		if len(a) > 3 {
			n = int64(tree.MustBeDInt(a[3]))
		}
		if len(a) > 4 {
			end = int64(tree.MustBeDInt(a[4]))
		}
		if len(a) > 5 {
			flags = string(tree.MustBeDString(a[5]))
		}
		if len(a) > 6 {
			sub = int64(tree.MustBeDInt(a[6]))
		}
		switch {
		case start <= 0:
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"start\": %d", start)
		case n <= 0:
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"n\": %d", n)
		case end != 0 && end != 1:
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"endoption\": %d", end)
		case sub < 0:
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"subexpr\": %d", sub)
		}
		re, global, err := compileFlagged(string(tree.MustBeDString(a[1])), flags)
		if err != nil {
			return nil, err
		}
		if global {
			return nil, errNoGlobal("regexp_instr()")
		}
		s := string(tree.MustBeDString(a[0]))
		off, ok := charOffset(s, start)
		if !ok {
			return tree.NewDInt(0), nil
		}
		ms, err := re.matches(s, off, true, false, int(min(n, 1<<30)))
		if err != nil {
			return nil, err
		}
		if int64(len(ms)) < n {
			return tree.NewDInt(0), nil
		}
		m := ms[n-1]
		if 2*sub+1 >= int64(len(m)) || m[2*sub] < 0 {
			return tree.NewDInt(0), nil
		}
		pos := m[2*sub+end]
		return tree.NewDInt(tree.DInt(1 + utf8.RuneCountInString(s[:pos]))), nil
	}
	var ovs []tree.Overload
	for k := 2; k <= len(params); k++ {
		ovs = append(ovs, tree.Overload{
			Types: params[:k], ReturnType: tree.FixedReturnType(types.Int4), Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: BuiltinFn(fn),
		})
	}
	return ovs
}
