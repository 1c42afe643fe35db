package pgformat_test

import (
	"testing"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
)

// TestByteaText checks bytea's two output formats and arrays and records
// of bytea, against what PostgreSQL 15 prints.
func TestByteaText(t *testing.T) {
	b := tree.NewDBytes(tree.DBytes("\xde\xad\\\x00\x01\x7f\x80\xff a"))
	hex := pgformat.Style{}
	esc := pgformat.Style{ByteaEscape: true}
	for _, tc := range []struct {
		d    tree.Datum
		st   pgformat.Style
		want string
	}{
		{b, hex, `\xdead5c00017f80ff2061`},
		{b, esc, `\336\255\\\000\001\177\200\377 a`},
		{tree.NewDBytes(""), hex, `\x`},
		{tree.NewDBytes(""), esc, ``},
		{byteaArray("\\", "a b", "", "null", `"`, "a,b", "x"), esc, `{"\\\\","a b","","null","\"","a,b",x}`},
		{byteaArray("\\", "x"), hex, `{"\\x5c","\\x78"}`},
		{tree.NewDTuple(types.MakeTuple([]*types.T{types.Bytes, types.Bytes, types.Bytes}), tree.NewDBytes("a\\"), tree.DNull, tree.NewDBytes("")), esc, `("a\\\\",,"")`},
	} {
		if got := string(pgformat.EncodeTextStyle(tc.d, tc.st)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.d, got, tc.want)
		}
	}
}

func byteaArray(elems ...string) *tree.DArray {
	a := tree.NewDArray(types.Bytes)
	for _, e := range elems {
		if err := a.Append(tree.NewDBytes(tree.DBytes(e))); err != nil {
			panic(err)
		}
	}
	return a
}

// TestParseBytea checks byteain's two input formats and its errors.
func TestParseBytea(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		code     pgerror.Code
		msg      string
	}{
		{in: `\xDeAdBeEf`, want: "\xde\xad\xbe\xef"},
		{in: "\\x De\tAd\nBe\rEf ", want: "\xde\xad\xbe\xef"},
		{in: `\x`, want: ""},
		{in: `DeAdBeEf`, want: "DeAdBeEf"},
		{in: `De\000dBeEf`, want: "De\x00dBeEf"},
		{in: `De\123dBeEf`, want: "DeSdBeEf"},
		{in: `a\\b`, want: `a\b`},
		{in: `\xDeAdBeE`, code: "22023", msg: "invalid hexadecimal data: odd number of digits"},
		{in: `\xDeAdBeEx`, code: "22023", msg: `invalid hexadecimal digit: "x"`},
		{in: `\x D eAd`, code: "22023", msg: `invalid hexadecimal digit: " "`},
		{in: `\xéé`, code: "22023", msg: `invalid hexadecimal digit: "é"`},
		{in: `De\678dBeEf`, code: "22P02", msg: "invalid input syntax for type bytea"},
		{in: `De\`, code: "22P02", msg: "invalid input syntax for type bytea"},
		{in: `\12`, code: "22P02", msg: "invalid input syntax for type bytea"},
	} {
		got, err := pgformat.ParseBytea(tc.in)
		if tc.code != "" {
			if err == nil || pgerror.CodeOf(err) != tc.code || err.Error() != tc.msg {
				t.Errorf("%q: got %q, %v (%s); want error %s %s", tc.in, got, err, pgerror.CodeOf(err), tc.code, tc.msg)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	// A text parameter of type bytea reads the same way.
	d, err := pgformat.DecodeParam([]byte(`\x 01 02`), types.Bytes, 0, tree.NewParseContext(time.Time{}))
	if err != nil || string(tree.MustBeDBytes(d)) != "\x01\x02" {
		t.Errorf("text parameter: %v, %v", d, err)
	}
}
