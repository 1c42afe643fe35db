package tpcc

import (
	"math/rand/v2"
	"strconv"
)

// Sizes fixed by the specification (clause 1.2 and 4.3.3.1).
const (
	numItems             = 100_000
	districtsPerWH       = 10
	customersPerDistrict = 3_000
	ordersPerDistrict    = 3_000
	// Orders numbered from firstNewOrder on are undelivered: the last 900
	// of each district, which also have rows in new_order.
	firstNewOrder = 2_101
	// invalidItemID is an unused item number (clause 2.4.1.5): New-Order
	// uses it for the 1% of transactions that must roll back.
	invalidItemID = numItems + 1
)

// The ranges of NURand (clause 2.1.6): A, x, y.
const (
	nuLastA, nuLastX, nuLastY = 255, 0, 999
	nuCIDA, nuCIDX, nuCIDY    = 1023, 1, customersPerDistrict
	nuItemA, nuItemX, nuItemY = 8191, 1, numItems
)

// Constants are the C values of NURand (clause 2.1.6). The load uses only
// CLast; the run draws all three, with its CLast tied to the load's by
// ValidCLastRun.
type Constants struct {
	CLast int // for C_LAST, in [0, 255]
	CID   int // for C_ID, in [0, 1023]
	OLIID int // for OL_I_ID, in [0, 8191]
}

// ValidCLastRun reports whether a run-time C for C_LAST may be used with the
// load-time one (clause 2.1.6.1): their distance lies in [65, 119] and is
// neither 96 nor 112.
func ValidCLastRun(load, run int) bool {
	d := load - run
	if d < 0 {
		d = -d
	}
	return d >= 65 && d <= 119 && d != 96 && d != 112
}

// NewLoadConstants draws the load-time constants.
func NewLoadConstants(r *rand.Rand) Constants {
	return Constants{CLast: r.IntN(nuLastA + 1), CID: r.IntN(nuCIDA + 1), OLIID: r.IntN(nuItemA + 1)}
}

// NewRunConstants draws run-time constants whose CLast satisfies the delta
// rule against the load's cLastLoad.
func NewRunConstants(r *rand.Rand, cLastLoad int) Constants {
	c := Constants{CID: r.IntN(nuCIDA + 1), OLIID: r.IntN(nuItemA + 1)}
	for {
		c.CLast = r.IntN(nuLastA + 1)
		if ValidCLastRun(cLastLoad, c.CLast) {
			return c
		}
	}
}

// gen draws the specification's random values. It is not safe for
// concurrent use: each loader task and each terminal has its own.
type gen struct {
	r *rand.Rand
	c Constants
}

func newGen(seed1, seed2 uint64, c Constants) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed1, seed2)), c: c}
}

// uniform returns a uniformly random integer in [x, y] (clause 2.1.5).
func (g *gen) uniform(x, y int) int { return x + g.r.IntN(y-x+1) }

// nuRand is NURand(A, x, y) with constant c (clause 2.1.6).
func (g *gen) nuRand(a, x, y, c int) int {
	return (((g.uniform(0, a) | g.uniform(x, y)) + c) % (y - x + 1)) + x
}

func (g *gen) customerID() int { return g.nuRand(nuCIDA, nuCIDX, nuCIDY, g.c.CID) }
func (g *gen) itemID() int     { return g.nuRand(nuItemA, nuItemX, nuItemY, g.c.OLIID) }
func (g *gen) lastNameNum() int {
	return g.nuRand(nuLastA, nuLastX, nuLastY, g.c.CLast)
}

// syllables build C_LAST (clause 4.3.2.3).
var syllables = [10]string{"BAR", "OUGHT", "ABLE", "PRI", "PRES", "ESE", "ANTI", "CALLY", "ATION", "EING"}

// lastName is the C_LAST for n in [0, 999]: the syllables of its three
// digits.
func lastName(n int) string {
	return syllables[n/100] + syllables[n/10%10] + syllables[n%10]
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// aString is a random a-string (clause 4.3.2.2): alphanumeric, of a random
// length in [lo, hi].
func (g *gen) aString(lo, hi int) string {
	b := make([]byte, g.uniform(lo, hi))
	for i := range b {
		b[i] = alnum[g.r.IntN(len(alnum))]
	}
	return string(b)
}

// nString is a random n-string: digits, of a random length in [lo, hi].
func (g *gen) nString(lo, hi int) string {
	b := make([]byte, g.uniform(lo, hi))
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

// zip is a zip code (clause 4.3.2.7): four random digits then "11111".
func (g *gen) zip() string { return g.nString(4, 4) + "11111" }

// state is a two-letter state: an a-string of length 2, upper case letters.
func (g *gen) state() string {
	return string([]byte{byte('A' + g.r.IntN(26)), byte('A' + g.r.IntN(26))})
}

// data is I_DATA or S_DATA (clause 4.3.3.1): an a-string of [26, 50]
// characters, and for 10% of rows "ORIGINAL" at a random position.
func (g *gen) data() string {
	s := g.aString(26, 50)
	if g.r.IntN(100) >= 10 {
		return s
	}
	const orig = "ORIGINAL"
	pos := g.r.IntN(len(s) - len(orig) + 1)
	return s[:pos] + orig + s[pos+len(orig):]
}

// permutation returns a random permutation of [1, n].
func (g *gen) permutation(n int) []int {
	p := make([]int, n)
	for i, v := range g.r.Perm(n) {
		p[i] = v + 1
	}
	return p
}

// itoa avoids fmt in hot paths.
func itoa(i int) string { return strconv.Itoa(i) }
