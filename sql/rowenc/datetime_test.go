package rowenc_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeofday"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/meridiandb/meridian/sql/rowenc"
)

func dtInterval(months, days, micros int64) tree.Datum {
	return &tree.DInterval{Duration: duration.MakeDuration(micros*1000, days, months)}
}

func dtDate(y, m, d int) tree.Datum {
	date, err := pgdate.MakeDateFromTime(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	return tree.NewDDate(date)
}

// datetimeSorted lists values of each date/time type in PostgreSQL's
// order.
var datetimeSorted = []struct {
	typ    *types.T
	sorted []tree.Datum
}{
	{types.Time, []tree.Datum{tree.DNull, tree.MakeDTime(0), tree.MakeDTime(timeofday.New(10, 0, 0, 5)),
		tree.MakeDTime(timeofday.New(23, 59, 59, 999999)), tree.MakeDTime(timeofday.Time2400)}},
	{types.TimeTZ, []tree.Datum{tree.DNull,
		tree.NewDTimeTZFromOffset(timeofday.New(10, 0, 0, 0), -2*3600), // 10:00+02 = 08:00 UTC
		tree.NewDTimeTZFromOffset(timeofday.New(9, 0, 0, 0), -3600),    // 09:00+01 = 08:00 UTC, zone after
		tree.NewDTimeTZFromOffset(timeofday.New(8, 0, 0, 0), 0),
		tree.NewDTimeTZFromOffset(timeofday.New(3, 0, 0, 0), 5*3600), // 03:00-05 = 08:00 UTC
		tree.NewDTimeTZFromOffset(timeofday.New(9, 0, 0, 0), 0)}},
	// The infinities are stored as the extremes of int64 (they once
	// failed to decode: "date is out of range").
	{types.Date, []tree.Datum{tree.DNull, tree.NewDDate(pgdate.NegInfDate), dtDate(-4713, 11, 24), dtDate(-43, 3, 15),
		dtDate(2010, 3, 9), dtDate(5874897, 12, 31), tree.NewDDate(pgdate.PosInfDate)}},
	{types.Interval, []tree.Datum{tree.DNull, dtInterval(-1, 0, 0), dtInterval(0, -1, 5), dtInterval(0, 0, 0),
		dtInterval(0, 0, 1), dtInterval(0, 29, 0), dtInterval(1, 0, 0),
		dtInterval(0, 30, 1), dtInterval(12, 0, 0), dtInterval(2147483647, 2147483647, 1<<50)}},
}

// TestDatetimeKeyOrder checks that time, timetz and interval keys sort as
// PostgreSQL orders the values and decode to them, in keys and in row
// values.
func TestDatetimeKeyOrder(t *testing.T) {
	for _, tc := range datetimeSorted {
		var prev []byte
		for i, d := range tc.sorted {
			if !rowenc.KeyEncodable(tc.typ) {
				t.Fatalf("%s: not encodable", tc.typ)
			}
			key, err := rowenc.EncodeDatum(nil, d)
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && bytes.Compare(prev, key) >= 0 {
				t.Errorf("%s: %s does not sort after its predecessor", tc.typ, d)
			}
			prev = key
			// A key decodes to an equal value (an interval's fields may
			// differ: '1 mon' comes back as '30 days').
			rest, got, err := rowenc.DecodeDatum(append(key, 0xAB), tc.typ)
			if err != nil || !bytes.Equal(rest, []byte{0xAB}) {
				t.Fatalf("%s: %s decoded as %v (rest %x, err %v)", tc.typ, d, got, rest, err)
			}
			if again, _ := rowenc.EncodeDatum(nil, got); !bytes.Equal(again, key) {
				t.Errorf("%s: %s decoded from its key as %s, a different value", tc.typ, d, got)
			}
			// A row value decodes to the same value.
			val, err := rowenc.EncodeValueDatum(nil, d)
			if err != nil {
				t.Fatal(err)
			}
			rest, got, err = rowenc.DecodeValueDatum(append(val, 0xAB), tc.typ)
			if err != nil || !bytes.Equal(rest, []byte{0xAB}) || got.String() != d.String() {
				t.Errorf("%s: %s decoded from a value as %v (rest %x, err %v)", tc.typ, d, got, rest, err)
			}
		}
	}
}

// TestIntervalKeyEquality checks that the intervals PostgreSQL calls
// equal share a key, and keep their fields in a row value.
func TestIntervalKeyEquality(t *testing.T) {
	equal := []tree.Datum{dtInterval(1, 0, 0), dtInterval(0, 30, 0), dtInterval(0, 0, 30*86_400_000_000), dtInterval(0, 31, -86_400_000_000)}
	first, _ := rowenc.EncodeDatum(nil, equal[0])
	for _, d := range equal[1:] {
		if k, _ := rowenc.EncodeDatum(nil, d); !bytes.Equal(k, first) {
			t.Errorf("%s and %s have different keys", equal[0], d)
		}
	}
}

// TestDatetimeDecodeCorrupt feeds truncated and altered encodings to the
// decoders: each must answer an error or a value, never panic, and
// never a value out of its type's range.
func TestDatetimeDecodeCorrupt(t *testing.T) {
	for _, tc := range datetimeSorted {
		for _, d := range tc.sorted {
			key, err := rowenc.EncodeDatum(nil, d)
			if err != nil {
				t.Fatal(err)
			}
			val, err := rowenc.EncodeValueDatum(nil, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, enc := range [][]byte{key, val} {
				for n := 0; n < len(enc); n++ {
					checkDatetimeDecode(t, tc.typ, enc[:n])
					for _, x := range []byte{0x00, 0x01, 0x80, 0xff} {
						alt := append([]byte(nil), enc...)
						alt[n] ^= x
						checkDatetimeDecode(t, tc.typ, alt)
					}
				}
			}
		}
	}
}

func checkDatetimeDecode(t *testing.T, typ *types.T, b []byte) {
	t.Helper()
	for _, dec := range []func([]byte, *types.T) ([]byte, tree.Datum, error){rowenc.DecodeDatum, rowenc.DecodeValueDatum} {
		if _, d, err := dec(b, typ); err == nil && d != tree.DNull {
			checkDecoded(t, b, d)
		}
	}
}

func checkDecoded(t *testing.T, b []byte, d tree.Datum) {
	t.Helper()
	switch v := d.(type) {
	case *tree.DTime:
		if *v < 0 || timeofday.TimeOfDay(*v) > timeofday.Time2400 {
			t.Errorf("%x decoded to an impossible time %d", b, *v)
		}
	case *tree.DTimeTZ:
		if v.TimeOfDay < 0 || v.TimeOfDay > timeofday.Time2400 || v.OffsetSecs > 16*3600 || v.OffsetSecs < -16*3600 {
			t.Errorf("%x decoded to an impossible timetz %v", b, v)
		}
	}
	// Whatever decoded must encode again.
	if _, err := rowenc.EncodeDatum(nil, d); err != nil {
		t.Errorf("%x decoded to %v, which does not encode: %v", b, d, err)
	}
}

// FuzzDecodeDatetime runs the time, timetz and interval decoders on
// arbitrary bytes.
func FuzzDecodeDatetime(f *testing.F) {
	for _, tc := range datetimeSorted {
		for _, d := range tc.sorted {
			key, err := rowenc.EncodeDatum(nil, d)
			if err != nil {
				f.Fatal(err)
			}
			val, err := rowenc.EncodeValueDatum(nil, d)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(key)
			f.Add(val)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range []*types.T{types.Time, types.TimeTZ, types.Interval} {
			checkDatetimeDecode(t, typ, b)
		}
	})
}
