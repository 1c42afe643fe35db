package sql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// String literals as PostgreSQL's lexer reads them, which the grammar
// (CockroachDB's) does not quite: E'...' escapes (\q is q, \400 a byte,
// errors placed and worded as PostgreSQL's), standard_conforming_strings
// = off (backslashes in '...' are escapes too, each such literal warned
// of while escape_string_warning is on), and U&'...' literals and U&"..."
// identifiers. Before the grammar sees a query, every literal whose value
// its text does not spell in the standard way is replaced by the plain
// '...' literal of its value, so that the grammar (and the parse cache
// behind it, which keys on the text it is given) only ever reads standard
// literals, whatever the session's settings. The walk follows the lexer:
// a quote inside a comment, a quoted identifier or a dollar-quoted string
// starts no literal.

// literalLexing is how a query's string literals are read, and what the
// reading warned of.
type literalLexing struct {
	// standard is standard_conforming_strings: off, a backslash in an
	// ordinary '...' literal is an escape, as in E'...'.
	standard bool
	// warn is escape_string_warning: a literal that the setting above
	// makes read an escape is warned of.
	warn bool
	// warnings are the lexer's warnings, in order.
	warnings []pgwire.Notice
}

// standardLexing reads literals as a session with the defaults does.
func standardLexing() *literalLexing { return &literalLexing{standard: true, warn: true} }

// mayRewrite reports whether query may hold a literal to rewrite: every
// one of them has a backslash, is a U& literal or identifier or an N'x'
// literal, or is continued across a -- comment. It spares most queries
// the walk.
func mayRewrite(query string) bool {
	return strings.IndexByte(query, '\\') >= 0 || strings.Contains(query, "&'") || strings.Contains(query, "&\"") ||
		strings.Contains(query, "--") || strings.Contains(query, "N'") || strings.Contains(query, "n'")
}

// rewriteLiterals returns query with its literals that the grammar would
// not read as PostgreSQL does replaced by the plain literals of their
// values (U&"..." identifiers by plain quoted ones); errors carry their
// place in query as PostgreSQL's lexer gives it.
func (l *literalLexing) rewriteLiterals(query string) (string, error) {
	var out strings.Builder
	last := 0
	replace := func(from, to int, with string) {
		out.WriteString(query[last:from])
		out.WriteString(with)
		last = to
	}
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			i = lineEnd(query, i)
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			i = skipBlockComment(query, i)
		case c == '"':
			i, _ = skipQuoted(query, i, false)
		case c == '$' && (i == 0 || !identByte(query[i-1])):
			i = skipDollarQuoted(query, i)
		case (c == 'u' || c == 'U') && i+2 < len(query) && query[i+1] == '&' &&
			(query[i+2] == '\'' || query[i+2] == '"') && (i == 0 || !identByte(query[i-1])):
			lit, end, err := l.unicodeLiteral(query, i)
			if err != nil {
				return "", err
			}
			replace(i, end, lit)
			i = end
		case c == '\'':
			start, escapes := i, !l.standard
			if p := literalPrefix(query, i); p != 0 {
				switch p {
				case 'e', 'E':
					start, escapes = i-1, true
				case 'b', 'B', 'x', 'X':
					// Bit strings: the grammar reads them, no escapes.
					i = skipLiteral(query, i)
					continue
				}
			}
			val, end, rewrite, err := l.escapedLiteral(query, start, i, escapes)
			if err != nil {
				return "", err
			}
			switch {
			case start == i && literalPrefix(query, i) != 0:
				// N'...': PostgreSQL's NCHAR 'x', a character value,
				// which the grammar does not read.
				replace(i-1, end, quoteLiteral(val)+"::bpchar")
			case rewrite:
				replace(start, end, quoteLiteral(val))
			}
			i = end
		default:
			i++
		}
	}
	if last == 0 {
		return query, nil
	}
	out.WriteString(query[last:])
	return out.String(), nil
}

// literalPrefix is the letter right before the quote at i that makes it
// a prefixed literal (E”, B”, X”, N”), 0 if none.
func literalPrefix(query string, i int) byte {
	if i == 0 {
		return 0
	}
	p := query[i-1]
	if i >= 2 && identByte(query[i-2]) {
		return 0
	}
	switch p {
	case 'e', 'E', 'b', 'B', 'x', 'X', 'n', 'N':
		return p
	}
	return 0
}

