package pgarray

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// NeedsParse reports whether s is an array literal the parser's own
// reader refuses (nested braces, or dimensions before the braces), and
// that Parse reads instead.
func NeedsParse(s string) bool {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	if strings.HasPrefix(s, "[") {
		return true
	}
	if !strings.HasPrefix(s, "{") {
		return false
	}
	return strings.HasPrefix(strings.TrimLeft(s[1:], " \t\n\r\v\f"), "{")
}

// literal is one parsed level of an array literal: its elements' texts
// (nil for NULL) or its sub-levels.
type literal struct {
	leaves []*string
	subs   []*literal
}

type arrayParser struct {
	s   string
	pos int
}

func malformed(s, detail string) error {
	return pgerror.WithDetail(pgerror.Newf(pgerror.CodeInvalidTextRepresentation, "malformed array literal: %q", s), detail)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func (p *arrayParser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func (p *arrayParser) unexpected() error {
	if p.pos >= len(p.s) {
		return malformed(p.s, "Unexpected end of input.")
	}
	return malformed(p.s, "Unexpected \""+string(p.s[p.pos])+"\" character.")
}

// Parse is array_in: the text s as an array of elem, each element's text
// read by parseElem. Dimensions may be given first ([0:2][1:3]=...),
// white space between but not within them, as PostgreSQL's; their lower
// bounds are the array's.
func Parse(s string, elem *types.T, parseElem func(string) (tree.Datum, error)) (*tree.DArray, error) {
	p := &arrayParser{s: s}
	p.skipSpace()
	var given, lower []int
	for p.pos < len(s) && s[p.pos] == '[' {
		p.pos++
		if len(given) >= MaxDims {
			return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", len(given)+1, MaxDims)
		}
		lo := 1
		n, ok := p.int()
		if !ok {
			return nil, malformed(s, "\"[\" must introduce explicitly-specified array dimensions.")
		}
		if p.pos < len(s) && s[p.pos] == ':' {
			p.pos++
			lo = n
			if n, ok = p.int(); !ok {
				return nil, malformed(s, "Missing array dimension value.")
			}
		}
		hi := n
		if p.pos >= len(s) || s[p.pos] != ']' {
			return nil, malformed(s, "Missing \"]\" after array dimensions.")
		}
		p.pos++
		if hi < lo {
			return nil, pgerror.New(CodeArraySubscript, "upper bound cannot be less than lower bound")
		}
		given = append(given, hi-lo+1)
		lower = append(lower, lo)
		p.skipSpace()
	}
	if given != nil {
		if p.pos >= len(s) || s[p.pos] != '=' {
			return nil, malformed(s, "Missing \"=\" after array dimensions.")
		}
		p.pos++
		p.skipSpace()
	}
	if p.pos >= len(s) || s[p.pos] != '{' {
		if given != nil {
			return nil, malformed(s, "Array contents must start with \"{\".")
		}
		return nil, malformed(s, "Array value must start with \"{\" or dimension information.")
	}
	lit, err := p.level(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(s) {
		return nil, malformed(s, "Junk after closing right brace.")
	}
	var dims []int
	for l := lit; ; l = l.subs[0] {
		if l.subs == nil {
			if len(l.leaves) > 0 {
				dims = append(dims, len(l.leaves))
			}
			break
		}
		dims = append(dims, len(l.subs))
	}
	if given != nil && !sameDims(given, dims) {
		return nil, malformed(s, "Specified array dimensions do not match array contents.")
	}
	if len(dims) > MaxDims {
		return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", len(dims), MaxDims)
	}
	var flat tree.Datums
	var walk func(*literal) error
	walk = func(l *literal) error {
		for _, sub := range l.subs {
			if err := walk(sub); err != nil {
				return err
			}
		}
		for _, leaf := range l.leaves {
			if leaf == nil {
				flat = append(flat, tree.DNull)
				continue
			}
			d, err := parseElem(*leaf)
			if err != nil {
				return err
			}
			flat = append(flat, d)
		}
		return nil
	}
	if err := walk(lit); err != nil {
		return nil, err
	}
	if err := CheckBounds(dims, lower); err != nil {
		return nil, err
	}
	return BuildBounded(elem, dims, lower, flat), nil
}

// int reads a dimension's number as array_in does: a run of digits and
// signs, of which atoi takes the leading [+-]digits (an int4, wrapping
// like C's atoi); false when the run is empty.
func (p *arrayParser) int() (int, bool) {
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '-' || p.s[p.pos] == '+') {
		p.pos++
	}
	if p.pos == start {
		return 0, false
	}
	run := p.s[start:p.pos]
	neg := false
	i := 0
	if run[0] == '-' || run[0] == '+' {
		neg = run[0] == '-'
		i++
	}
	var n int64
	for ; i < len(run) && run[i] >= '0' && run[i] <= '9'; i++ {
		// Only the low 32 bits matter, as in C's conversion to int.
		n = (n*10 + int64(run[i]-'0')) & (1<<32 - 1)
	}
	if neg {
		n = -n
	}
	return int(int32(n)), true
}

// level reads {...} at p.pos: sub-levels of one shape, or elements.
func (p *arrayParser) level(depth int) (*literal, error) {
	if depth >= MaxDims {
		return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)", depth+1, MaxDims)
	}
	p.pos++ // {
	p.skipSpace()
	lit := &literal{}
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		if depth > 0 {
			return nil, p.unexpected()
		}
		p.pos++
		return lit, nil
	}
	nested := p.pos < len(p.s) && p.s[p.pos] == '{'
	for {
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.unexpected()
		}
		if nested {
			if p.s[p.pos] != '{' {
				return nil, malformed(p.s, "Unexpected array element.")
			}
			sub, err := p.level(depth + 1)
			if err != nil {
				return nil, err
			}
			if len(lit.subs) > 0 && !sameShape(lit.subs[0], sub) {
				return nil, malformed(p.s, "Multidimensional arrays must have sub-arrays with matching dimensions.")
			}
			lit.subs = append(lit.subs, sub)
		} else {
			leaf, err := p.element()
			if err != nil {
				return nil, err
			}
			lit.leaves = append(lit.leaves, leaf)
		}
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.unexpected()
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return lit, nil
		default:
			if nested {
				return nil, p.unexpected()
			}
			return nil, malformed(p.s, "Unexpected array element.")
		}
	}
}

