package sem

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// String functions.
var _ = RegisterFamily(map[string][]tree.Overload{
	"lower":     {strFn(strings.ToLower)},
	"btrim":     append(trimFn(strings.Trim), byteaTrimFn(bytesTrim)),
	"ltrim":     append(trimFn(strings.TrimLeft), byteaTrimFn(bytesTrimLeft)),
	"rtrim":     append(trimFn(strings.TrimRight), byteaTrimFn(bytesTrimRight)),
	"substr":    append(substrFn(), byteaSubstrFns()...),
	"substring": append(append(substrFn(), byteaSubstrFns()...), patternSubstrFns()...),
	"replace": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "from", Typ: types.String}, {Name: "to", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			s, from := string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1]))
			if from == "" {
				// PostgreSQL finds nothing to replace, where Go would
				// insert between every character.
				return tree.NewDString(s), nil
			}
			return tree.NewDString(strings.ReplaceAll(s, from, string(tree.MustBeDString(a[2])))), nil
		}),
	}},
	"strpos": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "sub", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.Int4), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			s, sub := string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1]))
			i := strings.Index(s, sub)
			if i < 0 {
				return tree.NewDInt(0), nil
			}
			return tree.NewDInt(tree.DInt(utf8.RuneCountInString(s[:i]) + 1)), nil
		}),
	}},
	"repeat": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			n := int(tree.MustBeDInt(a[1]))
			s := string(tree.MustBeDString(a[0]))
			if n <= 0 {
				return tree.NewDString(""), nil
			}
			if len(s)*n > 1<<28 {
				return nil, pgerror.New(pgerror.CodeProgramLimitExceeded, "requested length too large")
			}
			return tree.NewDString(strings.Repeat(s, n)), nil
		}),
	}},
	// left and right take n characters from one end, or with n < 0 all
	// but -n from the other.
	"left": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			r := []rune(string(tree.MustBeDString(a[0])))
			n := clampRunes(int64(tree.MustBeDInt(a[1])), len(r))
			return tree.NewDString(string(r[:n])), nil
		}),
	}},
	"right": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			r := []rune(string(tree.MustBeDString(a[0])))
			n := clampRunes(int64(tree.MustBeDInt(a[1])), len(r))
			return tree.NewDString(string(r[len(r)-n:])), nil
		}),
	}},
	"upper":        {strFn(strings.ToUpper)},
	"length":       {intOfStr(func(s string) int64 { return int64(utf8.RuneCountInString(s)) }), bytesLength()},
	"char_length":  {intOfStr(func(s string) int64 { return int64(utf8.RuneCountInString(s)) })},
	"octet_length": {intOfStr(func(s string) int64 { return int64(len(s)) }), bytesLength()},
	// quote_ident quotes an identifier when it needs it (upper case,
	// punctuation, a reserved word).
	"quote_ident": {{
		Types: tree.ParamTypes{{Name: "ident", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(QuoteIdent(string(tree.MustBeDString(a[0])))), nil
		}),
	}},
})

func trimFn(f func(s, cutset string) string) []tree.Overload {
	return []tree.Overload{
		{
			Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
			Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return tree.NewDString(f(string(tree.MustBeDString(a[0])), " ")), nil
			}),
		},
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "chars", Typ: types.String}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return tree.NewDString(f(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])))), nil
			}),
		},
	}
}

// substrFn is substr(s, start [, count]) with PostgreSQL's rules: start
// counts from 1 and may be before the string; a negative count is an
// error.
func substrFn() []tree.Overload {
	sub := func(s string, start, count int64, bounded bool) (tree.Datum, error) {
		r := []rune(s)
		lo, hi, err := substrBounds(len(r), start, count, bounded)
		if err != nil {
			return nil, err
		}
		return tree.NewDString(string(r[lo:hi])), nil
	}
	return []tree.Overload{
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "start", Typ: types.Int}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return sub(string(tree.MustBeDString(a[0])), int64(tree.MustBeDInt(a[1])), 0, false)
			}),
		},
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "start", Typ: types.Int}, {Name: "count", Typ: types.Int}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return sub(string(tree.MustBeDString(a[0])), int64(tree.MustBeDInt(a[1])), int64(tree.MustBeDInt(a[2])), true)
			}),
		},
	}
}

