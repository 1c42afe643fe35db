package sem

import (
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// to_char of numbers with PostgreSQL's numeric template patterns: 9
// (digit, blank when a leading zero), 0 (digit, zero kept), . and D
// (decimal point), , and G (group separator), S (sign next to the
// number), SG MI PL (sign at that place), PR (<negative>), TH (ordinal
// suffix), RN (Roman numeral), EEEE (scientific notation), FM (no
// padding, no trailing zeros), L (the currency symbol: a blank in the C
// locale), B, C and SP (read, and print nothing), quoted text. V answers
// 0A000.
//
// The output is PostgreSQL's to the blank: its formatter is a small
// machine whose corners (where the sign lands beside blanks, FM of a
// zero, a template with more decimals than a float8 has digits) are
// what clients see, so numFormat walks the template the way it does,
// over the value's digit string, rather than composing the text from
// its parts.

// numToCharFns are to_char's overloads for numbers, which
// builtins_tochar.go registers with those for times.
func numToCharFns() []tree.Overload {
	var ovs []tree.Overload
	for _, t := range []*types.T{types.Int, types.Float, types.Decimal} {
		ov := stableFn(types.String, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return numToChar(a[0], string(tree.MustBeDString(a[1])))
		}, t, types.String)
		if t.Family() == types.IntFamily {
			ov.Fn = BuiltinTypedFn(func(e *EvalCtx, a tree.Datums, argTypes []*types.T) (tree.Datum, error) {
				tmpl := string(tree.MustBeDString(a[1]))
				if i, ok := a[0].(*tree.DInt); ok && argTypes[0].Width() == 64 && strings.Contains(strings.ToUpper(tmpl), "EEEE") {
					// int8_to_char formats EEEE as a numeric (rounding
					// half away from zero, -525 to -5.3e+02), int4's and
					// int2's as a float8 (half to even, -5.2e+02).
					return numToChar(&tree.DDecimal{Decimal: *apd.New(int64(*i), 0)}, tmpl)
				}
				return numToChar(a[0], tmpl)
			})
		}
		ovs = append(ovs, ov)
	}
	return ovs
}

// numTok kinds: the template's patterns.
const (
	ntLit   = iota // text copied to the output
	ntNine         // 9
	ntZero         // 0
	ntPoint        // . or D
	ntComma        // , or G
	ntSign         // S
	ntSG           // SG
	ntMI           // MI
	ntPL           // PL
	ntPR           // PR
	ntTH           // TH or th
	ntRN           // RN or rn
	ntEEEE         // EEEE
	ntL            // L
	ntNone         // B, C, SP: patterns that print nothing
)

type numTok struct {
	kind  int
	text  string // a literal's text
	lower bool   // th, rn
}

// numKeywords are the patterns as PostgreSQL matches them: each in upper
// or in lower case, never mixed ("Fm" is two literal letters), longest
// first among those of one letter.
var numKeywords = []struct {
	name string
	kind int
}{
	{"EEEE", ntEEEE}, {"FM", -1}, {"MI", ntMI}, {"PL", ntPL}, {"PR", ntPR},
	{"RN", ntRN}, {"SG", ntSG}, {"SP", ntNone}, {"TH", ntTH},
	{"B", ntNone}, {"C", ntNone}, {"D", ntPoint}, {"G", ntComma}, {"L", ntL},
	{"S", ntSign}, {"V", -2},
}

// numDesc is what the template says as a whole, PostgreSQL's NUMDesc.
type numDesc struct {
	pre, post          int // digit places before and after the point
	zeroStart, zeroEnd int // 1-based place of the first 0 before the point (0: none), and of the last 0
	preLsign           int // digit places before an S that precedes the point
	lsign              int // S: 0 none, -1 before the number, 1 after it
	fill, zero         bool
	decimal, bracket   bool
	plus, minus        bool
	roman, eeee        bool
}

func numSyntaxError(msg string) error {
	return pgerror.New(pgerror.CodeSyntaxError, msg)
}

