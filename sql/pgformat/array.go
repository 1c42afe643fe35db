package pgformat

import (
	"encoding/binary"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// decodeArrayBinary reads an array parameter in PostgreSQL's binary
// format (array_recv; the layout encodeArrayBinary writes). Every length
// is checked against the bytes there are: a malformed value is 22P03,
// never a panic. Arrays of more than one dimension are 0A000 (the
// parser's arrays have one).
func decodeArrayBinary(v []byte, t *types.T, pc tree.ParseContext) (tree.Datum, error) {
	bad := func() error {
		return pgerror.Newf(pgerror.CodeInvalidBinaryRepresentation, "invalid binary array of %d bytes for type %s", len(v), t.SQLString())
	}
	u32 := func() (uint32, bool) {
		if len(v) < 4 {
			return 0, false
		}
		x := binary.BigEndian.Uint32(v)
		v = v[4:]
		return x, true
	}
	ndim, ok1 := u32()
	_, ok2 := u32() // the has-NULLs flag: the elements tell
	_, ok3 := u32() // the element type's OID: the parameter's type says
	if !ok1 || !ok2 || !ok3 {
		return nil, bad()
	}
	elem := t.ArrayContents()
	out := tree.NewDArray(elem)
	switch ndim {
	case 0:
		if len(v) != 0 {
			return nil, bad()
		}
		return out, nil
	case 1:
	default:
		return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "multidimensional arrays are not supported yet")
	}
	n, ok1 := u32()
	lbound, ok2 := u32()
	if !ok1 || !ok2 || uint64(n)*4 > uint64(len(v)) {
		return nil, bad()
	}
	if lbound != 1 {
		return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "arrays with a lower bound other than 1 are not supported yet")
	}
	for i := uint32(0); i < n; i++ {
		l, ok := u32()
		if !ok {
			return nil, bad()
		}
		var d tree.Datum = tree.DNull
		if l != 0xffffffff {
			if uint64(l) > uint64(len(v)) {
				return nil, bad()
			}
			var err error
			if d, err = DecodeParam(v[:l:l], elem, 1, pc); err != nil {
				return nil, err
			}
			v = v[l:]
		}
		if err := out.Append(d); err != nil {
			return nil, pgerror.WithCode(err, pgerror.CodeInvalidBinaryRepresentation)
		}
	}
	if len(v) != 0 {
		return nil, bad()
	}
	return out, nil
}
