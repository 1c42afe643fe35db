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
	if a.kind != "sum" {
		// avg's state starts from 0 (float8_accum).
		var err error
		s.fsum, s.fsxx, err = floatAccum(s.count, prev, s.fsxx, v)
		return err
	}
	switch {
	case s.count == 1:
		// The first value is sum's state as it is (-0 stays -0).
		s.fsum = v
	case a.typ.Oid() == oid.T_float4:
		s.fsum = float64(float32(prev) + float32(v))
	default:
		s.fsum = prev + v
	}
	if math.IsInf(s.fsum, 0) && !math.IsInf(prev, 0) && !math.IsInf(v, 0) {
		return errFloatAggOverflow
	}
	return nil
}

// floatAccum adds x, the nth value, to a float8 sum sx and Youngs-Cramer
// sum of squared differences sxx, as PostgreSQL's float8_accum (behind
// avg, the variances and standard deviations) does: finite values whose
// sum or squares overflow fail (22003); an infinite or NaN value makes
// sxx NaN.
func floatAccum(n int64, sx, sxx, x float64) (float64, float64, error) {
	newSx := sx + x
	if n == 1 {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return newSx, math.NaN(), nil
		}
		return newSx, sxx, nil
	}
	t := x*float64(n) - newSx
	newSxx := sxx + t*t/(float64(n)*float64(n-1))
	if math.IsInf(newSx, 0) || math.IsInf(newSxx, 0) {
		if !math.IsInf(sx, 0) && !math.IsInf(x, 0) {
			return 0, 0, errFloatAggOverflow
		}
		newSxx = math.NaN()
	}
	return newSx, newSxx, nil
}
