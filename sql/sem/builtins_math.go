package sem

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Numeric functions.
var _ = RegisterFamily(map[string][]tree.Overload{
	"abs": {
		numFn(types.Int, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			v := tree.MustBeDInt(a[0])
			if v < 0 {
				if v == -v {
					return nil, errBigintOutOfRange
				}
				v = -v
			}
			return tree.NewDInt(v), nil
		}),
		numFn(types.Float, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			// math.Abs: abs(-0) is 0.
			return tree.NewDFloat(tree.DFloat(math.Abs(float64(*a[0].(*tree.DFloat))))), nil
		}),
		numFn(types.Decimal, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			r := &tree.DDecimal{}
			r.Decimal.Abs(&a[0].(*tree.DDecimal).Decimal)
			return r, nil
		}),
	},
	// GREATEST and LEAST take arguments of one common type and, unlike
	// other functions, ignore NULLs: NULL only when every argument is.
	"greatest": {extremumFn(1)},
	"least":    {extremumFn(-1)},
})

// extremumFn is GREATEST (sign 1) or LEAST (-1).
func extremumFn(sign int) tree.Overload {
	return tree.Overload{
		Types: tree.HomogeneousType{}, ReturnType: tree.IdentityReturnType(0),
		Volatility: volatility.Immutable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			best := tree.Datum(tree.DNull)
			for _, d := range a {
				if d == tree.DNull {
					continue
				}
				if best == tree.DNull {
					best = d
					continue
				}
				c, err := e.Compare(d, best)
				if err != nil {
					return nil, err
				}
				if c*sign > 0 {
					best = d
				}
			}
			return best, nil
		}),
	}
}

func numFn(t *types.T, f BuiltinFn) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "x", Typ: t}}, ReturnType: tree.FixedReturnType(t),
		Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: f,
	}
}

