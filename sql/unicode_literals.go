package sql

import (
	"strings"
)

// Helpers of the lexer walk in string_literals.go for U&'...' literals
// and U&"..." identifiers and for skipping quoted text and comments.

// uescape reads an optional UESCAPE 'c' after a Unicode literal ending at
// i: the escape character and where the clause ends. Its errors are
// placed, as PostgreSQL places them, at the token after UESCAPE.
func uescape(query string, i int) (rune, int, error) {
	j := skipSpace(query, i)
	if len(query)-j < 7 || !strings.EqualFold(query[j:j+7], "uescape") || (j+7 < len(query) && identByte(query[j+7])) {
		return '\\', i, nil
	}
	j = skipSpace(query, j+7)
	if j >= len(query) || query[j] != '\'' {
		return 0, 0, lexError(query, j, nextToken(query, j), "UESCAPE must be followed by a simple string literal")
	}
	end, closed := skipQuoted(query, j, false)
	if !closed {
		return 0, 0, lexError(query, j, query[j:], "unterminated quoted string")
	}
	lit := strings.ReplaceAll(query[j+1:end-1], "''", "'")
	// One byte (so an ASCII character), as PostgreSQL's check_uescapechar
	// wants, and none that could be read as part of an escape.
	if len(lit) != 1 || strings.ContainsRune("0123456789abcdefABCDEF+'\" \t\r\n\f\v", rune(lit[0])) {
		return 0, 0, lexError(query, j, query[j:end], "invalid Unicode escape character")
	}
	return rune(lit[0]), end, nil
}

// skipSpace returns the index of the first byte from i that is not
// white space.
func skipSpace(query string, i int) int {
	for i < len(query) && strings.IndexByte(" \t\r\n\f\v", query[i]) >= 0 {
		i++
	}
	return i
}

// nextToken is the text of the token at i, as an error's "at or near"
// names it: a word, a run of operator characters, or one character.
func nextToken(query string, i int) string {
	j := i
	switch {
	case j >= len(query):
		return ""
	case identByte(query[j]):
		for j < len(query) && identByte(query[j]) {
			j++
		}
	case strings.IndexByte("~!@#^&|`?+-*/%<>=", query[j]) >= 0:
		for j < len(query) && strings.IndexByte("~!@#^&|`?+-*/%<>=", query[j]) >= 0 {
			j++
		}
	default:
		j++
	}
	return query[i:j]
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
