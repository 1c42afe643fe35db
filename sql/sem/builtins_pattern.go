package sem

import (
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Pattern matching with an explicit escape: LIKE/ILIKE ... ESCAPE (the
// grammar calls like_escape and friends), SIMILAR TO [ESCAPE], and
// SUBSTRING(s SIMILAR pattern ESCAPE e), as PostgreSQL 15 has them.
// SIMILAR TO patterns become regular expressions as PostgreSQL's
// similar_escape builds them, so that the two agree on what matches.

var _ = RegisterFamily(map[string][]tree.Overload{
	"like_escape":      likeEscapeFns(false, false),
	"not_like_escape":  likeEscapeFns(false, true),
	"ilike_escape":     likeEscapeFns(true, false),
	"not_ilike_escape": likeEscapeFns(true, true),
	"similar_to_escape": {
		// PostgreSQL's own: the regular expression a pattern stands for.
		strOverload(tree.ParamTypes{{Name: "pattern", Typ: types.String}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				re, err := similarRegex(string(tree.MustBeDString(a[0])), "\\", false)
				return tree.NewDString(re), err
			}),
		strOverload(tree.ParamTypes{{Name: "pattern", Typ: types.String}, {Name: "escape", Typ: types.String}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				re, err := similarRegex(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), false)
				return tree.NewDString(re), err
			}),
		// The grammar's a SIMILAR TO b ESCAPE c.
		similarOverload(false),
	},
	"not_similar_to_escape": {similarOverload(true)},
	// bytea's LIKE operators (~~ and !~~): bytea [NOT] LIKE bytea becomes
	// these calls (bytea_input.go), as in PostgreSQL, whose functions
	// they are.
	"bytealike":  {byteaLikeOverload(false)},
	"byteanlike": {byteaLikeOverload(true)},
})

// byteaLikeOverload is bytea LIKE bytea, matched byte by byte with \ as
// the escape.
func byteaLikeOverload(negate bool) tree.Overload {
	return strOverload(tree.ParamTypes{{Name: "unescaped", Typ: types.Bytes}, {Name: "pattern", Typ: types.Bytes}}, types.Bool,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			m, err := likeMatchRunes(byteRunes(tree.MustBeDBytes(a[0])), byteRunes(tree.MustBeDBytes(a[1])), '\\')
			if err != nil {
				return nil, err
			}
			return tree.MakeDBool(tree.DBool(m != negate)), nil
		})
}

// byteRunes is b a rune a byte, for the LIKE matcher.
func byteRunes(b tree.DBytes) []rune {
	r := make([]rune, len(b))
	for i := 0; i < len(b); i++ {
		r[i] = rune(b[i])
	}
	return r
}

func likeEscapeFns(fold, negate bool) []tree.Overload {
	fns := []tree.Overload{strOverload(tree.ParamTypes{{Name: "unescaped", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "escape", Typ: types.String}}, types.Bool,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			esc, err := escapeRune(string(tree.MustBeDString(a[2])))
			if err != nil {
				return nil, err
			}
			m, err := likeMatchEscape(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), fold, esc)
			if err != nil {
				return nil, err
			}
			return tree.MakeDBool(tree.DBool(m != negate)), nil
		})}
	if fold {
		// PostgreSQL has no ILIKE on bytea.
		return fns
	}
	// bytea LIKE bytea ESCAPE bytea: the escape is one byte or none.
	return append(fns, strOverload(tree.ParamTypes{{Name: "unescaped", Typ: types.Bytes}, {Name: "pattern", Typ: types.Bytes}, {Name: "escape", Typ: types.Bytes}}, types.Bool,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			esc := rune(noEscape)
			switch b := tree.MustBeDBytes(a[2]); len(b) {
			case 0:
			case 1:
				esc = rune(b[0])
			default:
				return nil, errInvalidEscape
			}
			m, err := likeMatchRunes(byteRunes(tree.MustBeDBytes(a[0])), byteRunes(tree.MustBeDBytes(a[1])), esc)
			if err != nil {
				return nil, err
			}
			return tree.MakeDBool(tree.DBool(m != negate)), nil
		}))
}

func similarOverload(negate bool) tree.Overload {
	return strOverload(tree.ParamTypes{{Name: "unescaped", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "escape", Typ: types.String}}, types.Bool,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			m, err := similarMatch(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2])))
			if err != nil {
				return nil, err
			}
			return tree.MakeDBool(tree.DBool(m != negate)), nil
		})
}

// noEscape is escapeRune's answer for an empty ESCAPE string: no escape
// character.
const noEscape = -1

// escapeRune checks a LIKE escape string: empty (none) or one character.
func escapeRune(esc string) (rune, error) {
	switch utf8.RuneCountInString(esc) {
	case 0:
		return noEscape, nil
	case 1:
		r, _ := utf8.DecodeRuneInString(esc)
		return r, nil
	}
	return 0, errInvalidEscape
}

