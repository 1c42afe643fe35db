package encoding

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the randomised tests (0: pick one and log it on failure)")

// newRand returns a generator seeded from -seed or at random; the seed is
// logged if the test fails so that the run can be repeated.
func newRand(t testing.TB) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random seed: rerun with -seed=%d", seed)
		}
	})
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// codec describes one encoded type to the generic tests: how to make random
// values, the order the encoding must reproduce, and how to encode and decode.
type codec struct {
	name string
	typ  Type
	gen  func(r *rand.Rand) any
	// cmp is the reference order (PostgreSQL's, for floats and decimals).
	cmp func(a, b any) int
	enc func(b []byte, v any, desc bool) []byte
	dec func(b []byte, desc bool) ([]byte, any, error)
	// same reports whether a decoded value is exactly what decoding the
	// encoding of want must give (normalised where the encoding normalises).
	same func(got, want any) bool
}

func (c codec) encode(v any, desc bool) []byte { return c.enc(nil, v, desc) }

var (
	uvarintCodec = codec{
		name: "uvarint", typ: Int, gen: func(r *rand.Rand) any { return genUint64(r) },
		cmp: func(a, b any) int { return cmp.Compare(a.(uint64), b.(uint64)) },
		enc: func(b []byte, v any, desc bool) []byte {
			if desc {
				return EncodeUvarintDescending(b, v.(uint64))
			}
			return EncodeUvarintAscending(b, v.(uint64))
		},
		dec: func(b []byte, desc bool) ([]byte, any, error) {
			if desc {
				return wrap(DecodeUvarintDescending(b))
			}
			return wrap(DecodeUvarintAscending(b))
		},
		same: func(got, want any) bool { return got == want },
	}
	varintCodec = codec{
		name: "varint", typ: Int, gen: func(r *rand.Rand) any { return genInt64(r) },
		cmp: func(a, b any) int { return cmp.Compare(a.(int64), b.(int64)) },
		enc: func(b []byte, v any, desc bool) []byte {
			if desc {
				return EncodeVarintDescending(b, v.(int64))
			}
			return EncodeVarintAscending(b, v.(int64))
		},
		dec: func(b []byte, desc bool) ([]byte, any, error) {
			if desc {
				return wrap(DecodeVarintDescending(b))
			}
			return wrap(DecodeVarintAscending(b))
		},
		same: func(got, want any) bool { return got == want },
	}
	floatCodec = codec{
		name: "float", typ: Float, gen: func(r *rand.Rand) any { return genFloat(r) },
		cmp: func(a, b any) int { return pgFloatCmp(a.(float64), b.(float64)) },
		enc: func(b []byte, v any, desc bool) []byte {
			if desc {
				return EncodeFloatDescending(b, v.(float64))
			}
			return EncodeFloatAscending(b, v.(float64))
		},
		dec: func(b []byte, desc bool) ([]byte, any, error) {
			if desc {
				return wrap(DecodeFloatDescending(b))
			}
			return wrap(DecodeFloatAscending(b))
		},
		same: func(got, want any) bool {
			g, w := got.(float64), want.(float64)
			switch {
			case math.IsNaN(w):
				return math.Float64bits(g) == math.Float64bits(math.NaN())
			case w == 0:
				return math.Float64bits(g) == 0 // -0 decodes as +0
			default:
				return math.Float64bits(g) == math.Float64bits(w)
			}
		},
	}
	bytesCodec = codec{
		name: "bytes", typ: Bytes, gen: func(r *rand.Rand) any { return genBytes(r) },
		cmp: func(a, b any) int { return bytes.Compare(a.([]byte), b.([]byte)) },
		enc: func(b []byte, v any, desc bool) []byte {
			if desc {
				return EncodeBytesDescending(b, v.([]byte))
			}
			return EncodeBytesAscending(b, v.([]byte))
		},
		dec: func(b []byte, desc bool) ([]byte, any, error) {
			if desc {
				return wrap(DecodeBytesDescending(b, nil))
			}
			return wrap(DecodeBytesAscending(b, nil))
		},
		same: func(got, want any) bool { return bytes.Equal(got.([]byte), want.([]byte)) },
	}
	stringCodec = codec{
		name: "string", typ: Bytes, gen: func(r *rand.Rand) any { return string(genBytes(r)) },
		cmp: func(a, b any) int { return strings.Compare(a.(string), b.(string)) },
		enc: func(b []byte, v any, desc bool) []byte {
			if desc {
				return EncodeStringDescending(b, v.(string))
			}
			return EncodeStringAscending(b, v.(string))
		},
		dec: func(b []byte, desc bool) ([]byte, any, error) {
			if desc {
				return wrap(DecodeStringDescending(b))
			}
			return wrap(DecodeStringAscending(b))
		},
		same: func(got, want any) bool { return got == want },
	}
	decimalCodec = codec{
		name: "decimal", typ: Decimal, gen: func(r *rand.Rand) any { return genDecimal(r) },
		cmp: func(a, b any) int { return pgDecimalCmp(a.(*apd.Decimal), b.(*apd.Decimal)) },
		enc: func(b []byte, v any, desc bool) []byte {
			if desc {
				return EncodeDecimalDescending(b, v.(*apd.Decimal))
			}
			return EncodeDecimalAscending(b, v.(*apd.Decimal))
		},
		dec: func(b []byte, desc bool) ([]byte, any, error) {
			var rest []byte
			var d apd.Decimal
			var err error
			if desc {
				rest, d, err = DecodeDecimalDescending(b)
			} else {
				rest, d, err = DecodeDecimalAscending(b)
			}
			return rest, &d, err
		},
		same: func(got, want any) bool {
			g, w := got.(*apd.Decimal), want.(*apd.Decimal)
			return pgDecimalCmp(g, w) == 0 && isNormalDecimal(g)
		},
	}
	timeCodec = codec{
		name: "time", typ: Time, gen: func(r *rand.Rand) any { return genTime(r) },
		cmp: func(a, b any) int { return a.(time.Time).Compare(b.(time.Time)) },
		enc: func(b []byte, v any, desc bool) []byte {
			if desc {
				return EncodeTimeDescending(b, v.(time.Time))
			}
			return EncodeTimeAscending(b, v.(time.Time))
		},
		dec: func(b []byte, desc bool) ([]byte, any, error) {
			if desc {
				return wrap(DecodeTimeDescending(b))
			}
			return wrap(DecodeTimeAscending(b))
		},
		same: func(got, want any) bool {
			g := got.(time.Time)
			return g.Equal(want.(time.Time)) && g.Location() == time.UTC
		},
	}
	boolCodec = codec{
		name: "bool", typ: Bool, gen: func(r *rand.Rand) any { return r.IntN(2) == 1 },
		cmp: func(a, b any) int {
			return cmp.Compare(boolInt(a.(bool)), boolInt(b.(bool)))
		},
		enc: func(b []byte, v any, desc bool) []byte {
			if desc {
				return EncodeBoolDescending(b, v.(bool))
			}
			return EncodeBoolAscending(b, v.(bool))
		},
		dec: func(b []byte, desc bool) ([]byte, any, error) {
			if desc {
				return wrap(DecodeBoolDescending(b))
			}
			return wrap(DecodeBoolAscending(b))
		},
		same: func(got, want any) bool { return got == want },
	}
)