// substrBounds is the part [lo, hi) of a sequence of n characters (or
// bytes) that substring(s, start [, count]) takes: start counts from 1 and
// may lie before the sequence; a negative count is an error.
func substrBounds(n int, start, count int64, bounded bool) (lo, hi int, err error) {
	if bounded && count < 0 {
		return 0, 0, pgerror.New("22011", "negative substring length not allowed")
	}
	end := int64(n) + 1
	if bounded && start+count < end {
		end = start + count
	}
	start = max(start, 1)
	if end <= start || start > int64(n) {
		return 0, 0, nil
	}
	return int(start - 1), int(end - 1), nil
}

func strFn(f func(string) string) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(f(string(tree.MustBeDString(a[0])))), nil
		}),
	}
}

// bytesLength is length(bytea) and octet_length(bytea): its bytes.
func bytesLength() tree.Overload {
	return strOverload(tree.ParamTypes{{Name: "b", Typ: types.Bytes}}, types.Int4, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		return tree.NewDInt(tree.DInt(len(tree.MustBeDBytes(a[0])))), nil
	})
}

func intOfStr(f func(string) int64) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.Int4),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDInt(tree.DInt(f(string(tree.MustBeDString(a[0]))))), nil
		}),
	}
}

// clampRunes turns left's and right's n into how many of length runes to
// keep: n itself, or length+n for negative n, within [0, length].
func clampRunes(n int64, length int) int {
	if n < 0 {
		n += int64(length)
	}
	return int(max(0, min(n, int64(length))))
}

// More string functions: padding, splitting, quoting, format.
var _ = RegisterFamily(map[string][]tree.Overload{
	"lpad":    padFn(true),
	"rpad":    padFn(false),
	"reverse": {strFn(reverseString)},
	"initcap": {strFn(initcap)},
	"md5": {
		strFn(func(s string) string {
			sum := md5.Sum([]byte(s))
			return hex.EncodeToString(sum[:])
		}),
		strOverload(tree.ParamTypes{{Name: "b", Typ: types.Bytes}}, types.String, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			sum := md5.Sum([]byte(tree.MustBeDBytes(a[0])))
			return tree.NewDString(hex.EncodeToString(sum[:])), nil
		}),
	},
	"sha224": {digestFn(func(b []byte) []byte { s := sha256.Sum224(b); return s[:] })},
	"sha256": {digestFn(func(b []byte) []byte { s := sha256.Sum256(b); return s[:] })},
	"sha384": {digestFn(func(b []byte) []byte { s := sha512.Sum384(b); return s[:] })},
	"sha512": {digestFn(func(b []byte) []byte { s := sha512.Sum512(b); return s[:] })},
	"encode": {strOverload(tree.ParamTypes{{Name: "data", Typ: types.Bytes}, {Name: "format", Typ: types.String}}, types.String,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return encodeBytes([]byte(tree.MustBeDBytes(a[0])), string(tree.MustBeDString(a[1])))
		})},
	"decode": {strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "format", Typ: types.String}}, types.Bytes,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return decodeBytes(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])))
		})},
	// to_hex prints an integer's two's complement in its type's width.
	"to_hex": {{
		Types: tree.ParamTypes{{Name: "n", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
			v := int64(tree.MustBeDInt(a[0]))
			if argTypes[0].Width() == 32 || argTypes[0].Width() == 16 {
				return tree.NewDString(strconv.FormatUint(uint64(uint32(v)), 16)), nil
			}
			return tree.NewDString(strconv.FormatUint(uint64(v), 16)), nil
		}),
	}},
	"split_part": {strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "delimiter", Typ: types.String}, {Name: "n", Typ: types.Int}}, types.String,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return splitPart(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), int64(tree.MustBeDInt(a[2])))
		})},
	"starts_with": {strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "prefix", Typ: types.String}}, types.Bool,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.MakeDBool(tree.DBool(strings.HasPrefix(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1]))))), nil
		})},
	"translate": {strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "from", Typ: types.String}, {Name: "to", Typ: types.String}}, types.String,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(translate(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])), string(tree.MustBeDString(a[2])))), nil
		})},
	"ascii": {strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}}, types.Int4,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			r, _ := utf8.DecodeRuneInString(string(tree.MustBeDString(a[0])))
			if r == utf8.RuneError {
				r = 0
			}
			return tree.NewDInt(tree.DInt(r)), nil
		})},
	"chr": {strOverload(tree.ParamTypes{{Name: "code", Typ: types.Int}}, types.String,
		func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			c := int64(tree.MustBeDInt(a[0]))
			switch {
			case c == 0:
				return nil, pgerror.New(pgerror.CodeProgramLimitExceeded, "null character not permitted")
			case c < 0:
				return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "character number must be positive")
			case c > unicode.MaxRune:
				return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "requested character too large for encoding: %d", c)
			case c >= 0xD800 && c <= 0xDFFF:
				return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "requested character not valid for encoding: %d", c)
			}
			return tree.NewDString(string(rune(c))), nil
		})},
	"quote_literal": {anyToText(false, func(e *EvalCtx, d tree.Datum) (tree.Datum, error) {
		return tree.NewDString(quoteLiteral(e.OutText(d))), nil
	})},
	// quote_nullable is quote_literal with NULL as the word NULL.
	"quote_nullable": {anyToText(true, func(e *EvalCtx, d tree.Datum) (tree.Datum, error) {
		if d == tree.DNull {
			return tree.NewDString("NULL"), nil
		}
		return tree.NewDString(quoteLiteral(e.OutText(d))), nil
	})},
	// concat and concat_ws skip NULL arguments.
	"concat": {{
		Types: tree.VariadicType{VarType: types.Any}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(joinNonNull(e, a, "")), nil
		}),
	}},
	"concat_ws": {{
		Types:      tree.VariadicType{FixedTypes: []*types.T{types.String}, VarType: types.Any},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if a[0] == tree.DNull {
				return tree.DNull, nil
			}
			return tree.NewDString(joinNonNull(e, a[1:], string(tree.MustBeDString(a[0])))), nil
		}),
	}},
	"format": {
		{
			Types:      tree.VariadicType{FixedTypes: []*types.T{types.String}, VarType: types.Any},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: true,
			Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				if a[0] == tree.DNull {
					return tree.DNull, nil
				}
				return formatText(e, string(tree.MustBeDString(a[0])), a[1:])
			}),
		},
	},
})

