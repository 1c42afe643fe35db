package rowenc

import (
	"bytes"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// TestJSONInvertedSuperset: for random documents and queries, whenever
// a document contains a query, every conjunct of the query's inverted
// spans holds one of the document's keys (the index never loses a row
// the filter keeps), and each key reads back to its end (so the primary
// key after it is found). The seed is logged.
func TestJSONInvertedSuperset(t *testing.T) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	var gen func(d int) string
	gen = func(d int) string {
		r := rng.Intn(9)
		if d >= 3 {
			r = rng.Intn(5)
		}
		switch r {
		case 0:
			return []string{"null", "true", "false"}[rng.Intn(3)]
		case 1, 2:
			return []string{"1", "1.0", "2", "-0.50", "-0.5"}[rng.Intn(5)]
		case 3, 4:
			return strconv.Quote([]string{"a", "b", ""}[rng.Intn(3)])
		case 5, 6:
			parts := make([]string, rng.Intn(3))
			for i := range parts {
				parts[i] = gen(d + 1)
			}
			return "[" + strings.Join(parts, ",") + "]"
		}
		parts := make([]string, rng.Intn(3))
		for i := range parts {
			parts[i] = strconv.Quote([]string{"a", "b", "c"}[rng.Intn(3)]) + ":" + gen(d+1)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	parse := func(s string) json.JSON {
		j, err := pgjson.Parse(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return j
	}
	contained := 0
	for i := 0; i < 20000; i++ {
		doc, q := parse(gen(0)), parse(gen(0))
		keys, err := InvertedValueKeys(tree.NewDJSON(doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			withPK := encoding.EncodeVarintAscending(append([]byte(nil), k...), 42)
			rest, err := skipJSONInvertedKey(withPK)
			if err != nil || !bytes.Equal(rest, withPK[len(k):]) {
				t.Fatalf("seed %d: %s: key %x reads back to %x, %v", seed, pgjson.Format(doc), k, rest, err)
			}
		}
		ok, err := json.Contains(doc, q)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		contained++
		for _, disj := range JSONContainsQuery(q) {
			found := false
			for _, sp := range disj {
				for _, k := range keys {
					found = found || bytes.HasPrefix(k, sp.Prefix)
				}
			}
			if !found {
				t.Fatalf("seed %d: %s @> %s, but a conjunct of the query's spans has none of its keys", seed, pgjson.Format(doc), pgjson.Format(q))
			}
		}
	}
	if contained < 1000 {
		t.Errorf("seed %d: only %d containing pairs", seed, contained)
	}
}
