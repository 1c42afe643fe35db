package pgformat

import (
	"encoding/binary"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgarray"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// decodeArrayBinary reads an array parameter in PostgreSQL's binary
// format (array_recv; the layout encodeArrayBinary writes). Every length
// is checked against the bytes there are: a malformed value is 22P03,
// never a panic. The lower bounds are the array's.
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
	if ndim == 0 {
		if len(v) != 0 {
			return nil, bad()
		}
		return tree.NewDArray(elem), nil
	}
	if ndim > pgarray.MaxDims {
		return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", ndim, pgarray.MaxDims)
	}
	dims := make([]int, ndim)
	lower := make([]int, ndim)
	total := uint64(1)
	for i := range dims {
		n, ok1 := u32()
		lbound, ok2 := u32()
		if !ok1 || !ok2 {
			return nil, bad()
		}
		dims[i] = int(n)
		lower[i] = int(int32(lbound))
		total *= uint64(n)
		// Every element takes at least its 4-byte length.
		if total*4 > uint64(len(v)) {
			return nil, bad()
		}
	}
	flat := make(tree.Datums, 0, total)
	for i := uint64(0); i < total; i++ {
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
		flat = append(flat, d)
	}
	if len(v) != 0 {
		return nil, bad()
	}
	if err := pgarray.CheckBounds(dims, lower); err != nil {
		return nil, err
	}
	return pgarray.BuildBounded(elem, dims, lower, flat), nil
}