func digestFn(f func([]byte) []byte) tree.Overload {
	return strOverload(tree.ParamTypes{{Name: "b", Typ: types.Bytes}}, types.Bytes, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		return tree.NewDBytes(tree.DBytes(f([]byte(tree.MustBeDBytes(a[0]))))), nil
	})
}

func strOverload(params tree.ParamTypes, ret *types.T, fn BuiltinFn) tree.Overload {
	return tree.Overload{
		Types: params, ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Immutable, Class: tree.NormalClass, Fn: fn,
	}
}

// anyToText is a one-argument function of any type returning text.
func anyToText(onNull bool, fn func(e *EvalCtx, d tree.Datum) (tree.Datum, error)) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "value", Typ: types.Any}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Stable, Class: tree.NormalClass, CalledOnNullInput: onNull,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) { return fn(e, a[0]) }),
	}
}

func joinNonNull(e *EvalCtx, a tree.Datums, sep string) string {
	var b strings.Builder
	first := true
	for _, d := range a {
		if d == tree.DNull {
			continue
		}
		if !first {
			b.WriteString(sep)
		}
		first = false
		b.WriteString(e.OutText(d))
	}
	return b.String()
}

// padFn is lpad or rpad: the string filled to length characters, or cut
// to its first length characters.
func padFn(left bool) []tree.Overload {
	pad := func(s string, n int64, fill string) (tree.Datum, error) {
		r := []rune(s)
		if n <= 0 {
			return tree.NewDString(""), nil
		}
		if n > 1<<28 {
			return nil, pgerror.New(pgerror.CodeProgramLimitExceeded, "requested length too large")
		}
		if int64(len(r)) >= n || fill == "" {
			return tree.NewDString(string(r[:min(int64(len(r)), n)])), nil
		}
		f := []rune(fill)
		padding := make([]rune, 0, n-int64(len(r)))
		for i := 0; int64(len(padding)) < n-int64(len(r)); i++ {
			padding = append(padding, f[i%len(f)])
		}
		if left {
			return tree.NewDString(string(padding) + s), nil
		}
		return tree.NewDString(s + string(padding)), nil
	}
	return []tree.Overload{
		strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "length", Typ: types.Int}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return pad(string(tree.MustBeDString(a[0])), int64(tree.MustBeDInt(a[1])), " ")
			}),
		strOverload(tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "length", Typ: types.Int}, {Name: "fill", Typ: types.String}}, types.String,
			func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
				return pad(string(tree.MustBeDString(a[0])), int64(tree.MustBeDInt(a[1])), string(tree.MustBeDString(a[2])))
			}),
	}
}

