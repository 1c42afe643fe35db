package sem

import (
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// The logic tests compare only SQLSTATEs of errors; these pin
// PostgreSQL's messages (checked against PostgreSQL 15).
func TestRegexSyntaxErrors(t *testing.T) {
	for _, tc := range []struct{ pattern, flags, msg string }{
		{`(barbeque`, "", "parentheses () not balanced"},
		{`a)`, "", "parentheses () not balanced"},
		{`(?=a`, "", "parentheses () not balanced"},
		{`(bar)(beque){2,1}`, "", "invalid repetition count(s)"},
		{`a{256}`, "", "invalid repetition count(s)"},
		{`a{1,2,3}`, "", "invalid repetition count(s)"},
		{`a{1`, "", "braces {} not balanced"},
		{`[a`, "", "brackets [] not balanced"},
		{`[]`, "", "brackets [] not balanced"},
		{`[[:alpha]`, "", "brackets [] not balanced"},
		{`\q`, "", `invalid escape \ sequence`},
		{`\z`, "", `invalid escape \ sequence`},
		{`a\`, "", `invalid escape \ sequence`},
		{`\x{41}`, "", `invalid escape \ sequence`},
		{`[\1]`, "", `invalid escape \ sequence`},
		{`a**`, "", "quantifier operand invalid"},
		{`*a`, "", "quantifier operand invalid"},
		{`a|*`, "", "quantifier operand invalid"},
		{`^*`, "", "quantifier operand invalid"},
		{`(?=a)*`, "", "quantifier operand invalid"},
		{`a(?i)`, "", "quantifier operand invalid"},
		{`a{1,2}??`, "", "quantifier operand invalid"},
		{`\1`, "", "invalid backreference number"},
		{`(a\1)`, "", "invalid backreference number"},
		{`(a)(?=\1)`, "", "invalid backreference number"},
		{`[[:foo:]]`, "", "invalid character class"},
		{`[z-a]`, "", "invalid character range"},
		{`[a-\d]`, "", "invalid character range"},
		{`[a-c-e]`, "", "invalid character range"},
		{`[[.foo.]]`, "", "invalid collating element"},
		{`(?P<x>a)`, "", "invalid embedded option"},
		{`(?z)a`, "", "invalid embedded option"},
	} {
		_, err := compileRegex(tc.pattern, tc.flags)
		if err == nil {
			t.Errorf("%q: no error", tc.pattern)
			continue
		}
		if want := "invalid regular expression: " + tc.msg; err.Error() != want || string(pgerror.CodeOf(err)) != "2201B" {
			t.Errorf("%q: got %s %q, want 2201B %q", tc.pattern, string(pgerror.CodeOf(err)), err.Error(), want)
		}
	}
}

func TestRegexEngineChoice(t *testing.T) {
	for _, tc := range []struct {
		pattern  string
		backtrck bool
	}{
		{`a+b`, false},
		{`^(ab|cd)*$`, false},
		{`(.)\1`, true},
		{`a(?=b)`, true},
		{`(?<!a)b`, true},
		{`\mword\M`, true},
	} {
		re, err := compileRegex(tc.pattern, "")
		if err != nil {
			t.Fatal(err)
		}
		if (re.re2 == nil) != tc.backtrck {
			t.Errorf("%q: backtracking engine %v, want %v", tc.pattern, re.re2 == nil, tc.backtrck)
		}
	}
}

// A search that backtracks without end is cut off with PostgreSQL's
// error for a failed search rather than holding the statement.
func TestRegexTimeout(t *testing.T) {
	defer func(d time.Duration) { regexMatchTimeout = d }(regexMatchTimeout)
	regexMatchTimeout = 10 * time.Millisecond
	// Not cached: the timeout is read when a pattern compiles.
	re, err := compileRegex(`^(a|a?)+\1$`, "n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = re.match(strings.Repeat("a", 40) + "b")
	if err == nil || string(pgerror.CodeOf(err)) != "2201B" || err.Error() != "regular expression failed: regular expression is too complex" {
		t.Fatalf("got %v", err)
	}
}
