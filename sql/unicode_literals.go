package sql

import (
	"strings"
	"unicode/utf8"

	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// rewriteUnicodeLiterals replaces PostgreSQL's Unicode escape literals
// and identifiers, U&'d\0061t' and U&"d\0061t" with an optional UESCAPE
// 'c', which the grammar does not read, by the plain literal or quoted
// identifier they stand for. It walks the text as the lexer would, so
// that a U& inside a string, a quoted identifier or a comment stays.
func rewriteUnicodeLiterals(query string) (string, error) {
	var out strings.Builder
	last := 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				i = len(query)
			} else {
				i += j
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			i = skipBlockComment(query, i)
		case c == '\'' || c == '"':
			escapes := c == '\'' && i > 0 && (query[i-1] == 'e' || query[i-1] == 'E') && (i < 2 || !identByte(query[i-2]))
			i, _ = skipQuoted(query, i, escapes)
		case (c == 'u' || c == 'U') && strings.HasPrefix(query[i+1:], "&") && i+2 < len(query) &&
			(query[i+2] == '\'' || query[i+2] == '"') && (i == 0 || !identByte(query[i-1])):
			quote := query[i+2]
			end, closed := skipQuoted(query, i+2, false)
			if !closed {
				// Unterminated: the grammar says so.
				i = end
				continue
			}
			body := strings.ReplaceAll(query[i+3:end-1], string(quote)+string(quote), string(quote))
			esc, after, err := uescape(query, end)
			if err != nil {
				return "", err
			}
			decoded, err := sem.DecodeUnicodeEscapes(body, esc, false)
			if err != nil {
				return "", err
			}
			out.WriteString(query[last:i])
			out.WriteByte(quote)
			out.WriteString(strings.ReplaceAll(decoded, string(quote), string(quote)+string(quote)))
			out.WriteByte(quote)
			i, last = after, after
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

// uescape reads an optional UESCAPE 'c' after a Unicode literal ending at
// i: the escape character and where the clause ends.
func uescape(query string, i int) (rune, int, error) {
	j := i
	for j < len(query) && strings.ContainsRune(" \t\r\n", rune(query[j])) {
		j++
	}
	if len(query)-j < 7 || !strings.EqualFold(query[j:j+7], "uescape") || (j+7 < len(query) && identByte(query[j+7])) {
		return '\\', i, nil
	}
	j += 7
	for j < len(query) && strings.ContainsRune(" \t\r\n", rune(query[j])) {
		j++
	}
	if j >= len(query) || query[j] != '\'' {
		return 0, 0, pgerror.New(pgerror.CodeSyntaxError, "UESCAPE must be followed by a simple string literal")
	}
	end, closed := skipQuoted(query, j, false)
	if !closed {
		return 0, 0, pgerror.New(pgerror.CodeSyntaxError, "unterminated quoted string")
	}
	lit := strings.ReplaceAll(query[j+1:end-1], "''", "'")
	r, size := utf8.DecodeRuneInString(lit)
	if size != len(lit) || size == 0 || strings.ContainsRune("0123456789abcdefABCDEF+'\" \t\r\n", r) {
		return 0, 0, pgerror.Newf(pgerror.CodeSyntaxError, "invalid Unicode escape character at or near \"%s\"", query[j:end])
	}
	return r, end, nil
}

// skipQuoted returns the index after the quoted text starting at i (its
// quote doubled inside it; with escapes, backslash escapes too) and true,
// or the end of the query and false if it is not closed.
func skipQuoted(query string, i int, escapes bool) (int, bool) {
	quote := query[i]
	for j := i + 1; j < len(query); j++ {
		switch {
		case escapes && query[j] == '\\':
			j++
		case query[j] == quote:
			if j+1 < len(query) && query[j+1] == quote {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(query), false
}

// skipBlockComment returns the index after the (nested) /* */ comment
// starting at i.
func skipBlockComment(query string, i int) int {
	depth := 0
	for j := i; j < len(query)-1; j++ {
		switch {
		case query[j] == '/' && query[j+1] == '*':
			depth++
			j++
		case query[j] == '*' && query[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(query)
}