func reverseString(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// initcap upper-cases the first letter of each word and lower-cases the
// rest; words are runs of letters and digits.
func initcap(s string) string {
	var b strings.Builder
	prevAlnum := false
	for _, c := range s {
		if prevAlnum {
			b.WriteRune(unicode.ToLower(c))
		} else {
			b.WriteRune(unicode.ToUpper(c))
		}
		prevAlnum = unicode.IsLetter(c) || unicode.IsDigit(c)
	}
	return b.String()
}

// splitPart is split_part: field n (from 1, or from the end if negative)
// of s split on delimiter; an empty delimiter makes s the only field.
func splitPart(s, delim string, n int64) (tree.Datum, error) {
	if n == 0 {
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "field position must not be zero")
	}
	var fields []string
	switch {
	case s == "":
		fields = nil
	case delim == "":
		fields = []string{s}
	default:
		fields = strings.Split(s, delim)
	}
	if n < 0 {
		n += int64(len(fields)) + 1
	}
	if n < 1 || n > int64(len(fields)) {
		return tree.NewDString(""), nil
	}
	return tree.NewDString(fields[n-1]), nil
}

// translate replaces each character of s found in from by the one at the
// same position in to, or drops it when to is shorter.
func translate(s, from, to string) string {
	f, t := []rune(from), []rune(to)
	var b strings.Builder
	for _, c := range s {
		i := -1
		for j, fc := range f {
			if fc == c {
				i = j
				break
			}
		}
		switch {
		case i < 0:
			b.WriteRune(c)
		case i < len(t):
			b.WriteRune(t[i])
		}
	}
	return b.String()
}

// quoteLiteral is quote_literal on text: single quotes doubled, and an E
// prefix with doubled backslashes when there are backslashes.
func quoteLiteral(s string) string {
	var b strings.Builder
	if strings.ContainsRune(s, '\\') {
		b.WriteByte('E')
	}
	b.WriteByte('\'')
	for _, c := range s {
		if c == '\'' || c == '\\' {
			b.WriteRune(c)
		}
		b.WriteRune(c)
	}
	b.WriteByte('\'')
	return b.String()
}

var errFormatTooFew = pgerror.New(pgerror.CodeInvalidParameterValue, "too few arguments for format()")

// formatText is format(): %[position$][-][width]type with types s, I, L
// and %%; width may be * or *position$, taken from an argument.
func formatText(e *EvalCtx, f string, args tree.Datums) (tree.Datum, error) {
	var b strings.Builder
	next := 0 // the argument an unnumbered conversion takes
	unterminated := pgerror.WithHint(pgerror.New(pgerror.CodeInvalidParameterValue, "unterminated format() type specifier"),
		`For a single "%" use "%%".`)
	r := []rune(f)
	// number reads digits at r[i:], returning the value and the index after.
	number := func(i int) (int, int, error) {
		v := 0
		for ; i < len(r) && r[i] >= '0' && r[i] <= '9'; i++ {
			v = v*10 + int(r[i]-'0')
			if v > 1<<24 {
				return 0, 0, pgerror.New(pgerror.CodeInvalidParameterValue, "number is out of range")
			}
		}
		return v, i, nil
	}
	for i := 0; i < len(r); i++ {
		if r[i] != '%' {
			b.WriteRune(r[i])
			continue
		}
		i++
		if i >= len(r) {
			return nil, unterminated
		}
		if r[i] == '%' {
			b.WriteByte('%')
			continue
		}
		argPos := -1
		// An argument position, or a width: digits then $ or not.
		if r[i] >= '1' && r[i] <= '9' || r[i] == '0' {
			v, j, err := number(i)
			if err != nil {
				return nil, err
			}
			if j < len(r) && r[j] == '$' {
				if v == 0 {
					return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "format specifies argument 0, but arguments are numbered from 1")
				}
				argPos = v - 1
				i = j + 1
			}
		}
		if i >= len(r) {
			return nil, unterminated
		}
		leftAlign := false
		for i < len(r) && r[i] == '-' {
			leftAlign = true
			i++
		}
		width := 0
		if i < len(r) && r[i] == '*' {
			i++
			wpos := next
			if i < len(r) && r[i] >= '0' && r[i] <= '9' {
				v, j, err := number(i)
				if err != nil {
					return nil, err
				}
				if j >= len(r) || r[j] != '$' {
					return nil, unterminated
				}
				if v == 0 {
					return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "format specifies argument 0, but arguments are numbered from 1")
				}
				wpos = v - 1
				i = j + 1
			}
			if wpos >= len(args) {
				return nil, errFormatTooFew
			}
			next = wpos + 1
			if w := args[wpos]; w != tree.DNull {
				wi, ok := tree.AsDInt(w)
				if !ok {
					return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "width argument must be an integer")
				}
				width = int(wi)
				if width < 0 {
					leftAlign, width = true, -width
				}
			}
		} else if i < len(r) && r[i] >= '0' && r[i] <= '9' {
			v, j, err := number(i)
			if err != nil {
				return nil, err
			}
			width, i = v, j
		}
		if i >= len(r) {
			return nil, unterminated
		}
		conv := r[i]
		if conv != 's' && conv != 'I' && conv != 'L' {
			return nil, pgerror.WithHint(pgerror.Newf(pgerror.CodeInvalidParameterValue, "unrecognized format() type specifier \"%c\"", conv),
				`For a single "%" use "%%".`)
		}
		if argPos < 0 {
			argPos = next
		}
		if argPos >= len(args) {
			return nil, errFormatTooFew
		}
		next = argPos + 1
		d := args[argPos]
		var s string
		switch conv {
		case 's':
			if d != tree.DNull {
				s = e.OutText(d)
			}
		case 'I':
			if d == tree.DNull {
				return nil, pgerror.New("22004", "null values cannot be formatted as an SQL identifier")
			}
			s = QuoteIdent(e.OutText(d))
		case 'L':
			s = "NULL"
			if d != tree.DNull {
				s = quoteLiteral(e.OutText(d))
			}
		}
		if n := utf8.RuneCountInString(s); n < width {
			if leftAlign {
				s += strings.Repeat(" ", width-n)
			} else {
				s = strings.Repeat(" ", width-n) + s
			}
		}
		b.WriteString(s)
	}
	return tree.NewDString(b.String()), nil
}

