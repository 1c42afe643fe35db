package encoding

import (
	"bytes"
	"testing"
)

func dirName(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// TestOrderProperty checks, for random pairs of each type and both
// directions, that the encodings compare as the values do (reversed when
// descending): a < b ⇔ enc(a) < enc(b).
func TestOrderProperty(t *testing.T) {
	for _, c := range codecs {
		for _, desc := range []bool{false, true} {
			t.Run(c.name+"/"+dirName(desc), func(t *testing.T) {
				r := newRand(t)
				for range 5000 {
					a, b := c.gen(r), c.gen(r)
					want := c.cmp(a, b)
					if desc {
						want = -want
					}
					ea, eb := c.encode(a, desc), c.encode(b, desc)
					if got := bytes.Compare(ea, eb); got != want {
						t.Fatalf("a=%s b=%s: want cmp %d, encodings compare %d\nenc(a)=%x\nenc(b)=%x",
							formatValue(a), formatValue(b), want, got, ea, eb)
					}
				}
			})
		}
	}
}

// TestRoundTripProperty checks decode(encode(x)) == x (normalised), that the
// decoder consumes exactly the value, that PeekType and PeekLength agree, and
// that re-encoding the decoded value gives the same bytes.
func TestRoundTripProperty(t *testing.T) {
	for _, c := range codecs {
		for _, desc := range []bool{false, true} {
			t.Run(c.name+"/"+dirName(desc), func(t *testing.T) {
				r := newRand(t)
				for range 5000 {
					v := c.gen(r)
					prefix := []byte{0xfe, 0x42}[:r.IntN(3)]
					suffix := genBytes(r)
					enc := c.enc(append([]byte(nil), prefix...), v, desc)
					valueLen := len(enc) - len(prefix)
					key := append(enc, suffix...)
					body := key[len(prefix):]
					rest, got, err := c.dec(body, desc)
					if err != nil {
						t.Fatalf("%s: decode(%x): %v", formatValue(v), body, err)
					}
					if !bytes.Equal(rest, suffix) {
						t.Fatalf("%s: decode(%x) left %x, want %x", formatValue(v), body, rest, suffix)
					}
					if !c.same(got, v) {
						t.Fatalf("decode(encode(%s)) = %s", formatValue(v), formatValue(got))
					}
					if again := c.encode(got, desc); !bytes.Equal(again, body[:valueLen]) {
						t.Fatalf("%s: re-encoding %s gives %x, want %x", formatValue(v), formatValue(got), again, body[:valueLen])
					}
					if typ := PeekType(body); typ != c.typ {
						t.Fatalf("%s: PeekType = %v, want %v", formatValue(v), typ, c.typ)
					}
					if n, err := PeekLength(body); err != nil || n != valueLen {
						t.Fatalf("%s: PeekLength(%x) = %d, %v; want %d", formatValue(v), body, n, err, valueLen)
					}
					if _, _, err := c.dec(body[:valueLen-1], desc); err == nil && valueLen > 1 {
						t.Fatalf("%s: decoding the truncated %x succeeded", formatValue(v), body[:valueLen-1])
					}
				}
			})
		}
	}
}

// column is one column of a random composite key.
type column struct {
	codec
	desc bool
}

// TestCompositeKeyProperty builds keys from random schemas of mixed types,
// directions and NULLs and checks that the keys compare as the tuples do,
// column by column with NULLs first, and that a key decodes back column by
// column.
func TestCompositeKeyProperty(t *testing.T) {
	r := newRand(t)
	for range 300 {
		schema := make([]column, 1+r.IntN(4))
		for i := range schema {
			schema[i] = column{codecs[r.IntN(len(codecs))], r.IntN(2) == 0}
		}
		genRow := func() []any {
			row := make([]any, len(schema))
			for i, col := range schema {
				if r.IntN(5) != 0 {
					row[i] = col.gen(r)
				}
			}
			return row
		}
		encRow := func(row []any) []byte {
			var key []byte
			for i, col := range schema {
				switch {
				case row[i] != nil:
					key = col.enc(key, row[i], col.desc)
				case col.desc:
					key = EncodeNullDescending(key)
				default:
					key = EncodeNullAscending(key)
				}
			}
			return key
		}
		cmpRows := func(a, b []any) int {
			for i, col := range schema {
				switch {
				case a[i] == nil && b[i] == nil:
					continue
				case a[i] == nil:
					return -1 // NULLs first in both directions
				case b[i] == nil:
					return 1
				}
				c := col.cmp(a[i], b[i])
				if col.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		}
		rows := make([][]any, 20)
		keys := make([][]byte, len(rows))
		for i := range rows {
			if i > 0 && r.IntN(3) == 0 {
				// Share a prefix with an earlier row so that later columns decide.
				rows[i] = append([]any(nil), rows[r.IntN(i)]...)
				j := r.IntN(len(schema))
				rows[i][j] = genRow()[j]
			} else {
				rows[i] = genRow()
			}
			keys[i] = encRow(rows[i])
		}
		for i := range rows {
			for j := range rows {
				want := cmpRows(rows[i], rows[j])
				if got := bytes.Compare(keys[i], keys[j]); got != want {
					t.Fatalf("schema %s\na=%v\nb=%v\nwant %d, keys compare %d\n%x\n%x",
						schemaString(schema), rowString(rows[i]), rowString(rows[j]), want, got, keys[i], keys[j])
				}
			}
			checkDecodeRow(t, schema, rows[i], keys[i])
		}
	}
}

// checkDecodeRow decodes key column by column, also skipping each column
// with PeekLength, and compares with row.
func checkDecodeRow(t *testing.T, schema []column, row []any, key []byte) {
	t.Helper()
	b := key
	for i, col := range schema {
		n, err := PeekLength(b)
		if err != nil {
			t.Fatalf("column %d of %x: PeekLength: %v", i, key, err)
		}
		if rest, isNull := DecodeIfNull(b); isNull {
			if row[i] != nil {
				t.Fatalf("column %d of %x: NULL, want %s", i, key, formatValue(row[i]))
			}
			if n != 1 {
				t.Fatalf("column %d of %x: PeekLength of NULL = %d", i, key, n)
			}
			b = rest
			continue
		}
		rest, v, err := col.dec(b, col.desc)
		if err != nil {
			t.Fatalf("column %d of %x: %v", i, key, err)
		}
		if row[i] == nil || !col.same(v, row[i]) {
			t.Fatalf("column %d of %x: decoded %s, want %v", i, key, formatValue(v), row[i])
		}
		if consumed(b, rest) != n {
			t.Fatalf("column %d of %x: decoder used %d bytes, PeekLength said %d", i, key, consumed(b, rest), n)
		}
		b = rest
	}
	if len(b) != 0 {
		t.Fatalf("%x: %x left after the last column", key, b)
	}
}

func schemaString(schema []column) string {
	var s []byte
	for i, col := range schema {
		if i > 0 {
			s = append(s, ", "...)
		}
		s = append(s, col.name+" "+dirName(col.desc)...)
	}
	return string(s)
}

func rowString(row []any) string {
	var s []byte
	for i, v := range row {
		if i > 0 {
			s = append(s, ", "...)
		}
		if v == nil {
			s = append(s, "NULL"...)
		} else {
			s = append(s, formatValue(v)...)
		}
	}
	return "(" + string(s) + ")"
}
