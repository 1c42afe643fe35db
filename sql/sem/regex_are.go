package sem

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// PostgreSQL's advanced regular expressions (AREs), translated into the
// Perl-like syntax that both engines here read (Go's regexp and
// regexp2). Translating instead of passing the pattern through keeps
// PostgreSQL's meaning where the syntaxes agree on spelling but not on
// sense (\b is a backspace, \Z the end of the string, $ never matches
// before a final newline, [^a] skips newlines under the flag n, \w is
// Unicode-aware), and lets syntax errors carry PostgreSQL's messages.

// areFlags is what a flags string and a pattern's embedded options ask.
type areFlags struct {
	global   bool // g: every match (only some callers accept it)
	fold     bool // i: case-insensitive
	nlDot    bool // n, p: . and [^...] do not match a newline
	nlAnchor bool // n, w: ^ and $ match at line breaks
	expanded bool // x: whitespace and #-comments are ignored
	quote    bool // q: the pattern is a literal string
}

// parseREFlags reads the flags argument of the regexp functions.
func parseREFlags(flags string) (areFlags, error) {
	var f areFlags
	for _, c := range flags {
		if c == 'g' {
			f.global = true
			continue
		}
		if err := f.apply(c); err != nil {
			if pe := err.(*areOptionError); pe.unsupported {
				return f, pgerror.Unsupported("regular expression option \"%c\" is not supported", c)
			}
			return f, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid regular expression option: \"%c\"", c)
		}
	}
	return f, nil
}

type areOptionError struct{ unsupported bool }

func (e *areOptionError) Error() string { return "invalid embedded option" }

// apply sets one option letter, as a flag or an embedded (?x) option.
func (f *areFlags) apply(c rune) error {
	switch c {
	case 'i':
		f.fold = true
	case 'c':
		f.fold = false
	case 'n', 'm':
		f.nlDot, f.nlAnchor = true, true
	case 's':
		f.nlDot, f.nlAnchor = false, false
	case 'p':
		f.nlDot, f.nlAnchor = true, false
	case 'w':
		f.nlDot, f.nlAnchor = false, true
	case 'x':
		f.expanded = true
	case 't':
		f.expanded = false
	case 'q':
		f.quote = true
	case 'b', 'e':
		// Basic and extended (POSIX) regular expressions.
		return &areOptionError{unsupported: true}
	default:
		return &areOptionError{}
	}
	return nil
}

// errRegex is PostgreSQL's error for a pattern that does not compile.
func errRegex(msg string) error {
	return pgerror.Newf("2201B", "invalid regular expression: %s", msg)
}

// PostgreSQL's regerror texts.
const (
	reBadRpt   = "quantifier operand invalid"
	reParen    = "parentheses () not balanced"
	reBrack    = "brackets [] not balanced"
	reBrace    = "braces {} not balanced"
	reBadBr    = "invalid repetition count(s)"
	reEscape   = "invalid escape \\ sequence"
	reSubReg   = "invalid backreference number"
	reCType    = "invalid character class"
	reCollate  = "invalid collating element"
	reRange    = "invalid character range"
	reBadOpt   = "invalid embedded option"
	reDupMax   = 255 // PostgreSQL's largest repetition count
	wordChars  = `\p{L}\p{N}_`
	notWord    = `[^` + wordChars + `]`
	isWord     = `[` + wordChars + `]`
	startWord  = `(?:(?<!` + isWord + `)(?=` + isWord + `))`
	endWord    = `(?:(?<=` + isWord + `)(?!` + isWord + `))`
	spaceChars = "\\t-\\r\\x20\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000"
)

// areClasses are the bracket expressions' named classes, as sets in
// both engines' syntax, following the C.UTF-8 locale's (Unicode) idea of
// each.
var areClasses = map[string]string{
	"alnum":  `\p{L}\p{N}`,
	"alpha":  `\p{L}`,
	"ascii":  `\x00-\x7f`,
	"blank":  `\t\x20`,
	"cntrl":  `\x00-\x1f\x7f-\x9f`,
	"digit":  `0-9`,
	"graph":  `\p{L}\p{M}\p{N}\p{P}\p{S}`,
	"lower":  `\p{Ll}`,
	"print":  `\p{L}\p{M}\p{N}\p{P}\p{S}\x20`,
	"punct":  `\p{P}\p{S}`,
	"space":  spaceChars,
	"upper":  `\p{Lu}`,
	"xdigit": `0-9A-Fa-f`,
	"word":   wordChars,
}

