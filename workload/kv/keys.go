package kv

import (
	"math"
	"math/rand/v2"
)

// zipfian draws ranks in [0, n) with P(i) ∝ 1/(i+1)^theta, by the method of
// Gray et al., "Quickly generating billion-record synthetic databases"
// (SIGMOD 1994), as YCSB does. It is safe for concurrent use once made;
// each caller passes its own random source.
type zipfian struct {
	n                   uint64
	theta, alpha, zetaN float64
	eta, half           float64
}

// zipfTheta is YCSB's and CockroachDB's skew.
const zipfTheta = 0.99

// exactZetaUpTo bounds the terms summed one by one; beyond it the tail of
// zeta(n) is the integral of x^-theta (its error is far below a draw's).
const exactZetaUpTo = 10_000_000

func zeta(n uint64, theta float64) float64 {
	var sum float64
	m := min(n, exactZetaUpTo)
	for i := uint64(1); i <= m; i++ {
		sum += 1 / math.Pow(float64(i), theta)
	}
	if n > m {
		sum += (math.Pow(float64(n), 1-theta) - math.Pow(float64(m), 1-theta)) / (1 - theta)
	}
	return sum
}

func newZipfian(n uint64, theta float64) *zipfian {
	z := &zipfian{n: n, theta: theta, alpha: 1 / (1 - theta), zetaN: zeta(n, theta)}
	zeta2 := zeta(2, theta)
	z.eta = (1 - math.Pow(2/float64(n), 1-theta)) / (1 - zeta2/z.zetaN)
	z.half = 1 + math.Pow(0.5, theta)
	return z
}

func (z *zipfian) draw(r *rand.Rand) uint64 {
	u := r.Float64()
	uz := u * z.zetaN
	if uz < 1 {
		return 0
	}
	if uz < z.half {
		return 1
	}
	v := uint64(float64(z.n) * math.Pow(z.eta*u-z.eta+1, z.alpha))
	return min(v, z.n-1)
}

// scramble maps an index to a key spread over the int64 range: a bijection
// on 64 bits (the finalizer of SplitMix64), with the sign bit cleared.
// Random keys land all over the keyspace, so that a range-sharded database
// gets no hotspot from the index order.
func scramble(i uint64) int64 {
	i ^= i >> 30
	i *= 0xbf58476d1ce4e5b9
	i ^= i >> 27
	i *= 0x94d049bb133111eb
	i ^= i >> 31
	return int64(i &^ (1 << 63))
}
