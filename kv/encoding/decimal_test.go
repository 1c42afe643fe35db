package encoding

import (
	"bytes"
	"math"
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/errors"
)

func mustDecimal(t *testing.T, s string) *apd.Decimal {
	t.Helper()
	d, _, err := apd.NewFromString(s)
	if err != nil {
		t.Fatalf("parsing %q: %v", s, err)
	}
	return d
}

// TestDecimalOrder checks PostgreSQL's numeric order on a sorted list of
// classes of equal values written differently.
func TestDecimalOrder(t *testing.T) {
	sorted := [][]string{
		{"-Infinity"},
		{"-1E+1000"},
		{"-12345678901234567890123456789"},
		{"-101", "-1.01E2", "-101.000"},
		{"-100", "-1E2", "-100.0"},
		{"-99.99"},
		{"-1.5", "-1.50", "-15E-1"},
		{"-1", "-1.0", "-1.000000000000000000000000"},
		{"-0.1"},
		{"-1E-1000"},
		{"0", "-0", "0.000", "0E+10", "-0E-3"},
		{"1E-1000"},
		{"0.001"},
		{"0.1", "0.10"},
		{"0.12"},
		{"0.123"},
		{"1", "1.0", "1.00", "10E-1"},
		{"1.0000000000000000000001"},
		{"1.01"},
		{"1.1"},
		{"9.99"},
		{"10", "1E1", "10.0"},
		{"11"},
		{"100"},
		{"12345678901234567890123456789"},
		{"1E+1000"},
		{"Infinity"},
		{"NaN", "-NaN", "sNaN"},
	}
	for i, as := range sorted {
		for j, bs := range sorted {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			for _, a := range as {
				for _, b := range bs {
					da, db := mustDecimal(t, a), mustDecimal(t, b)
					if got := bytes.Compare(EncodeDecimalAscending(nil, da), EncodeDecimalAscending(nil, db)); got != want {
						t.Errorf("asc %s vs %s: got %d, want %d", a, b, got, want)
					}
					if got := bytes.Compare(EncodeDecimalDescending(nil, da), EncodeDecimalDescending(nil, db)); got != -want {
						t.Errorf("desc %s vs %s: got %d, want %d", a, b, got, -want)
					}
				}
			}
		}
	}
}

// TestDecimalNormalised checks what decoding returns: the value without
// trailing zeros.
func TestDecimalNormalised(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1.00", "1"},
		{"100", "1E+2"},
		{"-0.0", "0"},
		{"0E+5", "0"},
		{"12.3400", "12.34"},
		{"-NaN", "NaN"},
		{"sNaN", "NaN"},
		{"-Infinity", "-Infinity"},
		{"123456789012345678901234567890.000", "1.2345678901234567890123456789E+29"},
	} {
		for _, desc := range []bool{false, true} {
			var got apd.Decimal
			var err error
			if desc {
				_, got, err = DecodeDecimalDescending(EncodeDecimalDescending(nil, mustDecimal(t, tc.in)))
			} else {
				_, got, err = DecodeDecimalAscending(EncodeDecimalAscending(nil, mustDecimal(t, tc.in)))
			}
			if err != nil || got.String() != tc.want {
				t.Errorf("%s (%s): decoded %s, %v; want %s", tc.in, dirName(desc), got.String(), err, tc.want)
			}
		}
	}
}

func TestDecimalEncoding(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
	}{
		{"NaN", []byte{decimalNaNAsc}},
		{"0", []byte{decimalZeroAsc}},
		{"1.5", []byte{decimalPosAsc, 0x89, 16, 0x00}}, // 0.15E1
		{"123", []byte{decimalPosAsc, 0x8b, 13, 31, 0x00}},
		{"-1.5", []byte{decimalNegAsc, ^byte(0x89), ^byte(16), 0xff}},
		{"0.001", []byte{decimalPosAsc, 0x87, 0xfe, 11, 0x00}}, // 0.1E-2
	} {
		if got := EncodeDecimalAscending(nil, mustDecimal(t, tc.in)); !bytes.Equal(got, tc.want) {
			t.Errorf("EncodeDecimalAscending(%s) = %x, want %x", tc.in, got, tc.want)
		}
	}
}

// TestDecimalExponentLimits checks the ends of apd's int32 exponent.
func TestDecimalExponentLimits(t *testing.T) {
	for _, d := range []*apd.Decimal{
		apd.New(1, math.MaxInt32), apd.New(-123, math.MaxInt32), apd.New(1, math.MinInt32),
		apd.New(math.MaxInt64, math.MinInt32), apd.New(7, 0),
	} {
		_, got, err := DecodeDecimalAscending(EncodeDecimalAscending(nil, d))
		if err != nil || got.Cmp(d) != 0 {
			t.Errorf("%s: decoded %s, %v", d, got.String(), err)
		}
	}
	// The normalised exponent of 10E+MaxInt32 does not fit an int32.
	_, _, err := DecodeDecimalAscending(EncodeDecimalAscending(nil, apd.New(10, math.MaxInt32)))
	if !errors.Is(err, ErrInvalidEncoding) {
		t.Errorf("10E+MaxInt32: got %v, want ErrInvalidEncoding", err)
	}
}

func TestDecimalDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		desc bool
		in   []byte
	}{
		{"empty", false, nil},
		{"wrong marker", false, []byte{floatAsc}},
		{"descending marker", false, []byte{decimalNaNDesc}},
		{"ascending marker", true, []byte{decimalNaNAsc}},
		{"no exponent", false, []byte{decimalPosAsc}},
		{"bad exponent", false, []byte{decimalPosAsc, 0x10, 11, 0}},
		{"no terminator", false, []byte{decimalPosAsc, 0x89, 16}},
		{"no digits", false, []byte{decimalPosAsc, 0x89, 0}},
		{"leading zero", false, []byte{decimalPosAsc, 0x89, 2, 0}},
		{"trailing zeros", false, []byte{decimalPosAsc, 0x89, 16, 1, 0}},
		{"pair above 99", false, []byte{decimalPosAsc, 0x89, 102, 0}},
		{"exponent out of range", false, []byte{decimalPosAsc, 0xfd, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 11, 0}},
		{"negative uncomplemented", false, []byte{decimalNegAsc, 0x89, 16, 0x00}},
	} {
		var err error
		if tc.desc {
			_, _, err = DecodeDecimalDescending(tc.in)
		} else {
			_, _, err = DecodeDecimalAscending(tc.in)
		}
		if !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("%s: decoding %x: got %v, want ErrInvalidEncoding", tc.name, tc.in, err)
		}
	}
}
