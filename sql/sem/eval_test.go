package sem_test

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// eval parses, type-checks (with the implicit casts) and evaluates sql
// with e, as package sql's builder and nodes do for a constant
// select-list item.
func eval(t *testing.T, e *sem.EvalCtx, sql string) (tree.Datum, error) {
	t.Helper()
	expr, err := sem.ParseExpr(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	ctx := context.Background()
	sema := tree.MakeSemaContext(nil)
	cast, err := sem.ImplicitCasts(ctx, &sema, expr)
	if err != nil {
		return nil, err
	}
	te, err := tree.TypeCheck(ctx, cast, &sema, types.AnyElement)
	if err != nil {
		return nil, sem.WithParserCode(err)
	}
	return e.Eval(sem.PGSemantics(te))
}

type evalCase struct{ sql, want string }

// checkEval evaluates each case's sql with e and compares the result's
// SQL text with want.
func checkEval(t *testing.T, e *sem.EvalCtx, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		d, err := eval(t, e, tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := tree.AsString(d); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.sql, got, tc.want)
		}
	}
}

// TestEvalAlone evaluates operators, casts and builtins without package
// sql: what the stage needs of the layers above comes only through
// EvalCtx's seams.
func TestEvalAlone(t *testing.T) {
	e := &sem.EvalCtx{Ctx: context.Background()}
	checkEval(t, e, []evalCase{
		{"1 + 2.5", "3.5"},                           // int4 + numeric: an implicit cast
		{"7 / 2", "3"},                               // integer division
		{"lower('ABC') || 'd'", "'abcd'"},            // a builtin, then an operator
		{"'12'::int2 + 1", "13"},                     // a cast
		{"'{1,2,3}'::int[] @> ARRAY[2]", "true"},     // array containment
		{"'{\"a\": 1}'::jsonb ->> 'a'", "'1'"},       // jsonb
		{"coalesce(NULL, 2) = 2", "true"},            // NULL handling
		{"current_user", "NULL"},                     // no session: NULL
		{"greatest(1, 2.5, 2)", "2.5"},               // unified argument types
		{"date '2024-02-28' + 2", "'2024-03-01'"},    // date arithmetic
		{"length(repeat('ab', 3))", "6"},             // string family
		{"num_nulls(1, NULL, NULL)", "2"},            // functions of values
		{"to_char(1234.5, '9G999D9')", "' 1,234.5'"}, // to_char
	})
	for sql, code := range map[string]pgerror.Code{
		"1 / 0":                        "22012",
		"'x'::int4":                    pgerror.CodeInvalidTextRepresentation,
		"2147483647::int4 + 1::int4":   pgerror.CodeNumericValueOutOfRange,
		"set_config('a', 'b', false)":  pgerror.CodeFeatureNotSupported, // no session
		"'a'::regclass":                pgerror.CodeInternalError,       // no catalog
		"current_setting('datestyle')": "",                              // no session: NULL
	} {
		_, err := eval(t, e, sql)
		if got := pgerror.CodeOf(err); err != nil && got != code || err == nil && code != "" {
			t.Errorf("%s: error %v (%s), want %s", sql, err, got, code)
		}
	}
}

type fakeSession struct{ set map[string]string }

func (s *fakeSession) User() string          { return "alice" }
func (s *fakeSession) BackendPID() uint32    { return 42 }
func (s *fakeSession) QueryStart() time.Time { return time.Time{} }
func (s *fakeSession) SessionUser() string   { return s.User() }
func (s *fakeSession) Setting(name string) (string, error) {
	if v, ok := s.set[name]; ok {
		return v, nil
	}
	return "", pgerror.Newf("42704", "unrecognized configuration parameter %q", name)
}
func (s *fakeSession) SetConfig(name, value string, local bool) (string, error) {
	s.set[name] = value
	return value, nil
}
func (s *fakeSession) Database() (string, bool) { return "shop", true }
func (s *fakeSession) SearchPath() []string     { return []string{"app", "public"} }
func (s *fakeSession) Signal(e *sem.EvalCtx, pid uint32, terminate bool) (bool, error) {
	return false, pgerror.Unsupported("pg_cancel_backend")
}
func (s *fakeSession) Notify(e *sem.EvalCtx, channel, payload string) error {
	return pgerror.Unsupported("pg_notify")
}