// areCollating are the multi-character names [[.name.]] accepts (the
// POSIX names of the ASCII characters PostgreSQL knows, the common ones).
var areCollating = map[string]rune{
	"NUL": 0, "tab": '\t', "newline": '\n', "vertical-tab": '\v', "form-feed": '\f', "carriage-return": '\r',
	"space": ' ', "exclamation-mark": '!', "quotation-mark": '"', "number-sign": '#', "dollar-sign": '$',
	"percent-sign": '%', "ampersand": '&', "apostrophe": '\'', "left-parenthesis": '(', "right-parenthesis": ')',
	"asterisk": '*', "plus-sign": '+', "comma": ',', "hyphen": '-', "hyphen-minus": '-', "period": '.',
	"full-stop": '.', "slash": '/', "solidus": '/', "zero": '0', "one": '1', "two": '2', "three": '3',
	"four": '4', "five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9', "colon": ':',
	"semicolon": ';', "less-than-sign": '<', "equals-sign": '=', "greater-than-sign": '>', "question-mark": '?',
	"commercial-at": '@', "left-square-bracket": '[', "backslash": '\\', "reverse-solidus": '\\',
	"right-square-bracket": ']', "circumflex": '^', "circumflex-accent": '^', "underscore": '_', "low-line": '_',
	"grave-accent": '`', "left-brace": '{', "left-curly-bracket": '{', "vertical-line": '|', "right-brace": '}',
	"right-curly-bracket": '}', "tilde": '~', "DEL": 0x7f,
}

// areProgram is a translated pattern.
type areProgram struct {
	expr      string // in the engines' syntax
	groups    int    // capturing subexpressions
	backtrack bool   // needs regexp2: back-references, lookaround, word constraints
	lookback  bool   // a match depends on the text before where a search starts
	longest   bool   // PostgreSQL prefers the longest match of the whole RE
	global    bool   // the flag g
	// shortest, for a non-greedy whole RE (which PostgreSQL matches as
	// short as it can), is the RE with every quantifier non-greedy: its
	// match gives the extent of PostgreSQL's.
	shortest string
}

// translateARE translates pattern under flags.
func translateARE(pattern, flags string) (*areProgram, error) {
	f, err := parseREFlags(flags)
	if err != nil {
		return nil, err
	}
	src := []rune(pattern)
	// The directors ***: (an ARE follows) and ***= (a literal follows).
	if strings.HasPrefix(pattern, "***=") {
		src, f.quote = src[4:], true
	} else if strings.HasPrefix(pattern, "***:") {
		src = src[4:]
	}
	// Embedded options, only at the start: (?letters).
	if !f.quote && len(src) > 2 && src[0] == '(' && src[1] == '?' && unicode.IsLetter(src[2]) {
		i := 2
		for ; i < len(src) && src[i] != ')'; i++ {
			if err := f.apply(src[i]); err != nil {
				if err.(*areOptionError).unsupported {
					return nil, pgerror.Unsupported("regular expression option \"%c\" is not supported", src[i])
				}
				return nil, errRegex(reBadOpt)
			}
		}
		if i == len(src) {
			return nil, errRegex(reBadOpt)
		}
		src = src[i+1:]
	}
	p := &areParser{src: src, f: f}
	prog := &areProgram{global: f.global, longest: true}
	var b strings.Builder
	if f.fold {
		b.WriteString("(?i)")
	}
	if f.quote {
		for _, r := range src {
			b.WriteString(litRune(r))
		}
		prog.expr = b.String()
		return prog, nil
	}
	out, greed, err := p.regex(false)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		// Only an unmatched ) stops the top-level RE early.
		return nil, errRegex(reParen)
	}
	prefix := b.String()
	prog.expr = prefix + out
	prog.groups = p.ngroups
	prog.backtrack = p.backtrack
	prog.lookback = p.lookback
	prog.longest = greed >= 0
	if !prog.longest {
		q := &areParser{src: src, f: f}
		short, _, err := q.regex(true)
		if err != nil {
			return nil, err
		}
		prog.shortest = prefix + short
	}
	return prog, nil
}

type areParser struct {
	src       []rune
	pos       int
	f         areFlags
	ngroups   int    // capturing subexpressions opened so far
	closed    []bool // whether each has been closed (back-references need that)
	look      int    // depth of lookaround constraints
	backtrack bool
	lookback  bool
}

