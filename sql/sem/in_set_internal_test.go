package sem

import (
	"context"
	"math/rand"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
)

// TestInSetSearch: once a subquery's value set is sorted for IN (the
// second time it comes), IN answers by binary search exactly what a
// scan of it answers: true, false, or NULL when nothing matches and the set
// holds a NULL; NULL on the left is NULL.
func TestInSetSearch(t *testing.T) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	e := &EvalCtx{Ctx: context.Background()}
	for round := 0; round < 200; round++ {
		n := 8 + rng.Intn(40)
		set := tree.NewDTupleWithLen(nil, n)
		for i := range set.D {
			if rng.Intn(10) == 0 && round%2 == 0 {
				set.D[i] = tree.DNull
			} else {
				set.D[i] = tree.NewDInt(tree.DInt(rng.Intn(60)))
			}
		}
		var sorted *inSet
		for use := 0; use < 2; use++ {
			var err error
			if sorted, err = e.inSetOf(set); err != nil {
				t.Fatal(err)
			}
		}
		if sorted == nil {
			t.Fatalf("round %d: the set is not sorted after its second use", round)
		}
		for v := -1; v <= 61; v++ {
			var l tree.Datum = tree.NewDInt(tree.DInt(v))
			if v == -1 {
				l = tree.DNull
			}
			for _, not := range []bool{false, true} {
				want, err := e.evalIn(l, set, not)
				if err != nil {
					t.Fatal(err)
				}
				got, err := e.searchIn(l, sorted, not)
				if err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Fatalf("round %d: %s IN %s (not %v): got %s, want %s", round, l, set, not, got, want)
				}
			}
		}
	}
}
