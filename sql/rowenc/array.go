package rowenc

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgarray"
)

// Arrays (one-dimensional, of a scalar type a column can have) are
// stored as one byte string, so that a row value stays self-delimiting
// (encoding.PeekLength skips a dropped array column like any other):
//
//	bytes( arrayVersion <uvarint length> <element>* )
//
// each element in its column encoding (EncodeValueDatum in a row value,
// EncodeDatum where the array is compared as a whole: DISTINCT, GROUP
// BY, set operations), NULL elements as encoding's NULL. The byte order
// of the whole is not the arrays' SQL order, so arrays cannot be key
// columns (KeyEncodable is false for them).

// arrayVersion leads the encoding, so that a later layout (lower bounds,
// dimensions) can be told apart. An array of more than one dimension
// (see package pgarray) is arrayVersionDims:
//
//	bytes( arrayVersionDims <uvarint ndims> <uvarint length>* <element>* )
//
// its elements in storage order; a one-dimensional array keeps the first
// layout. An array with a lower bound other than 1 (see package pgarray)
// is arrayVersionBounds, of any number of dimensions:
//
//	bytes( arrayVersionBounds <uvarint ndims> <varint lower>* <uvarint length>* <element>* )
//
// the lengths of the dimensions after the first, then the first's; so
// that every array stored before bounds existed decodes as it did, and
// an array of lower bounds 1 is encoded as before (the key encoding of
// GROUP BY and DISTINCT tells '[0:1]={1,2}' from '{1,2}' by the layout,
// as PostgreSQL's equality does).
const (
	arrayVersion       = 1
	arrayVersionDims   = 2
	arrayVersionBounds = 3
)

// Storable reports whether a column can be of type t: a type
// KeyEncodable, or an array of one.
func Storable(t *types.T) bool {
	if t.Family() == types.ArrayFamily {
		// A column of an enum array would need its element type's
		// members in the descriptor, which only enum columns carry.
		return t.ArrayContents().Family() != types.EnumFamily && KeyEncodable(t.ArrayContents())
	}
	return KeyEncodable(t)
}

// encodeArray appends a's encoding; value selects the elements' row
// value encoding over their key encoding.
func encodeArray(b []byte, a *tree.DArray, value bool) ([]byte, error) {
	inner := []byte{arrayVersion}
	elems := a.Array
	if lower := pgarray.Lower(a); lower != nil {
		dims := pgarray.Dims(a)
		inner = encoding.EncodeUvarintAscending([]byte{arrayVersionBounds}, uint64(len(dims)))
		for _, l := range lower {
			inner = encoding.EncodeVarintAscending(inner, int64(l))
		}
		for _, n := range dims[1:] {
			inner = encoding.EncodeUvarintAscending(inner, uint64(n))
		}
		elems = pgarray.Flat(a)
	} else if pgarray.IsMulti(a) {
		dims := pgarray.Dims(a)
		inner = encoding.EncodeUvarintAscending([]byte{arrayVersionDims}, uint64(len(dims)))
		for _, n := range dims[1:] {
			inner = encoding.EncodeUvarintAscending(inner, uint64(n))
		}
		elems = pgarray.Flat(a)
	}
	inner = encoding.EncodeUvarintAscending(inner, uint64(len(a.Array)))
	var err error
	for _, el := range elems {
		if value {
			inner, err = EncodeValueDatum(inner, el)
		} else {
			inner, err = EncodeDatum(inner, el)
		}
		if err != nil {
			return nil, err
		}
	}
	return encoding.EncodeBytesAscending(b, inner), nil
}

// decodeArray decodes an array of type t encoded by encodeArray. Corrupt
// bytes are an error, never a panic or a huge allocation: the length is
// checked against the bytes left (every element takes at least one).
func decodeArray(b []byte, t *types.T, value bool) ([]byte, tree.Datum, error) {
	rest, inner, err := encoding.DecodeBytesAscending(b, nil)
	if err != nil {
		return nil, nil, err
	}
	if len(inner) == 0 || (inner[0] != arrayVersion && inner[0] != arrayVersionDims && inner[0] != arrayVersionBounds) {
		return nil, nil, errors.Newf("array: unknown encoding version")
	}
	var inner1, lower []int
	if inner[0] == arrayVersionDims || inner[0] == arrayVersionBounds {
		version := inner[0]
		var nd uint64
		if inner, nd, err = encoding.DecodeUvarintAscending(inner[1:]); err != nil {
			return nil, nil, err
		}
		minDims := uint64(2)
		if version == arrayVersionBounds {
			minDims = 1
		}
		if nd < minDims || nd > pgarray.MaxDims {
			return nil, nil, errors.Newf("array: %d dimensions", nd)
		}
		if version == arrayVersionBounds {
			lower = make([]int, nd)
			for i := range lower {
				var l int64
				if inner, l, err = encoding.DecodeVarintAscending(inner); err != nil {
					return nil, nil, err
				}
				if l < -1<<31 || l >= 1<<31 {
					return nil, nil, errors.Newf("array: lower bound %d", l)
				}
				lower[i] = int(l)
			}
		}
		inner1 = make([]int, nd-1)
		for i := range inner1 {
			var d uint64
			if inner, d, err = encoding.DecodeUvarintAscending(inner); err != nil {
				return nil, nil, err
			}
			if d == 0 || d > uint64(len(inner)) {
				return nil, nil, errors.Newf("array: dimension of %d in %d bytes", d, len(inner))
			}
			inner1[i] = int(d)
		}
	} else {
		inner = inner[1:]
	}
	inner, n, err := encoding.DecodeUvarintAscending(inner)
	if err != nil {
		return nil, nil, err
	}
	dims := append([]int{int(n)}, inner1...)
	for _, d := range inner1 {
		// Every element takes at least one byte: bounds the product.
		if n *= uint64(d); n > uint64(len(inner)) {
			break
		}
	}
	if n > uint64(len(inner)) {
		return nil, nil, errors.Newf("array: %d elements in %d bytes", n, len(inner))
	}
	elemType := t.ArrayContents()
	if elemType.Family() == types.ArrayFamily || !KeyEncodable(elemType) {
		return nil, nil, errors.Newf("array: cannot decode elements of type %s", elemType)
	}
	arr := tree.NewDArray(elemType)
	arr.Array = make(tree.Datums, 0, n)
	for i := uint64(0); i < n; i++ {
		var el tree.Datum
		if value {
			inner, el, err = DecodeValueDatum(inner, elemType)
		} else {
			inner, el, err = DecodeDatum(inner, elemType)
		}
		if err != nil {
			return nil, nil, err
		}
		if err := arr.Append(el); err != nil {
			return nil, nil, err
		}
	}
	if len(inner) != 0 {
		return nil, nil, errors.Newf("array: %d bytes after the elements", len(inner))
	}
	if lower != nil {
		if n == 0 {
			return nil, nil, errors.Newf("array: lower bounds of an empty array")
		}
		if err := pgarray.CheckBounds(dims, lower); err != nil {
			return nil, nil, err
		}
		return rest, pgarray.BuildBounded(elemType, dims, lower, arr.Array), nil
	}
	if len(inner1) > 0 {
		return rest, pgarray.Build(elemType, dims, arr.Array), nil
	}
	return rest, arr, nil
}