func (p *areParser) peek(k int) rune {
	if p.pos+k < len(p.src) {
		return p.src[p.pos+k]
	}
	return -1
}

// skip passes over (?#comments), and with the flag x whitespace and
// #-comments.
func (p *areParser) skip() {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '(' && p.peek(1) == '?' && p.peek(2) == '#':
			for p.pos < len(p.src) && p.src[p.pos] != ')' {
				p.pos++
			}
			p.pos++
		case p.f.expanded && unicode.IsSpace(c):
			p.pos++
		case p.f.expanded && c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

// regex is branches separated by |. greed is the RE's greediness as
// PostgreSQL sees it: 1 greedy, -1 non-greedy, 0 none; one of two or
// more branches is always greedy.
func (p *areParser) regex(lazy bool) (string, int, error) {
	var b strings.Builder
	greed, n := 0, 0
	for {
		out, g, err := p.branch(lazy)
		if err != nil {
			return "", 0, err
		}
		if n > 0 {
			b.WriteByte('|')
		}
		b.WriteString(out)
		greed = g
		n++
		if p.pos < len(p.src) && p.src[p.pos] == '|' {
			p.pos++
			continue
		}
		break
	}
	if n > 1 {
		greed = 1
	}
	return b.String(), greed, nil
}

// branch is pieces up to |, ) or the end; its greediness is the first
// quantified atom's that has one.
func (p *areParser) branch(lazy bool) (string, int, error) {
	var b strings.Builder
	greed := 0
	for {
		p.skip()
		if p.pos >= len(p.src) || p.src[p.pos] == '|' || p.src[p.pos] == ')' {
			return b.String(), greed, nil
		}
		out, g, err := p.piece(lazy)
		if err != nil {
			return "", 0, err
		}
		if greed == 0 {
			greed = g
		}
		b.WriteString(out)
	}
}

func isQuantStart(p *areParser) bool {
	switch p.peek(0) {
	case '*', '+', '?':
		return true
	case '{':
		c := p.peek(1)
		return c >= '0' && c <= '9'
	}
	return false
}

// piece is an atom and its quantifier, if any.
func (p *areParser) piece(lazy bool) (string, int, error) {
	start, groups, closed := p.pos, p.ngroups, len(p.closed)
	atom, constraint, greed, err := p.atom(lazy)
	if err != nil {
		return "", 0, err
	}
	p.skip()
	if !isQuantStart(p) {
		return atom, greed, nil
	}
	if constraint {
		return "", 0, errRegex(reBadRpt)
	}
	min, max := 0, -1
	fixed := false // {m}: the atom's own greediness
	switch p.src[p.pos] {
	case '*':
		p.pos++
	case '+':
		min = 1
		p.pos++
	case '?':
		max = 1
		p.pos++
	case '{':
		if min, max, fixed, err = p.braces(); err != nil {
			return "", 0, err
		}
	}
	nonGreedy := false
	if p.peek(0) == '?' {
		nonGreedy = true
		p.pos++
	}
	p.skip()
	if isQuantStart(p) {
		return "", 0, errRegex(reBadRpt)
	}
	// A non-greedy quantified atom prefers the shortest match as a whole,
	// so the quantifiers inside it are made non-greedy as well.
	if nonGreedy && !lazy {
		end := p.pos
		p.pos, p.ngroups, p.closed = start, groups, p.closed[:closed]
		if atom, _, _, err = p.atom(true); err != nil {
			return "", 0, err
		}
		p.pos = end
	}
	var q string
	switch {
	case min == 0 && max == -1:
		q = "*"
	case min == 1 && max == -1:
		q = "+"
	case min == 0 && max == 1:
		q = "?"
	case max == -1:
		q = fmt.Sprintf("{%d,}", min)
	case min == max:
		q = fmt.Sprintf("{%d}", min)
	default:
		q = fmt.Sprintf("{%d,%d}", min, max)
	}
	if nonGreedy || lazy {
		q += "?"
	}
	switch {
	case fixed:
	case nonGreedy:
		greed = -1
	default:
		greed = 1
	}
	return "(?:" + atom + ")" + q, greed, nil
}

// braces reads {m}, {m,} or {m,n}; single says it was {m}.
func (p *areParser) braces() (int, int, bool, error) {
	p.pos++ // {
	num := func() (int, bool) {
		p.skip()
		n, any := 0, false
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			n = n*10 + int(p.src[p.pos]-'0')
			if n > 100000 {
				n = 100000
			}
			any = true
			p.pos++
		}
		p.skip()
		return n, any
	}
	min, _ := num()
	max := min
	single := true
	if p.peek(0) == ',' {
		single = false
		p.pos++
		var ok bool
		if max, ok = num(); !ok {
			max = -1
		}
	}
	switch {
	case p.pos >= len(p.src):
		return 0, 0, false, errRegex(reBrace)
	case p.src[p.pos] != '}':
		return 0, 0, false, errRegex(reBadBr)
	}
	p.pos++
	if min > reDupMax || max > reDupMax || (max >= 0 && min > max) {
		return 0, 0, false, errRegex(reBadBr)
	}
	return min, max, single, nil
}

