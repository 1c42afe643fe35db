package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treebin"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// (start1, end1) OVERLAPS (start2, end2), which the grammar writes as
// overlaps(start1, end1, start2, end2); an end may be an interval, the
// length of its period.
var _ = RegisterFamily(map[string][]tree.Overload{
	"overlaps": overlapsFns(),
})

func overlapsFns() []tree.Overload {
	var ovs []tree.Overload
	add := func(start, end *types.T) {
		ovs = append(ovs, tree.Overload{
			Types:      tree.ParamTypes{{Name: "s1", Typ: start}, {Name: "e1", Typ: end}, {Name: "s2", Typ: start}, {Name: "e2", Typ: end}},
			ReturnType: tree.FixedReturnType(types.Bool), Volatility: volatility.Immutable, Class: tree.NormalClass,
			CalledOnNullInput: true, Fn: BuiltinFn(evalOverlaps),
		})
	}
	for _, t := range []*types.T{types.Timestamp, types.TimestampTZ, types.Date, types.Time, types.TimeTZ} {
		add(t, t)
	}
	for _, t := range []*types.T{types.Timestamp, types.TimestampTZ, types.Time, types.TimeTZ} {
		add(t, types.Interval)
	}
	return ovs
}

// evalOverlaps is PostgreSQL's overlaps_timestamp: each period's ends
// put in order, a NULL end unknown, so that the answer is NULL only
// where the known ends do not decide it.
func evalOverlaps(e *EvalCtx, a tree.Datums) (tree.Datum, error) {
	var err error
	ends := [4]tree.Datum{a[0], a[1], a[2], a[3]}
	for _, i := range []int{1, 3} {
		if iv, ok := ends[i].(*tree.DInterval); ok {
			if ends[i-1] == tree.DNull {
				ends[i] = tree.DNull
				continue
			}
			if ends[i], _, err = evalDatetimeBinary(treebin.Plus, ends[i-1], iv, e.GetLocation()); err != nil {
				return nil, err
			}
		}
	}
	lt := func(x, y tree.Datum) (bool, error) {
		c, err := e.Compare(x, y)
		return c < 0, err
	}
	// order puts a period's known ends in order; a NULL start takes the
	// end's place.
	order := func(s, t tree.Datum) (tree.Datum, tree.Datum, error) {
		if s == tree.DNull {
			return t, tree.DNull, nil
		}
		if t != tree.DNull {
			if less, err := lt(t, s); err != nil || less {
				return t, s, err
			}
		}
		return s, t, nil
	}
	s1, e1, err := order(ends[0], ends[1])
	if err != nil {
		return nil, err
	}
	s2, e2, err := order(ends[2], ends[3])
	if err != nil {
		return nil, err
	}
	if s1 == tree.DNull || s2 == tree.DNull {
		return tree.DNull, nil
	}
	c, err := e.Compare(s1, s2)
	if err != nil {
		return nil, err
	}
	// decide is the answer when the later start is before the earlier
	// period's end; NULL when that end or the other is unknown.
	decide := func(later, firstEnd, otherEnd tree.Datum) (tree.Datum, error) {
		if firstEnd == tree.DNull {
			return tree.DNull, nil
		}
		less, err := lt(later, firstEnd)
		if err != nil {
			return nil, err
		}
		if less {
			return tree.DBoolTrue, nil
		}
		if otherEnd == tree.DNull {
			return tree.DNull, nil
		}
		return tree.DBoolFalse, nil
	}
	switch {
	case c > 0:
		return decide(s1, e2, e1)
	case c < 0:
		return decide(s2, e1, e2)
	}
	if e1 == tree.DNull || e2 == tree.DNull {
		return tree.DNull, nil
	}
	return tree.DBoolTrue, nil
}
