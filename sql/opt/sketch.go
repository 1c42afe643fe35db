// Package opt is the planner's knowledge of the data: table statistics
// collected from rows (distinct counts by HyperLogLog, NULL counts,
// widths, equi-depth histograms from a row sample), selectivity and row
// count estimates from them, and the join order search that uses the
// estimates. It knows tables by their descriptors and values by their
// key encodings; it builds no plan nodes (the sql package does, from
// what it decides).
package opt

import (
	"math"
	"math/bits"
)

// hllPrecision is the HyperLogLog's precision p: 2^p registers, a
// standard error of about 1.04/sqrt(2^p) = 0.8%, 16 KiB per column.
const hllPrecision = 14

// hll estimates how many distinct values it was given (Flajolet et al.,
// "HyperLogLog: the analysis of a near-optimal cardinality estimation
// algorithm", 2007): each value's hash picks a register by its first p
// bits and offers it the position of the first 1 bit among the rest; the
// harmonic mean of 2^register estimates the count, corrected by linear
// counting while many registers are still empty.
type hll struct {
	reg [1 << hllPrecision]uint8
}

// add offers one value, by its 64-bit hash.
func (h *hll) add(hash uint64) {
	idx := hash >> (64 - hllPrecision)
	rank := uint8(bits.LeadingZeros64(hash<<hllPrecision|1<<(hllPrecision-1)) + 1)
	if rank > h.reg[idx] {
		h.reg[idx] = rank
	}
}

// estimate is the number of distinct values added, rounded.
func (h *hll) estimate() int64 {
	const m = float64(1 << hllPrecision)
	sum, zeros := 0.0, 0
	for _, r := range h.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros)) // linear counting
	}
	return int64(math.Round(e))
}

// hash64 is FNV-1a over b, finished by SplitMix64's mixer so that every
// bit depends on every input bit (HyperLogLog reads the top bits).
func hash64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
