package pgformat

import (
	"math"
	"testing"
)

// TestFormatFloatHalfwayBound: where Go's shortest digits lie exactly
// halfway to the next float, PostgreSQL prints one digit more.
func TestFormatFloatHalfwayBound(t *testing.T) {
	for _, c := range []struct {
		f    float64
		bits int
		want string
	}{
		{float64(float32(-44.7)) * 1e15, 64, "-4.4700000762939456e+16"},
		{float64(float32(1.1)) * 1e15, 64, "1.1000000238418579e+15"},
		{0.1, 64, "0.1"},
		{1e15, 64, "1e+15"},
		{123456789.5, 64, "123456789.5"},
		{-2.5, 64, "-2.5"},
		{float64(float32(3.4028235e38)), 32, "3.4028235e+38"},
		{float64(float32(16777217)), 32, "1.6777216e+07"},
		{float64(float32(0.1)), 32, "0.1"},
		{math.MaxFloat64, 64, "1.7976931348623157e+308"},
		{5e-324, 64, "5e-324"},
	} {
		if got := formatFloat(c.f, c.bits); got != c.want {
			t.Errorf("formatFloat(%v, %d) = %s, want %s", c.f, c.bits, got, c.want)
		}
	}
	for _, c := range []struct {
		e    string
		exp  int
		want string
	}{
		{"1.25e+02", 2, "125"}, {"-1.25e-03", -3, "-0.00125"}, {"1.2e+05", 5, "120000"}, {"1.2345e+01", 1, "12.345"},
	} {
		if got := fixedNotation(c.e, c.exp); got != c.want {
			t.Errorf("fixedNotation(%s) = %s, want %s", c.e, got, c.want)
		}
	}
}
