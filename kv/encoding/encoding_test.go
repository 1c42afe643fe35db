package encoding

import (
	"bytes"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/errors"
)

// TestNullsFirst checks that NULL sorts before every value of every type in
// both directions.
func TestNullsFirst(t *testing.T) {
	values := [][]byte{
		EncodeUvarintAscending(nil, 0), EncodeVarintAscending(nil, -1<<63), EncodeUvarintDescending(nil, 1<<64-1),
		EncodeFloatAscending(nil, -1e308), EncodeFloatDescending(nil, 1e308),
		EncodeBytesAscending(nil, nil), EncodeBytesDescending(nil, []byte{0xff}),
		EncodeTimeAscending(nil, time.Unix(-1<<40, 0)), EncodeTimeDescending(nil, time.Unix(1<<40, 0)),
		EncodeDecimalAscending(nil, &apd.Decimal{Form: apd.Infinite, Negative: true}),
		EncodeDecimalDescending(nil, &apd.Decimal{Form: apd.NaN}),
		EncodeBoolAscending(nil, false), EncodeBoolDescending(nil, true),
	}
	for _, null := range [][]byte{EncodeNullAscending(nil), EncodeNullDescending(nil)} {
		for _, v := range values {
			if bytes.Compare(null, v) >= 0 {
				t.Errorf("NULL %x does not sort before %x", null, v)
			}
		}
		rest, isNull := DecodeIfNull(append(null, 0x42))
		if !isNull || !bytes.Equal(rest, []byte{0x42}) {
			t.Errorf("DecodeIfNull(%x) = %x, %v", null, rest, isNull)
		}
		if PeekType(null) != Null {
			t.Errorf("PeekType(%x) = %v", null, PeekType(null))
		}
	}
	for _, v := range values {
		if rest, isNull := DecodeIfNull(v); isNull || !bytes.Equal(rest, v) {
			t.Errorf("DecodeIfNull(%x) = %x, %v", v, rest, isNull)
		}
	}
}

func TestBool(t *testing.T) {
	if bytes.Compare(EncodeBoolAscending(nil, false), EncodeBoolAscending(nil, true)) >= 0 {
		t.Errorf("ascending: false does not sort first")
	}
	if bytes.Compare(EncodeBoolDescending(nil, true), EncodeBoolDescending(nil, false)) >= 0 {
		t.Errorf("descending: true does not sort first")
	}
	if _, _, err := DecodeBoolAscending(EncodeBoolDescending(nil, true)); !errors.Is(err, ErrInvalidEncoding) {
		t.Errorf("decoding a descending bool as ascending: %v", err)
	}
	if _, _, err := DecodeBoolDescending(nil); !errors.Is(err, ErrInvalidEncoding) {
		t.Errorf("decoding nothing: %v", err)
	}
}

func TestPeek(t *testing.T) {
	for _, tc := range []struct {
		in  []byte
		typ Type
		n   int // 0: PeekLength fails
	}{
		{nil, Unknown, 0},
		{[]byte{0x02}, Unknown, 0},
		{[]byte{0xfe}, Unknown, 0},
		{[]byte{0xff}, Unknown, 0},
		{[]byte{0x88, 0x42}, Int, 1},
		{[]byte{0xf7, 0x01}, Int, 0},
		{[]byte{0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Int, 9},
		{[]byte{floatDesc, 1, 2, 3}, Float, 0},
		{[]byte{bytesAsc, 'a', 0x00, 0xff, 0x00, 0x01, 0x42}, Bytes, 6},
		{[]byte{bytesAsc, 'a', 0x00}, Bytes, 0},
		{[]byte{bytesDesc, 0xff, 0xfe}, Bytes, 3},
		{[]byte{timeAsc, 0x88, 0x88, 0x42}, Time, 3},
		{[]byte{timeAsc, 0x88, 0x10}, Time, 0},
		{[]byte{timeDesc, 0x77}, Time, 0},
		{[]byte{decimalZeroAsc, 0x42}, Decimal, 1},
		{[]byte{decimalNaNDesc}, Decimal, 1},
		{[]byte{decimalPosAsc, 0x89, 16, 0, 0x42}, Decimal, 4},
		{[]byte{decimalPosAsc, 0x89, 16}, Decimal, 0},
		{[]byte{decimalPosAsc}, Decimal, 0},
		{[]byte{decimalPosAsc, 0x10}, Decimal, 0},
		{[]byte{decimalPosAsc, 0xf8}, Decimal, 0},
		{[]byte{0x10}, Bool, 1},
		{[]byte{0x01}, Null, 1},
	} {
		if typ := PeekType(tc.in); typ != tc.typ {
			t.Errorf("PeekType(%x) = %v, want %v", tc.in, typ, tc.typ)
		}
		n, err := PeekLength(tc.in)
		if tc.n == 0 {
			if !errors.Is(err, ErrInvalidEncoding) {
				t.Errorf("PeekLength(%x) = %d, %v; want ErrInvalidEncoding", tc.in, n, err)
			}
		} else if err != nil || n != tc.n {
			t.Errorf("PeekLength(%x) = %d, %v; want %d", tc.in, n, err, tc.n)
		}
	}
}

// TestErrorMessages checks that a decode error says what was being decoded
// and what is wrong, and is recognised by errors.Is through wrapping.
func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{func() error { _, _, err := DecodeUvarintAscending([]byte{0xf7, 0x01}); return err }(),
			"decoding uvarint: need 3 bytes, have 2"},
		{func() error { _, _, err := DecodeFloatAscending([]byte{bytesAsc}); return err }(),
			"decoding float: unexpected marker 0x16 (bytes)"},
		{func() error { _, _, err := DecodeDecimalAscending([]byte{decimalPosAsc, 0x89, 16, 1, 0}); return err }(),
			"decoding decimal: trailing zero digits"},
	} {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("got %v, want %q", tc.err, tc.want)
		}
		if wrapped := errors.Wrap(tc.err, "reading key"); !errors.Is(wrapped, ErrInvalidEncoding) {
			t.Errorf("%v: wrapped error is not ErrInvalidEncoding", tc.err)
		}
	}
}
