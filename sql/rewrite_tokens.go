package sql

import "strings"

type rwToken struct {
	start, end int
	// text: a word in lower case, a quoted identifier as `"`, any other
	// literal as `'`, punctuation as itself.
	text string
}

// rewriteTokens splits query into tokens as the lexer would, for the
// rewrites the grammar needs (array_targets.go, variadic.go): strings,
// quoted identifiers and dollar-quoted text whole, comments and white
// space dropped.
func rewriteTokens(query string) []rwToken {
	var toks []rwToken
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			i = skipBlockComment(query, i)
		case c == '\'' || c == '"':
			escapes := c == '\'' && i > 0 && (query[i-1] == 'e' || query[i-1] == 'E') && (i < 2 || !identByte(query[i-2]))
			j, _ := skipQuoted(query, i, escapes)
			toks = append(toks, rwToken{i, j, string(c)})
			i = j
		case c == '$' && (i == 0 || !identByte(query[i-1])) && dollarTag.MatchString(query[i:]):
			tag := dollarTag.FindString(query[i:])
			end := len(query)
			if j := strings.Index(query[i+len(tag):], tag); j >= 0 {
				end = i + len(tag) + j + len(tag)
			}
			toks = append(toks, rwToken{i, end, "'"})
			i = end
		case identByte(c):
			j := i
			for j < len(query) && (identByte(query[j]) || query[j] == '$') {
				j++
			}
			toks = append(toks, rwToken{i, j, strings.ToLower(query[i:j])})
			i = j
		default:
			toks = append(toks, rwToken{i, i + 1, string(c)})
			i++
		}
	}
	return toks
}
