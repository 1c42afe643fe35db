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
