package pgformat

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
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
func decodeJSON(v []byte, format int16) (tree.Datum, error) {
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