func errUnknownEncoding(format string) error {
	return pgerror.Newf(pgerror.CodeInvalidParameterValue, "unrecognized encoding: \"%s\"", format)
}

// encodeBytes is encode(): hex; base64 in lines of 76 characters; or
// escape, where NUL and bytes with the high bit set print as \ooo and a
// backslash doubles.
func encodeBytes(b []byte, format string) (tree.Datum, error) {
	switch strings.ToLower(format) {
	case "hex":
		return tree.NewDString(hex.EncodeToString(b)), nil
	case "base64":
		enc := base64.StdEncoding.EncodeToString(b)
		var out strings.Builder
		for len(enc) > 76 {
			out.WriteString(enc[:76])
			out.WriteByte('\n')
			enc = enc[76:]
		}
		out.WriteString(enc)
		return tree.NewDString(out.String()), nil
	case "escape":
		var out strings.Builder
		for _, c := range b {
			switch {
			case c == 0 || c >= 0x80:
				fmt.Fprintf(&out, "\\%03o", c)
			case c == '\\':
				out.WriteString("\\\\")
			default:
				out.WriteByte(c)
			}
		}
		return tree.NewDString(out.String()), nil
	}
	return nil, errUnknownEncoding(format)
}

// decodeBytes is decode(), encode's inverse.
func decodeBytes(s, format string) (tree.Datum, error) {
	switch strings.ToLower(format) {
	case "hex":
		var digits []byte
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
				continue
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
				digits = append(digits, c)
			default:
				_, size := utf8.DecodeRuneInString(s[i:])
				return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid hexadecimal digit: \"%s\"", s[i:i+size])
			}
		}
		if len(digits)%2 != 0 {
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "invalid hexadecimal data: odd number of digits")
		}
		out := make([]byte, len(digits)/2)
		_, _ = hex.Decode(out, digits)
		return tree.NewDBytes(tree.DBytes(out)), nil
	case "base64":
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
		out, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "invalid base64 sequence")
		}
		return tree.NewDBytes(tree.DBytes(out)), nil
	case "escape":
		var out []byte
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c != '\\' {
				out = append(out, c)
				continue
			}
			switch {
			case i+1 < len(s) && s[i+1] == '\\':
				out = append(out, '\\')
				i++
			case i+3 < len(s) && isOctal(s[i+1]) && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
				out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
				i += 3
			default:
				return nil, pgerror.New(pgerror.CodeInvalidTextRepresentation, "invalid input syntax for type bytea")
			}
		}
		return tree.NewDBytes(tree.DBytes(out)), nil
	}
	return nil, errUnknownEncoding(format)
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// QuoteIdent is s as an identifier, quoted as PostgreSQL's
// quote_identifier does: unless it is lower-case ASCII letters, digits
// and underscores not starting with a digit (a letter such as ß or é is
// quoted), and not a keyword.
func QuoteIdent(s string) string {
	safe := s != "" && (s[0] == '_' || s[0] >= 'a' && s[0] <= 'z')
	for i := 0; safe && i < len(s); i++ {
		c := s[i]
		safe = c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	if safe {
		// Keywords: the grammar's own judgement.
		return tree.NameString(s)
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
