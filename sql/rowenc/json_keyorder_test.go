package rowenc_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgjson"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// randJSONText writes a random jsonb document from small alphabets, so
// that equal values written differently (1, 1.0, 1e0; keys in any order)
// and values that differ only deep inside are frequent.
func randJSONText(r *rand.Rand, depth int) string {
	nums := []string{"0", "-0", "0.0", "1", "1.0", "1.50", "1.5", "15e-1", "-2", "1e3", "1000", "0.001", "1E-3",
		"-1e-30", "123456789012345678901234567890", "-123456789012345678901234567890.5"}
	strs := []string{`""`, `"a"`, `"b"`, `"ab"`, `"B"`, `"é"`, `"a\u0001"`, `"\n"`, `"aa"`}
	keys := []string{`"a"`, `"b"`, `"aa"`, `"B"`, `""`, `"ab"`}
	n := 7
	if depth >= 3 {
		n = 5 // scalars only
	}
	switch r.Intn(n) {
	case 0:
		return "null"
	case 1:
		return []string{"true", "false"}[r.Intn(2)]
	case 2, 3:
		return nums[r.Intn(len(nums))]
	case 4:
		return strs[r.Intn(len(strs))]
	case 5:
		elems := make([]string, r.Intn(4))
		for i := range elems {
			elems[i] = randJSONText(r, depth+1)
		}
		return "[" + strings.Join(elems, ", ") + "]"
	}
	pairs := make([]string, r.Intn(4))
	for i := range pairs {
		pairs[i] = keys[r.Intn(len(keys))] + ": " + randJSONText(r, depth+1)
	}
	return "{" + strings.Join(pairs, ", ") + "}"
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// TestJSONKeyOrderRandom checks, over random documents, that the byte
// order of jsonb keys is the order of jsonb's comparison operators (sem's
// Compare, which ORDER BY and < use), equal keys exactly for equal
// values, and that a key decodes to an equal value that encodes to the
// same key.
func TestJSONKeyOrderRandom(t *testing.T) {
	r := rand.New(rand.NewSource(20240615))
	e := &sem.EvalCtx{Ctx: context.Background()}
	const n = 600
	docs := make([]*tree.DJSON, 0, n)
	keys := make([][]byte, 0, n)
	for len(docs) < n {
		s := randJSONText(r, 0)
		if len(docs)%3 == 0 {
			s = randJSONText(r, 2) // more scalars and small containers: more ties
		}
		d := mustJSON(t, s)
		k, err := rowenc.EncodeDatum(nil, d)
		if err != nil {
			t.Fatal(err)
		}
		rest, back, err := rowenc.DecodeDatum(append(k, 0x7f), types.Jsonb)
		if err != nil {
			t.Fatalf("%s: key %x: %v", s, k, err)
		}
		if len(rest) != 1 || pgjson.Compare(back.(*tree.DJSON).JSON, d.JSON) != 0 {
			t.Fatalf("%s decoded as %s, %x left", s, back, rest)
		}
		if again, _ := rowenc.EncodeDatum(nil, back); !bytes.Equal(again, k) {
			t.Fatalf("%s: decoded %s encodes as %x, not %x", s, back, again, k)
		}
		docs = append(docs, d)
		keys = append(keys, k)
	}
	ties := 0
	for i := range docs {
		for j := range docs {
			want, err := e.Compare(docs[i], docs[j])
			if err != nil {
				t.Fatal(err)
			}
			if want == 0 && i != j {
				ties++
			}
			if got := bytes.Compare(keys[i], keys[j]); got != sign(want) {
				t.Fatalf("%s vs %s: keys compare %d, values %d", docs[i], docs[j], got, want)
			}
		}
	}
	if ties == 0 {
		t.Fatalf("no two of %d random documents are equal: the test checks no equal keys", n)
	}
}

// TestJSONPrimaryKeyRow checks that a row keyed by jsonb (with an int
// after it) reads back with its numbers' scale, which the key drops, and
// that two rows whose jsonb values are equal share a key.
func TestJSONPrimaryKeyRow(t *testing.T) {
	d := &catalog.TableDescriptor{ID: 100, Name: "t", PrimaryKey: []int{0, 1}, Columns: []catalog.ColumnDescriptor{
		catalog.ColumnDescriptor{ID: 1, Name: "j"}.WithType(types.Jsonb),
		catalog.ColumnDescriptor{ID: 2, Name: "n"}.WithType(types.Int),
		catalog.ColumnDescriptor{ID: 3, Name: "v", Nullable: true}.WithType(types.Jsonb),
	}}
	if err := catalog.CheckKeyColumn(&d.Columns[0]); err != nil {
		t.Fatalf("a jsonb key column: %v", err)
	}
	var firstKey []byte
	for i, s := range []string{`{"a": [1.50, 2e1]}`, `{"a": [1.5, 20.000]}`} {
		row := tree.Datums{mustJSON(t, s), tree.NewDInt(7), mustJSON(t, `0.10`)}
		key, err := rowenc.RowKey(d, row)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			firstKey = key
		} else if !bytes.Equal(key, firstKey) {
			t.Fatalf("equal jsonb values keyed %x and %x", firstKey, key)
		}
		val, err := rowenc.RowValue(d, row)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rowenc.DecodeRow(d, key, val)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(pgjson.Format(row[0].(*tree.DJSON).JSON), " ", row[1], " ", pgjson.Format(row[2].(*tree.DJSON).JSON))
		have := fmt.Sprint(pgjson.Format(got[0].(*tree.DJSON).JSON), " ", got[1], " ", pgjson.Format(got[2].(*tree.DJSON).JSON))
		if want != have {
			t.Fatalf("row %s read back as %s", want, have)
		}
	}
}
