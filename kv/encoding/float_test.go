package encoding

import (
	"bytes"
	"math"
	"testing"

	"github.com/cockroachdb/errors"
)

// TestFloatOrder checks PostgreSQL's float8 order on a sorted list:
// -Inf < negatives < -0 = 0 < positives < +Inf < NaN.
func TestFloatOrder(t *testing.T) {
	negZero := math.Copysign(0, -1)
	sorted := [][]float64{ // each inner list holds equal values
		{math.Inf(-1)},
		{-math.MaxFloat64},
		{-1},
		{-math.SmallestNonzeroFloat64},
		{negZero, 0},
		{math.SmallestNonzeroFloat64},
		{1},
		{math.MaxFloat64},
		{math.Inf(1)},
		{math.NaN(), math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000000)},
	}
	for i, as := range sorted {
		for j, bs := range sorted {
			for _, a := range as {
				for _, b := range bs {
					want := 0
					if i < j {
						want = -1
					} else if i > j {
						want = 1
					}
					if got := bytes.Compare(EncodeFloatAscending(nil, a), EncodeFloatAscending(nil, b)); got != want {
						t.Errorf("asc %v vs %v: got %d, want %d", a, b, got, want)
					}
					if got := bytes.Compare(EncodeFloatDescending(nil, a), EncodeFloatDescending(nil, b)); got != -want {
						t.Errorf("desc %v vs %v: got %d, want %d", a, b, got, -want)
					}
				}
			}
		}
	}
	_, z, err := DecodeFloatAscending(EncodeFloatAscending(nil, negZero))
	if err != nil || math.Float64bits(z) != 0 {
		t.Errorf("-0 decoded as %v (bits %x), %v; want +0", z, math.Float64bits(z), err)
	}
}

func TestFloatDecodeErrors(t *testing.T) {
	negZero := []byte{floatAsc, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	otherNaN := []byte{floatAsc, 0xff, 0xf0, 0, 0, 0, 0, 0, 1}
	for _, tc := range []struct {
		name string
		desc bool
		in   []byte
	}{
		{"empty", false, nil},
		{"truncated", false, []byte{floatAsc, 0x80}},
		{"descending marker", false, EncodeFloatDescending(nil, 1)},
		{"ascending marker", true, EncodeFloatAscending(nil, 1)},
		{"-0", false, negZero},
		{"non-canonical NaN", false, otherNaN},
		{"negative NaN", false, []byte{floatAsc, 0x00, 0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}},
	} {
		var err error
		if tc.desc {
			_, _, err = DecodeFloatDescending(tc.in)
		} else {
			_, _, err = DecodeFloatAscending(tc.in)
		}
		if !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("%s: decoding %x: got %v, want ErrInvalidEncoding", tc.name, tc.in, err)
		}
	}
}

// TestFloatValueKeepsNegativeZero: a stored value keeps -0's sign, and
// decodes what EncodeFloatAscending wrote as before.
func TestFloatValueKeepsNegativeZero(t *testing.T) {
	for _, f := range []float64{math.Copysign(0, -1), 0, -1.5, math.Inf(1), math.NaN()} {
		rest, got, err := DecodeFloatValue(append(EncodeFloatValue(nil, f), 'x'))
		if err != nil || string(rest) != "x" || math.Float64bits(got) != math.Float64bits(f) && !(f != f && got != got) {
			t.Errorf("%v: decoded %v (rest %q, err %v)", f, got, rest, err)
		}
		if _, got, err := DecodeFloatValue(EncodeFloatAscending(nil, f)); err != nil || got != f && f == f {
			t.Errorf("%v from the key encoding: %v, %v", f, got, err)
		}
	}
	if _, _, err := DecodeFloatAscending(EncodeFloatValue(nil, math.Copysign(0, -1))); err == nil {
		t.Errorf("a key decoder accepted -0")
	}
}
