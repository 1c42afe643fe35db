package rowenc

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// A jsonb column's stored value is its text form, as a string: jsonb's
// output keeps every number's digits and scale, so parsing it back gives
// the same value, and a corrupt value fails that parse rather than
// yielding a wrong document.
//
// Its key (an index entry's, and what rows are grouped and deduplicated
// by) sorts as PostgreSQL's jsonb btree orders values (pgjson.Compare)
// and is equal exactly when the values are: a tag per kind in that
// order, numbers in the normalized decimal key encoding (1.0 = 1),
// arrays and objects as their element count then their elements (object
// keys in storage order, each key before its value). Every part is
// self-delimiting and order-preserving, so the concatenation compares
// element by element. The whole is wrapped as one bytes key, which keeps
// that order and lets the key's other columns follow it. A key loses
// each number's scale (1.50 reads back as 1.5): a jsonb primary key
// column is stored in the row value too (StoredInValue), and index-only
// scans do not read jsonb from index keys.

const (
	jsonKeyEmptyTopArray byte = 0x01 // "[]" at top level sorts first of all
	jsonKeyNull          byte = 0x10
	jsonKeyString        byte = 0x11
	jsonKeyNumber        byte = 0x12
	jsonKeyFalse         byte = 0x13
	jsonKeyTrue          byte = 0x14
	jsonKeyArray         byte = 0x15
	jsonKeyObject        byte = 0x16
)

func encodeJSONKey(b []byte, d *tree.DJSON) []byte {
	var inner []byte
	if d.JSON.Type() == json.ArrayJSONType && d.JSON.Len() == 0 {
		inner = []byte{jsonKeyEmptyTopArray}
	} else {
		inner = appendJSONKey(nil, d.JSON)
	}
	return encoding.EncodeBytesAscending(b, inner)
}

func appendJSONKey(b []byte, j json.JSON) []byte {
	switch j.Type() {
	case json.NullJSONType:
		return append(b, jsonKeyNull)
	case json.FalseJSONType:
		return append(b, jsonKeyFalse)
	case json.TrueJSONType:
		return append(b, jsonKeyTrue)
	case json.StringJSONType:
		s, _ := j.AsText()
		return encoding.EncodeStringAscending(append(b, jsonKeyString), *s)
	case json.NumberJSONType:
		dec, _ := j.AsDecimal()
		return encoding.EncodeDecimalAscending(append(b, jsonKeyNumber), dec)
	case json.ArrayJSONType:
		elems := pgjson.Elements(j)
		b = encoding.EncodeUvarintAscending(append(b, jsonKeyArray), uint64(len(elems)))
		for _, e := range elems {
			b = appendJSONKey(b, e)
		}
		return b
	}
	keys := pgjson.ObjectKeys(j)
	b = encoding.EncodeUvarintAscending(append(b, jsonKeyObject), uint64(len(keys)))
	for _, k := range keys {
		b = encoding.EncodeStringAscending(b, k)
		b = appendJSONKey(b, pgjson.Field(j, k))
	}
	return b
}

// decodeJSONKey reads a key written by encodeJSONKey.
func decodeJSONKey(b []byte) ([]byte, tree.Datum, error) {
	rest, inner, err := encoding.DecodeBytesAscending(b, nil)
	if err != nil {
		return nil, nil, err
	}
	if len(inner) == 1 && inner[0] == jsonKeyEmptyTopArray {
		return rest, tree.NewDJSON(pgjson.BuildArray(nil)), nil
	}
	left, j, err := readJSONKey(inner, 0)
	if err != nil {
		return nil, nil, err
	}
	if len(left) != 0 {
		return nil, nil, errors.Newf("corrupt jsonb key: %d bytes after the value", len(left))
	}
	return rest, tree.NewDJSON(j), nil
}

// maxJSONKeyDepth bounds the nesting a corrupt key can make the decoder
// recurse through.
const maxJSONKeyDepth = 1000

func readJSONKey(b []byte, depth int) ([]byte, json.JSON, error) {
	if len(b) == 0 || depth > maxJSONKeyDepth {
		return nil, nil, errors.New("corrupt jsonb key")
	}
	tag, b := b[0], b[1:]
	switch tag {
	case jsonKeyNull:
		return b, json.NullJSONValue, nil
	case jsonKeyFalse:
		return b, json.FalseJSONValue, nil
	case jsonKeyTrue:
		return b, json.TrueJSONValue, nil
	case jsonKeyString:
		rest, s, err := encoding.DecodeStringAscending(b)
		if err != nil {
			return nil, nil, err
		}
		return rest, json.FromString(s), nil
	case jsonKeyNumber:
		rest, d, err := encoding.DecodeDecimalAscending(b)
		if err != nil {
			return nil, nil, err
		}
		return rest, json.FromDecimal(d), nil
	case jsonKeyArray, jsonKeyObject:
		rest, n, err := encoding.DecodeUvarintAscending(b)
		if err != nil {
			return nil, nil, err
		}
		// Each element takes at least a byte: a larger count is corrupt.
		// A top-level empty array has a tag of its own.
		if n > uint64(len(rest)) || (n == 0 && depth == 0 && tag == jsonKeyArray) {
			return nil, nil, errors.New("corrupt jsonb key: bad element count")
		}
		var keys []string
		elems := make([]json.JSON, 0, n)
		for i := uint64(0); i < n; i++ {
			if tag == jsonKeyObject {
				var k string
				if rest, k, err = encoding.DecodeStringAscending(rest); err != nil {
					return nil, nil, err
				}
				// Keys come in storage order, each once.
				if len(keys) > 0 && !pgjson.KeyLess(keys[len(keys)-1], k) {
					return nil, nil, errors.New("corrupt jsonb key: object keys out of order")
				}
				keys = append(keys, k)
			}
			var e json.JSON
			if rest, e, err = readJSONKey(rest, depth+1); err != nil {
				return nil, nil, err
			}
			elems = append(elems, e)
		}
		if tag == jsonKeyObject {
			return rest, pgjson.BuildObject(keys, elems), nil
		}
		return rest, pgjson.BuildArray(elems), nil
	}
	return nil, nil, errors.Newf("corrupt jsonb key: tag %#x", tag)
}

func encodeJSONValue(b []byte, d *tree.DJSON) []byte {
	return encoding.EncodeStringAscending(b, pgjson.Format(d.JSON))
}

func decodeJSONValue(b []byte) ([]byte, tree.Datum, error) {
	rest, s, err := encoding.DecodeStringAscending(b)
	if err != nil {
		return nil, nil, err
	}
	j, err := pgjson.Parse(s)
	if err != nil {
		return nil, nil, errors.Wrap(err, "corrupt jsonb value")
	}
	return rest, tree.NewDJSON(j), nil
}
