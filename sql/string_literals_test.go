package sql

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/sql/pgerror"
)

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

// TestRewriteLiterals: literals are rewritten to the plain literals of
// their values as PostgreSQL's lexer reads them; errors and warnings
// carry PostgreSQL's message and place (characters from 1).
func TestRewriteLiterals(t *testing.T) {
	for _, tc := range []struct {
		query    string
		standard bool
		want     string // the rewritten query, or the error as "code message @position"
		warnings string // "message @position" of each warning, joined by "; "
	}{
		{query: `SELECT 'a\b', E'x\ty', $$\n$$, "E'\n", E'plain'`, standard: true,
			want: "SELECT 'a\\b', 'x\ty', $$\\n$$, \"E'\\n\", E'plain'"},
		{query: `SELECT E'\q\101\x41\u00e9\U0001F600\'''x'`, standard: true, want: `SELECT 'qAAé😀''''x'`},
		{query: `SELECT 'a\\b', 'c\'d', '\n', 'plain', E'\\'`, standard: false,
			want:     `SELECT 'a\b', 'c''d', '` + "\n" + `', 'plain', '\'`,
			warnings: `nonstandard use of \\ in a string literal @8; nonstandard use of \' in a string literal @16; nonstandard use of escape in a string literal @24`},
		{query: "SELECT 'a'\n  '\\n' -- c\n", standard: false, want: "SELECT 'a\n' -- c\n",
			warnings: `nonstandard use of escape in a string literal @8`},
		{query: "SELECT 'a' -- c\n 'b'", standard: true, want: "SELECT 'ab'"},
		{query: `SELECT N'a\b'`, standard: true, want: `SELECT 'a\b'::bpchar`},
		{query: `SELECT E'wrong: \u061'`, standard: true, want: `22025 invalid Unicode escape @17`},
		{query: `SELECT E'wrong: \udb99xy'`, standard: true, want: `42601 invalid Unicode surrogate pair at or near "x" @23`},
		{query: `SELECT E'wrong: \udb99\u0061'`, standard: true, want: `42601 invalid Unicode surrogate pair at or near "\u0061" @23`},
		{query: `SELECT E'wrong: \U002FFFFF'`, standard: true, want: `42601 invalid Unicode escape value at or near "\U002FFFFF" @17`},
		{query: `SELECT E'\xff'`, standard: true, want: `22021 invalid byte sequence for encoding "UTF8": 0xff @0`},
		{query: `SELECT é, U&'wrong: \061'`, standard: true, want: `42601 invalid Unicode escape @21`},
		{query: `SELECT U&'wrong: \db99'`, standard: true, want: `42601 invalid Unicode surrogate pair @23`},
		{query: `SELECT U&'x' UESCAPE +`, standard: true, want: `42601 UESCAPE must be followed by a simple string literal at or near "+" @22`},
		{query: `SELECT U&'x'`, standard: false, want: `0A000 unsafe use of string constant with Unicode escapes @8`},
		{query: `SELECT U&"d\0061t"`, standard: false, want: `SELECT "dat"`},
	} {
		l := &literalLexing{standard: tc.standard, warn: true}
		got, err := l.rewriteLiterals(tc.query)
		if err != nil {
			got = fmt.Sprintf("%s %s @%d", pgerror.CodeOf(err), err.Error(), pgerror.PositionOf(err))
		}
		var ws []string
		for _, w := range l.warnings {
			ws = append(ws, fmt.Sprintf("%s @%d", w.Message, w.Position))
		}
		if got != tc.want || strings.Join(ws, "; ") != tc.warnings {
			t.Errorf("%q (standard %v):\n got %q, warnings %q\nwant %q, warnings %q", tc.query, tc.standard, got, strings.Join(ws, "; "), tc.want, tc.warnings)
		}
	}
}