// Rounding, powers and logarithms, integer division, random numbers.
//
// PostgreSQL has these on double precision and on numeric; an integer
// argument goes to the double precision one (float8 is the preferred
// numeric type), hence the integer overloads that return floats. The
// numeric results have the scale PostgreSQL's numeric.c picks: at least
// 16 significant digits (NUMERIC_MIN_SIG_DIGITS), no fewer decimals than
// the inputs, rounded half away from zero.
var _ = RegisterFamily(map[string][]tree.Overload{
	"round": append(floatFn(math.RoundToEven),
		decFn(func(d *apd.Decimal) (*apd.Decimal, error) { return roundScale(d, 0, apd.RoundHalfUp) }),
		decIntFn(func(d *apd.Decimal, s int64) (*apd.Decimal, error) { return roundScale(d, s, apd.RoundHalfUp) }),
	),
	"trunc": append(floatFn(math.Trunc),
		decFn(func(d *apd.Decimal) (*apd.Decimal, error) { return roundScale(d, 0, apd.RoundDown) }),
		decIntFn(func(d *apd.Decimal, s int64) (*apd.Decimal, error) { return roundScale(d, s, apd.RoundDown) }),
	),
	"ceil":    ceilFloor(math.Ceil, apd.RoundCeiling),
	"ceiling": ceilFloor(math.Ceil, apd.RoundCeiling),
	"floor":   ceilFloor(math.Floor, apd.RoundFloor),
	"sign": append(floatFn(func(f float64) float64 {
		switch {
		case f > 0:
			return 1
		case f < 0:
			return -1
		}
		return 0
	}),
		decFn(func(d *apd.Decimal) (*apd.Decimal, error) {
			if d.IsZero() {
				return apd.New(0, 0), nil
			}
			if d.Negative {
				return apd.New(-1, 0), nil
			}
			return apd.New(1, 0), nil
		}),
	),
	"sqrt": append(floatErrFn(func(f float64) (float64, error) {
		if f < 0 {
			return 0, errSqrtNegative
		}
		return math.Sqrt(f), nil
	}),
		decFn(numericSqrt),
	),
	"cbrt": floatOnlyFn(cbrt),
	"exp": append(floatErrFn(func(f float64) (float64, error) { return checkFloat(math.Exp(f), !math.IsInf(f, -1)) }),
		decFn(numericExp),
	),
	"ln": append(floatErrFn(func(f float64) (float64, error) { return floatLog(f, math.Log) }),
		decFn(func(d *apd.Decimal) (*apd.Decimal, error) {
			if err := checkLogArg(d); err != nil {
				return nil, err
			}
			rscale := clampScale(16-estimateLnDweight(d), decScale(d))
			return numericCompute(rscale, func(c *apd.Context, r *apd.Decimal) error {
				_, err := c.Ln(r, d)
				return err
			})
		}),
	),
	"log":   logFns(),
	"log10": logFns()[:3],
	"power": powerFns(),
	"pow":   powerFns(),
	"mod": {
		intBinFn(func(a, b int64) (int64, error) {
			if b == 0 {
				return 0, errDivByZero
			}
			if b == -1 {
				return 0, nil
			}
			return a % b, nil
		}),
		decBinFn(func(a, b *apd.Decimal) (*apd.Decimal, error) {
			if b.IsZero() {
				return nil, errDivByZero
			}
			r := new(apd.Decimal)
			if _, err := divCtx(a, b).Rem(r, a, b); err != nil {
				return nil, err
			}
			return modScale(r, a, b)
		}),
	},
	"div": {decBinFn(func(a, b *apd.Decimal) (*apd.Decimal, error) {
		if b.IsZero() {
			return nil, errDivByZero
		}
		r := new(apd.Decimal)
		if _, err := divCtx(a, b).QuoInteger(r, a, b); err != nil {
			return nil, err
		}
		return noNegZero(r), nil
	})},
	"gcd": {
		intBinFn(func(a, b int64) (int64, error) { return gcdInt(a, b) }),
		decBinFn(func(a, b *apd.Decimal) (*apd.Decimal, error) { return gcdDecimal(a, b) }),
	},
	"lcm": {
		intBinFn(func(a, b int64) (int64, error) {
			if a == 0 || b == 0 {
				return 0, nil
			}
			g, err := gcdInt(a, b)
			if err != nil {
				return 0, err
			}
			q := a / g
			r := q * b
			if r/b != q || r == math.MinInt64 {
				return 0, errBigintOutOfRange
			}
			if r < 0 {
				r = -r
			}
			return r, nil
		}),
		decBinFn(func(a, b *apd.Decimal) (*apd.Decimal, error) {
			scale := max(decScale(a), decScale(b))
			if a.IsZero() || b.IsZero() {
				return roundScale(apd.New(0, 0), int64(scale), apd.RoundDown)
			}
			g, err := gcdDecimal(a, b)
			if err != nil {
				return nil, err
			}
			r := new(apd.Decimal)
			if _, err := tree.ExactCtx.Mul(r, a, b); err != nil {
				return nil, err
			}
			r.Negative = false
			c := tree.DecimalCtx.WithPrecision(uint32(r.NumDigits()) + 10)
			if _, err := c.Quo(r, r, g); err != nil {
				return nil, err
			}
			return roundScale(r, int64(scale), apd.RoundDown)
		}),
	},
	// width_bucket takes any numeric arguments and, as PostgreSQL
	// resolves its overloads, computes in double precision when one is a
	// float or all are integers, else exactly in numeric. (One overload
	// of any type: the parser's resolution finds float8 and numeric
	// overloads ambiguous for constants.)
	"width_bucket": {{
		Types:      tree.ParamTypes{{Name: "operand", Typ: types.Any}, {Name: "low", Typ: types.Any}, {Name: "high", Typ: types.Any}, {Name: "count", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.Int4), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			float, decimal := false, false
			for _, t := range argTypes[:3] {
				switch t.Family() {
				case types.FloatFamily:
					float = true
				case types.DecimalFamily:
					decimal = true
				case types.IntFamily:
				default:
					return nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function width_bucket(%s, %s, %s, integer) does not exist",
						FormatType(argTypes[0].Oid(), -1), FormatType(argTypes[1].Oid(), -1), FormatType(argTypes[2].Oid(), -1))
				}
			}
			count := int64(tree.MustBeDInt(a[3]))
			if float || !decimal {
				return widthBucketFloat(ToFloat(a[0]), ToFloat(a[1]), ToFloat(a[2]), count)
			}
			x, lo, hi := ToDecimal(a[0]), ToDecimal(a[1]), ToDecimal(a[2])
			return widthBucket(x, lo, hi, count, x.Form == apd.NaN || lo.Form == apd.NaN || hi.Form == apd.NaN)
		}),
	}},
	"random": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Float), Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			randomSource.Lock()
			defer randomSource.Unlock()
			return tree.NewDFloat(tree.DFloat(randomSource.r.Float64())), nil
		}),
	}},
	// setseed seeds random(); the generator is the server's, not the
	// session's as in PostgreSQL, so other sessions' calls interleave.
	"setseed": {{
		Types: tree.ParamTypes{{Name: "seed", Typ: types.Float}}, ReturnType: tree.FixedReturnType(types.Void),
		Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			s := float64(tree.MustBeDFloat(a[0]))
			if s < -1 || s > 1 || math.IsNaN(s) {
				return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "setseed parameter %g is out of allowed range [-1,1]", s)
			}
			randomSource.Lock()
			defer randomSource.Unlock()
			seed := uint64(int64(s * math.MaxInt64))
			randomSource.r = rand.New(rand.NewPCG(seed, seed))
			return tree.DVoidDatum, nil
		}),
	}},
})

var randomSource = struct {
	sync.Mutex
	r *rand.Rand
}{r: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}

var (
	errSqrtNegative = pgerror.New("2201F", "cannot take square root of a negative number")
	errLogZero      = pgerror.New("2201E", "cannot take logarithm of zero")
	errLogNegative  = pgerror.New("2201E", "cannot take logarithm of a negative number")
	errZeroNegPower = pgerror.New("2201F", "zero raised to a negative power is undefined")
	errComplexPower = pgerror.New("2201F", "a negative number raised to a non-integer power yields a complex result")
	errOverflow     = pgerror.New(pgerror.CodeNumericValueOutOfRange, "value out of range: overflow")
	errUnderflow    = pgerror.New(pgerror.CodeNumericValueOutOfRange, "value out of range: underflow")
)

