package sql

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// The grammar's syntax errors as PostgreSQL words and places them:
// "syntax error at or near "<the token as written>"" (or "at end of
// input") with the token's place in the query text, where the grammar
// says `at or near "<the token's value>": syntax error` and shows the
// place only in a detail of the failing statement's text ("source SQL:"
// and a line with a caret). Only a plain syntax error is reworded (not
// the grammar's "unimplemented" ones, which are features it lacks).

var grammarSyntaxError = regexp.MustCompile(`^at or near "(?:[^"]|"")*": syntax error$`)

// pgSyntaxError rewords err, the grammar's error for query, which the
// client sent as orig (the same text unless a rewrite changed it: then
// the place is left out, as it would be a place in the rewritten text).
func pgSyntaxError(orig, query string, err error) error {
	if err == nil || !grammarSyntaxError.MatchString(err.Error()) {
		return err
	}
	off, ok := grammarErrorOffset(query, errors.FlattenDetails(err))
	if !ok {
		return err
	}
	if off = skipSpaceAndComments(query, off); off >= len(query) {
		e := pgerror.New(pgerror.CodeSyntaxError, "syntax error at end of input")
		if orig != query {
			return e
		}
		return pgerror.WithPosition(e, charPosition(query, len(query)))
	}
	e := pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near \"%s\"", rawToken(query, off))
	if orig != query {
		return e
	}
	return pgerror.WithPosition(e, charPosition(query, off))
}

// grammarErrorOffset finds in query the byte offset that the grammar's
// error detail points at: its "source SQL:" text is the failing
// statement's up to the line of the error, then a caret under the
// place. The statement's text is looked for in the query (its first
// occurrence: the grammar stops at the first failing statement).
func grammarErrorOffset(query, detail string) (int, bool) {
	src, ok := strings.CutPrefix(detail, "source SQL:\n")
	if !ok {
		return 0, false
	}
	nl := strings.LastIndexByte(src, '\n')
	if nl < 0 {
		return 0, false
	}
	caret := src[nl+1:]
	src = src[:nl]
	if caret == "" || strings.TrimLeft(caret, " ") != "^" {
		return 0, false
	}
	at := strings.Index(query, src)
	if at < 0 {
		return 0, false
	}
	lineStart := strings.LastIndexByte(src, '\n') + 1
	return at + lineStart + len(caret) - 1, true
}

// skipSpaceAndComments returns the index of the first byte from i that
// is neither white space nor in a comment: where the grammar's "EOF" of
// one statement is the ; that ended it, or the end of the input.
func skipSpaceAndComments(query string, i int) int {
	for i < len(query) {
		switch {
		case strings.IndexByte(" \t\r\n\f\v", query[i]) >= 0:
			i++
		case strings.HasPrefix(query[i:], "--"):
			i = lineEnd(query, i)
		case strings.HasPrefix(query[i:], "/*"):
			i = skipBlockComment(query, i)
		default:
			return i
		}
	}
	return i
}

// rawToken is the text of the token at i as PostgreSQL's lexer reads it,
// which its errors quote: a literal with its quotes (and continued
// segments), a quoted identifier, a word or number, a run of operator
// characters, or one character.
func rawToken(query string, i int) string {
	end := i + 1
	switch c := query[i]; {
	case c == '\'':
		end = skipLiteral(query, i)
	case c == '"':
		end, _ = skipQuoted(query, i, false)
	case c == '$' && skipDollarQuoted(query, i) > i+1:
		end = skipDollarQuoted(query, i)
	case (c == 'e' || c == 'E' || c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') &&
		i+1 < len(query) && query[i+1] == '\'':
		if c == 'e' || c == 'E' {
			end, _ = skipQuoted(query, i+1, true)
		} else {
			end = skipLiteral(query, i+1)
		}
	case identByte(c) || c == '.' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
		for end < len(query) && (identByte(query[end]) || query[end] == '.' && c >= '0' && c <= '9') {
			end++
		}
	case strings.IndexByte(opChars, c) >= 0:
		for end < len(query) && strings.IndexByte(opChars, query[end]) >= 0 {
			end++
		}
	default:
		_, size := utf8.DecodeRuneInString(query[i:])
		end = i + size
	}
	return query[i:end]
}

// opChars are the characters of PostgreSQL's operators.
const opChars = "~!@#^&|`?+-*/%<>="
