package sql

import (
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// String functions.
var _ = addBuiltins(map[string][]tree.Overload{
	"lower":     {strFn(strings.ToLower)},
	"btrim":     trimFn(strings.Trim),
	"ltrim":     trimFn(strings.TrimLeft),
	"rtrim":     trimFn(strings.TrimRight),
	"substr":    substrFn(),
	"substring": substrFn(),
	"replace": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "from", Typ: types.String}, {Name: "to", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			s, from := string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1]))
			if from == "" {
				// PostgreSQL finds nothing to replace, where Go would
				// insert between every character.
				return tree.NewDString(s), nil
			}
			return tree.NewDString(strings.ReplaceAll(s, from, string(tree.MustBeDString(a[2])))), nil
		}),
	}},
	"strpos": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "sub", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.Int), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			s, sub := string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1]))
			i := strings.Index(s, sub)
			if i < 0 {
				return tree.NewDInt(0), nil
			}
			return tree.NewDInt(tree.DInt(utf8.RuneCountInString(s[:i]) + 1)), nil
		}),
	}},
	"repeat": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			n := int(tree.MustBeDInt(a[1]))
			s := string(tree.MustBeDString(a[0]))
			if n <= 0 {
				return tree.NewDString(""), nil
			}
			if len(s)*n > 1<<28 {
				return nil, pgerror.New(pgerror.CodeProgramLimitExceeded, "requested length too large")
			}
			return tree.NewDString(strings.Repeat(s, n)), nil
		}),
	}},
	// left and right take n characters from one end, or with n < 0 all
	// but -n from the other.
	"left": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			r := []rune(string(tree.MustBeDString(a[0])))
			n := clampRunes(int64(tree.MustBeDInt(a[1])), len(r))
			return tree.NewDString(string(r[:n])), nil
		}),
	}},
	"right": {{
		Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "n", Typ: types.Int}},
		ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			r := []rune(string(tree.MustBeDString(a[0])))
			n := clampRunes(int64(tree.MustBeDInt(a[1])), len(r))
			return tree.NewDString(string(r[len(r)-n:])), nil
		}),
	}},
	"upper":        {strFn(strings.ToUpper)},
	"length":       {intOfStr(func(s string) int64 { return int64(utf8.RuneCountInString(s)) })},
	"char_length":  {intOfStr(func(s string) int64 { return int64(utf8.RuneCountInString(s)) })},
	"octet_length": {intOfStr(func(s string) int64 { return int64(len(s)) })},
	// quote_ident quotes an identifier when it needs it (upper case,
	// punctuation, a reserved word).
	"quote_ident": {{
		Types: tree.ParamTypes{{Name: "ident", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(tree.NameString(string(tree.MustBeDString(a[0])))), nil
		}),
	}},
})

func trimFn(f func(s, cutset string) string) []tree.Overload {
	return []tree.Overload{
		{
			Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
			Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return tree.NewDString(f(string(tree.MustBeDString(a[0])), " ")), nil
			}),
		},
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "chars", Typ: types.String}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return tree.NewDString(f(string(tree.MustBeDString(a[0])), string(tree.MustBeDString(a[1])))), nil
			}),
		},
	}
}

// substrFn is substr(s, start [, count]) with PostgreSQL's rules: start
// counts from 1 and may be before the string; a negative count is an
// error.
func substrFn() []tree.Overload {
	sub := func(s string, start, count int64, bounded bool) (tree.Datum, error) {
		r := []rune(s)
		if bounded && count < 0 {
			return nil, pgerror.New("22011", "negative substring length not allowed")
		}
		end := int64(len(r)) + 1
		if bounded && start+count < end {
			end = start + count
		}
		start = max(start, 1)
		if end <= start || start > int64(len(r)) {
			return tree.NewDString(""), nil
		}
		return tree.NewDString(string(r[start-1 : end-1])), nil
	}
	return []tree.Overload{
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "start", Typ: types.Int}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return sub(string(tree.MustBeDString(a[0])), int64(tree.MustBeDInt(a[1])), 0, false)
			}),
		},
		{
			Types:      tree.ParamTypes{{Name: "s", Typ: types.String}, {Name: "start", Typ: types.Int}, {Name: "count", Typ: types.Int}},
			ReturnType: tree.FixedReturnType(types.String), Volatility: volatility.Immutable, Class: tree.NormalClass,
			Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
				return sub(string(tree.MustBeDString(a[0])), int64(tree.MustBeDInt(a[1])), int64(tree.MustBeDInt(a[2])), true)
			}),
		},
	}
}

func strFn(f func(string) string) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.String),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDString(f(string(tree.MustBeDString(a[0])))), nil
		}),
	}
}

func intOfStr(f func(string) int64) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{{Name: "s", Typ: types.String}}, ReturnType: tree.FixedReturnType(types.Int),
		Volatility: volatility.Immutable, Class: tree.NormalClass,
		Fn: builtinFn(func(e *evalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDInt(tree.DInt(f(string(tree.MustBeDString(a[0]))))), nil
		}),
	}
}

// clampRunes turns left's and right's n into how many of length runes to
// keep: n itself, or length+n for negative n, within [0, length].
func clampRunes(n int64, length int) int {
	if n < 0 {
		n += int64(length)
	}
	return int(max(0, min(n, int64(length))))
}