// checkFloat fails an infinite result of finite inputs (overflow) and a
// zero that should not be (underflow), as PostgreSQL's float8 functions do.
func checkFloat(f float64, nonZero bool) (float64, error) {
	if math.IsInf(f, 0) {
		return 0, errOverflow
	}
	if f == 0 && nonZero {
		return 0, errUnderflow
	}
	return f, nil
}

func floatLog(f float64, log func(float64) float64) (float64, error) {
	if f == 0 {
		return 0, errLogZero
	}
	if f < 0 {
		return 0, errLogNegative
	}
	return log(f), nil
}

func checkLogArg(d *apd.Decimal) error {
	if d.IsZero() {
		return errLogZero
	}
	if d.Negative {
		return errLogNegative
	}
	return nil
}

// floatFn is a double precision function, also taking integers.
func floatFn(f func(float64) float64) []tree.Overload {
	return floatErrFn(func(x float64) (float64, error) { return f(x), nil })
}

// floatOnlyFn is a function PostgreSQL has for double precision alone
// (cbrt): a numeric argument is cast to double precision, an implicit
// cast there. Without an overload of its own, a numeric argument would
// find the int overload (whose cast PostgreSQL does not make implicitly)
// as good as the float one: an ambiguous call.
func floatOnlyFn(f func(float64) float64) []tree.Overload {
	ovs := floatFn(f)
	dec := ovs[0]
	dec.Types = tree.ParamTypes{{Name: "x", Typ: types.Decimal}}
	return append(ovs, dec)
}

func floatErrFn(f func(float64) (float64, error)) []tree.Overload {
	fn := BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		r, err := f(ToFloat(a[0]))
		if err != nil {
			return nil, err
		}
		return tree.NewDFloat(tree.DFloat(r)), nil
	})
	return []tree.Overload{
		{Types: tree.ParamTypes{{Name: "x", Typ: types.Float}}, ReturnType: tree.FixedReturnType(types.Float), Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: fn},
		{Types: tree.ParamTypes{{Name: "x", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.Float), Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: fn},
	}
}

func decFn(f func(*apd.Decimal) (*apd.Decimal, error)) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "x", Typ: types.Decimal}}, ReturnType: tree.FixedReturnType(types.Decimal),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			r, err := f(ToDecimal(a[0]))
			if err != nil {
				return nil, err
			}
			return &tree.DDecimal{Decimal: *noNegZero(r)}, nil
		}),
	}
}

func decIntFn(f func(*apd.Decimal, int64) (*apd.Decimal, error)) tree.Overload {
	return tree.Overload{
		Types:      tree.ParamTypes{{Name: "x", Typ: types.Decimal}, {Name: "scale", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.Decimal), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			r, err := f(ToDecimal(a[0]), int64(tree.MustBeDInt(a[1])))
			if err != nil {
				return nil, err
			}
			return &tree.DDecimal{Decimal: *noNegZero(r)}, nil
		}),
	}
}

func decBinFn(f func(a, b *apd.Decimal) (*apd.Decimal, error)) tree.Overload {
	return tree.Overload{
		Types:      tree.ParamTypes{{Name: "x", Typ: types.Decimal}, {Name: "y", Typ: types.Decimal}},
		ReturnType: tree.FixedReturnType(types.Decimal), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			r, err := f(ToDecimal(a[0]), ToDecimal(a[1]))
			if err != nil {
				return nil, err
			}
			return &tree.DDecimal{Decimal: *noNegZero(r)}, nil
		}),
	}
}

// intBinFn is a function of two integers returning the wider of their
// types (int4 for int4 arguments, as PostgreSQL has an overload a width).
func intBinFn(f func(a, b int64) (int64, error)) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "x", Typ: types.Int}, {Name: "y", Typ: types.Int}},
		ReturnType: func(args []tree.TypedExpr) *types.T {
			if len(args) < 2 {
				return types.Int
			}
			return widerInt(pgTypeOf(args[0]), pgTypeOf(args[1]))
		},
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			r, err := f(int64(tree.MustBeDInt(a[0])), int64(tree.MustBeDInt(a[1])))
			if err != nil {
				if errors.Is(err, errBigintOutOfRange) {
					err = errIntWidthOutOfRange(widerInt(argTypes[0], argTypes[1]))
				}
				return nil, err
			}
			if t := widerInt(argTypes[0], argTypes[1]); t.Width() == 32 && (r < math.MinInt32 || r > math.MaxInt32) ||
				t.Width() == 16 && (r < math.MinInt16 || r > math.MaxInt16) {
				return nil, errIntWidthOutOfRange(t)
			}
			return tree.NewDInt(tree.DInt(r)), nil
		}),
	}
}

var errBigintOutOfRange = pgerror.New(pgerror.CodeNumericValueOutOfRange, "bigint out of range")

func widerInt(a, b *types.T) *types.T {
	if a.Width() >= b.Width() {
		return a
	}
	return b
}

