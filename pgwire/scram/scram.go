// Package scram holds SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677): what
// a server keeps of a password so that it can check a client's proof
// without knowing the password. The text form is PostgreSQL's
// pg_authid.rolpassword:
//
//	SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
//
// with salt and keys in base64, so that a verifier taken from PostgreSQL
// (pg_dumpall --roles-only) works here and the other way round.
package scram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/cockroachdb/errors"
)

// DefaultIterations is PostgreSQL's scram_iterations default.
const DefaultIterations = 4096

// saltLen is the length of the salts New makes, PostgreSQL's.
const saltLen = 16

const prefix = "SCRAM-SHA-256$"

// Verifier is what the server stores of a password.
type Verifier struct {
	Iterations int
	Salt       []byte
	// StoredKey is H(HMAC(SaltedPassword, "Client Key")): a client proof
	// is checked against it. ServerKey is HMAC(SaltedPassword, "Server
	// Key"): the server proves with it that it knew the verifier.
	StoredKey, ServerKey []byte
}

// New derives the verifier of password with a fresh random salt and
// DefaultIterations.
func New(password string) (Verifier, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return Verifier{}, errors.Wrap(err, "making a SCRAM salt")
	}
	return Derive(password, salt, DefaultIterations)
}

// Derive computes the verifier of password, prepared by SASLprep, with
// the given salt and iteration count.
func Derive(password string, salt []byte, iterations int) (Verifier, error) {
	salted, err := pbkdf2.Key(sha256.New, saslPrep(password), salt, iterations, sha256.Size)
	if err != nil {
		return Verifier{}, errors.Wrap(err, "deriving the SCRAM key")
	}
	stored := sha256.Sum256(HMAC(salted, "Client Key"))
	return Verifier{Iterations: iterations, Salt: salt, StoredKey: stored[:], ServerKey: HMAC(salted, "Server Key")}, nil
}

// String is the verifier in PostgreSQL's text form.
func (v Verifier) String() string {
	b64 := base64.StdEncoding.EncodeToString
	return prefix + strconv.Itoa(v.Iterations) + ":" + b64(v.Salt) + "$" + b64(v.StoredKey) + ":" + b64(v.ServerKey)
}

// Parse reads a verifier in PostgreSQL's text form; ok is false if s is
// not one.
func Parse(s string) (v Verifier, ok bool) {
	rest, found := strings.CutPrefix(s, prefix)
	if !found {
		return Verifier{}, false
	}
	params, keys, found := strings.Cut(rest, "$")
	if !found {
		return Verifier{}, false
	}
	iter, salt, found := strings.Cut(params, ":")
	if !found {
		return Verifier{}, false
	}
	stored, server, found := strings.Cut(keys, ":")
	if !found {
		return Verifier{}, false
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n <= 0 {
		return Verifier{}, false
	}
	v.Iterations = n
	if v.Salt, err = base64.StdEncoding.DecodeString(salt); err != nil || len(v.Salt) == 0 {
		return Verifier{}, false
	}
	if v.StoredKey, err = base64.StdEncoding.DecodeString(stored); err != nil || len(v.StoredKey) != sha256.Size {
		return Verifier{}, false
	}
	if v.ServerKey, err = base64.StdEncoding.DecodeString(server); err != nil || len(v.ServerKey) != sha256.Size {
		return Verifier{}, false
	}
	return v, true
}

// LooksLikeVerifier reports whether s has the prefix of a verifier, so
// that a malformed one is refused rather than taken for a password.
func LooksLikeVerifier(s string) bool { return strings.HasPrefix(s, prefix) }

// Verify reports whether proof, a client's ClientProof over
// authMessage, shows knowledge of the password: ClientKey is the proof
// XOR HMAC(StoredKey, AuthMessage), and its hash must be StoredKey.
func (v Verifier) Verify(authMessage string, proof []byte) bool {
	if len(proof) != sha256.Size || len(v.StoredKey) != sha256.Size {
		return false
	}
	sig := HMAC(v.StoredKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ sig[i]
	}
	got := sha256.Sum256(clientKey)
	return subtle.ConstantTimeCompare(got[:], v.StoredKey) == 1
}

// ServerSignature is the server's proof over authMessage that it holds
// the verifier: HMAC(ServerKey, AuthMessage).
func (v Verifier) ServerSignature(authMessage string) []byte {
	return HMAC(v.ServerKey, authMessage)
}

// HMAC is HMAC-SHA-256 of msg under key.
func HMAC(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
