// Package pgjson is PostgreSQL's jsonb as seen from outside: its text
// output, its ordering of object keys and of values, its pretty printer
// and its input errors. Values are the parser module's json.JSON (which
// implements containment, fetch, deletion and concatenation); what that
// package does in CockroachDB's own way (keys sorted bytewise, numbers in
// exponent notation, Go-style string escapes) is redone here the way
// PostgreSQL 15 does it, so that output and ordering match it exactly.
package pgjson

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Parse reads s as jsonb input, answering PostgreSQL's 22P02 for what is
// not JSON.
func Parse(s string) (json.JSON, error) {
	if !utf8.ValidString(s) {
		// A stored value is UTF-8: what is not cannot have been written.
		return nil, pgerror.New("22021", "invalid byte sequence for encoding \"UTF8\"")
	}
	j, err := json.ParseJSON(s)
	if err != nil {
		e := pgerror.New(pgerror.CodeInvalidTextRepresentation, "invalid input syntax for type json")
		return nil, pgerror.WithDetail(e, err.Error())
	}
	if hasNUL(j) {
		// text cannot hold a NUL, so jsonb's strings cannot either.
		e := pgerror.New("22P05", "unsupported Unicode escape sequence")
		return nil, pgerror.WithDetail(e, `\u0000 cannot be converted to text.`)
	}
	return j, nil
}

func hasNUL(j json.JSON) bool {
	switch j.Type() {
	case json.StringJSONType:
		s, _ := j.AsText()
		return strings.IndexByte(*s, 0) >= 0
	case json.ArrayJSONType:
		for _, e := range Elements(j) {
			if hasNUL(e) {
				return true
			}
		}
	case json.ObjectJSONType:
		for _, k := range ObjectKeys(j) {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(Field(j, k)) {
				return true
			}
		}
	}
	return false
}

// ObjectKeys are an object's keys in jsonb's storage order: shorter keys
// first, then bytewise. This is the order jsonb prints, iterates and
// compares keys in.
func ObjectKeys(j json.JSON) []string {
	it, err := j.ObjectIter()
	if err != nil || it == nil {
		return nil
	}
	var keys []string
	for it.Next() {
		keys = append(keys, it.Key())
	}
	sort.SliceStable(keys, func(a, b int) bool { return KeyLess(keys[a], keys[b]) })
	return keys
}

// KeyLess orders object keys as jsonb stores them: shorter first, then
// bytewise.
func KeyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Field is an object's value for key; nil if absent.
func Field(j json.JSON, key string) json.JSON {
	v, err := j.FetchValKey(key)
	if err != nil {
		return nil
	}
	return v
}

// Elements are an array's elements; nil for other values.
func Elements(j json.JSON) []json.JSON {
	a, _ := j.AsArray()
	return a
}

// Format is j in jsonb's text output: `{"a": 1, "b": [1, 2]}`.
func Format(j json.JSON) string {
	var b strings.Builder
	format(&b, j, "", false)
	return b.String()
}

// Pretty is jsonb_pretty(j): one element per line, four spaces a level.
func Pretty(j json.JSON) string {
	var b strings.Builder
	format(&b, j, "\n", true)
	return b.String()
}

// format writes j; pretty puts each element on its own line, indented
// by depth (nl carries the current indentation).
func format(b *strings.Builder, j json.JSON, nl string, pretty bool) {
	switch j.Type() {
	case json.NullJSONType:
		b.WriteString("null")
	case json.TrueJSONType:
		b.WriteString("true")
	case json.FalseJSONType:
		b.WriteString("false")
	case json.NumberJSONType:
		d, _ := j.AsDecimal()
		if d.IsZero() && d.Negative {
			// numeric has no negative zero.
			var z apd.Decimal
			z.Abs(d)
			d = &z
		}
		b.WriteString(d.Text('f'))
	case json.StringJSONType:
		s, _ := j.AsText()
		WriteString(b, *s)
	case json.ArrayJSONType:
		elems := Elements(j)
		b.WriteByte('[')
		inner := nl + "    "
		for i, e := range elems {
			if i > 0 {
				b.WriteByte(',')
				if !pretty {
					b.WriteByte(' ')
				}
			}
			if pretty {
				b.WriteString(inner)
			}
			format(b, e, inner, pretty)
		}
		if pretty {
			// PostgreSQL breaks the line even in an empty array.
			b.WriteString(nl)
		}
		b.WriteByte(']')
	case json.ObjectJSONType:
		keys := ObjectKeys(j)
		b.WriteByte('{')
		inner := nl + "    "
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
				if !pretty {
					b.WriteByte(' ')
				}
			}
			if pretty {
				b.WriteString(inner)
			}
			WriteString(b, k)
			b.WriteString(": ")
			format(b, Field(j, k), inner, pretty)
		}
		if pretty {
			b.WriteString(nl)
		}
		b.WriteByte('}')
	}
}