var errInvalidEscape = pgerror.WithHint(pgerror.New("22025", "invalid escape string"), "Escape string must be empty or one character.")

// likeMatchEscape reports whether s matches a LIKE pattern (% and _, esc
// quoting the next character; noEscape for none).
func likeMatchEscape(s, pattern string, fold bool, esc rune) (bool, error) {
	if fold {
		s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	}
	return likeMatchRunes([]rune(s), []rune(pattern), esc)
}

// likeMatchRunes is likeMatchEscape on the characters (or bytes) of s
// and the pattern.
func likeMatchRunes(sr, pr []rune, esc rune) (bool, error) {
	// As PostgreSQL's matcher, a pattern ending in the escape is an error
	// only once the match gets there with text left to match.
	var endsInEscape bool
	var match func(i, j int) bool
	match = func(i, j int) bool {
		for j < len(pr) {
			c := pr[j]
			switch {
			case esc != noEscape && c == esc:
				if i >= len(sr) {
					return false
				}
				j++
				if j == len(pr) {
					endsInEscape = true
					return false
				}
				if sr[i] != pr[j] {
					return false
				}
			case c == '%':
				for k := i; k <= len(sr); k++ {
					if match(k, j+1) {
						return true
					}
					if endsInEscape {
						return false
					}
				}
				return false
			case c == '_':
				if i >= len(sr) {
					return false
				}
			default:
				if i >= len(sr) || sr[i] != c {
					return false
				}
			}
			i++
			j++
		}
		return i == len(sr)
	}
	m := match(0, 0)
	if endsInEscape {
		return false, pgerror.New("22025", "LIKE pattern must not end with escape character")
	}
	return m, nil
}

// similarMatch reports whether s matches a SIMILAR TO pattern.
func similarMatch(s, pattern, esc string) (bool, error) {
	re, err := similarRegex(pattern, esc, false)
	if err != nil {
		return false, err
	}
	compiled, err := compileSimilar(re)
	if err != nil {
		return false, err
	}
	return compiled.match(s)
}

// compileSimilar compiles the regular expression a SIMILAR TO pattern
// became, as PostgreSQL's other regular expressions with no flags.
func compileSimilar(re string) (*pgRegex, error) {
	return compileRegex(re, "")
}

// SimilarSubstring is SUBSTRING(s SIMILAR pattern ESCAPE esc): the part of
// s that the pattern's middle third (between its two escape-double-quote
// separators) matches, the whole match without separators; NULL when s
// does not match.
func SimilarSubstring(s, pattern, esc string) (tree.Datum, error) {
	re, err := similarRegex(pattern, esc, true)
	if err != nil {
		return nil, err
	}
	compiled, err := compileSimilar(re)
	if err != nil {
		return nil, err
	}
	m, err := compiled.find(&regexInput{s: s}, 0)
	if err != nil || m == nil {
		return tree.DNull, err
	}
	if len(m) > 2 && m[2] >= 0 {
		return tree.NewDString(s[m[2]:m[3]]), nil
	}
	return tree.NewDString(s[m[0]:m[1]]), nil
}

// similarRegex is the regular expression a SIMILAR TO pattern stands for
// (PostgreSQL's similar_escape): anchored at both ends, % is .*, _ is .,
// ( groups without capturing, the escape character (esc: empty for none)
// quotes the next one, and the other regular expression characters keep
// their meaning. forSubstring: escape-double-quote separates the pattern
// in three, the middle one captured.
func similarRegex(pattern, esc string, forSubstring bool) (string, error) {
	e, err := escapeRune(esc)
	if err != nil {
		return "", pgerror.WithHint(pgerror.New("22025", "invalid escape string"), "Escape string must be empty or one character.")
	}
	var b strings.Builder
	b.WriteString("^(?:")
	after, inClass, quotes := false, false, 0
	for _, c := range pattern {
		switch {
		case after:
			after = false
			if c == '"' {
				quotes++
				switch quotes {
				case 1:
					b.WriteString("){1,1}?(")
				case 2:
					b.WriteString("){1,1}(?:")
				default:
					return "", pgerror.New("2201B", "SQL regular expression may not contain more than two escape-double-quote separators")
				}
				continue
			}
			b.WriteByte('\\')
			b.WriteRune(c)
		case e != noEscape && c == e:
			after = true
		case inClass:
			if c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
			if c == ']' {
				inClass = false
			}
		case c == '[':
			b.WriteRune(c)
			inClass = true
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteByte('.')
		case c == '(':
			b.WriteString("(?:")
		case c == '\\' || c == '.' || c == '^' || c == '$':
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	if forSubstring && quotes == 1 {
		// One separator: the rest of the pattern is the part returned.
		b.WriteString("){1,1}(?:")
	}
	b.WriteString(")$")
	return b.String(), nil
}
