package pgjson

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// The jsonb operators and path functions, with PostgreSQL 15's results
// and errors (jsonfuncs.c). Values are never modified in place: each
// operation builds a new document.

// IsScalar reports whether j is neither an array nor an object.
func IsScalar(j json.JSON) bool {
	t := j.Type()
	return t != json.ArrayJSONType && t != json.ObjectJSONType
}

// Index is element i of an array, counting from the end when i < 0; nil
// when out of range or j is not an array.
func Index(j json.JSON, i int) json.JSON {
	elems := Elements(j)
	if i < 0 {
		i += len(elems)
	}
	if j.Type() != json.ArrayJSONType || i < 0 || i >= len(elems) {
		return nil
	}
	return elems[i]
}

// FetchPath is j #> path: nil when a step is missing, or names an array
// element by something that is not an integer.
func FetchPath(j json.JSON, path []string) json.JSON {
	for _, p := range path {
		switch j.Type() {
		case json.ObjectJSONType:
			j = Field(j, p)
		case json.ArrayJSONType:
			i, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return nil
			}
			j = Index(j, i)
		default:
			return nil
		}
		if j == nil {
			return nil
		}
	}
	return j
}

// AsText is j ->> and #>>: a string's contents, other values' jsonb
// text; ok is false for a JSON null (SQL NULL).
func AsText(j json.JSON) (s string, ok bool) {
	switch j.Type() {
	case json.NullJSONType:
		return "", false
	case json.StringJSONType:
		t, _ := j.AsText()
		return *t, true
	}
	return Format(j), true
}

func buildArray(elems []json.JSON) json.JSON {
	b := json.NewArrayBuilder(len(elems))
	for _, e := range elems {
		b.Add(e)
	}
	return b.Build()
}

// object builds an object from keys and their values, in that order
// (a later duplicate key replaces an earlier one).
func buildObject(keys []string, vals map[string]json.JSON) json.JSON {
	b := json.NewObjectBuilder(len(keys))
	for _, k := range keys {
		b.Add(k, vals[k])
	}
	return b.Build()
}

func objectMap(j json.JSON) ([]string, map[string]json.JSON) {
	keys := ObjectKeys(j)
	m := make(map[string]json.JSON, len(keys))
	for _, k := range keys {
		m[k] = Field(j, k)
	}
	return keys, m
}

// Concat is a || b: two objects merge (b's keys win); otherwise both
// sides count as arrays (a scalar or an object as an array of one) and
// are concatenated.
func Concat(a, b json.JSON) json.JSON {
	if a.Type() == json.ObjectJSONType && b.Type() == json.ObjectJSONType {
		keys, m := objectMap(a)
		for _, k := range ObjectKeys(b) {
			if _, ok := m[k]; !ok {
				keys = append(keys, k)
			}
			m[k] = Field(b, k)
		}
		return buildObject(keys, m)
	}
	asArray := func(j json.JSON) []json.JSON {
		if j.Type() == json.ArrayJSONType {
			return Elements(j)
		}
		return []json.JSON{j}
	}
	return buildArray(append(append([]json.JSON{}, asArray(a)...), asArray(b)...))
}

var errDeleteScalar = pgerror.New(pgerror.CodeInvalidParameterValue, "cannot delete from scalar")

// DeleteKeys is j - key and j - keys: from an object, those keys; from
// an array, the string elements equal to one of them.
func DeleteKeys(j json.JSON, keys ...string) (json.JSON, error) {
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[k] = true
	}
	switch j.Type() {
	case json.ObjectJSONType:
		var kept []string
		keys, m := objectMap(j)
		for _, k := range keys {
			if !drop[k] {
				kept = append(kept, k)
			}
		}
		return buildObject(kept, m), nil
	case json.ArrayJSONType:
		var kept []json.JSON
		for _, e := range Elements(j) {
			if e.Type() == json.StringJSONType {
				if s, _ := e.AsText(); drop[*s] {
					continue
				}
			}
			kept = append(kept, e)
		}
		return buildArray(kept), nil
	}
	return nil, errDeleteScalar
}

// DeleteIndex is j - i: an array without element i (from the end when
// negative).
func DeleteIndex(j json.JSON, i int) (json.JSON, error) {
	switch j.Type() {
	case json.ObjectJSONType:
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot delete from object using integer index")
	case json.ArrayJSONType:
	default:
		return nil, errDeleteScalar
	}
	elems := Elements(j)
	if i < 0 {
		i += len(elems)
	}
	if i < 0 || i >= len(elems) {
		return j, nil
	}
	return buildArray(append(append([]json.JSON{}, elems[:i]...), elems[i+1:]...)), nil
}

func pathIndex(p string, pos int) (int, error) {
	i, err := strconv.Atoi(strings.TrimSpace(p))
	if err != nil {
		return 0, pgerror.Newf(pgerror.CodeInvalidTextRepresentation, "path element at position %d is not an integer: %q", pos, p)
	}
	return i, nil
}

// DeletePath is j #- path.
func DeletePath(j json.JSON, path []string) (json.JSON, error) {
	if IsScalar(j) {
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot delete path in scalar")
	}
	if len(path) == 0 {
		return j, nil
	}
	return editPath(j, path, 1, func(parent json.JSON, last string, pos int) (json.JSON, error) {
		if parent.Type() == json.ObjectJSONType {
			return DeleteKeys(parent, last)
		}
		i, err := pathIndex(last, pos)
		if err != nil {
			return nil, err
		}
		return DeleteIndex(parent, i)
	})
}