func parseNumTemplate(tmpl string) (toks []numTok, d numDesc, err error) {
	for i := 0; i < len(tmpl); {
		rest := tmpl[i:]
		kind, n, lower := ntLit, 0, false
		switch c := rest[0]; {
		case c == '9':
			kind, n = ntNine, 1
		case c == '0':
			kind, n = ntZero, 1
		case c == '.':
			kind, n = ntPoint, 1
		case c == ',':
			kind, n = ntComma, 1
		default:
			for _, k := range numKeywords {
				if strings.HasPrefix(rest, k.name) {
					kind, n = k.kind, len(k.name)
					break
				}
				if strings.HasPrefix(rest, strings.ToLower(k.name)) {
					kind, n, lower = k.kind, len(k.name), true
					break
				}
			}
		}
		switch {
		case kind == -1:
			d.fill = true
			i += n
			continue
		case kind == -2:
			return nil, d, pgerror.Newf(pgerror.CodeFeatureNotSupported, "to_char pattern %q is not supported yet", rest[:1])
		case n > 0:
			if d.eeee && kind != ntEEEE {
				return nil, d, numSyntaxError(`"EEEE" must be the last pattern used`)
			}
			if err := d.add(kind); err != nil {
				return nil, d, err
			}
			toks = append(toks, numTok{kind: kind, lower: lower})
			i += n
			continue
		}
		// Text: a double-quoted string (a backslash quoting the next
		// character), or one character, where a backslash before a
		// double quote makes it plain text.
		if rest[0] == '"' {
			j := 1
			var b strings.Builder
			for j < len(rest) && rest[j] != '"' {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				b.WriteByte(rest[j])
				j++
			}
			toks = append(toks, numTok{kind: ntLit, text: b.String()})
			i += min(j+1, len(rest))
			continue
		}
		if rest[0] == '\\' && len(rest) > 1 && rest[1] == '"' {
			i++
			rest = rest[1:]
		}
		toks = append(toks, numTok{kind: ntLit, text: rest[:1]})
		i++
	}
	if d.eeee && (d.fill || d.lsign != 0 || d.bracket || d.minus || d.plus || d.roman) {
		return nil, d, pgerror.WithDetail(numSyntaxError(`"EEEE" is incompatible with other formats`),
			`"EEEE" may only be used together with digit and decimal point patterns.`)
	}
	return toks, d, nil
}

// add records one pattern in the description, with PostgreSQL's checks
// of patterns that do not go together.
func (d *numDesc) add(kind int) error {
	switch kind {
	case ntNine:
		if d.bracket {
			return numSyntaxError(`"9" must be ahead of "PR"`)
		}
		if d.decimal {
			d.post++
		} else {
			d.pre++
		}
	case ntZero:
		if d.bracket {
			return numSyntaxError(`"0" must be ahead of "PR"`)
		}
		if !d.zero && !d.decimal {
			d.zero = true
			d.zeroStart = d.pre + 1
		}
		if d.decimal {
			d.post++
		} else {
			d.pre++
		}
		d.zeroEnd = d.pre + d.post
	case ntPoint:
		if d.decimal {
			return numSyntaxError("multiple decimal points")
		}
		d.decimal = true
	case ntSign:
		if d.lsign != 0 {
			return numSyntaxError(`cannot use "S" twice`)
		}
		if d.plus || d.minus || d.bracket {
			return numSyntaxError(`cannot use "S" and "PL"/"MI"/"SG"/"PR" together`)
		}
		if !d.decimal {
			d.lsign, d.preLsign = -1, d.pre
		} else {
			d.lsign = 1
		}
	case ntMI:
		if d.lsign != 0 {
			return numSyntaxError(`cannot use "S" and "MI" together`)
		}
		d.minus = true
	case ntPL:
		if d.lsign != 0 {
			return numSyntaxError(`cannot use "S" and "PL" together`)
		}
		d.plus = true
	case ntSG:
		if d.lsign != 0 {
			return numSyntaxError(`cannot use "S" and "SG" together`)
		}
		d.plus, d.minus = true, true
	case ntPR:
		if d.lsign != 0 || d.plus || d.minus {
			return numSyntaxError(`cannot use "PR" and "S"/"PL"/"MI"/"SG" together`)
		}
		d.bracket = true
	case ntRN:
		if d.roman {
			return numSyntaxError(`cannot use "RN" twice`)
		}
		d.roman = true
	case ntEEEE:
		if d.eeee {
			return numSyntaxError(`cannot use "EEEE" twice`)
		}
		d.eeee = true
	}
	return nil
}

// numToChar formats d by a numeric template.
func numToChar(d tree.Datum, tmpl string) (tree.Datum, error) {
	toks, desc, err := parseNumTemplate(tmpl)
	if err != nil {
		return nil, err
	}
	if desc.eeee {
		return sciToChar(d, toks)
	}
	var number string
	var sign byte
	prePad := 0
	if desc.roman {
		n, err := romanValue(d)
		if err != nil {
			return nil, err
		}
		number = intToRoman(n)
	} else {
		number, sign, prePad = numDigits(d, &desc)
	}
	return tree.NewDString(numFormat(toks, desc, number, sign, prePad)), nil
}

