package sql

import "testing"

// FuzzRewriteLiterals: any query text is rewritten or refused, never a
// panic, with standard_conforming_strings on and off.
func FuzzRewriteLiterals(f *testing.F) {
	for _, s := range []string{`SELECT U&'d\0061t' AS U&"x" UESCAPE '!'`, `U&'`, `U&"`, `SELECT 'U&''x'''`, `/* U&'x' */`, `-- U&'x`, `E'\'U&'`, `U&'a' UESCAPE`, `U&'a' UESCAPE '`,
		`E'\udb99`, `E'\udb99'`, `'a\\b\'c'`, `'\`, `E'\400'`, `$a$'\'$a$`, "'a'\n'\\b'", `E'\u`, `E'\x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, standard := range []bool{true, false} {
			_, _ = (&literalLexing{standard: standard, warn: true}).rewriteLiterals(s)
		}
	})
}