// editPath rebuilds j with the container at path[:len-1] replaced by
// edit's result; a path that does not lead to a container leaves j as it
// is. pos is path[0]'s 1-based position, for error messages.
func editPath(j json.JSON, path []string, pos int, edit func(parent json.JSON, last string, pos int) (json.JSON, error)) (json.JSON, error) {
	if len(path) == 1 {
		return edit(j, path[0], pos)
	}
	switch j.Type() {
	case json.ObjectJSONType:
		child := Field(j, path[0])
		if child == nil || IsScalar(child) {
			return j, nil
		}
		nc, err := editPath(child, path[1:], pos+1, edit)
		if err != nil {
			return nil, err
		}
		keys, m := objectMap(j)
		m[path[0]] = nc
		return buildObject(keys, m), nil
	case json.ArrayJSONType:
		i, err := pathIndex(path[0], pos)
		if err != nil {
			return nil, err
		}
		elems := Elements(j)
		if i < 0 {
			i += len(elems)
		}
		if i < 0 || i >= len(elems) || IsScalar(elems[i]) {
			return j, nil
		}
		nc, err := editPath(elems[i], path[1:], pos+1, edit)
		if err != nil {
			return nil, err
		}
		out := append([]json.JSON{}, elems...)
		out[i] = nc
		return buildArray(out), nil
	}
	return j, nil
}

// Set is jsonb_set(j, path, v, createMissing).
func Set(j json.JSON, path []string, v json.JSON, createMissing bool) (json.JSON, error) {
	if IsScalar(j) {
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot set path in scalar")
	}
	if len(path) == 0 {
		return j, nil
	}
	return editPath(j, path, 1, func(parent json.JSON, last string, pos int) (json.JSON, error) {
		if parent.Type() == json.ObjectJSONType {
			keys, m := objectMap(parent)
			if _, ok := m[last]; !ok {
				if !createMissing {
					return parent, nil
				}
				keys = append(keys, last)
			}
			m[last] = v
			return buildObject(keys, m), nil
		}
		if parent.Type() != json.ArrayJSONType {
			return parent, nil
		}
		i, err := pathIndex(last, pos)
		if err != nil {
			return nil, err
		}
		elems := append([]json.JSON{}, Elements(parent)...)
		if i < 0 {
			i += len(elems)
		}
		switch {
		case i >= 0 && i < len(elems):
			elems[i] = v
		case !createMissing:
		case i < 0:
			elems = append([]json.JSON{v}, elems...)
		default:
			elems = append(elems, v)
		}
		return buildArray(elems), nil
	})
}

// Insert is jsonb_insert(j, path, v, after).
func Insert(j json.JSON, path []string, v json.JSON, after bool) (json.JSON, error) {
	if IsScalar(j) {
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot set path in scalar")
	}
	if len(path) == 0 {
		return j, nil
	}
	return editPath(j, path, 1, func(parent json.JSON, last string, pos int) (json.JSON, error) {
		if parent.Type() == json.ObjectJSONType {
			keys, m := objectMap(parent)
			if _, ok := m[last]; ok {
				return nil, pgerror.WithHint(pgerror.New(pgerror.CodeInvalidParameterValue, "cannot replace existing key"),
					"Try using the function jsonb_set to replace key value.")
			}
			m[last] = v
			return buildObject(append(keys, last), m), nil
		}
		if parent.Type() != json.ArrayJSONType {
			return parent, nil
		}
		i, err := pathIndex(last, pos)
		if err != nil {
			return nil, err
		}
		elems := Elements(parent)
		if i < 0 {
			i += len(elems)
		}
		if after {
			i++
		}
		switch {
		case i < 0:
			i = 0
		case i > len(elems):
			i = len(elems)
		}
		out := append(append(append([]json.JSON{}, elems[:i]...), v), elems[i:]...)
		return buildArray(out), nil
	})
}

// Exists is j ? key: a top-level key of an object, a string element of
// an array, or a string scalar equal to key.
func Exists(j json.JSON, key string) bool {
	switch j.Type() {
	case json.ObjectJSONType:
		return Field(j, key) != nil
	case json.ArrayJSONType:
		for _, e := range Elements(j) {
			if e.Type() == json.StringJSONType {
				if s, _ := e.AsText(); *s == key {
					return true
				}
			}
		}
	case json.StringJSONType:
		s, _ := j.AsText()
		return *s == key
	}
	return false
}

// StripNulls is jsonb_strip_nulls: every object field whose value is
// null goes, at every depth; nulls in arrays stay.
func StripNulls(j json.JSON) json.JSON {
	switch j.Type() {
	case json.ObjectJSONType:
		var kept []string
		keys, m := objectMap(j)
		for _, k := range keys {
			if m[k].Type() != json.NullJSONType {
				kept = append(kept, k)
				m[k] = StripNulls(m[k])
			}
		}
		return buildObject(kept, m)
	case json.ArrayJSONType:
		elems := Elements(j)
		out := make([]json.JSON, len(elems))
		for i, e := range elems {
			out[i] = StripNulls(e)
		}
		return buildArray(out)
	}
	return j
}

// BuildArray is a jsonb array of elems.
func BuildArray(elems []json.JSON) json.JSON { return buildArray(elems) }

// BuildObject is a jsonb object of pairs in order (a later duplicate
// key wins, as in jsonb_build_object).
func BuildObject(keys []string, vals []json.JSON) json.JSON {
	m := make(map[string]json.JSON, len(keys))
	var order []string
	for i, k := range keys {
		if _, ok := m[k]; !ok {
			order = append(order, k)
		}
		m[k] = vals[i]
	}
	return buildObject(order, m)
}
