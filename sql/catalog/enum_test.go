package catalog

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestEnumInsertOrder adds labels at random places, many times in the
// same gap, and checks that the representations stay strictly ordered as
// the labels are, which keys and comparisons rely on.
func TestEnumInsertOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 3, 254, 255, 300} {
		labels := make([]string, n)
		for i := range labels {
			labels[i] = string(rune('a'+i%26)) + string(rune('0'+i/26))
		}
		m := NewEnumMembers(labels)
		for k := 0; k < 200; k++ {
			at := 0
			if len(m.Labels) > 0 && k%3 != 0 {
				at = rng.Intn(len(m.Labels) + 1)
			}
			if k%5 == 0 {
				at = len(m.Labels)
			}
			m.Insert(at, "x")
			for i := 1; i < len(m.Reps); i++ {
				if bytes.Compare(m.Reps[i-1], m.Reps[i]) >= 0 {
					t.Fatalf("n=%d after %d inserts: rep %d %x not below rep %d %x", n, k+1, i-1, m.Reps[i-1], i, m.Reps[i])
				}
			}
		}
	}
}
