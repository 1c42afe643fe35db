package rowenc

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// Inverted (GIN) index entries, as CockroachDB keys its inverted
// indexes: a row has one entry per part of its indexed value,
//
//	/<table>/<index>/<inverted key>/<primary key columns>
//
// with an empty value. For an array the parts are its distinct non-NULL
// elements, each in its ascending key encoding (EncodeDatum), so that
// arr @> ARRAY[x] reads the entries of x. For a jsonb document they are
// its paths to a leaf: each object key and each array level on the way
// (an array's positions are left out, as containment ignores them) and
// the leaf, a scalar or an empty array or object. {"a": [1, {"b": 2}]}
// has the entries a/[]/1 and a/[]/b/2, and j @> '{"a": [1]}' reads the
// span of a/[]/1.
//
// The jsonb key is a run of tokens, each a tag byte and, for an object
// key or a scalar string or number, its order-preserving encoding. Every
// token delimits itself and the run ends at its leaf, so the primary key
// that follows is found by reading the tokens, and the entries under a
// path prefix (every key of an object at a path, say) are one key span.
//
// Keys of equal values are equal: numbers are in the normalized decimal
// key encoding (1.0 = 1), strings byte for byte. A query's spans are
// therefore a superset of the rows it matches; the query's own predicate
// is checked again on every row read.

const (
	jsonInvObjectKey  byte = 0x01 // followed by the key as a string
	jsonInvArrayLevel byte = 0x02 // an array element, at any position
	jsonInvNull       byte = 0x10
	jsonInvString     byte = 0x11
	jsonInvNumber     byte = 0x12
	jsonInvFalse      byte = 0x13
	jsonInvTrue       byte = 0x14
	jsonInvEmptyArray byte = 0x15
	jsonInvEmptyObj   byte = 0x16
)

// InvertedEntries are row's entries in inverted index idx: their keys,
// distinct, none for a NULL value.
func InvertedEntries(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, row tree.Datums) ([][]byte, error) {
	v := row[idx.Columns[0]]
	if v == tree.DNull {
		return nil, nil
	}
	parts, err := InvertedValueKeys(v)
	if err != nil {
		return nil, err
	}
	prefix := d.IndexPrefixOf(idx.ID)
	var pk []byte
	for _, i := range d.PrimaryKey {
		if pk, err = EncodeDatum(pk, row[i]); err != nil {
			return nil, err
		}
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		k := make([]byte, 0, len(prefix)+len(p)+len(pk))
		out[i] = append(append(append(k, prefix...), p...), pk...)
	}
	return out, nil
}

// InvertedValueKeys are the distinct inverted keys (without index prefix
// and primary key) of a jsonb or array value.
func InvertedValueKeys(v tree.Datum) ([][]byte, error) {
	seen := map[string]bool{}
	var out [][]byte
	add := func(k []byte) {
		if !seen[string(k)] {
			seen[string(k)] = true
			out = append(out, k)
		}
	}
	switch v := tree.UnwrapDOidWrapper(v).(type) {
	case *tree.DJSON:
		jsonPaths(nil, v.JSON, add)
	case *tree.DArray:
		// Every element of a multidimensional array, as @> and && see
		// them.
		for _, e := range pgarray.Flat(v) {
			if e == tree.DNull {
				continue // NULL equals nothing: no query can need it
			}
			k, err := EncodeDatum(nil, e)
			if err != nil {
				return nil, err
			}
			add(k)
		}
	default:
		return nil, errors.AssertionFailedf("inverted index of a %s value", v.ResolvedType())
	}
	return out, nil
}

// jsonPaths calls add with path followed by each path to a leaf of j.
func jsonPaths(path []byte, j json.JSON, add func([]byte)) {
	switch j.Type() {
	case json.ObjectJSONType:
		keys := pgjson.ObjectKeys(j)
		if len(keys) == 0 {
			add(appendTag(path, jsonInvEmptyObj))
			return
		}
		for _, k := range keys {
			jsonPaths(jsonObjectStep(path, k), pgjson.Field(j, k), add)
		}
	case json.ArrayJSONType:
		elems := pgjson.Elements(j)
		if len(elems) == 0 {
			add(appendTag(path, jsonInvEmptyArray))
			return
		}
		step := appendTag(path, jsonInvArrayLevel)
		for _, e := range elems {
			jsonPaths(step, e, add)
		}
	default:
		add(jsonLeaf(path, j))
	}
}

// appendTag is a copy of path with tag after it (paths are shared by
// siblings, so never appended to in place).
func appendTag(path []byte, tag byte) []byte {
	return append(append(make([]byte, 0, len(path)+16), path...), tag)
}

func jsonObjectStep(path []byte, key string) []byte {
	return encoding.EncodeStringAscending(appendTag(path, jsonInvObjectKey), key)
}

// jsonLeaf is path followed by scalar j's token.
func jsonLeaf(path []byte, j json.JSON) []byte {
	switch j.Type() {
	case json.NullJSONType:
		return appendTag(path, jsonInvNull)
	case json.FalseJSONType:
		return appendTag(path, jsonInvFalse)
	case json.TrueJSONType:
		return appendTag(path, jsonInvTrue)
	case json.StringJSONType:
		s, _ := j.AsText()
		return encoding.EncodeStringAscending(appendTag(path, jsonInvString), *s)
	}
	dec, _ := j.AsDecimal()
	return encoding.EncodeDecimalAscending(appendTag(path, jsonInvNumber), dec)
}

