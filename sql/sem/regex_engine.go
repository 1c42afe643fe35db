package sem

import (
	"regexp"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// The engines behind PostgreSQL's regular expressions. A translated
// pattern (regex_are.go) runs on Go's regexp (RE2: linear time) when it
// can, and on regexp2, a backtracking engine, when it needs what RE2
// lacks: back-references, lookahead and lookbehind constraints, and
// PostgreSQL's Unicode-aware word constraints. Callers see one pgRegex
// and PostgreSQL's search loop over it.

// regexMatchTimeout bounds one search of the backtracking engine, so
// that a pathological pattern cannot hold a statement indefinitely.
var regexMatchTimeout = time.Second

// regexBacktrackLimit bounds the backtracking engine's stack (in
// entries) for one search.
const regexBacktrackLimit = 1 << 22

// pgRegex is a compiled PostgreSQL regular expression.
type pgRegex struct {
	prog *areProgram
	re2  *regexp.Regexp // nil when only the backtracking engine can run it

	btOnce sync.Once
	bt     *regexp2.Regexp
	btErr  error

	// For a non-greedy whole RE: short finds the extent of the match,
	// exact (the RE anchored at both ends) its subexpressions within it.
	short, exact *pgRegex
}

// regexInput is a subject string and, for the backtracking engine, its
// characters and their byte offsets.
type regexInput struct {
	s     string
	runes []rune
	offs  []int // the byte offset of each rune, then len(s)
}

func (in *regexInput) prepare() {
	if in.offs != nil {
		return
	}
	in.runes = make([]rune, 0, len(in.s))
	in.offs = make([]int, 0, len(in.s)+1)
	for i, r := range in.s {
		in.runes = append(in.runes, r)
		in.offs = append(in.offs, i)
	}
	in.offs = append(in.offs, len(in.s))
}

// runeIndex is the index of the rune at byte offset b (a rune boundary).
func (in *regexInput) runeIndex(b int) int {
	lo, hi := 0, len(in.offs)-1
	for lo < hi {
		m := (lo + hi) / 2
		if in.offs[m] < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

var (
	pgRegexCache     sync.Map // flags + "\x00" + pattern -> *pgRegex
	pgRegexCacheSize atomic.Int64
)

// compileRegex compiles a PostgreSQL regular expression under its flags
// (the regexp functions' flags argument).
func compileRegex(pattern, flags string) (*pgRegex, error) {
	key := flags + "\x00" + pattern
	if re, ok := pgRegexCache.Load(key); ok {
		return re.(*pgRegex), nil
	}
	prog, err := translateARE(pattern, flags)
	if err != nil {
		return nil, err
	}
	re, err := compileProgram(prog)
	if err != nil {
		return nil, err
	}
	if prog.shortest != "" {
		short, exact := *prog, *prog
		short.expr, short.longest = prog.shortest, false
		exact.expr, exact.lookback = `\A(?:`+prog.expr+`)\z`, false
		if re.short, err = compileProgram(&short); err != nil {
			return nil, err
		}
		if re.exact, err = compileProgram(&exact); err != nil {
			return nil, err
		}
	}
	// Patterns are usually constants: keep the compiled ones, within a
	// bound.
	if pgRegexCacheSize.Add(1) > 4096 {
		pgRegexCache.Clear()
		pgRegexCacheSize.Store(0)
	}
	pgRegexCache.Store(key, re)
	return re, nil
}

// compileProgram compiles a translated pattern for its engine.
func compileProgram(prog *areProgram) (*pgRegex, error) {
	re := &pgRegex{prog: prog}
	if !prog.backtrack {
		// RE2 refuses what is too large for it (deeply nested counted
		// repetitions); the backtracking engine then runs the pattern.
		if r, err := regexp.Compile(prog.expr); err == nil {
			if prog.longest {
				r.Longest()
			}
			re.re2 = r
		}
	}
	if re.re2 == nil {
		if _, err := re.backtracker(); err != nil {
			return nil, err
		}
	}
	return re, nil
}

// compileSQLRegex is the ~ family's pattern: no flags, or i for ~*.
func compileSQLRegex(pattern string, fold bool) (*pgRegex, error) {
	if fold {
		return compileRegex(pattern, "i")
	}
	return compileRegex(pattern, "")
}

func (re *pgRegex) backtracker() (*regexp2.Regexp, error) {
	re.btOnce.Do(func() {
		bt, err := regexp2.Compile(re.prog.expr, regexp2.OptionMaxBacktrackingStackSize(regexBacktrackLimit))
		if err != nil {
			// The translation is meant to be valid for both engines.
			re.btErr = errRegex(err.Error())
			return
		}
		bt.MatchTimeout = regexMatchTimeout
		re.bt = bt
	})
	return re.bt, re.btErr
}

// numSubexp is the number of capturing subexpressions.
func (re *pgRegex) numSubexp() int { return re.prog.groups }

// errTooComplex is a search the backtracking engine gave up on (out of
// time or of stack), with PostgreSQL's message for a search that fails.
func errTooComplex() error {
	return pgerror.WithHint(pgerror.New("2201B", "regular expression failed: regular expression is too complex"),
		"Searches with back-references or lookaround constraints are limited in time and memory; simplify the pattern.")
}

// find is the first match at or after byte offset from in s, seeing the
// text before it as context: the byte offsets of the match and of each
// subexpression (-1 for one that did not take part), or nil.
func (re *pgRegex) find(in *regexInput, from int) ([]int, error) {
	if re.short == nil {
		return re.findOne(in, from)
	}
	m, err := re.short.findOne(in, from)
	if err != nil || m == nil {
		return m, err
	}
	// The subexpressions as the RE itself places them in that extent.
	e, err := re.exact.findOne(&regexInput{s: in.s[m[0]:m[1]]}, 0)
	if err != nil || e == nil {
		return m, err
	}
	for i := range e {
		if e[i] >= 0 {
			e[i] += m[0]
		}
	}
	return e, nil
}

// findOne is find on this engine.
func (re *pgRegex) findOne(in *regexInput, from int) ([]int, error) {
	if re.re2 != nil && (from == 0 || !re.prog.lookback) {
		m := re.re2.FindStringSubmatchIndex(in.s[from:])
		if m != nil && from > 0 {
			for i := range m {
				if m[i] >= 0 {
					m[i] += from
				}
			}
		}
		return m, nil
	}
	bt, err := re.backtracker()
	if err != nil {
		return nil, err
	}
	in.prepare()
	var out []int
	err = bt.FindRunesMatches(in.runes, in.runeIndex(from), func(v regexp2.MatchView) bool {
		out = make([]int, 2*(re.prog.groups+1))
		for g := 0; g <= re.prog.groups; g++ {
			idx, n, ok := v.GroupRange(g)
			if !ok {
				out[2*g], out[2*g+1] = -1, -1
				continue
			}
			out[2*g], out[2*g+1] = in.offs[idx], in.offs[idx+n]
		}
		return false
	})
	if err != nil {
		return nil, errTooComplex()
	}
	return out, nil
}

// match reports whether s has a match.
func (re *pgRegex) match(s string) (bool, error) {
	if re.re2 != nil {
		return re.re2.MatchString(s), nil
	}
	m, err := re.find(&regexInput{s: s}, 0)
	return m != nil, err
}

// matches is PostgreSQL's search loop (setup_regexp_matches): from byte
// offset from, the first match, or with all every one up to limit (0:
// no limit), each search starting where the last match ended, or a
// character later after an empty match. ignoreDegenerate leaves out, as
// regexp_split_to_* do, empty matches at either end of the string or
// right after the previous match.
func (re *pgRegex) matches(s string, from int, all, ignoreDegenerate bool, limit int) ([][]int, error) {
	in := &regexInput{s: s}
	var out [][]int
	prevEnd := from
	for start := from; start <= len(s); {
		m, err := re.find(in, start)
		if err != nil || m == nil {
			return out, err
		}
		if !ignoreDegenerate || (m[0] < len(s) && m[1] > prevEnd) {
			out = append(out, m)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		prevEnd = m[1]
		if !all {
			break
		}
		start = m[1]
		if m[0] == m[1] {
			if start == len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[start:])
			start += w
		}
	}
	return out, nil
}
