package sql

import (
	"strings"
	"testing"
)

// TestContainsFold: the keyword prefilter of parseSQL agrees with a
// lower-cased strings.Contains, so no rewrite is skipped that applies.
func TestContainsFold(t *testing.T) {
	for _, s := range []string{"", "SELECT 1", "select * from t group by rollup(a)", "GROUPING SETS", "ALTER TABLE t ALTER c DROP Expression",
		"vacuum", "AnAlYzE t", "create user bob", "GRANT ALL ON t TO bob", "x@ROLE", "[cube]", "rollu"} {
		for _, w := range []string{"rollup", "cube", "grouping", "expression", "vacuum", "analy", "role", "user", "grant", "revoke"} {
			if got, want := containsFold(s, w), strings.Contains(strings.ToLower(s), w); got != want {
				t.Errorf("containsFold(%q, %q) = %v, want %v", s, w, got, want)
			}
		}
	}
}