var codecs = []codec{
	uvarintCodec, varintCodec, floatCodec, bytesCodec, stringCodec, decimalCodec, timeCodec, boolCodec,
}

func wrap[T any](rest []byte, v T, err error) ([]byte, any, error) { return rest, v, err }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pgFloatCmp orders floats as PostgreSQL orders float8: NaN above +Inf, all
// NaNs equal, -0 equal to +0.
func pgFloatCmp(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

// pgDecimalCmp orders decimals as PostgreSQL orders numeric: NaN above
// +Infinity, all NaNs equal.
func pgDecimalCmp(a, b *apd.Decimal) int {
	an := a.Form == apd.NaN || a.Form == apd.NaNSignaling
	bn := b.Form == apd.NaN || b.Form == apd.NaNSignaling
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return a.Cmp(b)
}

// isNormalDecimal reports whether d is in the form decoding returns.
func isNormalDecimal(d *apd.Decimal) bool {
	switch d.Form {
	case apd.NaN:
		return !d.Negative
	case apd.Infinite:
		return d.Coeff.Sign() == 0 && d.Exponent == 0
	case apd.Finite:
		if d.Coeff.Sign() == 0 {
			return !d.Negative && d.Exponent == 0
		}
		s := d.Coeff.String()
		return s[len(s)-1] != '0'
	}
	return false
}

// genUint64 favours small values and the edges between varint lengths.
func genUint64(r *rand.Rand) uint64 {
	switch r.IntN(4) {
	case 0:
		return r.Uint64N(300)
	case 1:
		shift := 8 * r.UintN(8)
		return (uint64(1) << shift) + uint64(r.IntN(5)) - 2
	default:
		return r.Uint64() >> r.UintN(64)
	}
}

func genInt64(r *rand.Rand) int64 {
	switch r.IntN(5) {
	case 0:
		return int64(r.IntN(600)) - 300
	case 1:
		return []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 - 1, -1, 0, 1}[r.IntN(7)]
	case 2:
		v := int64(1)<<(8*r.UintN(8)) + int64(r.IntN(5)) - 2
		if r.IntN(2) == 0 {
			v = -v
		}
		return v
	default:
		v := int64(r.Uint64() >> r.UintN(64))
		if r.IntN(2) == 0 {
			v = -v
		}
		return v
	}
}