// fakeSequences is one sequence per name, starting at 1.
type fakeSequences map[string]int64

func (f fakeSequences) Nextval(e *sem.EvalCtx, seq tree.Datum) (int64, error) {
	f[tree.AsStringWithFlags(seq, tree.FmtBareStrings)]++
	return f[tree.AsStringWithFlags(seq, tree.FmtBareStrings)], nil
}
func (f fakeSequences) Currval(e *sem.EvalCtx, seq tree.Datum) (int64, error) {
	return f[tree.AsStringWithFlags(seq, tree.FmtBareStrings)], nil
}
func (f fakeSequences) Setval(e *sem.EvalCtx, seq tree.Datum, v int64, called bool) error {
	f[tree.AsStringWithFlags(seq, tree.FmtBareStrings)] = v
	return nil
}
func (f fakeSequences) Lastval(e *sem.EvalCtx) (int64, error) {
	return 0, pgerror.New("55000", "lastval is not yet defined in this session")
}

type fakeCatalog map[string]oid.Oid

func (c fakeCatalog) Reg(e *sem.EvalCtx, d tree.Datum, t *types.T) (tree.Datum, error) {
	return tree.NewDOidWithTypeAndName(c[string(tree.MustBeDString(d))], t, string(tree.MustBeDString(d))), nil
}

// TestEvalSeams: the functions of the session, the sequence functions and
// ::regclass answer through the Session, Sequences and Catalog the
// caller gives.
func TestEvalSeams(t *testing.T) {
	s := &fakeSession{set: map[string]string{"datestyle": "ISO, MDY"}}
	e := &sem.EvalCtx{Ctx: context.Background(), Session: s, Catalog: fakeCatalog{"t": 16384}, Sequences: fakeSequences{}}
	checkEval(t, e, []evalCase{
		{"current_user", "'alice'"},
		{"pg_backend_pid()", "42"},
		{"current_database() || '.' || current_schema()", "'shop.app'"},
		{"current_setting('DateStyle')", "'ISO, MDY'"},
		{"current_setting('nope', true)", "NULL"},
		{"set_config('application_name', 'x', false)", "'x'"},
		{"current_setting('application_name')", "'x'"},
		{"'t'::regclass::oid", "16384"},
		{"nextval('s') + nextval('s')", "3"},
		{"setval('s', 10) + currval('s')", "20"},
	})
	for sql, code := range map[string]pgerror.Code{"current_setting('nope')": "42704", "lastval()": "55000"} {
		if _, err := eval(t, e, sql); pgerror.CodeOf(err) != code {
			t.Errorf("%s: %v, want %s", sql, err, code)
		}
	}
	if _, err := eval(t, &sem.EvalCtx{Ctx: context.Background()}, "nextval('s')"); pgerror.CodeOf(err) != pgerror.CodeInternalError {
		t.Errorf("nextval without sequences: %v, want XX000", err)
	}
}

// A family registered from another package, after sem's own have been
// (package sql's catalog functions), is defined for the type checker too.
var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"test_twice": {{
		Types: tree.ParamTypes{{Name: "n", Typ: types.Int}}, ReturnType: tree.FixedReturnType(types.Int),
		Class: tree.NormalClass,
		Fn: sem.BuiltinFn(func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			return tree.NewDInt(2 * tree.MustBeDInt(a[0])), nil
		}),
	}},
})

func TestRegisterFromOutside(t *testing.T) {
	checkEval(t, &sem.EvalCtx{Ctx: context.Background()}, []evalCase{
		{"test_twice(21)", "42"},
		{"test_twice(NULL)", "NULL"}, // not called on NULL input
		{"upper(lower('A'))", "'A'"}, // sem's own still there
	})
	if sem.Overloads("test_twice") == nil || sem.Overloads("no_such_function") != nil {
		t.Error("Overloads does not list exactly what was registered")
	}
}