func sameShape(a, b *literal) bool {
	if len(a.leaves) != len(b.leaves) || len(a.subs) != len(b.subs) {
		return false
	}
	if len(a.subs) > 0 {
		return sameShape(a.subs[0], b.subs[0])
	}
	return true
}

// element reads one element: quoted, or unquoted up to a delimiter or
// brace, its surrounding white space dropped; unquoted NULL is nil.
func (p *arrayParser) element() (*string, error) {
	var b strings.Builder
	c := p.s[p.pos]
	switch c {
	case '{', '}', ',':
		return nil, p.unexpected()
	case '"':
		p.pos++
		for {
			if p.pos >= len(p.s) {
				return nil, p.unexpected()
			}
			c := p.s[p.pos]
			p.pos++
			switch c {
			case '"':
				out := b.String()
				return &out, nil
			case '\\':
				if p.pos >= len(p.s) {
					return nil, p.unexpected()
				}
				b.WriteByte(p.s[p.pos])
				p.pos++
			default:
				b.WriteByte(c)
			}
		}
	}
	escaped, lastKept := false, 0
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == ',' || c == '}' {
			break
		}
		if c == '{' || c == '"' {
			return nil, p.unexpected()
		}
		p.pos++
		if c == '\\' {
			if p.pos >= len(p.s) {
				return nil, p.unexpected()
			}
			b.WriteByte(p.s[p.pos])
			p.pos++
			escaped = true
			lastKept = b.Len()
			continue
		}
		b.WriteByte(c)
		if !isSpace(c) {
			lastKept = b.Len()
		}
	}
	out := b.String()[:lastKept]
	if !escaped && strings.EqualFold(out, "null") {
		return nil, nil
	}
	return &out, nil
}
