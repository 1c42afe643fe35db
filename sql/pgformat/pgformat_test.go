package pgformat_test

import (
	"testing"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgformat"
)

// TestBinaryRoundTrip sends values in the binary format and reads them
// back as parameters, and checks the text format of the same values.
func TestBinaryRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	dec, err := tree.ParseDDecimal("-12.3400")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ  *types.T
		d    tree.Datum
		text string
	}{
		{types.Int, tree.NewDInt(-7), "-7"},
		{types.Int4, tree.NewDInt(123456), "123456"},
		{types.Float, tree.NewDFloat(0.1), "0.1"},
		{types.Bool, tree.DBoolTrue, "t"},
		{types.String, tree.NewDString("héllo"), "héllo"},
		{types.Decimal, dec, "-12.3400"},
		{types.Timestamp, &tree.DTimestamp{Time: now.Add(1500 * time.Millisecond)}, "2026-12-05 00:00:01.5"},
	} {
		b, err := pgformat.EncodeBinary(tc.d, tc.typ)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		got, err := pgformat.DecodeParam(b, tc.typ, 1, tree.NewParseContext(now))
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		if got.String() != tc.d.String() {
			t.Errorf("%s: sent %s, read %s", tc.typ, tc.d, got)
		}
		if text := string(pgformat.EncodeText(tc.d)); text != tc.text {
			t.Errorf("%s: text %q, want %q", tc.typ, text, tc.text)
		}
		back, err := pgformat.DecodeParam([]byte(tc.text), tc.typ, 0, tree.NewParseContext(now))
		if err != nil || back.String() != tc.d.String() {
			t.Errorf("%s: text %q read as %v (%v)", tc.typ, tc.text, back, err)
		}
	}
	if pgformat.EncodeText(tree.DNull) != nil {
		t.Error("NULL has a text form")
	}
}