func errIntWidthOutOfRange(t *types.T) error {
	switch t.Width() {
	case 16:
		return pgerror.New(pgerror.CodeNumericValueOutOfRange, "smallint out of range")
	case 32:
		return ErrIntOutOfRange
	}
	return errBigintOutOfRange
}

func ceilFloor(f func(float64) float64, mode apd.Rounder) []tree.Overload {
	return append(floatFn(f), decFn(func(d *apd.Decimal) (*apd.Decimal, error) {
		// Truncated, then one away from zero when a fraction was cut
		// on the side mode rounds to: apd's Quantize with RoundFloor
		// or RoundCeiling does not round -0.001 to -1 (nor 0.001 up
		// to 1) when the first digit cut is a zero.
		r, err := roundScale(d, 0, apd.RoundDown)
		if err != nil || d.Form != apd.Finite || r.Cmp(d) == 0 {
			return r, err
		}
		if d.Negative == (mode == apd.RoundFloor) {
			step := apd.New(1, 0)
			step.Negative = d.Negative
			if _, err := tree.ExactCtx.Add(r, r, step); err != nil {
				return nil, err
			}
		}
		return noNegZero(r), nil
	}))
}

func noNegZero(d *apd.Decimal) *apd.Decimal {
	if d.IsZero() {
		d.Negative = false
	}
	return d
}

// decScale is numeric's display scale: the decimals d shows.
func decScale(d *apd.Decimal) int {
	return displayScale(d)
}

