package pgformat

import (
	"unicode/utf8"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// bytea's text format, as PostgreSQL's byteaout and byteain have it.
// Output is hex (\x and two lower-case digits a byte) or, with
// bytea_output = escape, the traditional escape format: printable ASCII
// as is, a backslash doubled, every other byte as \ooo in octal. Input
// reads either format, whatever bytea_output says.

const hexDigits = "0123456789abcdef"

// AppendBytea appends b in bytea's text format: hex, or the escape
// format if escape.
func AppendBytea(dst, b []byte, escape bool) []byte {
	if !escape {
		dst = append(dst, '\\', 'x')
		for _, c := range b {
			dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
		}
		return dst
	}
	for _, c := range b {
		switch {
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c < 0x20 || c > 0x7e:
			dst = append(dst, '\\', '0'+(c>>6), '0'+((c>>3)&7), '0'+(c&7))
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// ParseBytea reads s as bytea's input function does: \x and hex digits
// (whitespace allowed between pairs of them), or else the escape format,
// where a backslash starts \\ or a three-digit octal \ooo. Errors are
// PostgreSQL's: 22023 for bad hex, 22P02 for a bad escape.
func ParseBytea(s string) ([]byte, error) {
	if len(s) >= 2 && s[0] == '\\' && s[1] == 'x' {
		return parseByteaHex(s[2:])
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c != '\\':
			out = append(out, c)
			i++
		case i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i += 2
		default:
			return nil, pgerror.New(pgerror.CodeInvalidTextRepresentation, "invalid input syntax for type bytea")
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// parseByteaHex is hex_decode: pairs of hex digits, with spaces, tabs and
// newlines skipped before a pair (not inside one).
func parseByteaHex(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)/2)
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ', '\n', '\t', '\r':
			i++
			continue
		}
		hi, err := hexDigit(s[i:])
		if err != nil {
			return nil, err
		}
		i++
		if i >= len(s) {
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "invalid hexadecimal data: odd number of digits")
		}
		lo, err := hexDigit(s[i:])
		if err != nil {
			return nil, err
		}
		i++
		out = append(out, hi<<4|lo)
	}
	return out, nil
}

// hexDigit is the value of the hex digit s starts with; the error names
// the whole character there, as get_hex does.
func hexDigit(s string) (byte, error) {
	c := s[0]
	switch {
	case c >= '0' && c <= '9':
		return c - '0', nil
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, nil
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, nil
	}
	_, n := utf8.DecodeRuneInString(s)
	return 0, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid hexadecimal digit: \"%s\"", s[:n])
}
