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