// numDigits is the value's digits without sign, rounded to the
// template's decimals (fewer for a float8, which has but 15 significant
// digits), its sign ('+' or '-'), and the number of digit places before
// the point that it leaves blank. A value with more digits before the
// point than the template has places is all '#'.
func numDigits(d tree.Datum, desc *numDesc) (number string, sign byte, prePad int) {
	var s string
	switch v := d.(type) {
	case *tree.DInt:
		s = strconv.FormatInt(int64(*v), 10)
		if desc.post > 0 {
			s += "." + strings.Repeat("0", desc.post)
		}
	case *tree.DFloat:
		f := float64(*v)
		// PostgreSQL's own printf spells these so.
		switch {
		case math.IsNaN(f):
			s = "NaN"
		case math.IsInf(f, 0):
			s = "Infinity"
			if f < 0 {
				s = "-Infinity"
			}
		default:
			intDigits := len(strconv.FormatFloat(math.Abs(f), 'f', 0, 64))
			const dblDig = 15
			if intDigits >= dblDig {
				desc.post = 0
			} else if intDigits+desc.post > dblDig {
				desc.post = dblDig - intDigits
			}
			s = strconv.FormatFloat(f, 'f', desc.post, 64)
		}
	case *tree.DDecimal:
		var r apd.Decimal
		if v.Form == apd.Finite {
			// numeric's round(): half away from zero, and a zero has no
			// sign (-0.001 to no decimals is 0, not -0).
			ctx := apd.BaseContext.WithPrecision(uint32(max(16, int(v.NumDigits())+int(max(v.Exponent, 0))+desc.post+2)))
			ctx.Rounding = apd.RoundHalfUp
			ctx.Quantize(&r, &v.Decimal, -int32(desc.post))
			if r.IsZero() {
				r.Negative = false
			}
		} else {
			r.Set(&v.Decimal)
		}
		s = numericText(&r)
	}
	sign = '+'
	if strings.HasPrefix(s, "-") {
		sign, s = '-', s[1:]
	}
	intLen := len(s)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intLen = i
	}
	switch {
	case intLen < desc.pre:
		prePad = desc.pre - intLen
	case intLen > desc.pre:
		s = strings.Repeat("#", desc.pre) + "." + strings.Repeat("#", desc.post)
	}
	return s, sign, prePad
}

// numericText is a numeric as numeric_out spells it.
func numericText(d *apd.Decimal) string {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return "NaN"
	case apd.Infinite:
		if d.Negative {
			return "-Infinity"
		}
		return "Infinity"
	}
	return d.Text('f')
}

// romanValue is the integer RN prints: a numeric rounded half away from
// zero, a float8 to even. An int8 or numeric past int4 fails as its cast
// to int4 would (22003); a float8 past it prints as '#'s.
func romanValue(d tree.Datum) (int64, error) {
	outOfRange := pgerror.New(pgerror.CodeNumericValueOutOfRange, "integer out of range")
	switch v := d.(type) {
	case *tree.DInt:
		if int64(*v) < math.MinInt32 || int64(*v) > math.MaxInt32 {
			return 0, outOfRange
		}
		return int64(*v), nil
	case *tree.DFloat:
		f := math.RoundToEven(float64(*v))
		if math.IsNaN(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return math.MaxInt32, nil
		}
		return int64(f), nil
	case *tree.DDecimal:
		switch v.Form {
		case apd.Infinite:
			return 0, pgerror.New(pgerror.CodeFeatureNotSupported, "cannot convert infinity to integer")
		case apd.NaN, apd.NaNSignaling:
			return 0, pgerror.New(pgerror.CodeFeatureNotSupported, "cannot convert NaN to integer")
		}
		var r apd.Decimal
		ctx := apd.BaseContext.WithPrecision(uint32(max(16, int(v.NumDigits())+int(max(v.Exponent, 0))+2)))
		ctx.Rounding = apd.RoundHalfUp
		if _, err := ctx.Quantize(&r, &v.Decimal, 0); err != nil {
			return 0, outOfRange
		}
		n, err := r.Int64()
		if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
			return 0, outOfRange
		}
		return n, nil
	}
	return math.MaxInt32, nil
}

