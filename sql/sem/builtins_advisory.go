package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Advisory locks (PostgreSQL 15 §9.27.10): pg_advisory_lock and its
// family, each on one bigint or on two ints, through the session's
// AdvisoryLocks.
var _ = RegisterFamily(map[string][]tree.Overload{
	"pg_advisory_lock":                 advisoryTake(false, false, true),
	"pg_advisory_lock_shared":          advisoryTake(true, false, true),
	"pg_advisory_xact_lock":            advisoryTake(false, true, true),
	"pg_advisory_xact_lock_shared":     advisoryTake(true, true, true),
	"pg_try_advisory_lock":             advisoryTake(false, false, false),
	"pg_try_advisory_lock_shared":      advisoryTake(true, false, false),
	"pg_try_advisory_xact_lock":        advisoryTake(false, true, false),
	"pg_try_advisory_xact_lock_shared": advisoryTake(true, true, false),
	"pg_advisory_unlock":               advisoryRelease(false),
	"pg_advisory_unlock_shared":        advisoryRelease(true),
	"pg_advisory_unlock_all": {{
		Types: tree.ParamTypes{}, ReturnType: tree.FixedReturnType(types.Void),
		Volatility: volatility.Volatile, Class: tree.NormalClass,
		Fn: BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
			locks, err := advisoryLocks(e)
			if err != nil {
				return nil, err
			}
			return tree.DVoidDatum, locks.AdvisoryUnlockAll(e)
		}),
	}},
})

func advisoryLocks(e *EvalCtx) (AdvisoryLocks, error) {
	if e.Advisory == nil {
		return nil, pgerror.Unsupported("advisory locks are not available outside a session's statement")
	}
	return e.Advisory, nil
}

// advisoryKey is the lock a call names: space 1 for one bigint, 2 for two
// ints (PostgreSQL keeps the two apart).
func advisoryKey(a tree.Datums) (uint8, int64) {
	if len(a) == 1 {
		return 1, int64(tree.MustBeDInt(a[0]))
	}
	hi, lo := int64(tree.MustBeDInt(a[0])), int64(tree.MustBeDInt(a[1]))
	return 2, hi<<32 | int64(uint32(lo))
}

// advisoryOverloads are a function's two forms, (bigint) and (int, int).
func advisoryOverloads(ret *types.T, fn func(e *EvalCtx, locks AdvisoryLocks, space uint8, key int64) (tree.Datum, error)) []tree.Overload {
	f := BuiltinFn(func(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
		locks, err := advisoryLocks(e)
		if err != nil {
			return nil, err
		}
		space, key := advisoryKey(a)
		return fn(e, locks, space, key)
	})
	return []tree.Overload{
		{Types: tree.ParamTypes{{Name: "key", Typ: types.Int}}, ReturnType: tree.FixedReturnType(ret),
			Volatility: volatility.Volatile, Class: tree.NormalClass, Fn: f},
		{Types: tree.ParamTypes{{Name: "key1", Typ: types.Int4}, {Name: "key2", Typ: types.Int4}}, ReturnType: tree.FixedReturnType(ret),
			Volatility: volatility.Volatile, Class: tree.NormalClass, Fn: f},
	}
}

// advisoryTake is a function that takes a lock: pg_advisory_lock and the
// others that wait return void, the pg_try_ ones whether they took it.
func advisoryTake(shared, xact, wait bool) []tree.Overload {
	ret := types.Bool
	if wait {
		ret = types.Void
	}
	return advisoryOverloads(ret, func(e *EvalCtx, locks AdvisoryLocks, space uint8, key int64) (tree.Datum, error) {
		took, err := locks.AdvisoryLock(e, space, key, shared, xact, wait)
		switch {
		case err != nil:
			return nil, err
		case wait:
			return tree.DVoidDatum, nil
		}
		return tree.MakeDBool(tree.DBool(took)), nil
	})
}

// advisoryRelease is pg_advisory_unlock[_shared]: whether the session held
// the lock it releases.
func advisoryRelease(shared bool) []tree.Overload {
	return advisoryOverloads(types.Bool, func(e *EvalCtx, locks AdvisoryLocks, space uint8, key int64) (tree.Datum, error) {
		had, err := locks.AdvisoryUnlock(e, space, key, shared)
		if err != nil {
			return nil, err
		}
		return tree.MakeDBool(tree.DBool(had)), nil
	})
}
