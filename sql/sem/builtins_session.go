package sem

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Functions of the session: its role, its process, its settings.
var _ = RegisterFamily(map[string][]tree.Overload{
	"current_user": {sessionFn(func(s Session) tree.Datum { return tree.NewDName(s.User()) })},
	"session_user": {sessionFn(func(s Session) tree.Datum { return tree.NewDName(s.SessionUser()) })},
	"current_role": {sessionFn(func(s Session) tree.Datum { return tree.NewDName(s.User()) })},
	// pg_notify is NOTIFY as a function: the channel is a string, taken
	// as it is.
	"pg_notify": {{
		Types:      tree.ParamTypes{{Name: "channel", Typ: types.String}, {Name: "payload", Typ: types.String}},
		ReturnType: tree.FixedReturnType(types.Void), Volatility: volatility.Volatile, Class: tree.NormalClass,
		CalledOnNullInput: true,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if e.Session == nil {
				return nil, pgerror.Unsupported("pg_notify outside a session")
			}
			var ch, payload string
			if a[0] != tree.DNull {
				ch = string(tree.MustBeDString(a[0]))
			}
			if a[1] != tree.DNull {
				payload = string(tree.MustBeDString(a[1]))
			}
			return tree.DVoidDatum, e.Session.Notify(e, ch, payload)
		}),
	}},
	// pg_cancel_backend and pg_terminate_backend signal a session of
	// any node; false (with a warning) if no session has the pid.
	"pg_cancel_backend":    {signalFn(false, false)},
	"pg_terminate_backend": {signalFn(true, false), signalFn(true, true)},
	"pg_backend_pid": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Int4), Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if e.Session == nil {
				return tree.DNull, nil
			}
			return tree.NewDInt(tree.DInt(e.Session.BackendPID())), nil
		}),
	}},
	"current_setting": {
		settingFn(tree.ParamTypes{{Name: "name", Typ: types.String}}, types.String, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return currentSetting(e, string(tree.MustBeDString(a[0])), false)
		}),
		settingFn(tree.ParamTypes{{Name: "name", Typ: types.String}, {Name: "missing_ok", Typ: types.Bool}}, types.String, func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			return currentSetting(e, string(tree.MustBeDString(a[0])), bool(tree.MustBeDBool(a[1])))
		}),
	},
})

// sessionFn is a function of the session, such as current_user.
func sessionFn(f func(Session) tree.Datum) tree.Overload {
	return tree.Overload{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Name), Volatility: volatility.Stable, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if e.Session == nil {
				return tree.DNull, nil
			}
			return f(e.Session), nil
		}),
	}
}

func currentSetting(e *EvalCtx, name string, missingOK bool) (tree.Datum, error) {
	if e.Session == nil {
		return tree.DNull, nil
	}
	v, err := e.Session.Setting(strings.ToLower(name))
	if err != nil {
		if missingOK {
			return tree.DNull, nil
		}
		return nil, err
	}
	return tree.NewDString(v), nil
}

// settingFn is an overload of current_setting.
func settingFn(params tree.ParamTypes, ret *types.T, fn BuiltinFn) tree.Overload {
	return tree.Overload{Types: params, ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Stable, Class: tree.NormalClass, Fn: fn}
}

// signalFn is pg_cancel_backend(pid) or pg_terminate_backend(pid [,
// timeout]); the timeout (how long PostgreSQL waits for the session to
// end) is accepted, and the call returns once the session was told.
func signalFn(terminate, timeout bool) tree.Overload {
	params := tree.ParamTypes{{Name: "pid", Typ: types.Int4}}
	if timeout {
		params = append(params, tree.ParamType{Name: "timeout", Typ: types.Int})
	}
	return tree.Overload{
		Types: params, ReturnType: tree.FixedReturnType(types.Bool), Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			if e.Session == nil {
				return nil, pgerror.Unsupported("signalling a session outside a session")
			}
			pid := int64(tree.MustBeDInt(a[0]))
			if timeout && tree.MustBeDInt(a[1]) < 0 {
				return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "\"timeout\" must not be negative")
			}
			if pid <= 0 || pid > 1<<31-1 {
				return tree.DBoolFalse, nil
			}
			ok, err := e.Session.Signal(e, uint32(pid), terminate)
			if err != nil {
				return nil, err
			}
			return tree.MakeDBool(tree.DBool(ok)), nil
		}),
	}
}
