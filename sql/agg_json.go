package sql

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/volatility"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/sem"
)

// The jsonb aggregates, and json's: json_agg and json_object_agg build
// json text as PostgreSQL's do ([1, 2] and { "a" : 1, "b" : 2 }).
var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"jsonb_agg":        {sem.AggOverload(types.AnyElement, types.Jsonb, "jsonb_agg")},
	"json_agg":         {sem.AggOverload(types.AnyElement, types.Json, "json_agg")},
	"jsonb_object_agg": {jsonObjectAggOverload(types.Jsonb, "jsonb_object_agg")},
	"json_object_agg":  {jsonObjectAggOverload(types.Json, "json_object_agg")},
})

func jsonObjectAggOverload(ret *types.T, kind sem.AggKind) tree.Overload {
	return tree.Overload{
		Types:      tree.ParamTypes{{Name: "key", Typ: types.Any}, {Name: "value", Typ: types.Any}},
		ReturnType: tree.FixedReturnType(ret), Volatility: volatility.Stable,
		Class: tree.AggregateClass, Fn: kind, CalledOnNullInput: true,
	}
}

// jsonAggState is what a jsonb aggregate has gathered so far; a json
// aggregate gathers its text.
type jsonAggState struct {
	keys []string
	vals []json.JSON
	text strings.Builder
}

func isJSONAgg(kind sem.AggKind) bool {
	return kind == "jsonb_agg" || kind == "jsonb_object_agg" || kind == "json_agg" || kind == "json_object_agg"
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
	if a.kind == "json_agg" || a.kind == "json_object_agg" {
		return accumulateJSONText(r, s, a, row, d)
	}
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
	switch a.kind {
	case "json_agg":
		return sem.NewDJSONText(s.json.text.String() + "]"), nil
	case "json_object_agg":
		return sem.NewDJSONText(s.json.text.String() + " }"), nil
	}
	if a.kind == "jsonb_object_agg" {
		return tree.NewDJSON(pgjson.BuildObject(s.json.keys, s.json.vals)), nil
	}
	return tree.NewDJSON(pgjson.BuildArray(s.json.vals)), nil
}

// accumulateJSONText adds d (and, for json_object_agg, the row's value)
// to a json aggregate's text, spaced as PostgreSQL's json_agg_transfn
// and json_object_agg_transfn do.
func accumulateJSONText(r *runner, s *aggState, a aggSpec, row tree.Datums, d tree.Datum) error {
	b := &s.json.text
	before := b.Len()
	if a.kind == "json_object_agg" {
		if d == tree.DNull {
			return pgerror.New(pgerror.CodeInvalidParameterValue, "field name must not be null")
		}
		if b.Len() == 0 {
			b.WriteString("{ ")
		} else {
			b.WriteString(", ")
		}
		pgjson.WriteString(b, sem.DatumText(d))
		b.WriteString(" : ")
		v, err := r.evalIn(a.arg2, row)
		if err != nil {
			return err
		}
		if err := sem.WriteJSONText(b, v, r.eval.GetLocation(), ""); err != nil {
			return err
		}
	} else {
		if b.Len() == 0 {
			b.WriteByte('[')
		} else {
			b.WriteString(", ")
			if d != tree.DNull && sem.IsJSONTextComposite(d) {
				// An array or a row after the first element starts a
				// line.
				b.WriteString("\n ")
			}
		}
		if err := sem.WriteJSONText(b, d, r.eval.GetLocation(), ""); err != nil {
			return err
		}
	}
	return r.grow(int64(b.Len() - before))
}
