package sql

import "testing"

// FuzzRewriteUnicodeLiterals: any query text is rewritten or refused,
// never a panic; text without U& stays as it is.
func FuzzRewriteUnicodeLiterals(f *testing.F) {
	for _, s := range []string{`SELECT U&'d\0061t' AS U&"x" UESCAPE '!'`, `U&'`, `U&"`, `SELECT 'U&''x'''`, `/* U&'x' */`, `-- U&'x`, `E'\'U&'`, `U&'a' UESCAPE`, `U&'a' UESCAPE '`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = rewriteUnicodeLiterals(s)
	})
}
