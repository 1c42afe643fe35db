package sem

import (
	"regexp"
	"strings"

	"github.com/meridiandb/meridian/sql/pgerror"
)

// The type checker reports arguments that have no common type (CASE's
// results, COALESCE's, GREATEST's), and a comparison of two types no
// operator compares (CASE x WHEN y, x IN (...), IS DISTINCT FROM), as
// invalid_parameter_value (22023) in its own words. PostgreSQL's are
// datatype_mismatch (42804, "COALESCE types integer and text cannot be
// matched") and undefined_function (42883, "operator does not exist:
// integer = text").

// expectedType matches the type checker's account of the mismatch: the
// type the arguments so far have and the one that does not fit.
var expectedType = regexp.MustCompile(`expected .* to be of type (\S+), found type (\S+)$`)

// incompatibleArgs names the construct whose arguments did not match.
var incompatibleArgs = regexp.MustCompile(`^(?:incompatible (\w+) expressions|(greatest|least)\(\)|incompatible (value) type)`)

// TypeMismatch gives err, an error of the type checker, PostgreSQL's
// code (and words, where it tells the types) when it is one of those;
// other errors are returned as they are.
func TypeMismatch(err error) error {
	if err == nil || pgerror.CodeOf(err) != pgerror.CodeInvalidParameterValue {
		return err
	}
	msg := err.Error()
	var l, r string
	if m := expectedType.FindStringSubmatch(msg); m != nil {
		l, r = checkerTypeName(m[1]), checkerTypeName(m[2])
	}
	switch {
	case strings.HasPrefix(msg, "incompatible condition type"), strings.HasPrefix(msg, "unsupported comparison operator"):
		if l != "" {
			return pgerror.WithHint(pgerror.Newf(pgerror.CodeUndefinedFunction, "operator does not exist: %s = %s", l, r),
				"No operator matches the given name and argument types. You might need to add explicit type casts.")
		}
		return pgerror.WithCode(err, pgerror.CodeUndefinedFunction)
	case strings.HasPrefix(msg, "unsupported unary operator"), strings.HasPrefix(msg, "unsupported binary operator"):
		return pgerror.WithCode(err, pgerror.CodeUndefinedFunction)
	}
	m := incompatibleArgs.FindStringSubmatch(msg)
	if m == nil || l == "" {
		return err
	}
	what := strings.ToUpper(m[1] + m[2])
	if m[3] != "" {
		what = "CASE"
	}
	return pgerror.Newf("42804", "%s types %s and %s cannot be matched", what, l, r)
}

// checkerTypeName is PostgreSQL's name of the type the type checker calls
// name, or name when it is not one.
func checkerTypeName(name string) string {
	t, err := ParseType(name)
	if err != nil {
		return name
	}
	return t.SQLStandardName()
}
