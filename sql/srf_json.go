package sql

import (
	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/json"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
)

// jsonSRF is a set-returning jsonb function: its output columns and the
// rows it makes of one document.
type jsonSRF struct {
	// outNames are the OUT parameters' names; nil for a function
	// returning a bare scalar, whose column takes the function's name
	// (or its alias).
	outNames []string
	outTypes []*types.T
	rows     func(name string, j json.JSON) ([]tree.Datums, error)
	// textRows, for a json (not jsonb) function, makes the rows of the
	// document's text.
	textRows func(name string, s string) ([]tree.Datums, error)
}

// argType is the type of the function's argument.
func (f *jsonSRF) argType() *types.T {
	if f.textRows != nil {
		return types.Json
	}
	return types.Jsonb
}

// run makes the rows of the document d (not NULL).
func (f *jsonSRF) run(name string, d tree.Datum) ([]tree.Datums, error) {
	if f.textRows != nil {
		return f.textRows(name, sem.JSONTextArg(d))
	}
	j, ok := sem.AsJSON(d)
	if !ok {
		return nil, nil
	}
	return f.rows(name, j)
}

// jsonSRFs are the set-returning jsonb and json functions by name.
var jsonSRFs = func() map[string]*jsonSRF {
	m := map[string]*jsonSRF{
		"jsonb_array_elements": {outNames: []string{"value"}, outTypes: []*types.T{types.Jsonb},
			rows: arrayElementRows(func(e json.JSON) tree.Datum { return tree.NewDJSON(e) })},
		"jsonb_array_elements_text": {outNames: []string{"value"}, outTypes: []*types.T{types.String},
			rows: arrayElementRows(sem.JSONTextDatum)},
		"jsonb_each": {outNames: []string{"key", "value"}, outTypes: []*types.T{types.String, types.Jsonb},
			rows: eachRows(func(e json.JSON) tree.Datum { return tree.NewDJSON(e) })},
		"jsonb_each_text": {outNames: []string{"key", "value"}, outTypes: []*types.T{types.String, types.String},
			rows: eachRows(sem.JSONTextDatum)},
		"jsonb_object_keys": {outTypes: []*types.T{types.String}, rows: objectKeyRows},
	}
	jsonText := func(s string) tree.Datum { return sem.NewDJSONText(s) }
	m["json_array_elements"] = &jsonSRF{outNames: []string{"value"}, outTypes: []*types.T{types.Json}, textRows: textElementRows(jsonText)}
	m["json_array_elements_text"] = &jsonSRF{outNames: []string{"value"}, outTypes: []*types.T{types.String}, textRows: textElementRows(sem.JSONTextScalar)}
	m["json_each"] = &jsonSRF{outNames: []string{"key", "value"}, outTypes: []*types.T{types.String, types.Json}, textRows: textEachRows(jsonText)}
	m["json_each_text"] = &jsonSRF{outNames: []string{"key", "value"}, outTypes: []*types.T{types.String, types.String}, textRows: textEachRows(sem.JSONTextScalar)}
	m["json_object_keys"] = &jsonSRF{outTypes: []*types.T{types.String}, textRows: textKeyRows}
	return m
}()

// textElementRows is json_array_elements(_text): each element's text as
// written.
func textElementRows(datum func(string) tree.Datum) func(string, string) ([]tree.Datums, error) {
	return func(name string, s string) ([]tree.Datums, error) {
		elems, ok := pgjson.TextElements(s)
		if !ok {
			if pgjson.TextType(s) == "object" {
				return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot extract elements from an object")
			}
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot extract elements from a scalar")
		}
		rows := make([]tree.Datums, len(elems))
		for i, e := range elems {
			rows[i] = tree.Datums{datum(e)}
		}
		return rows, nil
	}
}

// textEachRows is json_each(_text): the members in the order written,
// duplicate keys included.
func textEachRows(datum func(string) tree.Datum) func(string, string) ([]tree.Datums, error) {
	return func(name string, s string) ([]tree.Datums, error) {
		members, ok := pgjson.TextMembers(s)
		if !ok {
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "cannot call %s on a non-object", name)
		}
		rows := make([]tree.Datums, len(members))
		for i, m := range members {
			rows[i] = tree.Datums{tree.NewDString(m.Key), datum(m.Value)}
		}
		return rows, nil
	}
}

