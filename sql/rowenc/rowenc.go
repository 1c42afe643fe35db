// Package rowenc encodes SQL values and rows as the keys and values of
// the sorted key-value store, and decodes them.
package rowenc

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeofday"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/uuid"
	"github.com/cockroachdb/errors"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// Rows are stored as one key-value pair each (DESIGN.md §6):
//
//	key   /<table ID>/<index ID = 1>/<primary key columns...>
//	value (<column ID> <value>)* for the other non-NULL columns
//
// Keys use kv/encoding's order-preserving encodings, so that key order is
// the primary key's SQL order; values use the same encodings (they are
// self-delimiting), each behind its column ID so that a column added later
// or a NULL left out costs nothing.

// KeyEncodable reports whether values of t can be stored (in a key or a
// value) by this version. A key column whose key encoding loses part of
// the value is stored in the row value too (StoredInValue).
func KeyEncodable(t *types.T) bool {
	switch t.Family() {
	case types.IntFamily, types.FloatFamily, types.DecimalFamily, types.StringFamily,
		types.BytesFamily, types.BoolFamily, types.TimestampFamily, types.TimestampTZFamily,
		types.DateFamily, types.UuidFamily, types.JsonFamily, types.TimeFamily, types.TimeTZFamily, types.IntervalFamily,
		types.EnumFamily:
		return true
	}
	return false
}

// EncodeDatum appends d's ascending key encoding.
func EncodeDatum(b []byte, d tree.Datum) ([]byte, error) {
	if d == tree.DNull {
		return encoding.EncodeNullAscending(b), nil
	}
	switch v := tree.UnwrapDOidWrapper(d).(type) {
	case *tree.DInt:
		return encoding.EncodeVarintAscending(b, int64(*v)), nil
	case *tree.DFloat:
		return encoding.EncodeFloatAscending(b, float64(*v)), nil
	case *tree.DDecimal:
		return encoding.EncodeDecimalAscending(b, &v.Decimal), nil
	case *tree.DString:
		return encoding.EncodeStringAscending(b, string(*v)), nil
	case *tree.DBytes:
		return encoding.EncodeBytesAscending(b, []byte(*v)), nil
	case *tree.DBool:
		return encoding.EncodeBoolAscending(b, bool(*v)), nil
	case *tree.DTimestamp:
		return encoding.EncodeTimeAscending(b, v.Time), nil
	case *tree.DTimestampTZ:
		return encoding.EncodeTimeAscending(b, v.Time), nil
	case *tree.DDate:
		return encoding.EncodeVarintAscending(b, v.UnixEpochDaysWithOrig()), nil
	case *tree.DUuid:
		return encoding.EncodeBytesAscending(b, v.GetBytes()), nil
	case *tree.DJSON:
		return encodeJSONKey(b, v), nil
	case *tree.DArray:
		return encodeArray(b, v, false)
	case *tree.DTime:
		return encodeTime(b, timeofday.TimeOfDay(*v)), nil
	case *tree.DTimeTZ:
		return encodeTimeTZ(b, v.TimeTZ), nil
	case *tree.DInterval:
		return encodeIntervalKey(b, v.Duration), nil
	case *tree.DEnum:
		// The physical representation orders as the labels were
		// declared, and survives a label's renaming.
		return encoding.EncodeBytesAscending(b, v.PhysicalRep), nil
	case *tree.DOid:
		// Not a column type; catalog queries' set operations and
		// DISTINCT encode OIDs (and regclass) to compare them.
		return encoding.EncodeVarintAscending(b, int64(v.Oid)), nil
	}
	return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "cannot store a value of type %s", d.ResolvedType())
}