// roundScale rounds d to s decimals (to a multiple of 10^-s when s is
// negative), showing max(s, 0) decimals.
func roundScale(d *apd.Decimal, s int64, mode apd.Rounder) (*apd.Decimal, error) {
	if d.Form != apd.Finite {
		return d, nil
	}
	s = max(min(s, 1000), -1000)
	c := *tree.DecimalCtx
	c.Rounding = mode
	c.Precision = uint32(max(d.NumDigits()+int64(d.Exponent), 0) + abs64(s) + 2)
	r := new(apd.Decimal)
	if _, err := c.Quantize(r, d, int32(-s)); err != nil {
		return nil, pgerror.WithCode(err, pgerror.CodeNumericValueOutOfRange)
	}
	if s < 0 {
		// Show the rounded value as an integer: 1200, not 12E+2.
		if _, err := c.Quantize(r, r, 0); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// clampScale is PostgreSQL's choice of result scale: rscale, but no fewer
// decimals than the inputs show, within [0, 1000].
func clampScale(rscale int, inputScales ...int) int {
	for _, s := range inputScales {
		rscale = max(rscale, s)
	}
	return min(max(rscale, 0), 1000)
}

// numericCompute runs f with enough precision for rscale decimals and
// rounds its result to them.
func numericCompute(rscale int, f func(c *apd.Context, r *apd.Decimal) error) (*apd.Decimal, error) {
	c := wideDecimalCtx(rscale + 40)
	r := new(apd.Decimal)
	if err := f(c, r); err != nil {
		return nil, numericComputeErr(err)
	}
	intDigits := max(r.NumDigits()+int64(r.Exponent), 0)
	if intDigits > 20 {
		// A large result: again, with precision for its integer digits.
		c = wideDecimalCtx(int(intDigits) + rscale + 40)
		if err := f(c, r); err != nil {
			return nil, numericComputeErr(err)
		}
	}
	return roundToScale(r, rscale)
}

// numericMaxIntDigits is how many digits numeric holds before its point:
// its weight, an int16, counts base-10000 digits.
const numericMaxIntDigits = 4 * 32768

var errNumericOverflow = pgerror.New(pgerror.CodeNumericValueOutOfRange, "value overflows numeric format")

// wideDecimalCtx has prec digits and an exponent range wider than
// numeric's, so that what overflows is decided by roundToScale, as
// PostgreSQL decides it, not by the context.
func wideDecimalCtx(prec int) *apd.Context {
	c := tree.DecimalCtx.WithPrecision(uint32(prec))
	// apd's limit, below numeric's: results of 100,001 to 131,072
	// digits overflow here where PostgreSQL's do not.
	c.MaxExponent, c.MinExponent = apd.MaxExponent, apd.MinExponent
	return c
}

// decimalExp sets r to e^x with c's precision. apd's Exp gives up on a
// precision of some thousands of digits (too many iterations of its
// series) unless x is small, so then x is halved exactly until it is
// below 0.001, and its exponential squared back, with guard digits for
// the roundings of the squarings.
func decimalExp(c *apd.Context, r, x *apd.Decimal) error {
	_, err := c.Exp(r, x)
	if err == nil || !strings.Contains(err.Error(), "too many iterations") {
		return err
	}
	small, half, limit := new(apd.Decimal).Set(x), apd.New(5, -1), apd.New(1, -3)
	k := 0
	for new(apd.Decimal).Abs(small).Cmp(limit) > 0 {
		_, _ = tree.ExactCtx.Mul(small, small, half)
		k++
	}
	nc := c.WithPrecision(c.Precision + uint32(k)/3 + 10)
	if _, err := nc.Exp(r, small); err != nil {
		return err
	}
	for ; k > 0; k-- {
		if _, err := nc.Mul(r, r, r); err != nil {
			return err
		}
	}
	_, err = c.Round(r, r)
	return err
}

// decimalPow sets r to x^y, x positive, with c's precision: as
// e^(y ln x) with decimalExp where apd's Pow gives up as its Exp does.
func decimalPow(c *apd.Context, r, x, y *apd.Decimal) error {
	_, err := c.Pow(r, x, y)
	if err == nil || !strings.Contains(err.Error(), "too many iterations") {
		return err
	}
	// y ln x has as many integer digits as the result has digits to
	// lose to its error: carry them as guard digits.
	nc := c.WithPrecision(c.Precision + 20)
	lnx := new(apd.Decimal)
	if _, err := nc.Ln(lnx, x); err != nil {
		return err
	}
	if _, err := nc.Mul(lnx, lnx, y); err != nil {
		return err
	}
	if err := decimalExp(nc, r, lnx); err != nil {
		return err
	}
	_, err = c.Round(r, r)
	return err
}

// numericComputeErr is a failed computation's error: apd's overflow
// (past its exponent range, whose limit is its own, not a condition
// numeric has) is numeric's.
func numericComputeErr(err error) error {
	if msg := err.Error(); strings.Contains(msg, "overflow") || strings.Contains(msg, "exponent out of range") {
		return errNumericOverflow
	}
	return pgerror.WithCode(err, pgerror.CodeNumericValueOutOfRange)
}

// roundToScale rounds r half away from zero to rscale decimals, failing
// as numeric does on more integer digits than it holds.
func roundToScale(r *apd.Decimal, rscale int) (*apd.Decimal, error) {
	intDigits := max(r.NumDigits()+int64(r.Exponent), 0)
	if intDigits > numericMaxIntDigits {
		return nil, errNumericOverflow
	}
	c := wideDecimalCtx(int(intDigits) + rscale + 2)
	c.Rounding = apd.RoundHalfUp
	if _, err := c.Quantize(r, r, int32(-rscale)); err != nil {
		return nil, numericComputeErr(err)
	}
	return r, nil
}

// estimateLnDweight is numeric.c's estimate of the decimal weight of
// ln(d), from which ln, log and power pick their scales.
func estimateLnDweight(d *apd.Decimal) int {
	if d.Negative || d.IsZero() {
		return 0
	}
	lo, hi := apd.New(9, -1), apd.New(11, -1)
	if d.Cmp(lo) >= 0 && d.Cmp(hi) <= 0 {
		x := new(apd.Decimal)
		_, _ = tree.ExactCtx.Sub(x, d, apd.New(1, 0))
		if x.IsZero() {
			return 0
		}
		// The position of x's first significant digit.
		return int(x.NumDigits()+int64(x.Exponent)) - 1
	}
	// numeric.c reads the first one or two base-10000 digits.
	w, first := nbaseFirst(d)
	digits := float64(first)
	dweight := w * 4
	if nbaseDigits(d) > 1 {
		digits = digits*10000 + float64(nbaseDigitAt(d, w-1))
		dweight -= 4
	}
	lnVar := math.Log(digits) + float64(dweight)*2.302585092994046
	return int(math.Log10(math.Abs(lnVar)))
}

// nbaseDigits counts d's base-10000 digits as PostgreSQL stores them
// (trailing zero digits stripped).
func nbaseDigits(d *apd.Decimal) int {
	w, _ := nbaseFirst(d)
	// The last non-zero decimal digit's position, in base-10000 digits.
	c := new(apd.Decimal)
	c.Set(d)
	c.Reduce(c)
	lastPos := int(c.Exponent) // 10^lastPos is the last significant digit
	lastW := floorDiv(lastPos, 4)
	return w - lastW + 1
}

// nbaseDigitAt is d's base-10000 digit of weight w: floor(|d| /
// 10000^w) mod 10000.
func nbaseDigitAt(d *apd.Decimal, w int) int {
	q := new(apd.Decimal)
	scaled := new(apd.Decimal).Set(d)
	scaled.Negative = false
	scaled.Exponent -= int32(4 * w)
	_, _ = divCtx(scaled, apd.New(1, 0)).QuoInteger(q, scaled, apd.New(1, 0))
	r := new(apd.Decimal)
	_, _ = divCtx(q, apd.New(10000, 0)).Rem(r, q, apd.New(10000, 0))
	v, _ := r.Int64()
	return int(v)
}

func numericSqrt(d *apd.Decimal) (*apd.Decimal, error) {
	if d.Negative && !d.IsZero() {
		return nil, errSqrtNegative
	}
	w, _ := nbaseFirst(d)
	sweight := (w+1)*4/2 - 1
	rscale := clampScale(16-sweight, decScale(d))
	return numericCompute(rscale, func(c *apd.Context, r *apd.Decimal) error {
		_, err := c.Sqrt(r, d)
		return err
	})
}

func numericExp(d *apd.Decimal) (*apd.Decimal, error) {
	f, _ := d.Float64()
	val := max(min(f*0.434294481903252, 2000), -2000)
	rscale := clampScale(16-int(val), decScale(d))
	// numeric.c's exp_var takes arguments below 6000 in magnitude: past
	// that the result overflows, or is zero at the result's scale.
	if math.Abs(f) >= 6000 {
		if f > 0 {
			return nil, errNumericOverflow
		}
		return roundScale(apd.New(0, 0), int64(rscale), apd.RoundDown)
	}
	return numericCompute(rscale, func(c *apd.Context, r *apd.Decimal) error {
		return decimalExp(c, r, d)
	})
}

// numericLog is log(base, x) on numeric.
func numericLog(base, x *apd.Decimal) (*apd.Decimal, error) {
	if err := checkLogArg(base); err != nil {
		return nil, err
	}
	if err := checkLogArg(x); err != nil {
		return nil, err
	}
	if base.Cmp(apd.New(1, 0)) == 0 {
		return nil, errDivByZero
	}
	rscale := clampScale(16-(estimateLnDweight(x)-estimateLnDweight(base)), decScale(base), decScale(x))
	return numericCompute(rscale, func(c *apd.Context, r *apd.Decimal) error {
		lb, lx := new(apd.Decimal), new(apd.Decimal)
		if _, err := c.Ln(lb, base); err != nil {
			return err
		}
		if _, err := c.Ln(lx, x); err != nil {
			return err
		}
		_, err := c.Quo(r, lx, lb)
		return err
	})
}

func logFns() []tree.Overload {
	ten := apd.New(10, 0)
	return append(
		floatErrFn(func(f float64) (float64, error) { return floatLog(f, math.Log10) }),
		decFn(func(d *apd.Decimal) (*apd.Decimal, error) { return numericLog(ten, d) }),
		decBinFn(numericLog),
	)
}

func powerFns() []tree.Overload {
	floatPow := BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		x, y := ToFloat(a[0]), ToFloat(a[1])
		if x == 0 && y < 0 {
			return nil, errZeroNegPower
		}
		if x < 0 && y != math.Trunc(y) {
			return nil, errComplexPower
		}
		r, err := checkFloat(roundedPow(x, y), x != 0)
		if err != nil {
			return nil, err
		}
		return tree.NewDFloat(tree.DFloat(r)), nil
	})
	return []tree.Overload{
		{Types: tree.ParamTypes{{Name: "x", Typ: types.Float}, {Name: "y", Typ: types.Float}}, ReturnType: tree.FixedReturnType(types.Float), Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: floatPow},
		{Types: tree.ParamTypes{{Name: "x", Typ: types.Int}, {Name: "y", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.Float), Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: floatPow},
		decBinFn(numericPower),
	}
}

// numericPower is power() of numerics, with numeric.c's result scales
// and its limits: a result past numeric's range overflows (22003), one
// below its scale is zero.
func numericPower(x, y *apd.Decimal) (*apd.Decimal, error) {
	if x.IsZero() && y.Negative && !y.IsZero() {
		return nil, errZeroNegPower
	}
	yInt := new(apd.Decimal)
	_, _ = tree.ExactCtx.RoundToIntegralValue(yInt, y)
	isInt := yInt.Cmp(y) == 0
	if x.Negative && !x.IsZero() && !isInt {
		return nil, errComplexPower
	}
	if n, err := yInt.Int64(); isInt && err == nil && n >= math.MinInt32 && n <= math.MaxInt32 {
		return numericIntPower(x, n, clampScale(16, decScale(x)))
	}
	if x.IsZero() {
		return roundScale(apd.New(0, 0), 16, apd.RoundDown)
	}
	// A negative base has an integer exponent here: its sign is the
	// exponent's parity.
	base := new(apd.Decimal).Abs(x)
	neg := x.Negative && yInt.Coeff.Bit(0) == 1 && yInt.Exponent == 0
	// The result's decimal weight, estimated as numeric.c does, from
	// y * ln(x), past which the result overflows or is zero.
	lnx := new(apd.Decimal)
	c8 := wideDecimalCtx(max(8-estimateLnDweight(base), 8) + 10)
	if _, err := c8.Ln(lnx, base); err != nil {
		return nil, numericComputeErr(err)
	}
	_, _ = c8.Mul(lnx, lnx, y)
	val, _ := lnx.Float64()
	if math.Abs(val) > 2000*3.01 {
		if val > 0 {
			return nil, errNumericOverflow
		}
		return roundScale(apd.New(0, 0), 1000, apd.RoundDown)
	}
	weight := val * 0.434294481903252
	rscale := clampScale(16-int(weight), decScale(x), decScale(y))
	if math.Abs(val) >= 2000*3 {
		if val > 0 {
			return nil, errNumericOverflow
		}
		return roundScale(apd.New(0, 0), int64(rscale), apd.RoundDown)
	}
	r, err := numericCompute(rscale, func(c *apd.Context, r *apd.Decimal) error {
		return decimalPow(c, r, base, y)
	})
	if err == nil && neg && !r.IsZero() {
		r.Negative = true
	}
	return r, err
}

// numericIntPower is x^n to rscale decimals: exactly when the exact
// power is not longer than the digits the result needs, else with those
// digits and guard digits for the roundings of the squarings.
func numericIntPower(x *apd.Decimal, n int64, rscale int) (*apd.Decimal, error) {
	if n == 0 {
		return roundScale(apd.New(1, 0), int64(rscale), apd.RoundDown)
	}
	if x.IsZero() {
		return roundScale(apd.New(0, 0), int64(rscale), apd.RoundDown)
	}
	// log10 of the result, from x's leading digits.
	digits := x.Coeff.String()
	lead := digits[:min(len(digits), 17)]
	lf, _ := strconv.ParseFloat(lead, 64)
	f := float64(n) * (math.Log10(lf) + float64(len(digits)-len(lead)) + float64(x.Exponent))
	if f > 3*32767*4 {
		return nil, errNumericOverflow
	}
	if f+1 < -float64(rscale) {
		return roundScale(apd.New(0, 0), int64(rscale), apd.RoundDown)
	}
	prec := max(int(f)+1+rscale, 1) + len(strconv.FormatInt(abs64(n), 10)) + 12
	if n > 0 {
		if exact := x.NumDigits()*n + 1; exact < int64(prec) {
			prec = int(exact)
		}
	}
	r, exp, err := scaledIntPower(wideDecimalCtx(prec), x, abs64(n))
	if err != nil {
		return nil, numericComputeErr(err)
	}
	// r's own exponent into exp, so that r is in [1, 10) (and so is
	// its reciprocal, but for a power of ten).
	adj := r.NumDigits() + int64(r.Exponent) - 1
	r.Exponent -= int32(adj)
	exp += adj
	if n < 0 {
		if _, err := wideDecimalCtx(prec).Quo(r, decimalOne, r); err != nil {
			return nil, numericComputeErr(err)
		}
		exp = -exp
	}
	if exp+1 > numericMaxIntDigits {
		return nil, errNumericOverflow
	}
	if exp+int64(r.Exponent) < -numericMaxIntDigits {
		// Far below the result's scale (f's estimate let it by).
		return roundScale(apd.New(0, 0), int64(rscale), apd.RoundDown)
	}
	r.Exponent += int32(exp)
	return roundToScale(r, rscale)
}

var decimalOne = apd.New(1, 0)

// scaledIntPower is x^n (n > 0) by squaring, with c's precision, as a
// decimal and the power of ten it is to be scaled by: apd keeps
// exponents within +-100,000 even before it rounds, which the products
// of many-digit decimals pass long before their value does.
func scaledIntPower(c *apd.Context, x *apd.Decimal, n int64) (*apd.Decimal, int64, error) {
	// norm puts half of d's digits after its point and returns the
	// power of ten taken out: the product of two such has an exponent
	// and a magnitude of at most the precision, both within apd's range
	// (a mantissa in [1, 10) would not be: its product's exponent, before
	// rounding, is twice the precision).
	norm := func(d *apd.Decimal) int64 {
		target := int32(-(d.NumDigits() / 2))
		out := int64(d.Exponent) - int64(target)
		d.Exponent = target
		return out
	}
	sq := new(apd.Decimal).Set(x)
	sqExp := norm(sq)
	r, exp := new(apd.Decimal).Set(decimalOne), int64(0)
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			if _, err := c.Mul(r, r, sq); err != nil {
				return nil, 0, err
			}
			exp += sqExp + norm(r)
		}
		if n > 1 {
			if _, err := c.Mul(sq, sq, sq); err != nil {
				return nil, 0, err
			}
			sqExp = 2*sqExp + norm(sq)
		}
	}
	return r, exp, nil
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func gcdInt(a, b int64) (int64, error) {
	for b != 0 {
		a, b = b, a%b
	}
	if a == math.MinInt64 {
		return 0, errBigintOutOfRange
	}
	if a < 0 {
		a = -a
	}
	return a, nil
}

