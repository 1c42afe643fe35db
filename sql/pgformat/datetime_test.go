package pgformat_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeofday"
	"github.com/meridiandb/meridian/sql/pgformat"
)

// TestDatetimeBinary sends time, timetz and interval values in the
// binary format (PostgreSQL's time_send, timetz_send, interval_send
// layouts) and reads them back, and refuses malformed ones.
func TestDatetimeBinary(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		typ  *types.T
		d    tree.Datum
		want []byte
	}{
		{types.Time, tree.MakeDTime(timeofday.New(10, 0, 1, 500000)), []byte{0, 0, 0, 8, 0x61, 0xdb, 0x4b, 0x60}},
		{types.TimeTZ, tree.NewDTimeTZFromOffset(timeofday.New(0, 0, 0, 1), -7200), []byte{0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xe3, 0xe0}},
		{types.Interval, &tree.DInterval{Duration: duration.MakeDuration(1000, -2, 14)}, []byte{0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 14}},
	} {
		b, err := pgformat.EncodeBinary(tc.d, tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, tc.want) {
			t.Errorf("%s: binary %x, want %x", tc.d, b, tc.want)
		}
		got, err := pgformat.DecodeParam(b, tc.typ, 1, tree.NewParseContext(now))
		if err != nil || got.String() != tc.d.String() {
			t.Errorf("%s: read back as %v (%v)", tc.d, got, err)
		}
		// Truncated, extended, or out of the type's range: 22P03.
		for _, bad := range [][]byte{b[:len(b)-1], append(append([]byte(nil), b...), 0)} {
			if _, err := pgformat.DecodeParam(bad, tc.typ, 1, tree.NewParseContext(now)); err == nil {
				t.Errorf("%s: %x accepted", tc.typ, bad)
			}
		}
	}
	for _, tc := range []struct {
		typ *types.T
		b   []byte
	}{
		{types.Time, []byte{0xff, 0, 0, 0, 0, 0, 0, 0}},                                                      // negative
		{types.Time, []byte{0, 0, 0, 0x20, 0, 0, 0, 0}},                                                      // past 24:00
		{types.TimeTZ, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}},                                           // zone past 15:59:59
		{types.Interval, append([]byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, make([]byte, 8)...)}, // time beyond what nanoseconds hold
	} {
		if _, err := pgformat.DecodeParam(tc.b, tc.typ, 1, tree.NewParseContext(now)); err == nil {
			t.Errorf("%s: %x accepted", tc.typ, tc.b)
		}
	}
}

// TestTimestampText checks the text format of years before 1 AD and of
// infinity.
func TestTimestampText(t *testing.T) {
	bc := time.Date(-43, 3, 15, 10, 0, 0, 0, time.UTC) // 44 BC
	for _, tc := range []struct {
		d    tree.Datum
		want string
	}{
		{&tree.DTimestamp{Time: bc}, "0044-03-15 10:00:00 BC"},
		{&tree.DTimestampTZ{Time: bc}, "0044-03-15 10:00:00+00 BC"},
		{&tree.DTimestamp{Time: time.Date(2020, 1, 2, 3, 4, 5, 600000, time.UTC)}, "2020-01-02 03:04:05.0006"},
	} {
		if got := string(pgformat.EncodeText(tc.d)); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.d, got, tc.want)
		}
	}
}
