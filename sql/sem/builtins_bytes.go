package sem

import (
	"bytes"
	"math/bits"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// The bytea forms of the string functions (substring, trims, overlay),
// the byte and bit accessors, and text overlay and the pattern forms of
// substring, as PostgreSQL 15 has them.

var _ = RegisterFamily(map[string][]tree.Overload{
	"overlay": {
		strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "placing", Typ: types.String}, {Name: "from", Typ: types.Int}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				placing := []rune(string(tree.MustBeDString(a[1])))
				return overlayText(a, len(placing))
			}),
		strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "placing", Typ: types.String}, {Name: "from", Typ: types.Int}, {Name: "for", Typ: types.Int}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return overlayText(a, int(tree.MustBeDInt(a[3])))
			}),
		strOverload(tree.ParamTypes{{Name: "s", Typ: types.Bytes}, {Name: "placing", Typ: types.Bytes}, {Name: "from", Typ: types.Int}}, types.Bytes,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return overlayBytes(a, len(tree.MustBeDBytes(a[1])))
			}),
		strOverload(tree.ParamTypes{{Name: "s", Typ: types.Bytes}, {Name: "placing", Typ: types.Bytes}, {Name: "from", Typ: types.Int}, {Name: "for", Typ: types.Int}}, types.Bytes,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return overlayBytes(a, int(tree.MustBeDInt(a[3])))
			}),
	},
	// bit_count(bytea): the bits set. (bit_count(bit) would be the bit
	// types', which Meridian does not have.)
	"bit_count": {strOverload(tree.ParamTypes{{Name: "bytes", Typ: types.Bytes}}, types.Int,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			n := 0
			for _, c := range []byte(tree.MustBeDBytes(a[0])) {
				n += bits.OnesCount8(c)
			}
			return tree.NewDInt(tree.DInt(n)), nil
		})},
	"get_byte": {strOverload(tree.ParamTypes{{Name: "bytes", Typ: types.Bytes}, {Name: "n", Typ: types.Int4}}, types.Int4,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			b := []byte(tree.MustBeDBytes(a[0]))
			n := int(tree.MustBeDInt(a[1]))
			if n < 0 || n >= len(b) {
				return nil, outOfRange(n, len(b)-1)
			}
			return tree.NewDInt(tree.DInt(b[n])), nil
		})},
	"set_byte": {strOverload(tree.ParamTypes{{Name: "bytes", Typ: types.Bytes}, {Name: "n", Typ: types.Int4}, {Name: "newbyte", Typ: types.Int4}}, types.Bytes,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			b := []byte(tree.MustBeDBytes(a[0]))
			n := int(tree.MustBeDInt(a[1]))
			if n < 0 || n >= len(b) {
				return nil, outOfRange(n, len(b)-1)
			}
			out := append([]byte(nil), b...)
			out[n] = byte(tree.MustBeDInt(a[2]))
			return tree.NewDBytes(tree.DBytes(out)), nil
		})},
	"get_bit": {strOverload(tree.ParamTypes{{Name: "bytes", Typ: types.Bytes}, {Name: "n", Typ: types.Int}}, types.Int4,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			b := []byte(tree.MustBeDBytes(a[0]))
			n := int(tree.MustBeDInt(a[1]))
			if n < 0 || n >= 8*len(b) {
				return nil, outOfRange(n, 8*len(b)-1)
			}
			return tree.NewDInt(tree.DInt(b[n/8] >> (n % 8) & 1)), nil
		})},
	"set_bit": {strOverload(tree.ParamTypes{{Name: "bytes", Typ: types.Bytes}, {Name: "n", Typ: types.Int}, {Name: "newbit", Typ: types.Int4}}, types.Bytes,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			b := []byte(tree.MustBeDBytes(a[0]))
			n := int(tree.MustBeDInt(a[1]))
			if n < 0 || n >= 8*len(b) {
				return nil, outOfRange(n, 8*len(b)-1)
			}
			bit := tree.MustBeDInt(a[2])
			if bit != 0 && bit != 1 {
				return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "new bit must be 0 or 1")
			}
			out := append([]byte(nil), b...)
			out[n/8] = out[n/8]&^(1<<(n%8)) | byte(bit)<<(n%8)
			return tree.NewDBytes(tree.DBytes(out)), nil
		})},
})

func outOfRange(n, last int) error {
	return pgerror.Newf("2202E", "index %d out of valid range, 0..%d", n, last)
}

