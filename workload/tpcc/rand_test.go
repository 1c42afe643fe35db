package tpcc

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// nuRandExact is the exact distribution of NURand(A, x, y) with constant c,
// by enumeration of both random draws.
func nuRandExact(a, x, y, c int) []float64 {
	n := y - x + 1
	p := make([]float64, n)
	w := 1 / float64((a+1)*n)
	for i := 0; i <= a; i++ {
		for j := x; j <= y; j++ {
			p[((i|j)+c)%n] += w
		}
	}
	return p
}

func TestNURandMatchesSpec(t *testing.T) {
	g := newGen(1, 2, Constants{CLast: 123, CID: 259, OLIID: 7911})
	for _, tc := range []struct {
		name       string
		a, x, y, c int
		draw       func() int
		maxTV      float64
	}{
		{"C_LAST", nuLastA, nuLastX, nuLastY, 123, g.lastNameNum, 0.03},
		{"C_ID", nuCIDA, nuCIDX, nuCIDY, 259, g.customerID, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const samples = 1_000_000
			got := make([]float64, tc.y-tc.x+1)
			for range samples {
				v := tc.draw()
				if v < tc.x || v > tc.y {
					t.Fatalf("NURand(%d, %d, %d) = %d, out of range", tc.a, tc.x, tc.y, v)
				}
				got[v-tc.x] += 1.0 / samples
			}
			want := nuRandExact(tc.a, tc.x, tc.y, tc.c)
			var tv float64
			for i := range want {
				tv += math.Abs(got[i]-want[i]) / 2
			}
			if tv > tc.maxTV {
				t.Errorf("total variation from the exact distribution %.4f > %.2f", tv, tc.maxTV)
			}
			// NURand is skewed: the most likely value is several times
			// more likely than uniform.
			maxP := 0.0
			for _, p := range want {
				maxP = max(maxP, p)
			}
			if maxP*float64(len(want)) < 3 {
				t.Errorf("exact distribution barely skewed: max %.5f vs uniform %.5f", maxP, 1/float64(len(want)))
			}
		})
	}
	t.Run("OL_I_ID", func(t *testing.T) {
		seen := map[int]bool{}
		for range 1_000_000 {
			v := g.itemID()
			if v < 1 || v > numItems {
				t.Fatalf("item id %d out of range", v)
			}
			seen[v] = true
		}
		// With A = 8191 the OR sets few high bits, yet every region of
		// the range must be reachable.
		if len(seen) < numItems/2 {
			t.Errorf("only %d distinct item ids in 1,000,000 draws", len(seen))
		}
	})
}

func TestRunConstantsDeltaRule(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for load := 0; load <= 255; load++ {
		c := NewRunConstants(r, load)
		d := c.CLast - load
		if d < 0 {
			d = -d
		}
		if d < 65 || d > 119 || d == 96 || d == 112 || c.CLast < 0 || c.CLast > 255 {
			t.Fatalf("load C %d, run C %d: delta %d breaks clause 2.1.6.1", load, c.CLast, d)
		}
		if c.CID < 0 || c.CID > 1023 || c.OLIID < 0 || c.OLIID > 8191 {
			t.Fatalf("run constants out of range: %+v", c)
		}
	}
	for _, d := range []int{64, 96, 112, 120} {
		if ValidCLastRun(100, 100+d) {
			t.Errorf("delta %d accepted", d)
		}
	}
	for _, d := range []int{65, 95, 97, 119} {
		if !ValidCLastRun(100, 100+d) || !ValidCLastRun(100+d, 100) {
			t.Errorf("delta %d refused", d)
		}
	}
}

