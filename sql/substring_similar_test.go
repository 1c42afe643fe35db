package sql

import "testing"

// TestRewriteSubstringSimilar: SUBSTRING(s SIMILAR p ESCAPE e) becomes the
// function call substring(s, p, e); the keywords inside strings, quoted
// identifiers, nested calls and other functions stay.
func TestRewriteSubstringSimilar(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT SUBSTRING('abcdefg' SIMILAR 'a#"(b_d)#"%' ESCAPE '#') AS "bcd"`: `SELECT SUBSTRING('abcdefg' , 'a#"(b_d)#"%' , '#') AS "bcd"`,
		`select substring (x similar (y) escape '\') from t`:                    `select substring (x , (y) , '\') from t`,
		`SELECT substring('a similar b' FROM 2), 'SUBSTRING(x SIMILAR y)'`:      `SELECT substring('a similar b' FROM 2), 'SUBSTRING(x SIMILAR y)'`,
		`SELECT SUBSTRING(lower(s) SIMILAR upper(p) ESCAPE e) FROM t`:           `SELECT SUBSTRING(lower(s) , upper(p) , e) FROM t`,
		`SELECT s SIMILAR TO 'x', SUBSTRING(s FROM 1 FOR 2) FROM t`:             `SELECT s SIMILAR TO 'x', SUBSTRING(s FROM 1 FOR 2) FROM t`,
		`SELECT SUBSTRING(E'it\'s' SIMILAR '%' ESCAPE '#')`:                     `SELECT SUBSTRING(E'it\'s' , '%' , '#')`,
		`SELECT SUBSTRING(`: `SELECT SUBSTRING(`,
	} {
		if got := rewriteSubstringSimilar(in); got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
}
