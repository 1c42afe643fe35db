package rowenc_test

import (
	"bytes"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgjson"
	"github.com/meridiandb/meridian/sql/rowenc"
)

var jsonDocs = []string{
	`null`, `true`, `false`, `0`, `-1.50`, `1e30`, `"x\u0001é\n\"\\"`, `[]`, `{}`,
	`[1, [2, [3, {"a": null}]], "s"]`, `{"b": 1, "aa": {"c": [true, false]}, "": ""}`,
}

func mustJSON(t testing.TB, s string) *tree.DJSON {
	j, err := pgjson.Parse(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return tree.NewDJSON(j)
}

// TestJSONValueRoundTrip checks that a stored jsonb reads back as the
// same document, with the same text (numbers keep their scale).
func TestJSONValueRoundTrip(t *testing.T) {
	for _, s := range append(jsonDocs, "") {
		var d tree.Datum = tree.DNull
		if s != "" {
			d = mustJSON(t, s)
		}
		b, err := rowenc.EncodeValueDatum(nil, d)
		if err != nil {
			t.Fatal(err)
		}
		rest, got, err := rowenc.DecodeValueDatum(append(b, 0x42), types.Jsonb)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if len(rest) != 1 || rest[0] != 0x42 {
			t.Fatalf("%s: decoding left %x", s, rest)
		}
		if d == tree.DNull {
			if got != tree.DNull {
				t.Fatalf("NULL read back as %s", got)
			}
			continue
		}
		want, have := pgjson.Format(d.(*tree.DJSON).JSON), pgjson.Format(got.(*tree.DJSON).JSON)
		if want != have {
			t.Fatalf("round trip: %s became %s", want, have)
		}
	}
}

// TestJSONKeyEquality checks that the key rows are grouped by is equal
// exactly when jsonb's = says the values are.
func TestJSONKeyEquality(t *testing.T) {
	docs := append(jsonDocs, `1`, `1.0`, `[1.00]`, `[1]`, `{"a": 1}`, `{"a": 1.0}`, `-0`)
	for _, a := range docs {
		for _, b := range docs {
			ja, jb := mustJSON(t, a), mustJSON(t, b)
			ka, err := rowenc.EncodeDatum(nil, ja)
			if err != nil {
				t.Fatal(err)
			}
			kb, _ := rowenc.EncodeDatum(nil, jb)
			if (string(ka) == string(kb)) != (pgjson.Compare(ja.JSON, jb.JSON) == 0) {
				t.Errorf("%s vs %s: keys equal %v, values compare %d", a, b, string(ka) == string(kb), pgjson.Compare(ja.JSON, jb.JSON))
			}
		}
	}
}

// TestJSONValueCorrupt checks that every truncation and every single-byte
// change of stored jsonb values either decodes or fails with an error,
// never a panic, and that truncations fail.
func TestJSONValueCorrupt(t *testing.T) {
	for _, s := range jsonDocs {
		b, err := rowenc.EncodeValueDatum(nil, mustJSON(t, s))
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n < len(b); n++ {
			if _, _, err := rowenc.DecodeValueDatum(b[:n], types.Jsonb); err == nil {
				t.Errorf("%s truncated to %d bytes decoded without error", s, n)
			}
		}
		for i := range b {
			for _, x := range []byte{0x00, 0x01, 0xff, '"', '{', b[i] ^ 0x80} {
				c := append([]byte(nil), b...)
				c[i] = x
				_, _, _ = rowenc.DecodeValueDatum(c, types.Jsonb)
			}
		}
	}
}

// FuzzDecodeJSONValue feeds arbitrary bytes to the jsonb value decoder:
// it must return an error or a document, never panic, and a document it
// returns must encode and decode again to itself.
func FuzzDecodeJSONValue(f *testing.F) {
	for _, s := range jsonDocs {
		b, err := rowenc.EncodeValueDatum(nil, mustJSON(f, s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, d, err := rowenc.DecodeValueDatum(b, types.Jsonb)
		if err != nil || d == tree.DNull {
			return
		}
		again, err := rowenc.EncodeValueDatum(nil, d)
		if err != nil {
			t.Fatal(err)
		}
		_, d2, err := rowenc.DecodeValueDatum(again, types.Jsonb)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if pgjson.Compare(d.(*tree.DJSON).JSON, d2.(*tree.DJSON).JSON) != 0 {
			t.Fatalf("%s changed to %s", d, d2)
		}
	})
}

// pgOrdered are jsonb values in PostgreSQL's btree order (checked with
// ORDER BY on PostgreSQL 15), a pair of equal ones adjacent.
var pgOrdered = []string{
	`[]`, `null`, `""`, `"a"`, `"a\u0001b"`, `"ab"`, `"b"`, `-1e10`, `-1`, `0`, `0.0`, `1.5`, `2`, `false`, `true`,
	`[null]`, `["a"]`, `[1]`, `[false]`, `[true]`, `[[]]`, `[[1]]`, `[{}]`, `[1, 2]`, `[2, 1]`, `[1, 2, 3]`,
	`{}`, `{"a": null}`, `{"a": 1}`, `{"a": 1.00}`, `{"a": []}`, `{"aa": 0}`, `{"b": 0}`, `{"b": 1, "aa": 0}`, `{"c": 1, "aa": 0}`,
}

// TestJSONKeyOrder checks that jsonb keys sort as pgjson.Compare (and so
// PostgreSQL) orders the values, and decode to equal values.
func TestJSONKeyOrder(t *testing.T) {
	var prev []byte
	for i, s := range pgOrdered {
		d := mustJSON(t, s)
		k, err := rowenc.EncodeDatum(nil, d)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			want := pgjson.Compare(mustJSON(t, pgOrdered[i-1]).JSON, d.JSON)
			if want > 0 {
				t.Fatalf("pgOrdered: %s sorts after %s", pgOrdered[i-1], s)
			}
			got := bytes.Compare(prev, k)
			if (got < 0) != (want < 0) || (got == 0) != (want == 0) {
				t.Errorf("%s vs %s: keys compare %d, values %d", pgOrdered[i-1], s, got, want)
			}
		}
		prev = k
		rest, back, err := rowenc.DecodeDatum(append(k, 0x99), types.Jsonb)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if len(rest) != 1 || pgjson.Compare(back.(*tree.DJSON).JSON, d.JSON) != 0 {
			t.Fatalf("%s decoded as %s, %x left", s, back, rest)
		}
	}
}

// FuzzDecodeJSONKey feeds arbitrary bytes to the jsonb key decoder: an
// error or a value, never a panic; a value re-encodes to the same key.
func FuzzDecodeJSONKey(f *testing.F) {
	for _, s := range pgOrdered {
		k, err := rowenc.EncodeDatum(nil, mustJSON(f, s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rest, d, err := rowenc.DecodeDatum(b, types.Jsonb)
		if err != nil || d == tree.DNull {
			return
		}
		k, err := rowenc.EncodeDatum(nil, d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k, b[:len(b)-len(rest)]) {
			t.Fatalf("%x decoded to %s, which encodes as %x", b[:len(b)-len(rest)], d, k)
		}
	})
}
