package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// The jsonb aggregates; json_agg and json_object_agg are their twins, as
// the parser reads json as jsonb.
var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"jsonb_agg":        {sem.AggOverload(types.AnyElement, types.Jsonb, "jsonb_agg")},
	"json_agg":         {sem.AggOverload(types.AnyElement, types.Jsonb, "jsonb_agg")},
	"jsonb_object_agg": {jsonObjectAggOverload()},
	"json_object_agg":  {jsonObjectAggOverload()},
})

func jsonObjectAggOverload() tree.Overload {
	return tree.Overload{
		Types:      tree.ParamTypes{{Name: "key", Typ: types.Any}, {Name: "value", Typ: types.Any}},
		ReturnType: tree.FixedReturnType(types.Jsonb), Volatility: volatility.Stable,
		Class: tree.AggregateClass, Fn: sem.AggKind("jsonb_object_agg"), CalledOnNullInput: true,
	}
}

// jsonAggState is what a jsonb aggregate has gathered so far.
type jsonAggState struct {
	keys []string
	vals []json.JSON
}

func isJSONAgg(kind sem.AggKind) bool {
	return kind == "jsonb_agg" || kind == "jsonb_object_agg"
}

// accumulateJSON adds row to a jsonb aggregate: unlike other aggregates,
// a NULL value is gathered too (as JSON null); only an object's key may
// not be NULL.
func accumulateJSON(r *runner, s *aggState, a aggSpec, row tree.Datums) error {
	d, err := r.evalIn(a.arg, row)
	if err != nil {
		return err
	}
	if a.distinct {
		enc, err := rowenc.EncodeDatum(nil, d)
		if err != nil {
			return err
		}
		if _, dup := s.seen[string(enc)]; dup {
			return nil
		}
		if s.seen == nil {
			s.seen = map[string]struct{}{}
		}
		s.seen[string(enc)] = struct{}{}
	}
	if s.json == nil {
		s.json = &jsonAggState{}
	}
	s.count++
	if a.kind == "jsonb_object_agg" {
		if d == tree.DNull {
			return pgerror.New(pgerror.CodeInvalidParameterValue, "field name must not be null")
		}
		s.json.keys = append(s.json.keys, sem.DatumText(d))
		if d, err = r.evalIn(a.arg2, row); err != nil {
			return err
		}
	}
	j, err := sem.ToJSON(d, r.eval.GetLocation())
	if err != nil {
		return err
	}
	if err := r.grow(int64(j.Size())); err != nil {
		return err
	}
	s.json.vals = append(s.json.vals, j)
	return nil
}

func finishJSON(s *aggState, a aggSpec) (tree.Datum, error) {
	if s.json == nil {
		return tree.DNull, nil
	}
	if a.kind == "jsonb_object_agg" {
		return tree.NewDJSON(pgjson.BuildObject(s.json.keys, s.json.vals)), nil
	}
	return tree.NewDJSON(pgjson.BuildArray(s.json.vals)), nil
}
