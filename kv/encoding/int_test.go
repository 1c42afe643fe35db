package encoding

import (
	"bytes"
	"math"
	"testing"

	"github.com/cockroachdb/errors"
)

func TestUvarintEncoding(t *testing.T) {
	for _, tc := range []struct {
		v         uint64
		asc, desc []byte
	}{
		{0, []byte{0x88}, []byte{0x88}},
		{1, []byte{0x89}, []byte{0x87, 0xfe}},
		{109, []byte{0xf5}, []byte{0x87, 0x92}},
		{110, []byte{0xf6, 0x6e}, []byte{0x87, 0x91}},
		{255, []byte{0xf6, 0xff}, []byte{0x87, 0x00}},
		{256, []byte{0xf7, 0x01, 0x00}, []byte{0x86, 0xfe, 0xff}},
		{1 << 32, []byte{0xfa, 0x01, 0, 0, 0, 0}, []byte{0x83, 0xfe, 0xff, 0xff, 0xff, 0xff}},
		{math.MaxUint64, []byte{0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		if got := EncodeUvarintAscending(nil, tc.v); !bytes.Equal(got, tc.asc) {
			t.Errorf("EncodeUvarintAscending(%d) = %x, want %x", tc.v, got, tc.asc)
		}
		if got := EncodeUvarintDescending(nil, tc.v); !bytes.Equal(got, tc.desc) {
			t.Errorf("EncodeUvarintDescending(%d) = %x, want %x", tc.v, got, tc.desc)
		}
		if rest, v, err := DecodeUvarintAscending(tc.asc); err != nil || v != tc.v || len(rest) != 0 {
			t.Errorf("DecodeUvarintAscending(%x) = %x, %d, %v", tc.asc, rest, v, err)
		}
		if rest, v, err := DecodeUvarintDescending(tc.desc); err != nil || v != tc.v || len(rest) != 0 {
			t.Errorf("DecodeUvarintDescending(%x) = %x, %d, %v", tc.desc, rest, v, err)
		}
	}
}

func TestVarintEncoding(t *testing.T) {
	for _, tc := range []struct {
		v   int64
		asc []byte
	}{
		{math.MinInt64, []byte{0x80, 0x80, 0, 0, 0, 0, 0, 0, 0}},
		{-65537, []byte{0x85, 0xfe, 0xff, 0xff}},
		{-65536, []byte{0x86, 0x00, 0x00}},
		{-257, []byte{0x86, 0xfe, 0xff}},
		{-256, []byte{0x87, 0x00}},
		{-1, []byte{0x87, 0xff}},
		{0, []byte{0x88}},
		{109, []byte{0xf5}},
		{110, []byte{0xf6, 0x6e}},
		{math.MaxInt64, []byte{0xfd, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		if got := EncodeVarintAscending(nil, tc.v); !bytes.Equal(got, tc.asc) {
			t.Errorf("EncodeVarintAscending(%d) = %x, want %x", tc.v, got, tc.asc)
		}
		if rest, v, err := DecodeVarintAscending(tc.asc); err != nil || v != tc.v || len(rest) != 0 {
			t.Errorf("DecodeVarintAscending(%x) = %x, %d, %v", tc.asc, rest, v, err)
		}
		desc := EncodeVarintDescending(nil, tc.v)
		if rest, v, err := DecodeVarintDescending(desc); err != nil || v != tc.v || len(rest) != 0 {
			t.Errorf("DecodeVarintDescending(%x) = %x, %d, %v", desc, rest, v, err)
		}
	}
}

// TestIntDecodeErrors checks that truncated, non-minimal and mistyped
// input is rejected with ErrInvalidEncoding.
func TestIntDecodeErrors(t *testing.T) {
	type decoder func([]byte) error
	uAsc := func(b []byte) error { _, _, err := DecodeUvarintAscending(b); return err }
	uDesc := func(b []byte) error { _, _, err := DecodeUvarintDescending(b); return err }
	vAsc := func(b []byte) error { _, _, err := DecodeVarintAscending(b); return err }
	vDesc := func(b []byte) error { _, _, err := DecodeVarintDescending(b); return err }
	u32 := func(b []byte) error { _, _, err := DecodeUint32Ascending(b); return err }
	u64 := func(b []byte) error { _, _, err := DecodeUint64Descending(b); return err }
	for _, tc := range []struct {
		name string
		dec  decoder
		in   []byte
	}{
		{"uvarint empty", uAsc, nil},
		{"uvarint truncated", uAsc, []byte{0xf7, 0x01}},
		{"uvarint one byte below 110", uAsc, []byte{0xf6, 0x6d}},
		{"uvarint leading zero", uAsc, []byte{0xf7, 0x00, 0xff}},
		{"uvarint negative prefix", uAsc, []byte{0x87, 0xff}},
		{"uvarint wrong marker", uAsc, []byte{bytesAsc, 0x00, 0x01}},
		{"uvarint reserved 0xfe", uAsc, []byte{0xfe}},
		{"uvarint desc empty", uDesc, nil},
		{"uvarint desc ascending prefix", uDesc, []byte{0x89}},
		{"uvarint desc truncated", uDesc, []byte{0x86, 0x00}},
		{"uvarint desc leading 0xff", uDesc, []byte{0x86, 0xff, 0x00}},
		{"varint empty", vAsc, nil},
		{"varint overflow", vAsc, []byte{0xfd, 0x80, 0, 0, 0, 0, 0, 0, 0}},
		{"varint negative non-minimal", vAsc, []byte{0x86, 0xff, 0x00}},
		{"varint 8 bytes non-negative", vAsc, []byte{0x80, 0x7f, 0, 0, 0, 0, 0, 0, 0}},
		{"varint negative truncated", vAsc, []byte{0x80, 0x80}},
		{"varint wrong marker", vAsc, []byte{nullAsc}},
		{"varint desc wrong marker", vDesc, []byte{floatAsc}},
		{"uint32 short", u32, []byte{1, 2, 3}},
		{"uint64 short", u64, []byte{1, 2, 3, 4, 5, 6, 7}},
	} {
		err := tc.dec(tc.in)
		if err == nil {
			t.Errorf("%s: decoding %x succeeded", tc.name, tc.in)
		} else if !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("%s: error %v is not ErrInvalidEncoding", tc.name, err)
		}
	}
}

func TestFixedWidth(t *testing.T) {
	b := EncodeUint32Ascending(nil, 0x01020304)
	b = EncodeUint32Descending(b, 7)
	b = EncodeUint64Ascending(b, 0x0102030405060708)
	b = EncodeUint64Descending(b, 9)
	want := []byte{1, 2, 3, 4, 0xff, 0xff, 0xff, 0xf8, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf6}
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x, want %x", b, want)
	}
	b, a, err := DecodeUint32Ascending(b)
	if err != nil || a != 0x01020304 {
		t.Fatalf("DecodeUint32Ascending = %x, %v", a, err)
	}
	b, c, err := DecodeUint32Descending(b)
	if err != nil || c != 7 {
		t.Fatalf("DecodeUint32Descending = %d, %v", c, err)
	}
	b, d, err := DecodeUint64Ascending(b)
	if err != nil || d != 0x0102030405060708 {
		t.Fatalf("DecodeUint64Ascending = %x, %v", d, err)
	}
	b, e, err := DecodeUint64Descending(b)
	if err != nil || e != 9 || len(b) != 0 {
		t.Fatalf("DecodeUint64Descending = %d, %v, rest %x", e, err, b)
	}
}

// TestVarintExhaustiveOrder walks every varint length boundary and checks
// neighbours are ordered and round-trip.
func TestVarintExhaustiveOrder(t *testing.T) {
	var vals []int64
	for shift := uint(0); shift < 64; shift += 8 {
		for d := int64(-3); d <= 3; d++ {
			vals = append(vals, int64(1)<<shift+d, -(int64(1)<<shift)+d)
		}
	}
	vals = append(vals, math.MinInt64, math.MinInt64+1, math.MaxInt64, math.MaxInt64-1, intSmall, intSmall+1)
	for _, a := range vals {
		for _, b := range vals {
			want := 0
			if a < b {
				want = -1
			} else if a > b {
				want = 1
			}
			if got := bytes.Compare(EncodeVarintAscending(nil, a), EncodeVarintAscending(nil, b)); got != want {
				t.Fatalf("varint %d vs %d: got %d", a, b, got)
			}
			if got := bytes.Compare(EncodeVarintDescending(nil, a), EncodeVarintDescending(nil, b)); got != -want {
				t.Fatalf("varint desc %d vs %d: got %d", a, b, got)
			}
			ua, ub := uint64(a), uint64(b)
			uwant := 0
			if ua < ub {
				uwant = -1
			} else if ua > ub {
				uwant = 1
			}
			if got := bytes.Compare(EncodeUvarintAscending(nil, ua), EncodeUvarintAscending(nil, ub)); got != uwant {
				t.Fatalf("uvarint %d vs %d: got %d", ua, ub, got)
			}
			if got := bytes.Compare(EncodeUvarintDescending(nil, ua), EncodeUvarintDescending(nil, ub)); got != -uwant {
				t.Fatalf("uvarint desc %d vs %d: got %d", ua, ub, got)
			}
		}
	}
}
