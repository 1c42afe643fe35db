package sql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/meridiandb/meridian/sql/sqltest"
)

// TestOptimizer runs the optimizer's datadriven files (testdata/opt): a
// schema, statistics injected as CockroachDB's JSON (ALTER TABLE ...
// INJECT STATISTICS), then queries and the plans chosen for them with
// their estimates. Besides the logic files' commands:
//
//	plan   EXPLAIN the query; prints the plan's lines
//
// Rewrite with -rewrite and review the diff.
func TestOptimizer(t *testing.T) {
	datadriven.Walk(t, "testdata/opt", func(t *testing.T, path string) {
		c, _ := startSQL(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd != "plan" {
				return sqltest.RunCmd(t, c, d)
			}
			rows, err := c.Query(context.Background(), "EXPLAIN "+d.Input)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			defer rows.Close()
			var b strings.Builder
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					return "error: " + err.Error() + "\n"
				}
				b.WriteString(line + "\n")
			}
			if err := rows.Err(); err != nil {
				return "error: " + err.Error() + "\n"
			}
			return b.String()
		})
	})
}