// atom is one atom: its translation, whether it is a constraint (which
// takes no quantifier) and its greediness.
func (p *areParser) atom(lazy bool) (string, bool, int, error) {
	c := p.src[p.pos]
	p.pos++
	switch c {
	case '(':
		return p.group(lazy)
	case '.':
		if p.f.nlDot {
			return `[^\n]`, false, 0, nil
		}
		return `(?s:.)`, false, 0, nil
	case '[':
		out, err := p.bracket()
		return out, out == startWord || out == endWord, 0, err
	case '\\':
		return p.escape()
	case '^':
		p.lookback = true
		if p.f.nlAnchor {
			return `(?m:^)`, true, 0, nil
		}
		return `\A`, true, 0, nil
	case '$':
		if p.f.nlAnchor {
			return `(?m:$)`, true, 0, nil
		}
		return `\z`, true, 0, nil
	case '*', '+', '?':
		return "", false, 0, errRegex(reBadRpt)
	case '{':
		if d := p.peek(0); d >= '0' && d <= '9' {
			return "", false, 0, errRegex(reBadRpt)
		}
	}
	return litRune(c), false, 0, nil
}

// group is what follows an opening parenthesis.
func (p *areParser) group(lazy bool) (string, bool, int, error) {
	open, constraint := "(", false
	if p.peek(0) == '?' {
		switch {
		case p.peek(1) == ':':
			open = "(?:"
			p.pos += 2
		case p.peek(1) == '=' || p.peek(1) == '!':
			open = "(?" + string(p.peek(1))
			p.pos += 2
			constraint = true
		case p.peek(1) == '<' && (p.peek(2) == '=' || p.peek(2) == '!'):
			open = "(?<" + string(p.peek(2))
			p.pos += 3
			constraint = true
		default:
			return "", false, 0, errRegex(reBadRpt)
		}
	}
	if constraint {
		// Inside lookaround every parenthesis is non-capturing.
		p.look++
		p.backtrack = true
	}
	group := -1
	if open == "(" {
		if p.look > 0 {
			open = "(?:"
		} else {
			p.ngroups++
			p.closed = append(p.closed, false)
			group = p.ngroups
		}
	}
	out, greed, err := p.regex(lazy)
	if err != nil {
		return "", false, 0, err
	}
	if p.pos >= len(p.src) || p.src[p.pos] != ')' {
		return "", false, 0, errRegex(reParen)
	}
	p.pos++
	if constraint {
		p.look--
		greed = 0
	}
	if group > 0 {
		p.closed[group-1] = true
	}
	return open + out + ")", constraint, greed, nil
}

// litRune is r as a literal in the engines' syntax.
func litRune(r rune) string {
	switch {
	case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
		return string(r)
	case r < 0x100:
		return fmt.Sprintf(`\x%02x`, r)
	}
	return string(r)
}

