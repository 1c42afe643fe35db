package sql

import (
	"math"

	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// sum and avg of floats as PostgreSQL computes them: sum(float4) adds
// in float4 and is a float4 (float4pl), sum(float8) in float8
// (float8pl), each failing (22003) when finite values add up to an
// infinity; avg of either accumulates in float8 as float8_accum does,
// with the Youngs-Cramer sum of squares, which fails as well when it
// overflows (avg of 1e200 and -1e200), and divides the sum by the count.

var errFloatAggOverflow = pgerror.New(pgerror.CodeNumericValueOutOfRange, "value out of range: overflow")

// accumulateFloat adds v, the count's value (s.count already counts it).
func accumulateFloat(s *aggState, a aggSpec, v float64) error {
	prev := s.fsum
	switch {
	case s.count == 1 && a.kind == "sum":
		// The first value is sum's state as it is (-0 stays -0); avg's
		// starts from 0.
		s.fsum = v
	case s.count == 1:
		s.fsum = 0 + v
	case a.kind == "sum" && a.typ.Oid() == oid.T_float4:
		s.fsum = float64(float32(prev) + float32(v))
	default:
		s.fsum = prev + v
	}
	finiteIn := !math.IsInf(prev, 0) && !math.IsInf(v, 0)
	if a.kind == "sum" {
		if math.IsInf(s.fsum, 0) && finiteIn {
			return errFloatAggOverflow
		}
		return nil
	}
	if s.count == 1 {
		s.fsxx = 0
		if math.IsInf(v, 0) || math.IsNaN(v) {
			s.fsxx = math.NaN()
		}
		return nil
	}
	n := float64(s.count)
	tmp := v*n - s.fsum
	s.fsxx += tmp * tmp / (n * (n - 1))
	if math.IsInf(s.fsum, 0) || math.IsInf(s.fsxx, 0) {
		if finiteIn {
			return errFloatAggOverflow
		}
		s.fsxx = math.NaN()
	}
	return nil
}
