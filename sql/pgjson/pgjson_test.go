package pgjson_test

import (
	"testing"

	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgjson"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`{"bb":1,"a":[1.50,1e2,-0.0],"c":"\u0007\"é"}`, `{"a": [1.50, 100, 0.0], "c": "\u0007\"é", "bb": 1}`},
		{`[]`, `[]`},
		{`{"a":{}}`, `{"a": {}}`},
	} {
		j, err := pgjson.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := pgjson.Format(j); got != tc.out {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.out)
		}
	}
}

func TestPretty(t *testing.T) {
	j, err := pgjson.Parse(`{"a":[1,{}],"b":null}`)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n    \"a\": [\n        1,\n        {\n        }\n    ],\n    \"b\": null\n}"
	if got := pgjson.Pretty(j); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for in, code := range map[string]pgerror.Code{
		`{"a":`:    pgerror.CodeInvalidTextRepresentation,
		"\"\xff\"": "22021",
		`"\u0000"`: "22P05",
		`[1,]`:     pgerror.CodeInvalidTextRepresentation,
		``:         pgerror.CodeInvalidTextRepresentation,
	} {
		_, err := pgjson.Parse(in)
		if got := pgerror.CodeOf(err); got != code {
			t.Errorf("%q: code %s (%v), want %s", in, got, err, code)
		}
	}
}
