package sql

import (
	"strings"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// TestExplainCut covers the node that only CREATE TABLE AS plans (which
// EXPLAIN does not accept): it prints itself and its input.
func TestExplainCut(t *testing.T) {
	src := &valuesNode{
		rows: [][]tree.TypedExpr{{tree.NewDInt(1), tree.NewDInt(2)}},
		cols: []resultColumn{{name: "a", typ: types.Int}, {name: "b", typ: types.Int}},
	}
	got := strings.Join(explainPlan(&cutNode{src: src, width: 1}, nil, nil), "\n")
	if want := "• first 1 columns\n  • values (1 rows)"; got != want {
		t.Fatalf("EXPLAIN printed:\n%s\nwant:\n%s", got, want)
	}
}
