package sem

import (
	"testing"
	"unicode/utf8"
)

// FuzzDecodeUnicodeEscapes: any text decodes to valid UTF-8 or an error,
// never a panic.
func FuzzDecodeUnicodeEscapes(f *testing.F) {
	for _, s := range []string{`d\0061t\+000061`, `\d83d\de00`, `\db99`, `\\`, `\`, `\+`, `\u12`, `\U0010FFFF`, `\+2FFFFF`, "\xff"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, unistr bool) {
		out, err := DecodeUnicodeEscapes(s, '\\', unistr)
		if err == nil && utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("%q decoded to invalid UTF-8 %q", s, out)
		}
	})
}