// DecodeDatum decodes a value of type t encoded by EncodeDatum.
func DecodeDatum(b []byte, t *types.T) ([]byte, tree.Datum, error) {
	if rest, null := encoding.DecodeIfNull(b); null {
		return rest, tree.DNull, nil
	}
	switch t.Family() {
	case types.IntFamily:
		rest, v, err := encoding.DecodeVarintAscending(b)
		return rest, tree.NewDInt(tree.DInt(v)), err
	case types.FloatFamily:
		rest, v, err := encoding.DecodeFloatAscending(b)
		return rest, tree.NewDFloat(tree.DFloat(v)), err
	case types.DecimalFamily:
		rest, v, err := encoding.DecodeDecimalAscending(b)
		if err != nil {
			return nil, nil, err
		}
		d := &tree.DDecimal{}
		d.Decimal.Set(&v)
		return rest, d, nil
	case types.StringFamily:
		rest, v, err := encoding.DecodeStringAscending(b)
		return rest, tree.NewDString(v), err
	case types.BytesFamily:
		rest, v, err := encoding.DecodeBytesAscending(b, nil)
		return rest, tree.NewDBytes(tree.DBytes(v)), err
	case types.BoolFamily:
		rest, v, err := encoding.DecodeBoolAscending(b)
		return rest, tree.MakeDBool(tree.DBool(v)), err
	case types.TimestampFamily:
		rest, v, err := encoding.DecodeTimeAscending(b)
		return rest, &tree.DTimestamp{Time: v}, err
	case types.TimestampTZFamily:
		rest, v, err := encoding.DecodeTimeAscending(b)
		return rest, &tree.DTimestampTZ{Time: v}, err
	case types.DateFamily:
		rest, v, err := encoding.DecodeVarintAscending(b)
		if err != nil {
			return nil, nil, err
		}
		// The infinities are stored as MinInt64 and MaxInt64, which
		// MakeDateFromUnixEpoch refuses as out of range.
		return rest, tree.NewDDate(pgdate.MakeCompatibleDateFromDisk(v)), nil
	case types.UuidFamily:
		rest, v, err := encoding.DecodeBytesAscending(b, nil)
		if err != nil {
			return nil, nil, err
		}
		u, err := uuid.FromBytes(v)
		return rest, tree.NewDUuid(tree.DUuid{UUID: u}), err
	case types.JsonFamily:
		return decodeJSONKey(b)
	case types.ArrayFamily:
		return decodeArray(b, t, false)
	case types.TimeFamily:
		return decodeTime(b)
	case types.TimeTZFamily:
		return decodeTimeTZ(b)
	case types.IntervalFamily:
		return decodeIntervalKey(b)
	case types.OidFamily:
		rest, v, err := encoding.DecodeVarintAscending(b)
		if err != nil {
			return nil, nil, err
		}
		return rest, tree.NewDOidWithType(oid.Oid(v), t), nil
	case types.EnumFamily:
		rest, v, err := encoding.DecodeBytesAscending(b, nil)
		if err != nil {
			return nil, nil, err
		}
		e, err := tree.MakeDEnumFromPhysicalRepresentation(t, v)
		if err != nil {
			return nil, nil, err
		}
		return rest, &e, nil
	}
	return nil, nil, errors.AssertionFailedf("cannot decode a value of type %s", t)
}

