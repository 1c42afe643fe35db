package sql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkPlanSixTableJoin plans (EXPLAIN, over pgwire) a chain join of
// six analyzed 10-row tables written in the worst order, so the join
// order search weighs every left-deep order. Issue 16's target: under
// 10 ms per plan.
func BenchmarkPlanSixTableJoin(b *testing.B) {
	c, _ := startSQL(b)
	ctx := context.Background()
	var from, where []string
	for i := range 6 {
		q := fmt.Sprintf("CREATE TABLE j%d (id int PRIMARY KEY, next int, v int); INSERT INTO j%d SELECT i, i, i %% 3 FROM generate_series(1, 10) AS i; ANALYZE j%d", i, i, i)
		for _, s := range strings.Split(q, "; ") {
			if _, err := c.Exec(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
		from = append(from, fmt.Sprintf("j%d", i))
		if i > 0 {
			where = append(where, fmt.Sprintf("j%d.v = j%d.next", i, i-1))
		}
	}
	q := "EXPLAIN SELECT count(*) FROM " + strings.Join(from, ", ") + " WHERE " + strings.Join(where, " AND ") + " AND j5.id = 3"
	b.ResetTimer()
	for b.Loop() {
		rows, err := c.Query(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
	}
}
