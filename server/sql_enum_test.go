package server

import (
	"context"
	"strings"
	"testing"
)

// TestSQLEnumAcrossNodes changes an enum through one node while another
// node holds a lease on the descriptor of a table that uses it: the
// change rewrites that descriptor, so the other node's next statements
// see the new and renamed labels in their declared order.
func TestSQLEnumAcrossNodes(t *testing.T) {
	nodes := sqlCluster(t)
	ctx := context.Background()
	a, b := sqlConnect(t, nodes[0]), sqlConnect(t, nodes[1])
	run := func(on int, q string) {
		t.Helper()
		c := a
		if on == 1 {
			c = b
		}
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	labels := func() string {
		t.Helper()
		rows, err := b.Query(ctx, "SELECT k::text FROM enum_nodes ORDER BY k")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, ",")
	}
	run(0, "CREATE TYPE enum_nodes_t AS ENUM ('x', 'z')")
	run(0, "CREATE TABLE enum_nodes (k enum_nodes_t PRIMARY KEY, v INT)")
	run(0, "INSERT INTO enum_nodes VALUES ('z', 2), ('x', 1)")
	if got := labels(); got != "x,z" {
		t.Fatalf("before: %s", got)
	}
	run(0, "ALTER TYPE enum_nodes_t ADD VALUE 'y' BEFORE 'z'")
	run(1, "INSERT INTO enum_nodes VALUES ('y', 3)")
	if got := labels(); got != "x,y,z" {
		t.Fatalf("after ADD VALUE: %s", got)
	}
	run(0, "ALTER TYPE enum_nodes_t RENAME VALUE 'x' TO 'w'")
	if got := labels(); got != "w,y,z" {
		t.Fatalf("after RENAME VALUE: %s", got)
	}
	var ok bool
	if err := b.QueryRow(ctx, "SELECT 'y'::enum_nodes_t < 'z' AND NOT EXISTS (SELECT 1 FROM enum_nodes WHERE k = 'y' AND v <> 3)").Scan(&ok); err != nil || !ok {
		t.Fatalf("comparison on the other node: %v, %v", ok, err)
	}
	if _, err := b.Exec(ctx, "DROP TYPE enum_nodes_t"); err == nil || !strings.Contains(err.Error(), "2BP01") {
		t.Fatalf("DROP TYPE of a used type: %v, want 2BP01", err)
	}
}
