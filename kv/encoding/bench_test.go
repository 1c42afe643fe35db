package encoding

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// intBenchValues span the varint lengths: one byte, two, four, nine.
var intBenchValues = []int64{7, 200, 1 << 30, math.MaxInt64}

// sink keeps results alive so the compiler cannot drop the work.
var sink struct {
	b []byte
	u uint64
	i int64
	f float64
	d apd.Decimal
	t time.Time
}

func BenchmarkEncodeUvarint(b *testing.B) {
	for _, v := range intBenchValues {
		b.Run("v="+strconv.FormatInt(v, 10), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 16)
			for b.Loop() {
				buf = EncodeUvarintAscending(buf[:0], uint64(v))
			}
			sink.b = buf
		})
	}
}

func BenchmarkEncodeVarint(b *testing.B) {
	for _, v := range intBenchValues {
		for _, v := range []int64{v, -v} {
			b.Run("v="+strconv.FormatInt(v, 10), func(b *testing.B) {
				b.ReportAllocs()
				buf := make([]byte, 0, 16)
				for b.Loop() {
					buf = EncodeVarintAscending(buf[:0], v)
				}
				sink.b = buf
			})
		}
	}
}

func BenchmarkDecodeUvarint(b *testing.B) {
	for _, v := range intBenchValues {
		b.Run("v="+strconv.FormatInt(v, 10), func(b *testing.B) {
			b.ReportAllocs()
			enc := EncodeUvarintAscending(nil, uint64(v))
			for b.Loop() {
				_, u, err := DecodeUvarintAscending(enc)
				if err != nil {
					b.Fatal(err)
				}
				sink.u = u
			}
		})
	}
}

func BenchmarkDecodeVarint(b *testing.B) {
	for _, v := range intBenchValues {
		for _, v := range []int64{v, -v} {
			b.Run("v="+strconv.FormatInt(v, 10), func(b *testing.B) {
				b.ReportAllocs()
				enc := EncodeVarintAscending(nil, v)
				for b.Loop() {
					_, i, err := DecodeVarintAscending(enc)
					if err != nil {
						b.Fatal(err)
					}
					sink.i = i
				}
			})
		}
	}
}

func BenchmarkEncodeFloat(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 16)
	for b.Loop() {
		buf = EncodeFloatAscending(buf[:0], 3.25)
	}
	sink.b = buf
}

func BenchmarkDecodeFloat(b *testing.B) {
	b.ReportAllocs()
	enc := EncodeFloatAscending(nil, 3.25)
	for b.Loop() {
		_, f, err := DecodeFloatAscending(enc)
		if err != nil {
			b.Fatal(err)
		}
		sink.f = f
	}
}

// benchBytes returns n bytes with a zero (an escape) every 16 bytes.
func benchBytes(n int) []byte {
	v := make([]byte, n)
	for i := range v {
		if i%16 != 15 {
			v[i] = byte('a' + i%26)
		}
	}
	return v
}

func BenchmarkEncodeBytes(b *testing.B) {
	for _, n := range []int{8, 64, 1024} {
		v := benchBytes(n)
		b.Run("len="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			buf := make([]byte, 0, 2*n+8)
			for b.Loop() {
				buf = EncodeBytesAscending(buf[:0], v)
			}
			sink.b = buf
		})
	}
}

func BenchmarkDecodeBytes(b *testing.B) {
	for _, n := range []int{8, 64, 1024} {
		enc := EncodeBytesAscending(nil, benchBytes(n))
		b.Run("len="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			buf := make([]byte, 0, n)
			for b.Loop() {
				var err error
				_, buf, err = DecodeBytesAscending(enc, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
			}
			sink.b = buf
		})
	}
}

var benchDecimals = []string{"1.5", "-123456.789", "12345678901234567890.12345678901234567890"}

func BenchmarkEncodeDecimal(b *testing.B) {
	for _, s := range benchDecimals {
		d, _, err := apd.NewFromString(s)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("d="+s, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64)
			for b.Loop() {
				buf = EncodeDecimalAscending(buf[:0], d)
			}
			sink.b = buf
		})
	}
}

