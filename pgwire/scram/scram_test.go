package scram

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// TestVerifierRoundTrip derives a verifier, writes and parses it back,
// and refuses what is not one.
func TestVerifierRoundTrip(t *testing.T) {
	v, err := New("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := Parse(v.String())
	if !ok || p.Iterations != DefaultIterations || !bytes.Equal(p.Salt, v.Salt) || !bytes.Equal(p.StoredKey, v.StoredKey) || !bytes.Equal(p.ServerKey, v.ServerKey) {
		t.Fatalf("round trip of %s gave %+v", v, p)
	}
	for _, bad := range []string{"", "s3cret", "SCRAM-SHA-256$", "SCRAM-SHA-256$x:YWJj$YWJj:YWJj", "SCRAM-SHA-256$4096:YWJj$YWJj:YWJj", "md5abc"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) took it for a verifier", bad)
		}
	}
}

// TestRFC7677 checks the exchange of RFC 7677 §3 (user "user", password
// "pencil"): its client proof verifies against the verifier derived from
// its salt, a wrong one does not, and the server signature is the RFC's.
func TestRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := Derive("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	nonce := "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	authMessage := "n=user,r=rOprNGfwEbeRWgbNEkqO," + "r=" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," + "c=biws,r=" + nonce
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	if !v.Verify(authMessage, proof) {
		t.Fatal("the RFC's client proof did not verify")
	}
	proof[0] ^= 1
	if v.Verify(authMessage, proof) {
		t.Fatal("a wrong proof verified")
	}
	if got := base64.StdEncoding.EncodeToString(v.ServerSignature(authMessage)); got != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Fatalf("server signature %s, want the RFC's", got)
	}
}

// TestPostgresVerifiers derives verifiers with the salts of ones
// PostgreSQL 15 stored (SELECT rolpassword FROM pg_authid) and gets the
// same keys: for a password that SASLprep changes (a ligature, a
// no-break space, a Roman numeral, a soft hyphen) and for what it
// becomes.
func TestPostgresVerifiers(t *testing.T) {
	for _, tc := range []struct{ password, pg string }{
		{"\ufb01\u00a0\u216b\u00adz", "SCRAM-SHA-256$4096:Kwar/Z1DQtI6Z7qw33ZznQ==$EG4cXzc1R6400SuBuGvrZCzOEgaVyYQkWLWPxQrN2TI=:9gQZl3Y0BwpIvuYhm4Gb1V8QaakTHdoKTSfWhCS6egQ="},
		{"fi XIIz", "SCRAM-SHA-256$4096:KaDFine7/nGapbon9JorWQ==$iI6T3lcUlyhVtnOBxaseEtgDcCo8WM+vSAgB9+JDn5w=:R3901CeuAtOW16dgwuPcDdDyBHZI9CrokeotxQSyDww="},
		{"pencil", "SCRAM-SHA-256$4096:4K7hAfObjXXwj2/kCLkfMA==$+EPoHYdSTVUii0ALKFJe5wSVchCb2V4lJIt1wp2H23s=:mmd7WAv+eoQaNrjXNV0RcaTItX7z8ewo1WeTJUn95Kw="},
	} {
		pg, ok := Parse(tc.pg)
		if !ok {
			t.Fatalf("cannot parse %s", tc.pg)
		}
		v, err := Derive(tc.password, pg.Salt, pg.Iterations)
		if err != nil {
			t.Fatal(err)
		}
		if v.String() != tc.pg {
			t.Errorf("%q: derived %s, PostgreSQL stored %s", tc.password, v, tc.pg)
		}
	}
}