// skipJSONInvertedKey returns what follows the jsonb inverted key at the
// start of b.
func skipJSONInvertedKey(b []byte) ([]byte, error) {
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		switch tag {
		case jsonInvArrayLevel:
			continue
		case jsonInvObjectKey:
			n, err := encoding.PeekLength(b)
			if err != nil {
				return nil, err
			}
			b = b[n:]
			continue
		case jsonInvString, jsonInvNumber:
			n, err := encoding.PeekLength(b)
			if err != nil {
				return nil, err
			}
			return b[n:], nil
		case jsonInvNull, jsonInvFalse, jsonInvTrue, jsonInvEmptyArray, jsonInvEmptyObj:
			return b, nil
		default:
			return nil, errors.Newf("bad tag %#x", tag)
		}
	}
	return nil, errors.New("no leaf")
}

// PrimaryKeyFromInvertedKey returns the primary key of the row an
// inverted index entry points to.
func PrimaryKeyFromInvertedKey(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, key []byte) ([]byte, error) {
	rest := key[len(d.IndexPrefixOf(idx.ID)):]
	var err error
	if d.Columns[idx.Columns[0]].Type().Family() == types.JsonFamily {
		rest, err = skipJSONInvertedKey(rest)
	} else {
		var n int
		if n, err = encoding.PeekLength(rest); err == nil {
			rest = rest[n:]
		}
	}
	if err != nil {
		return nil, errors.Wrapf(err, "table %q index %q: corrupt entry", d.Name, idx.Name)
	}
	return append(d.IndexPrefix(), rest...), nil
}

// An InvertedSpan is the entries whose inverted key starts with Prefix:
// a whole key (a jsonb path ending in its leaf, an array element) reads
// its own entries alone, a jsonb path prefix every entry below the path.
type InvertedSpan struct {
	Prefix []byte
}

// InvertedQuery is what an inverted index is asked: the rows that have,
// for every conjunct, an entry in at least one of its spans (a
// conjunction of disjunctions). No conjunct at all: the index cannot
// narrow the query (every row may match). A conjunct with no span:
// nothing matches.
type InvertedQuery [][]InvertedSpan

// JSONContainsQuery is the query for j @> q: every path to a leaf of q
// is one of j's (an empty array or object in q asks for an array or
// object at its path, empty or not). A scalar q is also contained in a
// top-level array that has it as an element, as PostgreSQL has it. A
// top-level {} or [] gives no conjunct: it cannot narrow.
func JSONContainsQuery(q json.JSON) InvertedQuery {
	if (q.Type() == json.ObjectJSONType || q.Type() == json.ArrayJSONType) && q.Len() == 0 {
		// Every object (array) contains {} ([]): the entries of all of
		// them are no narrower than the table.
		return nil
	}
	if pgjson.IsScalar(q) {
		return InvertedQuery{{{jsonLeaf(nil, q)}, {jsonLeaf([]byte{jsonInvArrayLevel}, q)}}}
	}
	var out InvertedQuery
	jsonContains(nil, q, &out)
	return out
}

func jsonContains(path []byte, q json.JSON, out *InvertedQuery) {
	switch q.Type() {
	case json.ObjectJSONType:
		keys := pgjson.ObjectKeys(q)
		if len(keys) == 0 {
			*out = append(*out, []InvertedSpan{{appendTag(path, jsonInvEmptyObj)}, {appendTag(path, jsonInvObjectKey)}})
			return
		}
		for _, k := range keys {
			jsonContains(jsonObjectStep(path, k), pgjson.Field(q, k), out)
		}
	case json.ArrayJSONType:
		elems := pgjson.Elements(q)
		if len(elems) == 0 {
			*out = append(*out, []InvertedSpan{{appendTag(path, jsonInvEmptyArray)}, {appendTag(path, jsonInvArrayLevel)}})
			return
		}
		step := appendTag(path, jsonInvArrayLevel)
		for _, e := range elems {
			jsonContains(step, e, out)
		}
	default:
		*out = append(*out, []InvertedSpan{{jsonLeaf(path, q)}})
	}
}

// JSONExistsSpans are the spans of the documents for which j ? key
// holds: an object with key at the top, a top-level array with the
// string key as an element, or the string key itself.
func JSONExistsSpans(key string) []InvertedSpan {
	s := json.FromString(key)
	return []InvertedSpan{{jsonObjectStep(nil, key)}, {jsonLeaf([]byte{jsonInvArrayLevel}, s)}, {jsonLeaf(nil, s)}}
}

// ArrayElementSpans are the spans of the rows whose array has each of
// elems' non-NULL elements, one span each.
func ArrayElementSpans(elems tree.Datums) ([]InvertedSpan, error) {
	var out []InvertedSpan
	for _, e := range elems {
		if e == tree.DNull {
			continue
		}
		k, err := EncodeDatum(nil, e)
		if err != nil {
			return nil, err
		}
		out = append(out, InvertedSpan{k})
	}
	return out, nil
}