// overlayText is overlay(s placing p from start for count): s with count
// characters from start replaced by p.
func overlayText(a tree.Datums, count int) (tree.Datum, error) {
	s, p := []rune(string(tree.MustBeDString(a[0]))), []rune(string(tree.MustBeDString(a[1])))
	out, err := overlay(s, p, int(tree.MustBeDInt(a[2])), count)
	if err != nil {
		return nil, err
	}
	return tree.NewDString(string(out)), nil
}

func overlayBytes(a tree.Datums, count int) (tree.Datum, error) {
	s, p := []byte(tree.MustBeDBytes(a[0])), []byte(tree.MustBeDBytes(a[1]))
	out, err := overlay(s, p, int(tree.MustBeDInt(a[2])), count)
	if err != nil {
		return nil, err
	}
	return tree.NewDBytes(tree.DBytes(out)), nil
}

func overlay[T any](s, p []T, start, count int) ([]T, error) {
	if start < 1 {
		return nil, pgerror.New("22011", "negative substring length not allowed")
	}
	// PostgreSQL's definition: substring(s, 1, start-1) || p ||
	// substring(s, start+count), whatever count's sign.
	head := s[:min(start-1, len(s))]
	var tail []T
	if from := max(start+count, 1); from-1 < len(s) {
		tail = s[from-1:]
	}
	return append(append(append([]T(nil), head...), p...), tail...), nil
}

// byteaSubstrFns are substring/substr over bytea, with the text forms'
// rules for start and count.
func byteaSubstrFns() []tree.Overload {
	sub := func(b []byte, start, count int64, bounded bool) (tree.Datum, error) {
		lo, hi, err := substrBounds(len(b), start, count, bounded)
		if err != nil {
			return nil, err
		}
		return tree.NewDBytes(tree.DBytes(b[lo:hi])), nil
	}
	return []tree.Overload{
		strOverload(tree.ParamTypes{{Name: "b", Typ: types.Bytes}, {Name: "start", Typ: types.Int}}, types.Bytes,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return sub([]byte(tree.MustBeDBytes(a[0])), int64(tree.MustBeDInt(a[1])), 0, false)
			}),
		strOverload(tree.ParamTypes{{Name: "b", Typ: types.Bytes}, {Name: "start", Typ: types.Int}, {Name: "count", Typ: types.Int}}, types.Bytes,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return sub([]byte(tree.MustBeDBytes(a[0])), int64(tree.MustBeDInt(a[1])), int64(tree.MustBeDInt(a[2])), true)
			}),
	}
}

// patternSubstrFns are SUBSTRING(s FROM pattern), the first match of a
// regular expression (its first parenthesized part if it has one), and
// SUBSTRING(s SIMILAR pattern ESCAPE e).
func patternSubstrFns() []tree.Overload {
	return []tree.Overload{
		strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "pattern", Typ: types.String}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				re, _, err := compileFlagged(string(tree.MustBeDString(a[1])), "")
				if err != nil {
					return nil, err
				}
				s := string(tree.MustBeDString(a[0]))
				m, err := re.find(&regexInput{s: s}, 0)
				switch {
				case err != nil:
					return nil, err
				case m == nil:
					return tree.DNull, nil
				case len(m) > 2:
					if m[2] < 0 {
						return tree.DNull, nil
					}
					return tree.NewDString(s[m[2]:m[3]]), nil
				}
				return tree.NewDString(s[m[0]:m[1]]), nil
			}),
		strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "pattern", Typ: types.String}, {Name: "escape", Typ: types.String}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return SimilarSubstring(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2])))
			}),
	}
}

// byteaTrimFn is btrim/ltrim/rtrim(bytes, bytesremoved).
func byteaTrimFn(f func(b, cut []byte) []byte) tree.Overload {
	return strOverload(tree.ParamTypes{{Name: "bytes", Typ: types.Bytes}, {Name: "bytesremoved", Typ: types.Bytes}}, types.Bytes,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDBytes(tree.DBytes(f([]byte(tree.MustBeDBytes(a[0])), []byte(tree.MustBeDBytes(a[1]))))), nil
		})
}

func bytesTrimLeft(b, cut []byte) []byte {
	for len(b) > 0 && bytes.IndexByte(cut, b[0]) >= 0 {
		b = b[1:]
	}
	return b
}

func bytesTrimRight(b, cut []byte) []byte {
	for len(b) > 0 && bytes.IndexByte(cut, b[len(b)-1]) >= 0 {
		b = b[:len(b)-1]
	}
	return b
}

func bytesTrim(b, cut []byte) []byte { return bytesTrimRight(bytesTrimLeft(b, cut), cut) }
