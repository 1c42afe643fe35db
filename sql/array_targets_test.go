package sql

import (
	"strings"
	"testing"
)

// TestRewriteArrayTargets: a type's further dimensions are dropped,
// subscripted assignment targets marked, and subscripts in expressions,
// strings and comments left alone.
func TestRewriteArrayTargets(t *testing.T) {
	mark := func(col string, k int) string { return `"` + col + arrayTargetMark + string(rune('0'+k)) + `"` }
	for in, want := range map[string]string{
		"CREATE TABLE t (a int[][], b text[3][3], c varchar(5)[2][2])":                                   "CREATE TABLE t (a int[], b text[3], c varchar(5)[2])",
		"SELECT '{}'::int[][], a[1][2], (x)[1][2] FROM t":                                                "SELECT '{}'::int[], a[1][2], (x)[1][2] FROM t",
		"UPDATE t SET a[1] = ARRAY[1,2][1], B[1:2][3] = '[1]' WHERE a[1] = 2":                            "UPDATE t SET " + mark("a", 0) + " = ARRAY[1,2][1], " + mark("b", 1) + " = '[1]' WHERE a[1] = 2",
		"INSERT INTO s.t AS x (id, \"A\"[2]) VALUES (1, ARRAY[1][1]) ON CONFLICT DO UPDATE SET a[1] = 1": "INSERT INTO s.t AS x (id, " + mark("A", 0) + ") VALUES (1, ARRAY[1][1]) ON CONFLICT DO UPDATE SET " + mark("a", 1) + " = 1",
		"SET x = 1; SELECT 'a[1] = 1' -- SET a[1] = 2":                                                   "SET x = 1; SELECT 'a[1] = 1' -- SET a[1] = 2",
	} {
		got, subs := rewriteArrayTargets(in)
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", in, got, want)
		}
		for _, s := range subs {
			if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
				t.Errorf("%s: subscripts %q", in, s)
			}
		}
	}
}
