package pgwire

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"strings"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Authenticator decides who may connect.
type Authenticator interface {
	// Password returns the user's password and whether the user may log
	// in with one. A user without one cannot connect.
	Password(user string) (password string, ok bool)
}

// Passwords is an Authenticator over a fixed map of user to password.
type Passwords map[string]string

// Password implements Authenticator.
func (p Passwords) Password(user string) (string, bool) {
	pw, ok := p[user]
	return pw, ok
}

// scramIterations is the PBKDF2 iteration count of SCRAM-SHA-256, as
// PostgreSQL's default.
const scramIterations = 4096

// authenticate runs password authentication by SCRAM-SHA-256 (RFC 5802,
// RFC 7677), the method PostgreSQL defaults to and every current driver
// speaks; the password never crosses the wire. A wrong password and an
// unknown user get the same answer.
func (c *conn) authenticate(args SessionArgs) error {
	if c.s.cfg.Auth == nil {
		return nil
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		if len(st.VerifiedChains) > 0 && len(st.PeerCertificates) > 0 && st.PeerCertificates[0].Subject.CommonName == args.User {
			return nil // a client certificate of the cluster's CA names this user
		}
	}
	failed := pgerror.Newf(pgerror.CodeInvalidPassword, "password authentication failed for user %q", args.User)
	password, known := c.s.cfg.Auth.Password(args.User)

	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	c.flush()
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, err := c.be.Receive()
	if err != nil {
		return pgerror.Newf(pgerror.CodeProtocolViolation, "invalid authentication message: %v", err)
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || first.AuthMechanism != "SCRAM-SHA-256" {
		return pgerror.New(pgerror.CodeProtocolViolation, "expected a SASL initial response for SCRAM-SHA-256")
	}
	// client-first-message: gs2-header "n,," (no channel binding), then
	// "n=<user>,r=<client nonce>". PostgreSQL ignores the SCRAM user name
	// in favour of the startup message's.
	cf := string(first.Data)
	if !strings.HasPrefix(cf, "n,,") && !strings.HasPrefix(cf, "y,,") {
		return pgerror.New(pgerror.CodeProtocolViolation, "SCRAM channel binding is not supported")
	}
	clientFirstBare := cf[3:]
	clientNonce := scramAttr(clientFirstBare, 'r')
	if clientNonce == "" {
		return pgerror.New(pgerror.CodeProtocolViolation, "malformed SCRAM client-first-message")
	}
	salt := make([]byte, 16)
	nonce := make([]byte, 18)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(nonce)
	serverNonce := clientNonce + base64.StdEncoding.EncodeToString(nonce)
	serverFirst := "r=" + serverNonce + ",s=" + base64.StdEncoding.EncodeToString(salt) + ",i=4096"
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	c.flush()
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	msg, err = c.be.Receive()
	if err != nil {
		return pgerror.Newf(pgerror.CodeProtocolViolation, "invalid authentication message: %v", err)
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return pgerror.New(pgerror.CodeProtocolViolation, "expected a SASL response")
	}
	// client-final-message: "c=<binding>,r=<nonce>,p=<proof>".
	cfm := string(final.Data)
	i := strings.LastIndex(cfm, ",p=")
	if i < 0 || scramAttr(cfm, 'r') != serverNonce {
		return pgerror.New(pgerror.CodeProtocolViolation, "malformed SCRAM client-final-message")
	}
	proof, err := base64.StdEncoding.DecodeString(cfm[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return pgerror.New(pgerror.CodeProtocolViolation, "malformed SCRAM client proof")
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return errors.Wrap(err, "deriving the SCRAM key")
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	authMessage := clientFirstBare + "," + serverFirst + "," + cfm[:i]
	clientSig := hmacSHA256(storedKey[:], authMessage)
	for j := range proof {
		proof[j] ^= clientSig[j]
	}
	got := sha256.Sum256(proof)
	if subtle.ConstantTimeCompare(got[:], storedKey[:]) != 1 || !known {
		return failed
	}
	serverSig := hmacSHA256(hmacSHA256(salted, "Server Key"), authMessage)
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(serverSig))})
	_ = c.be.SetAuthType(pgproto3.AuthTypeOk)
	return nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// scramAttr returns the value of the attribute named a in a SCRAM message
// of comma-separated "a=value" pairs.
func scramAttr(msg string, a byte) string {
	for _, part := range strings.Split(msg, ",") {
		if len(part) >= 2 && part[0] == a && part[1] == '=' {
			return part[2:]
		}
	}
	return ""
}
