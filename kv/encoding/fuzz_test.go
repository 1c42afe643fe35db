package encoding

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/errors"
)

// The fuzz targets feed arbitrary bytes to the decoders. A decoder must
// return an error that is ErrInvalidEncoding or a value; when it returns a
// value, the bytes it consumed must be exactly the encoding of that value
// (every value has one encoding) and PeekLength must agree. Seeds are the
// encodings of random values plus the corpus checked in under
// testdata/fuzz/<FuzzName>.

// addSeeds adds the encodings of a few random values of each codec, in
// both directions, followed by some noise.
func addSeeds(f *testing.F, cs ...codec) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cs {
		for range 8 {
			for _, desc := range []bool{false, true} {
				f.Add(append(c.encode(c.gen(r), desc), genBytes(r)...))
			}
		}
	}
}

// checkDecode runs one codec's decoder on data and checks the contract.
func checkDecode(t *testing.T, c codec, desc bool, data []byte) {
	rest, v, err := c.dec(data, desc)
	if err != nil {
		if !errors.Is(err, ErrInvalidEncoding) {
			t.Fatalf("%s %s: decoding %x: error %v is not ErrInvalidEncoding", c.name, dirName(desc), data, err)
		}
		return
	}
	n := consumed(data, rest)
	if n <= 0 || n > len(data) || !bytes.Equal(rest, data[n:]) {
		t.Fatalf("%s %s: decoding %x left %x", c.name, dirName(desc), data, rest)
	}
	if again := c.encode(v, desc); !bytes.Equal(again, data[:n]) {
		t.Fatalf("%s %s: %x decoded as %s, which encodes as %x", c.name, dirName(desc), data[:n], formatValue(v), again)
	}
	if typ := PeekType(data); typ != c.typ {
		t.Fatalf("%s %s: PeekType(%x) = %v", c.name, dirName(desc), data, typ)
	}
	if pl, err := PeekLength(data); err != nil || pl != n {
		t.Fatalf("%s %s: PeekLength(%x) = %d, %v; decoder used %d", c.name, dirName(desc), data, pl, err, n)
	}
}

func fuzzCodecs(f *testing.F, cs ...codec) {
	addSeeds(f, cs...)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range cs {
			checkDecode(t, c, false, data)
			checkDecode(t, c, true, data)
		}
	})
}

func FuzzDecodeInt(f *testing.F) {
	addSeeds(f, uvarintCodec, varintCodec)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range []codec{uvarintCodec, varintCodec} {
			checkDecode(t, c, false, data)
			checkDecode(t, c, true, data)
		}
		// Fixed widths accept any bytes that are long enough.
		if _, v, err := DecodeUint32Ascending(data); (err == nil) != (len(data) >= 4) ||
			(err == nil && !bytes.Equal(EncodeUint32Ascending(nil, v), data[:4])) {
			t.Fatalf("DecodeUint32Ascending(%x) = %d, %v", data, v, err)
		}
		if _, v, err := DecodeUint64Descending(data); (err == nil) != (len(data) >= 8) ||
			(err == nil && !bytes.Equal(EncodeUint64Descending(nil, v), data[:8])) {
			t.Fatalf("DecodeUint64Descending(%x) = %d, %v", data, v, err)
		}
	})
}

func FuzzDecodeFloat(f *testing.F) {
	f.Add(EncodeFloatAscending(nil, math.NaN()))
	f.Add([]byte{floatAsc, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // -0
	fuzzCodecs(f, floatCodec)
}

func FuzzDecodeBytes(f *testing.F) {
	f.Add([]byte{bytesAsc, 0x00, 0xff, 0x00, 0x01})
	f.Add([]byte{bytesDesc, 0xff, 0x00, 0xff, 0xfe})
	addSeeds(f, bytesCodec)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range []codec{bytesCodec, stringCodec} {
			checkDecode(t, c, false, data)
			checkDecode(t, c, true, data)
		}
		// Decoding into a buffer appends to it and leaves it intact on error.
		buf := append(make([]byte, 0, 8), 'x')
		_, out, err := DecodeBytesAscending(data, buf)
		if len(out) == 0 || out[0] != 'x' || (err != nil && len(out) != 1) {
			t.Fatalf("DecodeBytesAscending(%x, %q) = %q, %v", data, buf, out, err)
		}
	})
}

func FuzzDecodeDecimal(f *testing.F) {
	for _, s := range []string{"NaN", "-Infinity", "0", "-1.5", "1E+1000", "12345678901234567890123"} {
		d, _, _ := apd.NewFromString(s)
		f.Add(EncodeDecimalAscending(nil, d))
		f.Add(EncodeDecimalDescending(nil, d))
	}
	fuzzCodecs(f, decimalCodec)
}

func FuzzDecodeTime(f *testing.F) {
	f.Add(EncodeTimeAscending(nil, time.Unix(math.MaxInt64, 999999999)))
	f.Add(EncodeTimeDescending(nil, time.Unix(math.MinInt64, 0)))
	fuzzCodecs(f, timeCodec)
}

// FuzzDecodeKey walks arbitrary bytes as a key of several columns, as a
// reader that does not know the schema would: PeekType and PeekLength to
// find each column, then every decoder of that type in both directions.
func FuzzDecodeKey(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 32 {
		var key []byte
		for range 1 + r.IntN(4) {
			c := codecs[r.IntN(len(codecs))]
			switch desc := r.IntN(2) == 0; {
			case r.IntN(5) == 0 && desc:
				key = EncodeNullDescending(key)
			case r.IntN(5) == 0:
				key = EncodeNullAscending(key)
			default:
				key = c.enc(key, c.gen(r), desc)
			}
		}
		f.Add(key)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for b := data; len(b) > 0; {
			n, err := PeekLength(b)
			if err != nil {
				if !errors.Is(err, ErrInvalidEncoding) {
					t.Fatalf("PeekLength(%x): error %v is not ErrInvalidEncoding", b, err)
				}
				return
			}
			if n <= 0 || n > len(b) {
				t.Fatalf("PeekLength(%x) = %d", b, n)
			}
			typ := PeekType(b)
			if typ == Null {
				if rest, isNull := DecodeIfNull(b); !isNull || len(rest) != len(b)-1 {
					t.Fatalf("DecodeIfNull(%x) = %x, %v", b, rest, isNull)
				}
			}
			for _, c := range codecs {
				if c.typ == typ {
					checkDecode(t, c, false, b)
					checkDecode(t, c, true, b)
				} else if _, _, err := c.dec(b, false); err == nil {
					t.Fatalf("%s decoder accepted %x, a %v", c.name, b, typ)
				}
			}
			b = b[n:]
		}
	})
}