func BenchmarkDecodeDecimal(b *testing.B) {
	for _, s := range benchDecimals {
		d, _, err := apd.NewFromString(s)
		if err != nil {
			b.Fatal(err)
		}
		enc := EncodeDecimalAscending(nil, d)
		b.Run("d="+s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, d, err := DecodeDecimalAscending(enc)
				if err != nil {
					b.Fatal(err)
				}
				sink.d = d
			}
		})
	}
}

var benchTime = time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.UTC)

func BenchmarkEncodeTime(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 16)
	for b.Loop() {
		buf = EncodeTimeAscending(buf[:0], benchTime)
	}
	sink.b = buf
}

func BenchmarkDecodeTime(b *testing.B) {
	b.ReportAllocs()
	enc := EncodeTimeDescending(nil, benchTime)
	for b.Loop() {
		_, t, err := DecodeTimeDescending(enc)
		if err != nil {
			b.Fatal(err)
		}
		sink.t = t
	}
}

// TestZeroAllocs asserts that the hot paths do not allocate: integers
// (required: every key holds table and index IDs), and floats, bools,
// times, small decimals and bytes decoded into a buffer.
func TestZeroAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	small, _, _ := apd.NewFromString("-123.45")
	smallEnc := EncodeDecimalAscending(nil, small)
	bytesEnc := EncodeBytesAscending(nil, []byte("a\x00b"))
	timeEnc := EncodeTimeDescending(nil, benchTime)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"EncodeUvarintAscending", func() { buf = EncodeUvarintAscending(buf[:0], 1<<40) }},
		{"EncodeUvarintDescending", func() { buf = EncodeUvarintDescending(buf[:0], 1<<40) }},
		{"EncodeVarintAscending", func() { buf = EncodeVarintAscending(buf[:0], -1<<40) }},
		{"EncodeVarintDescending", func() { buf = EncodeVarintDescending(buf[:0], 1<<40) }},
		{"DecodeUvarintAscending", func() { _, sink.u, _ = DecodeUvarintAscending([]byte{0xfa, 1, 0, 0, 0, 0}) }},
		{"DecodeUvarintDescending", func() { _, sink.u, _ = DecodeUvarintDescending([]byte{0x86, 1, 0}) }},
		{"DecodeVarintAscending", func() { _, sink.i, _ = DecodeVarintAscending([]byte{0x86, 1, 0}) }},
		{"DecodeVarintDescending", func() { _, sink.i, _ = DecodeVarintDescending([]byte{0xf7, 1, 0}) }},
		{"EncodeUint64Ascending", func() { buf = EncodeUint64Ascending(buf[:0], 7) }},
		{"DecodeUint32Descending", func() { _, _, _ = DecodeUint32Descending([]byte{1, 2, 3, 4}) }},
		{"EncodeFloatDescending", func() { buf = EncodeFloatDescending(buf[:0], -2.5) }},
		{"DecodeFloatAscending", func() { _, sink.f, _ = DecodeFloatAscending([]byte{floatAsc, 0xc0, 0, 0, 0, 0, 0, 0, 0}) }},
		{"EncodeBoolAscending", func() { buf = EncodeBoolAscending(buf[:0], true) }},
		{"EncodeBytesAscending", func() { buf = EncodeBytesAscending(buf[:0], []byte("a\x00b")) }},
		{"EncodeStringDescending", func() { buf = EncodeStringDescending(buf[:0], "a\x00b") }},
		{"DecodeBytesAscending", func() { _, buf, _ = DecodeBytesAscending(bytesEnc, buf[:0]) }},
		{"EncodeTimeAscending", func() { buf = EncodeTimeAscending(buf[:0], benchTime) }},
		{"DecodeTimeDescending", func() { _, sink.t, _ = DecodeTimeDescending(timeEnc) }},
		{"EncodeDecimalAscending", func() { buf = EncodeDecimalAscending(buf[:0], small) }},
		{"DecodeDecimalAscending", func() { _, sink.d, _ = DecodeDecimalAscending(smallEnc) }},
		{"PeekLength", func() { _, _ = PeekLength(smallEnc) }},
	} {
		if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
		}
	}
}