// WriteString writes s as a JSON string literal with PostgreSQL's
// escapes (escape_json): the named ones, \u00XX for other control
// characters, everything else (non-ASCII included) as it is.
func WriteString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				h := strconv.FormatInt(int64(r), 16)
				if len(h) < 2 {
					b.WriteByte('0')
				}
				b.WriteString(h)
			} else if r == utf8.RuneError {
				b.WriteString("\uFFFD")
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// typeRank orders the kinds of jsonb values as PostgreSQL's jsonb btree
// does: null < string < number < boolean < array < object.
func typeRank(t json.Type) int {
	switch t {
	case json.NullJSONType:
		return 0
	case json.StringJSONType:
		return 1
	case json.NumberJSONType:
		return 2
	case json.FalseJSONType, json.TrueJSONType:
		return 3
	case json.ArrayJSONType:
		return 4
	}
	return 5
}

func isEmptyArray(j json.JSON) bool {
	return j.Type() == json.ArrayJSONType && j.Len() == 0
}

// Compare orders a and b as PostgreSQL's jsonb comparison operators do:
// by kind, then arrays and objects by element count, then element by
// element (object keys in storage order, key before value); strings
// bytewise (the C collation); and, for historical reasons, an empty
// top-level array sorts before everything else.
func Compare(a, b json.JSON) int {
	switch ae, be := isEmptyArray(a), isEmptyArray(b); {
	case ae && be:
		return 0
	case ae:
		return -1
	case be:
		return 1
	}
	return compare(a, b)
}

func compare(a, b json.JSON) int {
	if ra, rb := typeRank(a.Type()), typeRank(b.Type()); ra != rb {
		return cmpInt(ra, rb)
	}
	switch a.Type() {
	case json.NullJSONType:
		return 0
	case json.StringJSONType:
		sa, _ := a.AsText()
		sb, _ := b.AsText()
		return strings.Compare(*sa, *sb)
	case json.NumberJSONType:
		da, _ := a.AsDecimal()
		db, _ := b.AsDecimal()
		return da.Cmp(db)
	case json.FalseJSONType, json.TrueJSONType:
		return cmpInt(int(a.Type()), int(b.Type()))
	case json.ArrayJSONType:
		ea, eb := Elements(a), Elements(b)
		if len(ea) != len(eb) {
			return cmpInt(len(ea), len(eb))
		}
		for i := range ea {
			if c := compare(ea[i], eb[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	ka, kb := ObjectKeys(a), ObjectKeys(b)
	if len(ka) != len(kb) {
		return cmpInt(len(ka), len(kb))
	}
	for i := range ka {
		// Keys in storage order, each compared as a string.
		if c := strings.Compare(ka[i], kb[i]); c != 0 {
			return c
		}
		if c := compare(Field(a, ka[i]), Field(b, kb[i])); c != 0 {
			return c
		}
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TypeName is jsonb_typeof(j).
func TypeName(j json.JSON) string {
	switch j.Type() {
	case json.NullJSONType:
		return "null"
	case json.StringJSONType:
		return "string"
	case json.NumberJSONType:
		return "number"
	case json.FalseJSONType, json.TrueJSONType:
		return "boolean"
	case json.ArrayJSONType:
		return "array"
	}
	return "object"
}

// EqualityKey is a string equal for two values exactly when Compare
// says they are equal: the text form with each number reduced (1.0 and 1
// are the same jsonb number). Grouping, DISTINCT and set operations key
// rows by it.
func EqualityKey(j json.JSON) string {
	var b strings.Builder
	writeKey(&b, j)
	return b.String()
}

func writeKey(b *strings.Builder, j json.JSON) {
	switch j.Type() {
	case json.NumberJSONType:
		d, _ := j.AsDecimal()
		var r apd.Decimal
		r.Reduce(d)
		b.WriteString(r.Text('f'))
	case json.ArrayJSONType:
		b.WriteByte('[')
		for i, e := range Elements(j) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeKey(b, e)
		}
		b.WriteByte(']')
	case json.ObjectJSONType:
		b.WriteByte('{')
		for i, k := range ObjectKeys(j) {
			if i > 0 {
				b.WriteByte(',')
			}
			WriteString(b, k)
			b.WriteByte(':')
			writeKey(b, Field(j, k))
		}
		b.WriteByte('}')
	default:
		format(b, j, "", false)
	}
}
