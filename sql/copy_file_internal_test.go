package sql

import "testing"

// TestCutCopyFile: the FROM or TO of a COPY is the first outside
// parentheses, and only a string or PROGRAM and a string after it make
// the statement a COPY with a server file or program.
func TestCutCopyFile(t *testing.T) {
	for _, tc := range []struct {
		in, text, file string
		program, ok    bool
	}{
		{in: "COPY t FROM '/a/b.data'", text: "COPY t FROM  STDIN ", file: "/a/b.data", ok: true},
		{in: "copy t (a, b) from '/it''s' with (format csv);", text: "copy t (a, b) from  STDIN with (format csv);", file: "/it's", ok: true},
		{in: "COPY (SELECT a FROM t WHERE b = 'x') TO '/o'", text: "COPY (SELECT a FROM t WHERE b = 'x') TO  STDOUT ", file: "/o", ok: true},
		{in: "COPY t FROM PROGRAM 'cat x'", text: "COPY t FROM  STDIN ", file: "cat x", program: true, ok: true},
		{in: "COPY t FROM STDIN"},
		{in: "COPY (SELECT 'x' FROM t) TO STDOUT"},
		{in: "SELECT 'copy' FROM t"},
		{in: `COPY "program" FROM STDIN`},
	} {
		if tc.ok && !copyStmtStart.MatchString(tc.in) {
			t.Errorf("%s: not found to begin with COPY", tc.in)
		}
		text, file, program, ok := cutCopyFile(tc.in)
		if text != tc.text || file != tc.file || program != tc.program || ok != tc.ok {
			t.Errorf("%s: got %q %q %v %v", tc.in, text, file, program, ok)
		}
	}
	for _, q := range []string{"-- load\n/* the table */ COPY t FROM '/x'", "SELECT 1;\n  copy t to '/x'"} {
		if !copyStmtStart.MatchString(q) {
			t.Errorf("%q: not found to begin with COPY", q)
		}
	}
	if copyStmtStart.MatchString("INSERT INTO copy_t VALUES (1)") {
		t.Error("INSERT INTO copy_t taken for a COPY")
	}
	stmts, ok, err := parseCopyFile("SELECT 1; COPY t (a) FROM '/x''y' WITH (FORMAT csv)", parseGrammar)
	if err != nil || !ok || len(stmts) != 2 {
		t.Fatalf("parseCopyFile: %v %v %v", stmts, ok, err)
	}
	if got, want := stmts[1].AST.String(), `COPY t (a) FROM '/x''y' WITH (FORMAT CSV)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
