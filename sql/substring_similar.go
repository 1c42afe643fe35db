package sql

import "strings"

// rewriteSubstringSimilar turns SQL's SUBSTRING(s SIMILAR p ESCAPE e),
// which the grammar does not take, into substring(s, p, e), the function
// form PostgreSQL defines it as. Only the keywords SIMILAR and ESCAPE at
// the top level of a SUBSTRING call's parentheses are replaced; string
// literals, quoted identifiers and nested parentheses are skipped over.
func rewriteSubstringSimilar(q string) string {
	var b strings.Builder
	i := 0
	for i < len(q) {
		j := nextSubstringCall(q, i)
		if j < 0 {
			break
		}
		// j is just past SUBSTRING's "(".
		end, repl, ok := rewriteCallArgs(q, j)
		b.WriteString(q[i:j])
		if !ok {
			i = j
			continue
		}
		b.WriteString(repl)
		i = end
	}
	b.WriteString(q[i:])
	return b.String()
}

// nextSubstringCall returns the index just past the "(" of the next
// SUBSTRING call at or after i outside quotes, or -1.
func nextSubstringCall(q string, i int) int {
	for i < len(q) {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			i = skipQuote(q, i)
		case identByte(c) && (i == 0 || !identByte(q[i-1])):
			j := i
			for j < len(q) && identByte(q[j]) {
				j++
			}
			if strings.EqualFold(q[i:j], "substring") {
				k := j
				for k < len(q) && (q[k] == ' ' || q[k] == '\t' || q[k] == '\n' || q[k] == '\r') {
					k++
				}
				if k < len(q) && q[k] == '(' {
					return k + 1
				}
			}
			i = j
		default:
			i++
		}
	}
	return -1
}

// rewriteCallArgs rewrites the arguments of a call from just past its
// "(" at i to its ")": the text up to and including the ")", and where it
// ends; false if the call holds no top-level SIMILAR or is unterminated.
func rewriteCallArgs(q string, i int) (int, string, bool) {
	var b strings.Builder
	depth, similar := 0, false
	for i < len(q) {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			j := skipQuote(q, i)
			b.WriteString(q[i:j])
			i = j
			continue
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				b.WriteByte(')')
				return i + 1, b.String(), similar
			}
			depth--
		case depth == 0 && identByte(c) && !identByte(q[i-1]):
			j := i
			for j < len(q) && identByte(q[j]) {
				j++
			}
			w := q[i:j]
			if strings.EqualFold(w, "similar") || (similar && strings.EqualFold(w, "escape")) {
				similar = true
				b.WriteString(",")
			} else {
				b.WriteString(w)
			}
			i = j
			continue
		}
		b.WriteByte(q[i])
		i++
	}
	return i, "", false
}

// skipQuote returns the index just past the quoted string or identifier
// starting at i (unicode_literals.go's skipQuoted; an E-string's
// backslash escapes too).
func skipQuote(q string, i int) int {
	escapes := q[i] == '\'' && i > 0 && (q[i-1] == 'e' || q[i-1] == 'E')
	j, _ := skipQuoted(q, i, escapes)
	return j
}