// quoteLiteral is the plain literal of s.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// lineEnd is the index of the newline ending the line at i (len(query)
// on the last line).
func lineEnd(query string, i int) int {
	if j := strings.IndexByte(query[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(query)
}

// skipDollarQuoted returns the index after the dollar-quoted string
// starting at i, or i+1 when the $ starts none (a parameter, or a $ not
// followed by a delimiter); an unterminated one runs to the end, where
// the grammar reports it.
func skipDollarQuoted(query string, i int) int {
	j := i + 1
	for j < len(query) && query[j] != '$' {
		c := query[j]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || j > i+1 && c >= '0' && c <= '9') {
			return i + 1
		}
		j++
	}
	if j >= len(query) {
		return i + 1
	}
	delim := query[i : j+1]
	k := strings.Index(query[j+1:], delim)
	if k < 0 {
		return len(query)
	}
	return j + 1 + k + len(delim)
}

// continuation returns where the next segment of a literal ending at i
// starts, as PostgreSQL continues 'a'<newline>'b' as 'ab': after white
// space that holds a newline (and -- comments, though no /* */ one), a
// quote; ok false if there is none. commented: a comment was crossed
// (the grammar does not continue across one).
func continuation(query string, i int) (next int, ok, commented bool) {
	newline := false
	for i < len(query) {
		switch c := query[i]; {
		case c == ' ' || c == '\t' || c == '\f' || c == '\v':
			i++
		case c == '\n' || c == '\r':
			newline = true
			i++
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			i = lineEnd(query, i)
			commented = true
		case c == '\'' && newline:
			return i, true, commented
		default:
			return 0, false, false
		}
	}
	return 0, false, false
}

// skipLiteral returns the index after the literal (with its continued
// segments) whose quote is at i, read without escapes.
func skipLiteral(query string, i int) int {
	for {
		end, closed := skipQuoted(query, i, false)
		if !closed {
			return end
		}
		next, ok, _ := continuation(query, end)
		if !ok {
			return end
		}
		i = next
	}
}

// charPosition is PostgreSQL's error position of byte offset off of
// query: in characters, from 1.
func charPosition(query string, off int) int {
	return utf8.RuneCountInString(query[:off]) + 1
}

// lexError is a syntax error of the lexer's at byte offset off of query,
// which it says it is "at or near" (or at the end of the input).
func lexError(query string, off int, near string, msg string) error {
	if off >= len(query) {
		msg += " at end of input"
	} else {
		msg += fmt.Sprintf(" at or near \"%s\"", near)
	}
	return pgerror.WithPosition(pgerror.New(pgerror.CodeSyntaxError, msg), charPosition(query, off))
}

// escapedLiteral reads the string literal token that starts at start
// (its prefix, if any) and whose first quote is at q, with its continued
// segments: with escapes, as PostgreSQL's lexer reads E'...' (and '...'
// when standard_conforming_strings is off). It returns the value, the
// index after the token, and whether the token must be rewritten: it
// has escapes and a backslash, or a comment between its segments. An
// unterminated literal is left to the grammar, which reports it.
func (l *literalLexing) escapedLiteral(query string, start, q int, escapes bool) (string, int, bool, error) {
	// warnFirst: the first escape of an ordinary literal is warned of
	// (an E'...' literal asks for its escapes).
	warnFirst := l.warn && start == q
	var b strings.Builder
	rewrite := false
	var high rune     // a pending high surrogate of a \u escape
	nonASCII := false // a byte escape made a byte to check as UTF-8
	i := q + 1
	for {
		if i >= len(query) {
			return "", len(query), false, nil // unterminated
		}
		c := query[i]
		if high != 0 {
			// Only a \u escape of the low surrogate may follow.
			if c != '\\' || i+1 >= len(query) || (query[i+1] != 'u' && query[i+1] != 'U') {
				_, size := utf8.DecodeRuneInString(query[i:])
				return "", 0, false, lexError(query, i, query[i:i+size], "invalid Unicode surrogate pair")
			}
		}
		switch {
		case c == '\'':
			if i+1 < len(query) && query[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			end := i + 1
			next, ok, commented := continuation(query, end)
			rewrite = rewrite || commented
			if !ok {
				val := b.String()
				if nonASCII && (!utf8.ValidString(val) || strings.IndexByte(val, 0) >= 0) {
					return "", 0, false, invalidUTF8(val)
				}
				return val, end, rewrite, nil
			}
			i = next + 1
		case c == '\\' && escapes:
			rewrite = true
			if i+1 >= len(query) {
				return "", len(query), false, nil // unterminated
			}
			e := query[i+1]
			switch {
			case e == 'u' || e == 'U':
				n := 4
				if e == 'U' {
					n = 8
				}
				digits := 0
				for digits < n && i+2+digits < len(query) && isHex(query[i+2+digits]) {
					digits++
				}
				if digits < n {
					return "", 0, false, pgerror.WithPosition(pgerror.WithHint(
						pgerror.New(pgerror.CodeInvalidEscapeSequence, "invalid Unicode escape"),
						`Unicode escapes must be \uXXXX or \UXXXXXXXX.`), charPosition(query, i))
				}
				if warnFirst {
					l.warnEscape(query, start, 0)
					warnFirst = false
				}
				text := query[i : i+2+n]
				v, _ := strconv.ParseUint(text[2:], 16, 32)
				r := rune(v)
				switch {
				case high != 0:
					if !utf16.IsSurrogate(r) || r < 0xDC00 {
						return "", 0, false, lexError(query, i, text, "invalid Unicode surrogate pair")
					}
					b.WriteRune(utf16.DecodeRune(high, r))
					high = 0
				case utf16.IsSurrogate(r) && r < 0xDC00:
					high = r
				case utf16.IsSurrogate(r):
					return "", 0, false, lexError(query, i, text, "invalid Unicode surrogate pair")
				case r == 0 || r > utf8.MaxRune:
					return "", 0, false, lexError(query, i, text, "invalid Unicode escape value")
				default:
					b.WriteRune(r)
				}
				i += 2 + n
			case e >= '0' && e <= '7':
				j := i + 1
				v := 0
				for j < len(query) && j < i+4 && query[j] >= '0' && query[j] <= '7' {
					v = v*8 + int(query[j]-'0')
					j++
				}
				if warnFirst {
					l.warnEscape(query, start, 0)
					warnFirst = false
				}
				b.WriteByte(byte(v))
				nonASCII = true
				i = j
			case e == 'x' && i+2 < len(query) && isHex(query[i+2]):
				j := i + 2
				v := 0
				for j < len(query) && j < i+4 && isHex(query[j]) {
					d, _ := strconv.ParseUint(query[j:j+1], 16, 8)
					v = v*16 + int(d)
					j++
				}
				if warnFirst {
					l.warnEscape(query, start, 0)
					warnFirst = false
				}
				b.WriteByte(byte(v))
				nonASCII = true
				i = j
			default:
				r, size := utf8.DecodeRuneInString(query[i+1:])
				if warnFirst {
					l.warnEscape(query, start, r)
					warnFirst = false
				}
				switch r {
				case 'b':
					b.WriteByte('\b')
				case 'f':
					b.WriteByte('\f')
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				default:
					b.WriteString(query[i+1 : i+1+size])
				}
				i += 1 + size
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// warnEscape warns, as PostgreSQL does while escape_string_warning is on,
// of the first escape (after the backslash: esc, 0 for a numeric one) of
// the ordinary literal at start that standard_conforming_strings = off
// makes read.
func (l *literalLexing) warnEscape(query string, start int, esc rune) {
	n := pgwire.Notice{Severity: pgerror.SeverityWarning, Code: pgerror.CodeNonstandardUseOfEscapeCharacter, Position: charPosition(query, start)}
	switch esc {
	case '\'':
		n.Message = `nonstandard use of \' in a string literal`
		n.Hint = `Use '' to write quotes in strings, or use the escape string syntax (E'...').`
	case '\\':
		n.Message = `nonstandard use of \\ in a string literal`
		n.Hint = `Use the escape string syntax for backslashes, e.g., E'\\'.`
	default:
		n.Message = `nonstandard use of escape in a string literal`
		n.Hint = `Use the escape string syntax for escapes, e.g., E'\r\n'.`
	}
	l.warnings = append(l.warnings, n)
}

// invalidUTF8 is PostgreSQL's error for a literal whose escapes made
// bytes that are not UTF-8 (or a NUL), naming the first bad character's
// bytes.
func invalidUTF8(s string) error {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || r == utf8.RuneError && size <= 1 {
			break
		}
		i += size
	}
	// As many bytes as the first one says the character has.
	n := 1
	switch c := s[i]; {
	case c >= 0xF0:
		n = 4
	case c >= 0xE0:
		n = 3
	case c >= 0xC0:
		n = 2
	}
	n = min(n, len(s)-i)
	var hex []string
	for _, c := range []byte(s[i : i+n]) {
		hex = append(hex, fmt.Sprintf("0x%02x", c))
	}
	return pgerror.Newf(pgerror.CodeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": %s", strings.Join(hex, " "))
}

// unicodeLiteral reads the U&'...' literal (with an optional UESCAPE
// 'c') or U&"..." identifier at i and returns the plain literal or quoted
// identifier it stands for and the index after it.
func (l *literalLexing) unicodeLiteral(query string, i int) (string, int, error) {
	quote := query[i+2]
	if quote == '\'' && !l.standard {
		return "", 0, pgerror.WithPosition(pgerror.WithDetail(
			pgerror.New(pgerror.CodeFeatureNotSupported, "unsafe use of string constant with Unicode escapes"),
			"String constants with Unicode escapes cannot be used when standard_conforming_strings is off."),
			charPosition(query, i))
	}
	var body strings.Builder
	var end int
	q := i + 2
	for {
		e, closed := skipQuoted(query, q, false)
		if !closed {
			// Unterminated: the grammar says so.
			return query[i:], len(query), nil
		}
		body.WriteString(strings.ReplaceAll(query[q+1:e-1], string(quote)+string(quote), string(quote)))
		end = e
		if quote == '"' {
			break
		}
		next, ok, _ := continuation(query, e)
		if !ok {
			break
		}
		q = next
	}
	esc, after, err := uescape(query, end)
	if err != nil {
		return "", 0, err
	}
	decoded, at, err := sem.DecodeUnicodeEscapesAt(body.String(), esc, false)
	if err != nil {
		// Placed as PostgreSQL places it: by the offset in the body
		// (quotes undoubled) from after the opening quote.
		return "", 0, pgerror.WithPosition(err, charPosition(query, min(i+3+at, len(query))))
	}
	if quote == '"' {
		return `"` + strings.ReplaceAll(decoded, `"`, `""`) + `"`, after, nil
	}
	return quoteLiteral(decoded), after, nil
}