// gcdDecimal is Euclid's algorithm on numerics; the result shows the
// larger scale of the two.
func gcdDecimal(a, b *apd.Decimal) (*apd.Decimal, error) {
	scale := max(decScale(a), decScale(b))
	x, y := new(apd.Decimal).Set(a), new(apd.Decimal).Set(b)
	x.Negative, y.Negative = false, false
	for !y.IsZero() {
		r := new(apd.Decimal)
		if _, err := divCtx(x, y).Rem(r, x, y); err != nil {
			return nil, err
		}
		x, y = y, r
	}
	return roundScale(x, int64(scale), apd.RoundDown)
}

// widthBucket is width_bucket: which of count equal buckets between low
// and high holds x; 0 below them, count+1 above.
func widthBucket(x, lo, hi *apd.Decimal, count int64, nan bool) (tree.Datum, error) {
	if count <= 0 {
		return nil, pgerror.New("2201G", "count must be greater than zero")
	}
	if nan {
		return nil, pgerror.New("2201G", "operand, lower bound, and upper bound cannot be NaN")
	}
	if lo.Cmp(hi) == 0 {
		return nil, pgerror.New("2201G", "lower bound cannot equal upper bound")
	}
	if lo.Form != apd.Finite || hi.Form != apd.Finite {
		return nil, pgerror.New("2201G", "lower and upper bounds must be finite")
	}
	var bucket int64
	asc := lo.Cmp(hi) < 0
	switch {
	case asc && x.Cmp(lo) < 0, !asc && x.Cmp(lo) > 0:
		bucket = 0
	case asc && x.Cmp(hi) >= 0, !asc && x.Cmp(hi) <= 0:
		if count == math.MaxInt32 {
			return nil, ErrIntOutOfRange
		}
		bucket = count + 1
	default:
		// floor((x - lo) * count / (hi - lo)) + 1, exactly.
		num, den := new(apd.Decimal), new(apd.Decimal)
		_, _ = tree.ExactCtx.Sub(num, x, lo)
		_, _ = tree.ExactCtx.Sub(den, hi, lo)
		_, _ = tree.ExactCtx.Mul(num, num, apd.New(count, 0))
		q := new(apd.Decimal)
		c := tree.DecimalCtx.WithPrecision(uint32(num.NumDigits()+int64(num.Exponent)-int64(den.Exponent)) + 10)
		if _, err := c.QuoInteger(q, num, den); err != nil {
			return nil, err
		}
		n, _ := q.Int64()
		bucket = n + 1
	}
	return tree.NewDInt(tree.DInt(bucket)), nil
}