// RowKey is the primary index key of row.
func RowKey(d *catalog.TableDescriptor, row tree.Datums) ([]byte, error) {
	key := d.IndexPrefix()
	var err error
	for _, i := range d.PrimaryKey {
		if key, err = EncodeDatum(key, row[i]); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// RowValue is the stored value of row: its non-key, non-NULL columns.
func RowValue(d *catalog.TableDescriptor, row tree.Datums) ([]byte, error) {
	var v []byte
	var err error
	for i := range d.Columns {
		if row[i] == tree.DNull || (IsKeyColumn(d, i) && !StoredInValue(d.Columns[i].Type())) {
			continue
		}
		v = encoding.EncodeUvarintAscending(v, uint64(d.Columns[i].ID))
		if v, err = EncodeValueDatum(v, row[i]); err != nil {
			return nil, err
		}
	}
	// A row whose columns are all in the key or NULL still needs a value:
	// an empty value would read as a deletion.
	if len(v) == 0 {
		v = []byte{0}
	}
	return v, nil
}

func IsKeyColumn(d *catalog.TableDescriptor, i int) bool {
	for _, k := range d.PrimaryKey {
		if k == i {
			return true
		}
	}
	return false
}

// DecodeRow rebuilds a row from its key and value.
func DecodeRow(d *catalog.TableDescriptor, key, value []byte) (tree.Datums, error) {
	row := make(tree.Datums, len(d.Columns))
	for i := range row {
		row[i] = tree.DNull
	}
	rest := primaryKeyColumns(d, key)
	for _, i := range d.PrimaryKey {
		var err error
		if rest, row[i], err = DecodeDatum(rest, d.Columns[i].Type()); err != nil {
			return nil, errors.Wrapf(err, "table %q: corrupt key", d.Name)
		}
	}
	err := forEachValueColumn(d, value, func(i int, b []byte) (rest []byte, err error) {
		rest, row[i], err = DecodeValueDatum(b, d.Columns[i].Type())
		return rest, err
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

// primaryKeyColumns is key, a key of d's primary index, from its columns
// on (past the table and index IDs).
func primaryKeyColumns(d *catalog.TableDescriptor, key []byte) []byte {
	var prefix [20]byte
	return key[len(encoding.EncodeUvarintAscending(encoding.EncodeUvarintAscending(prefix[:0], uint64(d.ID)), uint64(catalog.PrimaryIndexID))):]
}

// forEachValueColumn walks a row value: fn gets each column's ordinal in
// d and the value from the column's encoding on, and returns what follows
// the column. A dropped column's value is skipped, whatever its type.
// The value holds the columns in the descriptor's order (RowValue), so
// each is looked for from where the last one was found: no map built per
// row.
func forEachValueColumn(d *catalog.TableDescriptor, value []byte, fn func(i int, b []byte) (rest []byte, err error)) error {
	if len(value) == 1 && value[0] == 0 {
		return nil // all the row's columns are in the key, or NULL
	}
	next := 0
	for len(value) > 0 {
		var id uint64
		var err error
		if value, id, err = encoding.DecodeUvarintAscending(value); err != nil {
			return errors.Wrapf(err, "table %q: corrupt row value", d.Name)
		}
		i, ok := columnByID(d, uint32(id), next)
		if !ok {
			n, err := encoding.PeekLength(value)
			if err != nil {
				return errors.Wrapf(err, "table %q: corrupt value of dropped column %d", d.Name, id)
			}
			value = value[n:]
			continue
		}
		next = i + 1
		if value, err = fn(i, value); err != nil {
			return errors.Wrapf(err, "table %q: corrupt row value", d.Name)
		}
	}
	return nil
}

// columnByID is the ordinal of d's column id, looked for from ordinal
// from on, then before it.
func columnByID(d *catalog.TableDescriptor, id uint32, from int) (int, bool) {
	for i := from; i < len(d.Columns); i++ {
		if d.Columns[i].ID == id {
			return i, true
		}
	}
	for i := 0; i < from && i < len(d.Columns); i++ {
		if d.Columns[i].ID == id {
			return i, true
		}
	}
	return 0, false
}

// EncodeValueDatum encodes d for a row value. It is the key encoding,
// except for decimals: the key encoding normalizes them (2.50 = 2.5, as
// equality wants), while a stored value keeps its scale, as PostgreSQL's
// numeric does; and for floats, whose -0 a value keeps.
func EncodeValueDatum(b []byte, d tree.Datum) ([]byte, error) {
	switch v := d.(type) {
	case *tree.DDecimal:
		return encoding.EncodeStringAscending(b, v.Decimal.String()), nil
	case *tree.DFloat:
		// -0 is kept, which the key encoding makes +0.
		return encoding.EncodeFloatValue(b, float64(*v)), nil
	case *tree.DJSON:
		return encodeJSONValue(b, v), nil
	}
	if a, ok := d.(*tree.DArray); ok {
		return encodeArray(b, a, true)
	}
	if iv, ok := d.(*tree.DInterval); ok {
		return encodeIntervalValue(b, iv.Duration), nil
	}
	return EncodeDatum(b, d)
}

func DecodeValueDatum(b []byte, t *types.T) ([]byte, tree.Datum, error) {
	if t.Family() == types.JsonFamily {
		if rest, null := encoding.DecodeIfNull(b); null {
			return rest, tree.DNull, nil
		}
		if t.Oid() == oid.T_json {
			// json is stored as the text it was given.
			rest, s, err := encoding.DecodeStringAscending(b)
			if err != nil {
				return nil, nil, err
			}
			return rest, pgjson.TextDatum(s), nil
		}
		return decodeJSONValue(b)
	}
	if t.Family() == types.ArrayFamily {
		if rest, null := encoding.DecodeIfNull(b); null {
			return rest, tree.DNull, nil
		}
		return decodeArray(b, t, true)
	}
	if t.Family() == types.DecimalFamily {
		if rest, null := encoding.DecodeIfNull(b); null {
			return rest, tree.DNull, nil
		}
		rest, s, err := encoding.DecodeStringAscending(b)
		if err != nil {
			return nil, nil, err
		}
		d, err := tree.ParseDDecimal(s)
		return rest, d, err
	}
	if t.Family() == types.IntervalFamily {
		if rest, null := encoding.DecodeIfNull(b); null {
			return rest, tree.DNull, nil
		}
		return decodeIntervalValue(b)
	}
	if t.Family() == types.FloatFamily {
		if rest, null := encoding.DecodeIfNull(b); null {
			return rest, tree.DNull, nil
		}
		rest, v, err := encoding.DecodeFloatValue(b)
		return rest, tree.NewDFloat(tree.DFloat(v)), err
	}
	return DecodeDatum(b, t)
}

// IndexKey is row's entry in secondary index idx.
func IndexKey(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, row tree.Datums) ([]byte, error) {
	key := d.IndexPrefixOf(idx.ID)
	var err error
	for _, i := range idx.Columns {
		if key, err = EncodeDatum(key, row[i]); err != nil {
			return nil, err
		}
	}
	for _, i := range d.PrimaryKey {
		if key, err = EncodeDatum(key, row[i]); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// IndexValuesPrefix is the key prefix of the index entries with row's
// indexed values.
func IndexValuesPrefix(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, row tree.Datums) ([]byte, error) {
	key := d.IndexPrefixOf(idx.ID)
	var err error
	for _, i := range idx.Columns {
		if key, err = EncodeDatum(key, row[i]); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// PrimaryKeyFromIndexKey returns the primary key of the row an index
// entry points to.
func PrimaryKeyFromIndexKey(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, key []byte) ([]byte, error) {
	rest := key[len(d.IndexPrefixOf(idx.ID)):]
	var err error
	for _, i := range idx.Columns {
		if rest, _, err = DecodeDatum(rest, d.Columns[i].Type()); err != nil {
			return nil, errors.Wrapf(err, "table %q index %q: corrupt entry", d.Name, idx.Name)
		}
	}
	return append(d.IndexPrefix(), rest...), nil
}

// StoredEncoding is one column of a stored row as StoredKeyEncodings
// finds it: Key, its ascending key encoding, taken from the stored bytes;
// or Datum, the column decoded, where the bytes are not its key encoding
// (a stored decimal keeps its scale, JSON, intervals and types without a
// key encoding have forms of their own). Both nil: NULL.
type StoredEncoding struct {
	Key   []byte
	Datum tree.Datum
}

// StoredKeyEncodings appends to out the columns of the row stored at key
// with value (a pair of d's primary index), in d's column order, without
// decoding the columns whose stored bytes are their key encoding: the
// key's columns, and value columns whose value encoding is the key
// encoding (EncodeValueDatum). Key slices alias key and value.
func StoredKeyEncodings(d *catalog.TableDescriptor, key, value []byte, out []StoredEncoding) ([]StoredEncoding, error) {
	for range d.Columns {
		out = append(out, StoredEncoding{})
	}
	rest := primaryKeyColumns(d, key)
	for _, i := range d.PrimaryKey {
		n, err := encoding.PeekLength(rest)
		if err != nil {
			return nil, errors.Wrapf(err, "table %q: corrupt key", d.Name)
		}
		if _, null := encoding.DecodeIfNull(rest); !null {
			out[i].Key = rest[:n]
		}
		rest = rest[n:]
	}
	err := forEachValueColumn(d, value, func(i int, b []byte) ([]byte, error) {
		inKey := IsKeyColumn(d, i)
		if !inKey && !valueIsKeyEncoding(d.Columns[i].Type()) {
			rest, datum, err := DecodeValueDatum(b, d.Columns[i].Type())
			out[i].Datum = datum
			return rest, err
		}
		n, err := encoding.PeekLength(b)
		if err != nil {
			return nil, err
		}
		// A key column's copy is skipped: the key holds its key encoding.
		if _, null := encoding.DecodeIfNull(b); !null && !inKey {
			out[i].Key = b[:n]
		}
		return b[n:], nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// valueIsKeyEncoding reports whether EncodeValueDatum writes values of
// type t in their key encoding.
func valueIsKeyEncoding(t *types.T) bool {
	switch t.Family() {
	case types.DecimalFamily, types.JsonFamily, types.IntervalFamily, types.ArrayFamily:
		return false
	}
	return KeyEncodable(t)
}