func TestLastName(t *testing.T) {
	// Clause 4.3.2.3's examples.
	for n, want := range map[int]string{371: "PRICALLYOUGHT", 40: "BARPRESBAR", 999: "EINGEINGEING", 0: "BARBARBAR"} {
		if got := lastName(n); got != want {
			t.Errorf("lastName(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestStrings(t *testing.T) {
	g := newGen(5, 6, Constants{})
	for range 10_000 {
		s := g.aString(26, 50)
		if len(s) < 26 || len(s) > 50 || strings.Trim(s, alnum) != "" {
			t.Fatalf("a-string %q", s)
		}
		n := g.nString(16, 16)
		if len(n) != 16 || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("n-string %q", n)
		}
		z := g.zip()
		if len(z) != 9 || !strings.HasSuffix(z, "11111") || strings.Trim(z, "0123456789") != "" {
			t.Fatalf("zip %q", z)
		}
	}
	const n = 100_000
	orig := 0
	for range n {
		s := g.data()
		if len(s) < 26 || len(s) > 50 {
			t.Fatalf("data %q has length %d", s, len(s))
		}
		if strings.Contains(s, "ORIGINAL") {
			orig++
		}
	}
	if share := float64(orig) / n; share < 0.095 || share > 0.105 {
		t.Errorf("ORIGINAL in %.3f of rows, want 0.10", share)
	}
}

func TestInputs(t *testing.T) {
	cfg := &runConfig{warehouses: 5, consts: Constants{CLast: 10, CID: 20, OLIID: 30}}
	term := newTerminal(2, cfg, nil, 99)
	if term.w != 3 || term.d != 1 {
		t.Fatalf("terminal 2 of 5 warehouses at w %d d %d", term.w, term.d)
	}
	const n = 100_000
	var rollbacks, remoteLines, lines, byName, remoteCust, osByName int
	for range n {
		in := term.newOrderInput()
		if len(in.lines) < 5 || len(in.lines) > 15 {
			t.Fatalf("%d order lines", len(in.lines))
		}
		for i, ol := range in.lines {
			lines++
			if ol.supplyW != term.w {
				remoteLines++
				if ol.supplyW < 1 || ol.supplyW > 5 {
					t.Fatalf("supply warehouse %d", ol.supplyW)
				}
			}
			if ol.itemID == invalidItemID {
				rollbacks++
				if i != len(in.lines)-1 {
					t.Fatal("the unused item is not processed last")
				}
			}
			if ol.quantity < 1 || ol.quantity > 10 {
				t.Fatalf("quantity %d", ol.quantity)
			}
		}
		p := term.paymentInput()
		if p.byName {
			byName++
		}
		if p.cW != term.w {
			remoteCust++
		}
		if p.hAmount < 100 || p.hAmount > 500_000 {
			t.Fatalf("payment amount %d cents", p.hAmount)
		}
		if term.orderStatusInput().byName {
			osByName++
		}
	}
	within := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s: %.4f, want %.2f ± %.3f", what, got, want, tol)
		}
	}
	within("new-order rollbacks", float64(rollbacks)/n, 0.01, 0.002)
	within("remote order lines", float64(remoteLines)/float64(lines), 0.01, 0.001)
	within("payments by last name", float64(byName)/n, 0.60, 0.01)
	within("payments to remote customers", float64(remoteCust)/n, 0.15, 0.01)
	within("order-status by last name", float64(osByName)/n, 0.60, 0.01)

	// One warehouse: nothing is remote.
	one := newTerminal(0, &runConfig{warehouses: 1}, nil, 1)
	for range 10_000 {
		if in := one.newOrderInput(); !in.allLocal {
			t.Fatal("remote supply with a single warehouse")
		}
		if p := one.paymentInput(); p.cW != 1 {
			t.Fatal("remote customer with a single warehouse")
		}
	}
}

func TestDeck(t *testing.T) {
	term := newTerminal(0, &runConfig{warehouses: 1}, nil, 3)
	for round := range 5 {
		counts := map[string]int{}
		for range 100 {
			counts[term.next()]++
		}
		for name, want := range mix {
			if counts[name] != want {
				t.Errorf("round %d: %d %s in 100 cards, want %d", round, counts[name], name, want)
			}
		}
	}
}

func TestThinkTime(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const mean = 12 * time.Second
	const n = 200_000
	var sum time.Duration
	for range n {
		d := thinkDuration(r.Float64(), mean)
		if d < 0 || d > 10*mean {
			t.Fatalf("think time %s outside [0, 10 × mean]", d)
		}
		sum += d
	}
	// The cap at 10× the mean trims e^-10 of the mass: the mean stays
	// within a fraction of a percent.
	got := sum / n
	if math.Abs(float64(got-mean)) > 0.01*float64(mean) {
		t.Errorf("mean think time %s, want %s ± 1%%", got, mean)
	}
	if thinkDuration(0, mean) != 10*mean {
		t.Errorf("u = 0 must hit the cap")
	}
}