// escapeValue reads the character a character-entry escape stands for,
// the escape letter c already read; ok false when c is not one.
func (p *areParser) escapeValue(c rune) (rune, bool, error) {
	hex := func(min, max int) (rune, error) {
		v, n := rune(0), 0
	digits:
		for n < max && p.pos < len(p.src) {
			d := p.src[p.pos]
			var x rune
			switch {
			case d >= '0' && d <= '9':
				x = d - '0'
			case d >= 'a' && d <= 'f':
				x = d - 'a' + 10
			case d >= 'A' && d <= 'F':
				x = d - 'A' + 10
			default:
				break digits
			}
			v = v*16 + x
			if v > unicode.MaxRune {
				return 0, errRegex(reEscape)
			}
			n++
			p.pos++
		}
		if n < min {
			return 0, errRegex(reEscape)
		}
		return v, nil
	}
	switch c {
	case 'a':
		return 7, true, nil
	case 'b':
		return 8, true, nil
	case 'B':
		return '\\', true, nil
	case 'c':
		if p.pos >= len(p.src) {
			return 0, true, errRegex(reEscape)
		}
		d := p.src[p.pos]
		p.pos++
		return d & 037, true, nil
	case 'e':
		return 27, true, nil
	case 'f':
		return '\f', true, nil
	case 'n':
		return '\n', true, nil
	case 'r':
		return '\r', true, nil
	case 't':
		return '\t', true, nil
	case 'v':
		return '\v', true, nil
	case 'u':
		v, err := p.fixedHex(4)
		return v, true, err
	case 'U':
		v, err := p.fixedHex(8)
		return v, true, err
	case 'x':
		v, err := hex(1, 255)
		return v, true, err
	case '0':
		return p.octal(0), true, nil
	}
	return 0, false, nil
}

func (p *areParser) fixedHex(n int) (rune, error) {
	if p.pos+n > len(p.src) {
		return 0, errRegex(reEscape)
	}
	v := rune(0)
	for _, d := range p.src[p.pos : p.pos+n] {
		x := strings.IndexRune("0123456789abcdef", unicode.ToLower(d))
		if x < 0 {
			return 0, errRegex(reEscape)
		}
		v = v*16 + rune(x)
	}
	if v > unicode.MaxRune {
		return 0, errRegex(reEscape)
	}
	p.pos += n
	return v, nil
}

// octal reads up to two more octal digits after the first one (v), as
// PostgreSQL's \0, \0y, \0yz and \xyz.
func (p *areParser) octal(v rune) rune {
	for n := 0; n < 2 && p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '7'; n++ {
		if w := v*8 + (p.src[p.pos] - '0'); w <= 0xff {
			v = w
			p.pos++
		} else {
			break
		}
	}
	return v
}

// escape translates a backslash sequence outside a bracket expression.
func (p *areParser) escape() (string, bool, int, error) {
	if p.pos >= len(p.src) {
		return "", false, 0, errRegex(reEscape)
	}
	c := p.src[p.pos]
	p.pos++
	if v, ok, err := p.escapeValue(c); ok || err != nil {
		return litRune(v), false, 0, err
	}
	switch c {
	case 'd':
		return `[0-9]`, false, 0, nil
	case 'D':
		return `[^0-9]`, false, 0, nil
	case 's':
		return "[" + spaceChars + "]", false, 0, nil
	case 'S':
		return "[^" + spaceChars + "]", false, 0, nil
	case 'w':
		return isWord, false, 0, nil
	case 'W':
		return notWord, false, 0, nil
	case 'A':
		p.lookback = true
		return `\A`, true, 0, nil
	case 'Z':
		return `\z`, true, 0, nil
	case 'm':
		p.backtrack = true
		return startWord, true, 0, nil
	case 'M':
		p.backtrack = true
		return endWord, true, 0, nil
	case 'y':
		p.backtrack = true
		return "(?:" + startWord + "|" + endWord + ")", true, 0, nil
	case 'Y':
		p.backtrack = true
		return `(?:(?<=` + isWord + `)(?=` + isWord + `)|(?<!` + isWord + `)(?!` + isWord + `))`, true, 0, nil
	}
	if c >= '1' && c <= '9' {
		// A single digit is a back-reference; more digits are one when
		// they name a subexpression, else an octal character.
		start := p.pos - 1
		n := int(c - '0')
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' && n <= 1000 {
			n = n*10 + int(p.src[p.pos]-'0')
			p.pos++
		}
		if p.pos-start > 1 && (n > p.ngroups || n == 0) {
			p.pos = start
			if c >= '8' {
				return "", false, 0, errRegex(reEscape)
			}
			p.pos++
			return litRune(p.octal(c - '0')), false, 0, nil
		}
		if n > p.ngroups || !p.closed[n-1] || p.look > 0 {
			return "", false, 0, errRegex(reSubReg)
		}
		p.backtrack = true
		return fmt.Sprintf(`(?:\%d)`, n), false, 0, nil
	}
	if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
		return "", false, 0, errRegex(reEscape)
	}
	return litRune(c), false, 0, nil
}