// cbrt is glibc's cbrt, which PostgreSQL calls: its last digit can
// differ from math.Cbrt's (cbrt(27) is 3.0000000000000004), and results
// must be PostgreSQL's.
func cbrt(x float64) float64 {
	const cbrt2, sqrCbrt2 = 1.2599210498948731648, 1.5874010519681994748
	factor := [5]float64{1.0 / sqrCbrt2, 1.0 / cbrt2, 1.0, cbrt2, sqrCbrt2}
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x + x
	}
	xm, xe := math.Frexp(math.Abs(x))
	// float64() conversions keep the compiler from fusing multiply-adds.
	u := float64(0.354895765043919860 + float64(float64(1.50819193781584896+float64(float64(-2.11499494167371287+float64(float64(2.44693122563534430+float64(float64(-1.83469277483613086+float64(float64(0.784932344976639262-float64(0.145263899385486377*xm))*xm))*xm))*xm))*xm))*xm))
	t2 := float64(float64(u*u) * u)
	ym := float64(float64(u*float64(t2+float64(2.0*xm))) / float64(float64(2.0*t2)+xm))
	ym = float64(ym * factor[2+xe%3])
	r := math.Ldexp(ym, xe/3)
	if x < 0 {
		return -r
	}
	return r
}

// divCtx has the precision for an exact integer quotient or remainder of
// a by b.
func divCtx(a, b *apd.Decimal) *apd.Context {
	return tree.DecimalCtx.WithPrecision(uint32(max(a.NumDigits()+int64(a.Exponent)-int64(b.Exponent), 0) + a.NumDigits() + b.NumDigits() + 10))
}

