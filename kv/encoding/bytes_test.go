package encoding

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/errors"
)

func TestBytesEncoding(t *testing.T) {
	for _, tc := range []struct {
		v         string
		asc, desc []byte
	}{
		{"", []byte{bytesAsc, 0x00, 0x01}, []byte{bytesDesc, 0xff, 0xfe}},
		{"a", []byte{bytesAsc, 'a', 0x00, 0x01}, []byte{bytesDesc, ^byte('a'), 0xff, 0xfe}},
		{"\x00", []byte{bytesAsc, 0x00, 0xff, 0x00, 0x01}, []byte{bytesDesc, 0xff, 0x00, 0xff, 0xfe}},
		{"a\x00b\xff", []byte{bytesAsc, 'a', 0x00, 0xff, 'b', 0xff, 0x00, 0x01},
			[]byte{bytesDesc, ^byte('a'), 0xff, 0x00, ^byte('b'), 0x00, 0xff, 0xfe}},
	} {
		if got := EncodeBytesAscending(nil, []byte(tc.v)); !bytes.Equal(got, tc.asc) {
			t.Errorf("EncodeBytesAscending(%q) = %x, want %x", tc.v, got, tc.asc)
		}
		if got := EncodeStringAscending(nil, tc.v); !bytes.Equal(got, tc.asc) {
			t.Errorf("EncodeStringAscending(%q) = %x, want %x", tc.v, got, tc.asc)
		}
		if got := EncodeBytesDescending(nil, []byte(tc.v)); !bytes.Equal(got, tc.desc) {
			t.Errorf("EncodeBytesDescending(%q) = %x, want %x", tc.v, got, tc.desc)
		}
		if got := EncodeStringDescending(nil, tc.v); !bytes.Equal(got, tc.desc) {
			t.Errorf("EncodeStringDescending(%q) = %x, want %x", tc.v, got, tc.desc)
		}
		if _, s, err := DecodeStringAscending(tc.asc); err != nil || s != tc.v {
			t.Errorf("DecodeStringAscending(%x) = %q, %v", tc.asc, s, err)
		}
		if _, s, err := DecodeStringDescending(tc.desc); err != nil || s != tc.v {
			t.Errorf("DecodeStringDescending(%x) = %q, %v", tc.desc, s, err)
		}
	}
}

// TestBytesPrefixOrder checks that a value sorts before its extensions,
// whatever byte extends it, in both directions (reversed when descending).
func TestBytesPrefixOrder(t *testing.T) {
	sorted := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x01", "a", "a\x00", "a\x00\x00", "a\x01", "ab", "a\xff", "b", "\xff", "\xff\x00", "\xff\xff"}
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		if bytes.Compare(EncodeStringAscending(nil, a), EncodeStringAscending(nil, b)) >= 0 {
			t.Errorf("asc: %q does not sort before %q", a, b)
		}
		if bytes.Compare(EncodeStringDescending(nil, a), EncodeStringDescending(nil, b)) <= 0 {
			t.Errorf("desc: %q does not sort after %q", a, b)
		}
	}
}

func TestBytesDecodeIntoBuffer(t *testing.T) {
	buf := make([]byte, 0, 64)
	enc := EncodeBytesAscending(nil, []byte("x\x00y"))
	enc = append(enc, 0x42)
	rest, out, err := DecodeBytesAscending(enc, buf)
	if err != nil || string(out) != "x\x00y" || !bytes.Equal(rest, []byte{0x42}) {
		t.Fatalf("got %q, rest %x, %v", out, rest, err)
	}
	if &out[0] != &buf[:1][0] {
		t.Errorf("the value was not decoded into the buffer passed in")
	}
}

func TestBytesDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		desc bool
		in   []byte
	}{
		{"empty", false, nil},
		{"no terminator", false, []byte{bytesAsc, 'a'}},
		{"escape at end", false, []byte{bytesAsc, 'a', 0x00}},
		{"invalid escape", false, []byte{bytesAsc, 'a', 0x00, 0x02, 0x00, 0x01}},
		{"wrong direction", false, EncodeStringDescending(nil, "a")},
		{"desc no terminator", true, []byte{bytesDesc, 0x9e}},
		{"desc invalid escape", true, []byte{bytesDesc, 0xff, 0xfd, 0xff, 0xfe}},
		{"desc wrong direction", true, EncodeStringAscending(nil, "a")},
	} {
		_, out, err := decodeBytes(tc.in, nil, tc.desc)
		if !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("%s: decoding %x: got %q, %v; want ErrInvalidEncoding", tc.name, tc.in, out, err)
		}
		if tc.desc {
			_, _, err = DecodeStringDescending(tc.in)
		} else {
			_, _, err = DecodeStringAscending(tc.in)
		}
		if !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("%s: decoding %x as a string: got %v; want ErrInvalidEncoding", tc.name, tc.in, err)
		}
	}
}
