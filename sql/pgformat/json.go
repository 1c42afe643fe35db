package pgformat

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// jsonbBinaryVersion is the first byte of jsonb's binary format
// (jsonb_send): a format version, then the text form.
const jsonbBinaryVersion = 1

func encodeJSONBinary(d *tree.DJSON) []byte {
	return append([]byte{jsonbBinaryVersion}, pgjson.Format(d.JSON)...)
}

// decodeJSON reads a jsonb parameter: text, or binary (jsonb_recv: the
// version byte, then text).
func decodeJSON(v []byte, t *types.T, format int16) (tree.Datum, error) {
	if t.Oid() == oid.T_json {
		// json's binary format (json_recv) is its text.
		if err := pgjson.ValidateText(string(v)); err != nil {
			return nil, err
		}
		return pgjson.TextDatum(string(v)), nil
	}
	if format != 0 {
		if len(v) == 0 || v[0] != jsonbBinaryVersion {
			return nil, pgerror.New(pgerror.CodeInvalidBinaryRepresentation, "unsupported jsonb version number")
		}
		v = v[1:]
	}
	j, err := pgjson.Parse(string(v))
	if err != nil {
		return nil, err
	}
	return tree.NewDJSON(j), nil
}
