package pgjson

import (
	gojson "encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// PostgreSQL's json type (as opposed to jsonb) keeps its input text as
// written: key order, duplicate keys and white space survive, and its
// operators and functions read that text. The functions below work on
// such a text, which ValidateText has accepted; they answer substrings
// of it, as PostgreSQL's json functions do.

// ValidateText checks s as json input: PostgreSQL's 22P02 for what is
// not JSON. Unlike jsonb, json keeps \u0000 (it converts nothing).
func ValidateText(s string) error {
	if !utf8.ValidString(s) {
		return pgerror.New("22021", "invalid byte sequence for encoding \"UTF8\"")
	}
	if _, err := json.ParseJSON(s); err != nil {
		e := pgerror.New(pgerror.CodeInvalidTextRepresentation, "invalid input syntax for type json")
		return pgerror.WithDetail(e, err.Error())
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// valueEnd is the end of the value that starts at s[i] (no white space
// before it), in a text that is valid JSON.
func valueEnd(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '[', '{':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				i = stringEnd(s, i)
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(s) && !isSpace(s[i]) && s[i] != ',' && s[i] != ']' && s[i] != '}' && s[i] != ':' {
		i++
	}
	return i
}

// stringEnd is the end of the string literal that starts at s[i].
func stringEnd(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// unquote is a JSON string literal's contents.
func unquote(lit string) string {
	var out string
	if err := gojson.Unmarshal([]byte(lit), &out); err != nil {
		// Lone surrogates: encoding/json already replaces them; any
		// other failure cannot happen for validated input.
		return strings.Trim(lit, `"`)
	}
	return out
}

// TextTrim is the value of a json text without the white space around it.
func TextTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r < 128 && isSpace(byte(r)) })
}

// TextType is json_typeof of a json text: object, array, string,
// number, boolean or null.
func TextType(s string) string {
	s = TextTrim(s)
	if s == "" {
		return "null"
	}
	switch s[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// TextElements are the texts of a json array's elements, in order; ok is
// false if s is not an array.
func TextElements(s string) (elems []string, ok bool) {
	s = TextTrim(s)
	if s == "" || s[0] != '[' {
		return nil, false
	}
	i := skipSpace(s, 1)
	for i < len(s) && s[i] != ']' {
		end := valueEnd(s, i)
		elems = append(elems, s[i:end])
		i = skipSpace(s, end)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		}
	}
	return elems, true
}

// TextMember is one key/value pair of a json object.
type TextMember struct {
	Key   string // decoded
	Value string // the value's text
}

// TextMembers are a json object's members in the order written,
// duplicates included; ok is false if s is not an object.
func TextMembers(s string) (members []TextMember, ok bool) {
	s = TextTrim(s)
	if s == "" || s[0] != '{' {
		return nil, false
	}
	i := skipSpace(s, 1)
	for i < len(s) && s[i] == '"' {
		kend := stringEnd(s, i)
		key := unquote(s[i:kend])
		i = skipSpace(s, kend)
		if i < len(s) && s[i] == ':' {
			i = skipSpace(s, i+1)
		}
		vend := valueEnd(s, i)
		members = append(members, TextMember{Key: key, Value: s[i:vend]})
		i = skipSpace(s, vend)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		}
	}
	return members, true
}

// TextField is json -> key: the value of the last member named key, as
// PostgreSQL's json -> answers for duplicate keys.
func TextField(s, key string) (string, bool) {
	members, _ := TextMembers(s)
	for i := len(members) - 1; i >= 0; i-- {
		if members[i].Key == key {
			return members[i].Value, true
		}
	}
	return "", false
}

// TextIndex is json -> i: an array's element i, negative counting from
// the end.
func TextIndex(s string, i int) (string, bool) {
	elems, ok := TextElements(s)
	if !ok {
		return "", false
	}
	if i < 0 {
		i += len(elems)
	}
	if i < 0 || i >= len(elems) {
		return "", false
	}
	return elems[i], true
}

// TextPath is json #> path: each step a key of an object or an index
// (negative from the end) of an array.
func TextPath(s string, path []string) (string, bool) {
	cur := s
	for _, p := range path {
		var ok bool
		switch TextType(cur) {
		case "object":
			cur, ok = TextField(cur, p)
		case "array":
			i, err := pathIndex(p, 0)
			if err != nil {
				return "", false
			}
			cur, ok = TextIndex(cur, i)
		}
		if !ok {
			return "", false
		}
	}
	return TextTrim(cur), true
}

// TextScalar is ->>'s result for a json text: a string's contents, other
// values' text; null is false (SQL NULL).
func TextScalar(s string) (string, bool) {
	s = TextTrim(s)
	switch {
	case s == "null":
		return "", false
	case s != "" && s[0] == '"':
		return unquote(s), true
	}
	return s, true
}

// TextStripNulls is json_strip_nulls: the value without object members
// whose value is null, rewritten without white space as PostgreSQL
// does.
func TextStripNulls(s string) string {
	var b strings.Builder
	stripNulls(&b, TextTrim(s))
	return b.String()
}

func stripNulls(b *strings.Builder, s string) {
	switch TextType(s) {
	case "object":
		members, _ := TextMembers(s)
		b.WriteByte('{')
		first := true
		for _, m := range members {
			if TextTrim(m.Value) == "null" {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			WriteString(b, m.Key)
			b.WriteByte(':')
			stripNulls(b, m.Value)
		}
		b.WriteByte('}')
	case "array":
		elems, _ := TextElements(s)
		b.WriteByte('[')
		for i, e := range elems {
			if i > 0 {
				b.WriteByte(',')
			}
			stripNulls(b, e)
		}
		b.WriteByte(']')
	case "string":
		// PostgreSQL writes the string it read back with its own
		// escapes.
		WriteString(b, unquote(s))
	default:
		b.WriteString(s)
	}
}

// TextDatum is the json value of the text s (valid JSON): the text in a
// tree.DOidWrapper of json's oid, whose type is json, and which reads as
// the text it is wherever a string is read.
func TextDatum(s string) tree.Datum {
	return &tree.DOidWrapper{Wrapped: tree.NewDString(s), Oid: oid.T_json}
}

// AsTextDatum is d's text if d is a json value (TextDatum).
func AsTextDatum(d tree.Datum) (string, bool) {
	if w, ok := d.(*tree.DOidWrapper); ok && w.Oid == oid.T_json {
		if s, ok := w.Wrapped.(*tree.DString); ok {
			return string(*s), true
		}
	}
	return "", false
}
