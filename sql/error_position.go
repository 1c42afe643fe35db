package sql

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// Error positions for the simple protocol, as PostgreSQL gives them (psql
// shows the query's line with a caret under the place): an input error's
// literal, and the name of a column or relation that does not exist. The
// planner works on a tree without positions, so the place is found in the
// query text from what the message names, and only when that text occurs
// exactly once: an error gets no position rather than a wrong one. Only
// a query string of one SELECT, INSERT, UPDATE or DELETE gets one (as in
// PostgreSQL, utility statements' errors have none).

var (
	// input errors name the literal's text: invalid input syntax for type
	// integer: "x", value "9..." is out of range for type bigint.
	inputErrorValue = regexp.MustCompile(`(?:invalid input syntax for type [^:]+|invalid input value for enum [^:]+): "((?:[^"]|"")*)"$|^value "((?:[^"]|"")*)" is out of range for type`)
	missingName     = regexp.MustCompile(`^(?:column|relation) "([^"]+)" does not exist$`)
	missingFunction = regexp.MustCompile(`^function (?:\w+\.)?(\w+)\(.*\) does not exist$`)
	missingOperator = regexp.MustCompile(`^operator does not exist: .+ (\S+) .+$`)
)

// positionedStmt reports whether errors of stmt may get a position.
func positionedStmt(stmt tree.Statement) bool {
	switch stmt.(type) {
	case *tree.Select, *tree.Insert, *tree.Update, *tree.Delete:
		return true
	}
	return false
}

// withQueryPosition attaches to err the place in query it is about, when
// one can be found for sure.
func withQueryPosition(query string, err error) error {
	if err == nil || pgerror.PositionOf(err) != 0 {
		return err
	}
	msg := err.Error()
	at := -1
	if v, ok := pgerror.LiteralOf(err); ok {
		at = literalIndex(query, v)
	}
	switch code := pgerror.CodeOf(err); code {
	case pgerror.CodeInvalidTextRepresentation, pgerror.CodeNumericValueOutOfRange, "22007", "22008":
		if at >= 0 {
			break
		}
		if m := inputErrorValue.FindStringSubmatch(msg); m != nil {
			lit := "'" + strings.ReplaceAll(m[1]+m[2], "'", "''") + "'"
			at = onlyIndex(query, lit)
			if at >= 0 && castToText(query[at+len(lit):]) {
				// 'x'::text::boolean: the literal read fine; the failing
				// cast is of a text value, which PostgreSQL places nowhere.
				at = -1
			}
		}
	case "42804":
		// VARIADIC argument must be an array: PostgreSQL places the
		// argument after the keyword.
		if msg == sem.VariadicError().Error() {
			if at = onlyWord(query, "variadic"); at >= 0 {
				at += len("variadic")
				for at < len(query) && strings.IndexByte(" \t\r\n", query[at]) >= 0 {
					at++
				}
			}
		}
	case pgerror.CodeUndefinedFunction:
		// PostgreSQL places a call of no function at its name, an
		// operator of none at the operator.
		if m := missingFunction.FindStringSubmatch(msg); m != nil {
			if at = onlyWord(query, m[1]); at >= 0 && !strings.HasPrefix(strings.TrimLeft(query[at+len(m[1]):], " \t\r\n"), "(") {
				at = -1
			}
		} else if m := missingOperator.FindStringSubmatch(msg); m != nil {
			at = onlyIndex(query, m[1])
		}
	case pgerror.CodeUndefinedColumn, "42P01":
		if m := missingName.FindStringSubmatch(msg); m != nil {
			at = onlyWord(query, m[1])
		}
	}
	if at < 0 {
		return err
	}
	return pgerror.WithPosition(err, utf8.RuneCountInString(query[:at])+1)
}

// literalIndex is the byte offset of the one literal in query whose value
// is v, written as a standard string ('...') or an escape string
// (E'...', backslashes doubled); -1 if there is none or more than one.
func literalIndex(query, v string) int {
	std := "'" + strings.ReplaceAll(v, "'", "''") + "'"
	esc := "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", "''") + "'"
	found := -1
	for i := 0; i < len(query); i++ {
		var at int
		switch {
		case strings.HasPrefix(query[i:], std) && (i == 0 || (query[i-1] != 'E' && query[i-1] != 'e')):
			at = i
		case (query[i] == 'E' || query[i] == 'e') && strings.HasPrefix(query[i+1:], esc) && (i == 0 || !identByte(query[i-1])):
			at = i
		default:
			continue
		}
		if found >= 0 {
			return -1
		}
		found = at
	}
	return found
}

// castToText reports whether rest, the text after a literal, starts by
// casting it to a string type.
func castToText(rest string) bool {
	rest = strings.TrimLeft(rest, " \t\r\n")
	if !strings.HasPrefix(rest, "::") {
		return false
	}
	rest = strings.ToLower(strings.TrimLeft(rest[2:], " \t\r\n"))
	for _, t := range []string{"text", "varchar", "character varying", "char", "character", "bpchar", "name"} {
		if strings.HasPrefix(rest, t) && (len(rest) == len(t) || !identByte(rest[len(t)])) {
			return true
		}
	}
	return false
}

// onlyIndex is the byte offset of the one occurrence of s in query, -1 if
// there is none or more than one.
func onlyIndex(query, s string) int {
	i := strings.Index(query, s)
	if i < 0 || strings.Contains(query[i+1:], s) {
		return -1
	}
	return i
}

// onlyWord is the byte offset of the one occurrence of name in query as a
// whole word (case-insensitive, as unquoted names fold), -1 if there is
// none or more than one.
func onlyWord(query, name string) int {
	lq, ln := strings.ToLower(query), strings.ToLower(name)
	found := -1
	for i := 0; ; {
		j := strings.Index(lq[i:], ln)
		if j < 0 {
			return found
		}
		j += i
		end := j + len(ln)
		if (j == 0 || !identByte(lq[j-1])) && (end == len(lq) || !identByte(lq[end])) {
			if found >= 0 {
				return -1
			}
			found = j
		}
		i = j + 1
	}
}

func identByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
