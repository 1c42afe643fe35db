package sem

import (
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
// suffix), EEEE (scientific notation), FM (no padding, no trailing
// zeros), L (the currency symbol: a blank in the C locale), quoted text.
// Other patterns (RN, V) answer 0A000.

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

type numTok struct {
	kind byte // '9', '0', '.', ',', 'S' (floating sign), 'G' (SG), 'M' (MI), 'P' (PL), 'L' (literal)
	text string
}

func parseNumTemplate(tmpl string) (toks []numTok, fm bool, err error) {
	for i := 0; i < len(tmpl); {
		rest := tmpl[i:]
		up := strings.ToUpper(rest)
		switch {
		case strings.HasPrefix(up, "FM"):
			fm = true
			i += 2
		case strings.HasPrefix(up, "SG"):
			toks = append(toks, numTok{kind: 'G'})
			i += 2
		case strings.HasPrefix(up, "MI"):
			toks = append(toks, numTok{kind: 'M'})
			i += 2
		case strings.HasPrefix(up, "PL"):
			toks = append(toks, numTok{kind: 'P'})
			i += 2
		case strings.HasPrefix(up, "PR"):
			toks = append(toks, numTok{kind: 'R'})
			i += 2
		case strings.HasPrefix(up, "TH"):
			toks = append(toks, numTok{kind: 'T', text: rest[:2]})
			i += 2
		case strings.HasPrefix(up, "EEEE"):
			toks = append(toks, numTok{kind: 'E'})
			i += 4
		case strings.HasPrefix(up, "RN"):
			return nil, false, pgerror.Newf(pgerror.CodeFeatureNotSupported, "to_char pattern %q is not supported yet", rest[:2])
		case up[0] == '9' || up[0] == '0' || up[0] == '.' || up[0] == ',':
			toks = append(toks, numTok{kind: up[0]})
			i++
		case up[0] == 'D':
			toks = append(toks, numTok{kind: '.'})
			i++
		case up[0] == 'G':
			toks = append(toks, numTok{kind: ','})
			i++
		case up[0] == 'S':
			toks = append(toks, numTok{kind: 'S'})
			i++
		case up[0] == 'L':
			// The locale's currency symbol; the C locale has none, for
			// which PostgreSQL writes a blank.
			toks = append(toks, numTok{kind: 'L', text: " "})
			i++
		case up[0] == 'V':
			return nil, false, pgerror.Newf(pgerror.CodeFeatureNotSupported, "to_char pattern %q is not supported yet", rest[:1])
		case rest[0] == '"':
			j := 1
			var b strings.Builder
			for j < len(rest) && rest[j] != '"' {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				b.WriteByte(rest[j])
				j++
			}
			toks = append(toks, numTok{kind: 'L', text: b.String()})
			i += j + 1
		default:
			toks = append(toks, numTok{kind: 'L', text: rest[:1]})
			i++
		}
	}
	return toks, fm, nil
}

// numToChar formats d by a numeric template.
func numToChar(d tree.Datum, tmpl string) (tree.Datum, error) {
	toks, fm, err := parseNumTemplate(tmpl)
	if err != nil {
		return nil, err
	}
	for _, t := range toks {
		if t.kind == 'E' {
			return sciToChar(d, toks, fm)
		}
	}
	pre, post := 0, 0
	seenPoint := false
	zeroStart := -1 // the first integer position printed as 0 even if leading
	signKind := byte(0)
	for _, t := range toks {
		switch t.kind {
		case '9', '0':
			if seenPoint {
				post++
			} else {
				if t.kind == '0' && zeroStart < 0 {
					zeroStart = pre
				}
				pre++
			}
		case '.':
			seenPoint = true
		case 'S', 'G', 'M', 'P', 'R':
			signKind = t.kind
		}
	}
	// The value's digits, rounded to the template's decimals.
	var digits string
	neg := false
	switch v := d.(type) {
	case *tree.DInt:
		digits = strconv.FormatInt(int64(*v), 10)
		if post > 0 {
			digits += "." + strings.Repeat("0", post)
		}
	case *tree.DFloat:
		digits = strconv.FormatFloat(float64(*v), 'f', post, 64)
	case *tree.DDecimal:
		var r apd.Decimal
		ctx := apd.BaseContext.WithPrecision(1000)
		ctx.Rounding = apd.RoundHalfUp
		if _, err := ctx.Quantize(&r, &v.Decimal, -int32(post)); err != nil {
			return nil, pgerror.WithCode(err, pgerror.CodeNumericValueOutOfRange)
		}
		digits = r.Text('f')
	}
	if strings.HasPrefix(digits, "-") {
		neg, digits = true, digits[1:]
	}
	intPart, frac := digits, ""
	if i := strings.IndexByte(digits, '.'); i >= 0 {
		intPart, frac = digits[:i], digits[i+1:]
	}
	if intPart == "0" && post > 0 {
		intPart = "" // 0.5 prints as .5 unless a 0 pattern asks for it
	}
	overflow := len(intPart) > pre
	sign := func(kind byte) string {
		switch {
		case kind == 'R' && neg:
			return "<"
		case neg && kind != 'P':
			return "-"
		case kind == 'S' || kind == 'G' || (kind == 'P' && !neg):
			return "+"
		case fm:
			return ""
		}
		return " "
	}
	var b strings.Builder
	// Without S, SG or MI the number keeps one place for its sign.
	floating := signKind == 0 || signKind == 'S' || signKind == 'P' || signKind == 'R'
	floatKind := signKind
	if signKind == 'P' {
		floatKind = 0
	}
	signDone := !floating
	// A trailing S is written where it stands.
	if signKind == 'S' && len(toks) > 0 && toks[0].kind != 'S' {
		floating, signDone = false, true
	}
	emitSign := func() {
		if !signDone {
			b.WriteString(sign(floatKind))
			signDone = true
		}
	}
	pos, printed := 0, false
	fracPos := 0
	for _, t := range toks {
		switch t.kind {
		case '9', '0':
			if overflow {
				if !seenBefore(&b) {
					emitSign()
				}
				b.WriteByte('#')
				continue
			}
			if fracPos > 0 || (pos >= pre) {
				// A decimal digit.
				if fracPos-1 < len(frac) {
					b.WriteByte(frac[fracPos-1])
				}
				fracPos++
				continue
			}
			idx := pos - (pre - len(intPart))
			pos++
			switch {
			case idx >= 0:
				emitSign()
				b.WriteByte(intPart[idx])
				printed = true
			case zeroStart >= 0 && pos-1 >= zeroStart:
				emitSign()
				b.WriteByte('0')
				printed = true
			case !fm:
				b.WriteByte(' ')
			}
		case '.':
			if !overflow {
				emitSign()
			}
			b.WriteByte('.')
			fracPos = 1
		case ',':
			switch {
			case printed || overflow:
				b.WriteByte(',')
			case !fm:
				b.WriteByte(' ')
			}
		case 'S':
			if !floating {
				b.WriteString(sign('S'))
			}
		case 'G':
			b.WriteString(sign('G'))
		case 'M':
			if neg {
				b.WriteByte('-')
			} else if !fm {
				b.WriteByte(' ')
			}
		case 'P':
			if neg {
				b.WriteByte(' ')
			} else {
				b.WriteByte('+')
			}
		case 'R':
			if neg {
				b.WriteByte('>')
			} else if !fm {
				b.WriteByte(' ')
			}
		case 'T':
			// An ordinal suffix, for numbers not below zero.
			if !neg && !overflow {
				n, _ := strconv.ParseInt(intPart[max(0, len(intPart)-2):]+"", 10, 64)
				suffix := ordinalSuffix(n)
				if t.text == "TH" {
					suffix = strings.ToUpper(suffix)
				}
				b.WriteString(suffix)
			}
		case 'L':
			b.WriteString(t.text)
		}
	}
	emitSign()
	out := b.String()
	if fm && post > 0 && !overflow {
		out = trimFMZeros(out, toks)
	}
	return tree.NewDString(out), nil
}

// seenBefore reports whether anything but blanks has been written.
func seenBefore(b *strings.Builder) bool {
	return strings.TrimLeft(b.String(), " ") != ""
}

// trimFMZeros drops, in fill mode, the trailing zeros of the decimal
// places a 9 stands for.
func trimFMZeros(out string, toks []numTok) string {
	// The decimal digits are the last run of digits after the point.
	point := strings.LastIndexByte(out, '.')
	if point < 0 {
		return out
	}
	end := point + 1
	for end < len(out) && out[end] >= '0' && out[end] <= '9' {
		end++
	}
	var kinds []byte
	seen := false
	for _, t := range toks {
		if t.kind == '.' {
			seen = true
			continue
		}
		if seen && (t.kind == '9' || t.kind == '0') {
			kinds = append(kinds, t.kind)
		}
	}
	cut := end
	for i := end - 1; i > point && i-point-1 < len(kinds); i-- {
		if out[i] != '0' || kinds[i-point-1] != '9' {
			break
		}
		cut = i
	}
	return out[:cut] + out[end:]
}

// sciToChar is a template with EEEE: a sign place, then the mantissa with
// as many decimals as the template has after its point, and the exponent.
func sciToChar(d tree.Datum, toks []numTok, fm bool) (tree.Datum, error) {
	post, seenPoint := 0, false
	for _, t := range toks {
		switch t.kind {
		case '9', '0':
			if seenPoint {
				post++
			}
		case '.':
			seenPoint = true
		case 'E':
		default:
			return nil, pgerror.WithDetail(pgerror.New(pgerror.CodeSyntaxError, "\"EEEE\" is incompatible with other formats"),
				"\"EEEE\" may only be used together with digit and decimal point patterns.")
		}
	}
	if fm {
		return nil, pgerror.WithDetail(pgerror.New(pgerror.CodeSyntaxError, "\"EEEE\" is incompatible with other formats"),
			"\"EEEE\" may only be used together with digit and decimal point patterns.")
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