// intToRoman is n in Roman numerals, or 15 '#'s outside 1-3999.
func intToRoman(n int64) string {
	if n < 1 || n > 3999 {
		return strings.Repeat("#", 15)
	}
	var b strings.Builder
	for _, p := range []struct {
		v int64
		s string
	}{{1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"}, {100, "C"}, {90, "XC"},
		{50, "L"}, {40, "XL"}, {10, "X"}, {9, "IX"}, {5, "V"}, {4, "IV"}, {1, "I"}} {
		for n >= p.v {
			b.WriteString(p.s)
			n -= p.v
		}
	}
	return b.String()
}

// numFormatter is the state of one walk over a template.
type numFormatter struct {
	numDesc
	number       string
	sign         byte // '+', '-', or 0 for RN
	signWrote    bool
	prePad       int // digit places before the point left blank
	numCount     int
	lastRelevant int  // in FM, the last digit of number worth printing (-1: all)
	pos          int  // next character of number
	numIn        bool // a digit (not a blank) was just written
	place        int  // digit places (and the point) walked so far
	out          []byte
}

func (f *numFormatter) at(i int) byte {
	if i >= 0 && i < len(f.number) {
		return f.number[i]
	}
	return 0
}

// lastIsPoint reports whether FM drops every decimal (the value's last
// relevant character is its point).
func (f *numFormatter) lastIsPoint() bool {
	return f.lastRelevant >= 0 && f.at(f.lastRelevant) == '.'
}

// predecBlank reports whether the next digit is the lone 0 before the
// point, which prints as a blank (0.5 by 9.9 is ' .5').
func (f *numFormatter) predecBlank() bool {
	return !f.zero && f.pos == 0 && f.at(0) == '0' && f.post != 0
}

func (f *numFormatter) signByte(neg, pos byte) byte {
	if f.sign == '-' {
		return neg
	}
	return pos
}

// digitPlace writes what a 9, 0 or point stands for, and the sign before
// the number's first character or after its last.
func (f *numFormatter) digitPlace(kind int) {
	if f.roman {
		return
	}
	f.numIn = false
	if !f.signWrote && (f.place >= f.prePad || (f.zero && f.zeroStart == f.place)) &&
		(!f.predecBlank() || f.lastIsPoint()) {
		switch {
		case f.lsign != 0:
			if f.lsign < 0 {
				f.out = append(f.out, f.signByte('-', '+'))
				f.signWrote = true
			}
		case f.bracket:
			f.out = append(f.out, f.signByte('<', ' '))
			f.signWrote = true
		case f.sign == '+':
			if !f.fill {
				f.out = append(f.out, ' ')
			}
			f.signWrote = true
		case f.sign == '-':
			f.out = append(f.out, '-')
			f.signWrote = true
		}
	}
	switch {
	case f.place < f.prePad && (f.zeroStart > f.place || !f.zero):
		if !f.fill {
			f.out = append(f.out, ' ')
		}
	case f.zero && f.place < f.prePad && f.zeroStart <= f.place:
		f.out = append(f.out, '0')
		f.numIn = true
	default:
		c := f.at(f.pos)
		switch {
		case c == '.':
			if !f.lastIsPoint() || f.fill {
				f.out = append(f.out, '.')
			}
		case f.lastRelevant >= 0 && f.pos > f.lastRelevant && kind != ntZero:
			// A trailing zero FM drops.
		case f.predecBlank():
			if !f.fill {
				f.out = append(f.out, ' ')
			} else if f.lastIsPoint() {
				f.out = append(f.out, '0') // 0 by FM9.9 is '0.'
			}
		default:
			// Past the end of number (a float8 with fewer decimals than
			// the template) this writes a NUL, which ends the text.
			f.out = append(f.out, c)
			f.numIn = true
		}
		if c != 0 {
			f.pos++
		}
	}
	end := f.numCount
	if f.prePad > 0 {
		end++
	}
	if f.decimal {
		end++
	}
	if f.lastRelevant >= 0 && f.lastRelevant == f.pos {
		end = f.place
	}
	if f.place+1 == end {
		switch {
		case f.signWrote && f.bracket:
			f.out = append(f.out, f.signByte('>', ' '))
		case f.lsign > 0:
			f.out = append(f.out, f.signByte('-', '+'))
		}
	}
	f.place++
}

// numFormat walks the template over number.
func numFormat(toks []numTok, desc numDesc, number string, sign byte, prePad int) string {
	f := &numFormatter{numDesc: desc, number: number, sign: sign, prePad: prePad, lastRelevant: -1}
	if f.zeroStart > 0 {
		f.zeroStart-- // 0-based from here on
	}
	if f.roman {
		f.numDesc = numDesc{roman: true, fill: desc.fill}
		f.prePad, f.sign = 0, 0
	}
	if f.plus || f.minus {
		// MI and SG write the sign themselves; PL only a plus, so the
		// number keeps its minus.
		f.signWrote = !(f.plus && !f.minus)
	} else {
		if f.sign != '-' && f.fill {
			f.bracket = false
		}
		f.signWrote = f.sign == '+' && f.fill && f.lsign == 0
		if f.lsign < 0 && f.pre == f.preLsign {
			f.lsign = 1 // an S after all the integer places follows the number
		}
	}
	f.numCount = f.post + f.pre - 1
	if f.fill && f.decimal {
		f.lastRelevant = lastRelevantDecimal(number)
		if f.lastRelevant >= 0 && f.zeroEnd > f.prePad {
			// Keep the decimals a 0 asks for.
			lastZero := min(len(number)-1, f.zeroEnd-f.prePad)
			f.lastRelevant = max(f.lastRelevant, lastZero)
		}
	}
	if !f.signWrote && f.prePad == 0 {
		f.numCount++
	}
	for _, t := range toks {
		switch t.kind {
		case ntNine, ntZero, ntPoint:
			f.digitPlace(t.kind)
		case ntComma:
			if f.numIn {
				f.out = append(f.out, ',')
			} else if !f.fill {
				f.out = append(f.out, ' ')
			}
		case ntL:
			f.out = append(f.out, ' ')
		case ntRN:
			r := f.number[f.pos:]
			if t.lower {
				r = strings.ToLower(r)
			}
			if !f.fill && len(r) < 15 {
				r = strings.Repeat(" ", 15-len(r)) + r
			}
			f.out = append(f.out, r...)
		case ntTH:
			if f.roman || f.at(0) == '#' || f.sign == '-' || f.decimal || len(f.number) == 0 {
				continue
			}
			n, _ := strconv.ParseInt(f.number[max(0, len(f.number)-2):], 10, 64)
			s := ordinalSuffix(n)
			if !t.lower {
				s = strings.ToUpper(s)
			}
			f.out = append(f.out, s...)
		case ntMI:
			if f.sign == '-' {
				f.out = append(f.out, '-')
			} else if !f.fill {
				f.out = append(f.out, ' ')
			}
		case ntPL:
			if f.sign == '+' {
				f.out = append(f.out, '+')
			} else if !f.fill {
				f.out = append(f.out, ' ')
			}
		case ntSG:
			f.out = append(f.out, f.sign) // RN has no sign: a NUL, which ends the text
		case ntLit:
			f.out = append(f.out, t.text...)
		}
	}
	out := string(f.out)
	if i := strings.IndexByte(out, 0); i >= 0 {
		out = out[:i]
	}
	return out
}

// lastRelevantDecimal is the index of the last nonzero decimal of
// number, or of its point when all are zeros; -1 without a point.
func lastRelevantDecimal(number string) int {
	p := strings.IndexByte(number, '.')
	if p < 0 {
		return -1
	}
	last := p
	for i := p + 1; i < len(number); i++ {
		if number[i] != '0' {
			last = i
		}
	}
	return last
}

// sciToChar is a template with EEEE: a sign place, then the mantissa with
// as many decimals as the template has after its point, and the exponent.
func sciToChar(d tree.Datum, toks []numTok) (tree.Datum, error) {
	post, seenPoint := 0, false
	for _, t := range toks {
		switch t.kind {
		case ntNine, ntZero:
			if seenPoint {
				post++
			}
		case ntPoint:
			seenPoint = true
		case ntEEEE:
		default:
			return nil, pgerror.WithDetail(pgerror.New(pgerror.CodeSyntaxError, "\"EEEE\" is incompatible with other formats"),
				"\"EEEE\" may only be used together with digit and decimal point patterns.")
		}
	}
	var s string
	switch v := d.(type) {
	case *tree.DDecimal:
		// Round the decimal itself (half away from zero), as numeric does.
		var r apd.Decimal
		ctx := apd.BaseContext.WithPrecision(uint32(post + 1))
		ctx.Rounding = apd.RoundHalfUp
		if _, err := ctx.Round(&r, &v.Decimal); err != nil {
			return nil, pgerror.WithCode(err, pgerror.CodeNumericValueOutOfRange)
		}
		f, _ := r.Float64()
		s = strconv.FormatFloat(f, 'e', post, 64)
	default:
		s = strconv.FormatFloat(ToFloat(d), 'e', post, 64)
	}
	if !strings.HasPrefix(s, "-") {
		s = " " + s
	}
	return tree.NewDString(s), nil
}