// bracket translates a bracket expression, the [ already read.
func (p *areParser) bracket() (string, error) {
	// [[:<:]] and [[:>:]] are the word constraints \m and \M.
	if rest := string(p.src[p.pos:min(len(p.src), p.pos+6)]); rest == "[:<:]]" || rest == "[:>:]]" {
		p.pos += 6
		p.backtrack = true
		if rest[2] == '<' {
			return startWord, nil
		}
		return endWord, nil
	}
	negate := false
	if p.peek(0) == '^' {
		negate = true
		p.pos++
	}
	var set strings.Builder
	var negClasses []string
	first := true
	// elem reads one element: a character (ok) or a class set.
	elem := func() (r rune, class string, negClass string, err error) {
		c := p.src[p.pos]
		p.pos++
		switch {
		case c == '[' && (p.peek(0) == ':' || p.peek(0) == '.' || p.peek(0) == '='):
			kind := p.src[p.pos]
			p.pos++
			start := p.pos
			for p.pos+1 < len(p.src) && !(p.src[p.pos] == kind && p.src[p.pos+1] == ']') {
				p.pos++
			}
			if p.pos+1 >= len(p.src) {
				return 0, "", "", errRegex(reBrack)
			}
			name := string(p.src[start:p.pos])
			p.pos += 2
			if kind == ':' {
				cls, ok := areClasses[name]
				if !ok {
					return 0, "", "", errRegex(reCType)
				}
				return 0, cls, "", nil
			}
			if utf8.RuneCountInString(name) == 1 {
				r, _ := utf8.DecodeRuneInString(name)
				return r, "", "", nil
			}
			if r, ok := areCollating[name]; ok {
				return r, "", "", nil
			}
			return 0, "", "", errRegex(reCollate)
		case c == '\\':
			if p.pos >= len(p.src) {
				return 0, "", "", errRegex(reEscape)
			}
			d := p.src[p.pos]
			p.pos++
			if v, ok, err := p.escapeValue(d); ok || err != nil {
				return v, "", "", err
			}
			switch d {
			case 'd':
				return 0, areClasses["digit"], "", nil
			case 's':
				return 0, spaceChars, "", nil
			case 'w':
				return 0, wordChars, "", nil
			case 'D':
				return 0, "", areClasses["digit"], nil
			case 'S':
				return 0, "", spaceChars, nil
			case 'W':
				return 0, "", wordChars, nil
			}
			if d < utf8.RuneSelf && (unicode.IsLetter(d) || unicode.IsDigit(d)) {
				return 0, "", "", errRegex(reEscape)
			}
			return d, "", "", nil
		}
		return c, "", "", nil
	}
	for {
		if p.pos >= len(p.src) {
			return "", errRegex(reBrack)
		}
		if p.src[p.pos] == ']' && !first {
			p.pos++
			break
		}
		first = false
		lo, cls, neg, err := elem()
		if err != nil {
			return "", err
		}
		isRange := p.peek(0) == '-' && p.peek(1) != ']' && p.peek(1) != -1
		if cls != "" || neg != "" {
			if isRange {
				return "", errRegex(reRange)
			}
			set.WriteString(cls)
			if neg != "" {
				negClasses = append(negClasses, neg)
			}
			continue
		}
		if !isRange {
			set.WriteString(litRune(lo))
			continue
		}
		p.pos++ // -
		hi, cls, neg, err := elem()
		if err != nil {
			return "", err
		}
		if cls != "" || neg != "" || hi < lo || p.peek(0) == '-' && p.peek(1) != ']' {
			return "", errRegex(reRange)
		}
		set.WriteString(litRune(lo) + "-" + litRune(hi))
	}
	if negate {
		if p.f.nlDot {
			set.WriteString(`\n`)
		}
		if len(negClasses) == 0 {
			return "[^" + set.String() + "]", nil
		}
		// [^\Dx] is a character in every class named by \D, \S or \W
		// and not in the rest of the set: lookahead says the former.
		p.backtrack = true
		var b strings.Builder
		b.WriteString("(?:")
		for _, n := range negClasses[1:] {
			b.WriteString("(?=[" + n + "])")
		}
		if set.Len() > 0 {
			b.WriteString("(?![" + set.String() + "])")
		}
		b.WriteString("[" + negClasses[0] + "])")
		return b.String(), nil
	}
	var alts []string
	if set.Len() > 0 {
		alts = append(alts, "["+set.String()+"]")
	}
	for _, n := range negClasses {
		alts = append(alts, "[^"+n+"]")
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return "(?:" + strings.Join(alts, "|") + ")", nil
}
