package encoding

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
)

func TestTimeOrderAndRoundTrip(t *testing.T) {
	sorted := []time.Time{
		time.Unix(math.MinInt64/2, 0),
		time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(-1, 999999999),
		time.Unix(0, 0),
		time.Unix(0, 1),
		time.Unix(0, 999),
		time.Unix(1, 0),
		time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.FixedZone("A", -8*3600)),
		time.Date(2024, 2, 29, 12, 30, 45, 123456790, time.FixedZone("A", -8*3600)),
		time.Date(294276, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Unix(math.MaxInt64/2, 999999999),
	}
	for i, a := range sorted {
		for _, desc := range []bool{false, true} {
			var enc []byte
			var got time.Time
			var err error
			if desc {
				enc = EncodeTimeDescending(nil, a)
				_, got, err = DecodeTimeDescending(enc)
			} else {
				enc = EncodeTimeAscending(nil, a)
				_, got, err = DecodeTimeAscending(enc)
			}
			if err != nil || !got.Equal(a) || got.Location() != time.UTC {
				t.Errorf("%v (%s): decoded %v, %v", a, dirName(desc), got, err)
			}
		}
		if i == 0 {
			continue
		}
		p := sorted[i-1]
		if bytes.Compare(EncodeTimeAscending(nil, p), EncodeTimeAscending(nil, a)) >= 0 {
			t.Errorf("asc: %v does not sort before %v", p, a)
		}
		if bytes.Compare(EncodeTimeDescending(nil, p), EncodeTimeDescending(nil, a)) <= 0 {
			t.Errorf("desc: %v does not sort after %v", p, a)
		}
	}
	// Equal instants in different zones share an encoding.
	utc := time.Date(2020, 1, 1, 0, 0, 0, 5, time.UTC)
	if !bytes.Equal(EncodeTimeAscending(nil, utc), EncodeTimeAscending(nil, utc.In(time.FixedZone("B", 5*3600)))) {
		t.Errorf("one instant in two zones encodes differently")
	}
}

func TestTimeDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		desc bool
		in   []byte
	}{
		{"empty", false, nil},
		{"wrong marker", false, []byte{floatAsc}},
		{"wrong direction", false, EncodeTimeDescending(nil, time.Unix(1, 2))},
		{"no nanos", false, []byte{timeAsc, 0x88}},
		{"nanos of a second", false, append([]byte{timeAsc, 0x88}, EncodeUvarintAscending(nil, 1e9)...)},
		{"truncated seconds", false, []byte{timeAsc, 0xf7, 0x01}},
		{"desc truncated", true, []byte{timeDesc, ^byte(0x88)}},
	} {
		var err error
		if tc.desc {
			_, _, err = DecodeTimeDescending(tc.in)
		} else {
			_, _, err = DecodeTimeAscending(tc.in)
		}
		if !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("%s: decoding %x: got %v, want ErrInvalidEncoding", tc.name, tc.in, err)
		}
	}
}
