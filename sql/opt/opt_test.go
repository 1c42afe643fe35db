package opt

import (
	"fmt"
	"math"
	"testing"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
)

// TestHLLAccuracy: the distinct count estimate is within 3% (about four
// standard errors) from 1 to a million values, and exact for small counts.
func TestHLLAccuracy(t *testing.T) {
	for _, n := range []int{1, 2, 10, 100, 1000, 20000, 100000, 1000000} {
		var h hll
		for i := range n {
			h.add(hash64(fmt.Appendf(nil, "v%d", i)))
			h.add(hash64(fmt.Appendf(nil, "v%d", i))) // duplicates count once
		}
		got := h.estimate()
		if n <= 100 && got != int64(n) {
			t.Errorf("%d distinct values: estimate %d", n, got)
		}
		if e := math.Abs(float64(got)-float64(n)) / float64(n); e > 0.03 {
			t.Errorf("%d distinct values: estimate %d, off by %.1f%%", n, got, 100*e)
		}
	}
}

func testTable(t *testing.T) *catalog.TableDescriptor {
	t.Helper()
	d := &catalog.TableDescriptor{ID: 52, Name: "t", PrimaryKey: []int{0}}
	for i, c := range []struct {
		name string
		typ  *types.T
	}{{"k", types.Int}, {"a", types.Int}, {"s", types.String}} {
		col := catalog.ColumnDescriptor{ID: uint32(i + 1), Name: c.name}.WithType(c.typ)
		d.Columns = append(d.Columns, col)
	}
	return d
}

// collect returns the statistics of rows k = 0..n-1, a = k % 10 (NULL
// when k % 10 == 9), s = "x".
func collect(t *testing.T, n int) *catalog.TableStatistics {
	t.Helper()
	c := NewCollector(testTable(t))
	for k := range n {
		a := tree.Datum(tree.NewDInt(tree.DInt(k % 10)))
		if k%10 == 9 {
			a = tree.DNull
		}
		if _, err := c.Add(tree.Datums{tree.NewDInt(tree.DInt(k)), a, tree.NewDString("x")}); err != nil {
			t.Fatal(err)
		}
	}
	return c.Finish(1)
}

func TestCollector(t *testing.T) {
	s := collect(t, 50000)
	if s.RowCount != 50000 {
		t.Fatalf("rows %d", s.RowCount)
	}
	k, a, str := s.Column(1), s.Column(2), s.Column(3)
	if d := math.Abs(float64(k.Distinct)-50000) / 50000; d > 0.03 || k.Nulls != 0 {
		t.Errorf("k: distinct %d, nulls %d", k.Distinct, k.Nulls)
	}
	if a.Distinct != 9 || a.Nulls != 5000 {
		t.Errorf("a: distinct %d (want 9), nulls %d (want 5000)", a.Distinct, a.Nulls)
	}
	if str.Distinct != 1 || str.AvgWidth == 0 {
		t.Errorf("s: distinct %d, width %d", str.Distinct, str.AvgWidth)
	}
	if len(k.Histogram) != HistogramBuckets {
		t.Fatalf("k: %d buckets", len(k.Histogram))
	}
	// Two collections of the same rows agree (the sample is seeded).
	if again := collect(t, 50000); fmt.Sprint(again) != fmt.Sprint(s) {
		t.Errorf("a second collection differs")
	}
}

func cmp(op treecmp.ComparisonOperatorSymbol, col int, d tree.Datum) tree.TypedExpr {
	return tree.NewTypedComparisonExpr(treecmp.MakeComparisonOperator(op), tree.NewTypedOrdinalReference(col, types.Int), d)
}

func TestSelectivity(t *testing.T) {
	est := TableEstimate{Stats: collect(t, 50000), Desc: testTable(t)}
	for _, tc := range []struct {
		name   string
		filter tree.TypedExpr
		want   float64 // within 20% (histograms come from a sample)
	}{
		{"k = 7", cmp(treecmp.EQ, 0, tree.NewDInt(7)), 1.0 / 50000},
		{"a = 3", cmp(treecmp.EQ, 1, tree.NewDInt(3)), 0.1},
		{"a IS NULL", tree.NewTypedIsNullExpr(tree.NewTypedOrdinalReference(1, types.Int)), 0.1},
		{"k < 10000", cmp(treecmp.LT, 0, tree.NewDInt(10000)), 0.2},
		{"k >= 40000", cmp(treecmp.GE, 0, tree.NewDInt(40000)), 0.2},
		{"k < 10000 AND a = 3", tree.NewTypedAndExpr(cmp(treecmp.LT, 0, tree.NewDInt(10000)), cmp(treecmp.EQ, 1, tree.NewDInt(3))), 0.02},
		{"k > 60000", cmp(treecmp.GT, 0, tree.NewDInt(60000)), 0.5 / HistogramBuckets},
	} {
		got := est.Selectivity(tc.filter)
		if math.Abs(got-tc.want)/tc.want > 0.2 {
			t.Errorf("%s: selectivity %.5f, want about %.5f", tc.name, got, tc.want)
		}
	}
}

// TestJoinOrder: a chain big ⋈ mid ⋈ small written from the big end is
// joined from the small end; a relation looked up by key comes after the
// relation that fixes its key.
func TestJoinOrder(t *testing.T) {
	g := &JoinGraph{
		Rows: []float64{1e6, 1000, 10},
		Preds: []Predicate{
			{Rels: 0b011, Selectivity: 1e-3, Equi: true},
			{Rels: 0b110, Selectivity: 1e-3, Equi: true},
		},
	}
	order, rows := g.Order()
	if fmt.Sprint(order) != "[2 1 0]" {
		t.Errorf("order %v", order)
	}
	if math.Abs(rows-1e4) > 1 {
		t.Errorf("rows %v", rows)
	}
	// The big relation's key is fixed by the small one's column: look it
	// up per row of the small one rather than scan it.
	g = &JoinGraph{
		Rows:   []float64{1e6, 10},
		Preds:  []Predicate{{Rels: 0b11, Selectivity: 1e-6, Equi: true}},
		Lookup: func(r int, set uint64) bool { return r == 0 && set == 0b10 },
	}
	if order, _ := g.Order(); fmt.Sprint(order) != "[1 0]" {
		t.Errorf("lookup order %v", order)
	}
	// Beyond the exhaustive limit the greedy search still starts small
	// and follows the conditions.
	n := exhaustiveLimit + 2
	g = &JoinGraph{}
	for i := range n {
		g.Rows = append(g.Rows, float64(1000*(n-i)))
		if i > 0 {
			g.Preds = append(g.Preds, Predicate{Rels: 1<<i | 1<<(i-1), Selectivity: 1e-3, Equi: true})
		}
	}
	order, _ = g.Order()
	if order[0] != n-1 || order[1] != n-2 {
		t.Errorf("greedy order %v", order)
	}
}
