package sem

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Unicode escapes: U&'...' literals and identifiers (esc followed by four
// hex digits or + and six, esc esc for esc itself) and unistr(), which
// also reads \uXXXX and \UXXXXXXXX. A UTF-16 surrogate pair written as two
// escapes is one character.

var _ = RegisterFamily(map[string][]tree.Overload{
	"unistr": {strOverload(tree.ParamTypes{{Name: "str", Typ: types.String}}, types.String,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			s, err := DecodeUnicodeEscapes(string(tree.MustBeDString(a[0])), '\\', true)
			if err != nil {
				return nil, err
			}
			return tree.NewDString(s), nil
		})},
})

// DecodeUnicodeEscapes decodes s's Unicode escapes introduced by esc;
// unistr: also \uXXXX and \UXXXXXXXX, and unistr's error for a code point
// out of range.
func DecodeUnicodeEscapes(s string, esc rune, unistr bool) (string, error) {
	out, _, err := DecodeUnicodeEscapesAt(s, esc, unistr)
	return out, err
}

// DecodeUnicodeEscapesAt is DecodeUnicodeEscapes that also tells, on an
// error, the byte offset in s that PostgreSQL's error points at (the
// escape or character where the fault shows; len(s) for a surrogate pair
// left unfinished), for the error position of a U&'...' literal.
func DecodeUnicodeEscapesAt(s string, esc rune, unistr bool) (string, int, error) {
	var b strings.Builder
	var high rune // a pending high surrogate
	hint := `Unicode escapes must be \XXXX or \+XXXXXX.`
	if unistr {
		hint = `Unicode escapes must be \XXXX, \+XXXXXX, \uXXXX, or \UXXXXXXXX.`
	}
	invalid := func() error {
		return pgerror.WithHint(pgerror.New(pgerror.CodeSyntaxError, "invalid Unicode escape"), hint)
	}
	badPair := func() error { return pgerror.New(pgerror.CodeSyntaxError, "invalid Unicode surrogate pair") }
	hex := func(s string, n int) (rune, bool) {
		if len(s) < n {
			return 0, false
		}
		v, err := strconv.ParseUint(s[:n], 16, 32)
		return rune(v), err == nil
	}
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		if c != esc {
			if high != 0 {
				return "", i, badPair()
			}
			b.WriteRune(c)
			i += size
			continue
		}
		rest := s[i+size:]
		var r rune
		var n int
		switch {
		case strings.HasPrefix(rest, string(esc)):
			if high != 0 {
				return "", i, badPair()
			}
			b.WriteRune(esc)
			i += 2 * size
			continue
		case strings.HasPrefix(rest, "+"):
			v, ok := hex(rest[1:], 6)
			if !ok {
				return "", i, invalid()
			}
			r, n = v, 7
		case unistr && strings.HasPrefix(rest, "u"):
			v, ok := hex(rest[1:], 4)
			if !ok {
				return "", i, invalid()
			}
			r, n = v, 5
		case unistr && strings.HasPrefix(rest, "U"):
			v, ok := hex(rest[1:], 8)
			if !ok {
				return "", i, invalid()
			}
			r, n = v, 9
		default:
			v, ok := hex(rest, 4)
			if !ok {
				return "", i, invalid()
			}
			r, n = v, 4
		}
		at := i
		i += size + n
		switch {
		case r == 0 || r > utf8.MaxRune:
			// PostgreSQL's is_valid_unicode_codepoint: NUL is no
			// character of a text value either.
			if unistr {
				return "", at, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid Unicode code point: %04X", r)
			}
			return "", at, pgerror.New(pgerror.CodeSyntaxError, "invalid Unicode escape value")
		case utf16.IsSurrogate(r) && r < 0xDC00:
			if high != 0 {
				return "", at, badPair()
			}
			high = r
		case utf16.IsSurrogate(r):
			if high == 0 {
				return "", at, badPair()
			}
			b.WriteRune(utf16.DecodeRune(high, r))
			high = 0
		default:
			if high != 0 {
				return "", at, badPair()
			}
			b.WriteRune(r)
		}
	}
	if high != 0 {
		return "", len(s), badPair()
	}
	return b.String(), 0, nil
}