// widthBucketFloat is width_bucket on double precision, computed as
// PostgreSQL 15 does.
func widthBucketFloat(x, lo, hi float64, count int64) (tree.Datum, error) {
	if count <= 0 {
		return nil, pgerror.New("2201G", "count must be greater than zero")
	}
	if math.IsNaN(x) || math.IsNaN(lo) || math.IsNaN(hi) {
		return nil, pgerror.New("2201G", "operand, lower bound, and upper bound cannot be NaN")
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, pgerror.New("2201G", "lower and upper bounds must be finite")
	}
	if lo == hi {
		return nil, pgerror.New("2201G", "lower bound cannot equal upper bound")
	}
	c := float64(count)
	var r int64
	switch {
	case lo < hi && x < lo, lo > hi && x > lo:
		r = 0
	case lo < hi && x >= hi, lo > hi && x <= hi:
		if count == math.MaxInt32 {
			return nil, ErrIntOutOfRange
		}
		r = count + 1
	case lo < hi:
		if !math.IsInf(hi-lo, 0) {
			r = int64(c*((x-lo)/(hi-lo)) + 1)
		} else {
			r = int64(c*((x/2-lo/2)/(hi/2-lo/2)) + 1)
		}
	default:
		if !math.IsInf(lo-hi, 0) {
			r = int64(c*((lo-x)/(lo-hi)) + 1)
		} else {
			r = int64(c*((lo/2-x/2)/(lo/2-hi/2)) + 1)
		}
	}
	return tree.NewDInt(tree.DInt(r)), nil
}

// modScale shows r, a remainder of a by b, with the larger display
// scale of the two as PostgreSQL's mod_var does (mod(-439.76, 1.000)
// is -439.760, not -439.76).
func modScale(r, a, b *apd.Decimal) (*apd.Decimal, error) {
	if r.Form != apd.Finite {
		return r, nil
	}
	out, err := roundScale(r, int64(max(decScale(a), decScale(b))), apd.RoundHalfEven)
	if err != nil {
		return nil, err
	}
	return noNegZero(out), nil
}