func textKeyRows(name string, s string) ([]tree.Datums, error) {
	members, ok := pgjson.TextMembers(s)
	if !ok {
		if pgjson.TextType(s) == "array" {
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "cannot call %s on an array", name)
		}
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "cannot call %s on a scalar", name)
	}
	rows := make([]tree.Datums, len(members))
	for i, m := range members {
		rows[i] = tree.Datums{tree.NewDString(m.Key)}
	}
	return rows, nil
}

func arrayElementRows(datum func(json.JSON) tree.Datum) func(string, json.JSON) ([]tree.Datums, error) {
	return func(name string, j json.JSON) ([]tree.Datums, error) {
		switch j.Type() {
		case json.ArrayJSONType:
		case json.ObjectJSONType:
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot extract elements from an object")
		default:
			return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cannot extract elements from a scalar")
		}
		var rows []tree.Datums
		for _, e := range pgjson.Elements(j) {
			rows = append(rows, tree.Datums{datum(e)})
		}
		return rows, nil
	}
}

func eachRows(datum func(json.JSON) tree.Datum) func(string, json.JSON) ([]tree.Datums, error) {
	return func(name string, j json.JSON) ([]tree.Datums, error) {
		if j.Type() != json.ObjectJSONType {
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "cannot call %s on a non-object", name)
		}
		var rows []tree.Datums
		for _, k := range pgjson.ObjectKeys(j) {
			rows = append(rows, tree.Datums{tree.NewDString(k), datum(pgjson.Field(j, k))})
		}
		return rows, nil
	}
}

func objectKeyRows(name string, j json.JSON) ([]tree.Datums, error) {
	switch j.Type() {
	case json.ObjectJSONType:
	case json.ArrayJSONType:
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "cannot call %s on an array", name)
	default:
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "cannot call %s on a scalar", name)
	}
	var rows []tree.Datums
	for _, k := range pgjson.ObjectKeys(j) {
		rows = append(rows, tree.Datums{tree.NewDString(k)})
	}
	return rows, nil
}

// jsonSRFNode is a set-returning jsonb function in FROM. Its argument is
// evaluated when it starts, like generate_series's, so it may name the
// enclosing query's columns.
type jsonSRFNode struct {
	name    string
	srf     *jsonSRF
	arg     tree.TypedExpr
	cols    []resultColumn
	started bool
	rows    []tree.Datums
}

func (b *builder) buildJSONSRF(f *tree.FuncExpr, name string, srf *jsonSRF, as tree.AliasClause) (planNode, *scope, error) {
	if len(f.Exprs) != 1 {
		return nil, nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s with %d arguments does not exist", name, len(f.Exprs))
	}
	te, err := b.typeCheck(f.Exprs[0], &scope{}, srf.argType())
	if err != nil {
		return nil, nil, err
	}
	if fam := te.ResolvedType().Family(); fam != types.JsonFamily && fam != types.UnknownFamily {
		if fam != types.StringFamily {
			return nil, nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s(%s) does not exist", name, te.ResolvedType().SQLString())
		}
		// An untyped literal was read as text: make it the jsonb it is.
		if te, err = b.typeCheck(&tree.CastExpr{Expr: f.Exprs[0], Type: srf.argType()}, &scope{}, srf.argType()); err != nil {
			return nil, nil, err
		}
	}
	alias := name
	if as.Alias != "" {
		alias = string(as.Alias)
	}
	names := srf.outNames
	if names == nil {
		names = []string{alias}
	}
	n := &jsonSRFNode{name: name, srf: srf, arg: te}
	for i, t := range srf.outTypes {
		col := names[i]
		if i < len(as.Cols) {
			col = string(as.Cols[i].Name)
		}
		n.cols = append(n.cols, resultColumn{name: col, typ: t, table: alias})
	}
	return n, &scope{cols: n.cols}, nil
}

func (n *jsonSRFNode) columns() []resultColumn { return n.cols }

func (n *jsonSRFNode) explain() (string, []*planNode) {
	return n.name + "(" + tree.AsString(n.arg) + ")", nil
}

func (n *jsonSRFNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		d, err := r.evalIn(n.arg, nil)
		if err != nil {
			return nil, err
		}
		if d != tree.DNull {
			if n.rows, err = n.srf.run(n.name, d); err != nil {
				return nil, err
			}
		}
	}
	if len(n.rows) == 0 {
		return nil, nil
	}
	row := n.rows[0]
	n.rows = n.rows[1:]
	return row, nil
}