var specialFloats = []float64{
	math.Inf(-1), -math.MaxFloat64, -1e300, -1, -math.SmallestNonzeroFloat64, math.Copysign(0, -1), 0,
	math.SmallestNonzeroFloat64, 0.5, 1, 1e300, math.MaxFloat64, math.Inf(1), math.NaN(),
	math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000000),
}

func genFloat(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return specialFloats[r.IntN(len(specialFloats))]
	case 1:
		return float64(r.IntN(21)-10) / 4
	default:
		return math.Float64frombits(r.Uint64())
	}
}

// genBytes draws from few byte values, the ones next to the escapes
// included, so that equal prefixes and escapes are common.
func genBytes(r *rand.Rand) []byte {
	alphabet := []byte{0x00, 0x01, 0x02, 'a', 0xfe, 0xff}
	b := make([]byte, r.IntN(7))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func genDecimal(r *rand.Rand) *apd.Decimal {
	d := new(apd.Decimal)
	switch r.IntN(12) {
	case 0:
		d.Form = []apd.Form{apd.NaN, apd.NaNSignaling, apd.Infinite}[r.IntN(3)]
		d.Negative = r.IntN(2) == 0
		return d
	case 1:
		d.Exponent = int32(r.IntN(7) - 3) // zero, with various exponents
		d.Negative = r.IntN(2) == 0
		return d
	}
	var digits []byte
	switch r.IntN(3) {
	case 0:
		digits = fmt.Appendf(nil, "%d", 1+r.IntN(1000))
	default:
		n := 1 + r.IntN(40)
		digits = make([]byte, n)
		for i := range digits {
			digits[i] = '0' + byte(r.IntN(10))
		}
	}
	for range r.IntN(4) {
		digits = append(digits, '0')
	}
	if _, ok := d.Coeff.SetString(string(digits), 10); !ok {
		panic(fmt.Sprintf("bad digits %q", digits))
	}
	d.Exponent = int32(r.IntN(41) - 20)
	d.Negative = r.IntN(2) == 0
	return d
}

// Unix seconds of PostgreSQL's timestamp range: 4713 BC to 294276 AD.
const (
	pgMinUnix = -210866803200
	pgMaxUnix = 9224318016000
)

func genTime(r *rand.Rand) time.Time {
	var sec int64
	switch r.IntN(3) {
	case 0:
		sec = int64(r.IntN(2001) - 1000)
	default:
		sec = pgMinUnix + r.Int64N(pgMaxUnix-pgMinUnix)
	}
	var nsec int64
	switch r.IntN(3) {
	case 0:
	case 1:
		nsec = r.Int64N(1e6) * 1000
	default:
		nsec = r.Int64N(1e9)
	}
	t := time.Unix(sec, nsec)
	if r.IntN(2) == 0 {
		t = t.In(time.FixedZone("X", 3600*(r.IntN(25)-12)))
	}
	return t
}

func formatValue(v any) string {
	switch v := v.(type) {
	case *apd.Decimal:
		return fmt.Sprintf("%s (form %v, neg %v)", v.String(), v.Form, v.Negative)
	case []byte:
		return fmt.Sprintf("%x", v)
	case string:
		return fmt.Sprintf("%q", v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(v)
	}
}
