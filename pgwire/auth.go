package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/meridiandb/meridian/pgwire/scram"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Authenticator decides who may connect.
type Authenticator interface {
	// Role returns what authentication needs to know of the role named
	// user; nil if there is no such role.
	Role(ctx context.Context, user string) (*RoleAuth, error)
}

// RoleAuth is what authentication needs to know of a role.
type RoleAuth struct {
	// CanLogin is PostgreSQL's rolcanlogin: without it the role may not
	// start a session, however it authenticates.
	CanLogin bool
	// Verifier is the role's password as a SCRAM-SHA-256 verifier; nil:
	// the role has no password and cannot log in with one.
	Verifier *scram.Verifier
}

// Passwords is an Authenticator over a fixed map of user to password
// (every user may log in), for tests.
type Passwords map[string]string

// Role implements Authenticator.
func (p Passwords) Role(_ context.Context, user string) (*RoleAuth, error) {
	pw, ok := p[user]
	if !ok {
		return nil, nil
	}
	v, err := scram.New(pw)
	if err != nil {
		return nil, err
	}
	return &RoleAuth{CanLogin: true, Verifier: &v}, nil
}

// authenticate checks who the client is: a verified client certificate
// that names the user, or else the user's password by SCRAM-SHA-256
// (RFC 5802, RFC 7677), the method PostgreSQL defaults to and every
// current driver speaks; the password never crosses the wire. An unknown
// user, a user without a password and a wrong password get the same
// answer (28P01), after the same exchange: the server plays it against a
// made-up verifier (PostgreSQL's mock authentication). A role that may
// not log in is told so only once it has proved who it is (28000).
func (c *conn) authenticate(ctx context.Context, args SessionArgs) error {
	if c.s.cfg.Auth == nil {
		return nil
	}
	role, err := c.s.cfg.Auth.Role(ctx, args.User)
	if err != nil {
		return pgerror.WithCode(errors.Wrapf(err, "cannot check the credentials of user %q now", args.User), pgerror.CodeCannotConnectNow)
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		if len(st.VerifiedChains) > 0 && len(st.PeerCertificates) > 0 && st.PeerCertificates[0].Subject.CommonName == args.User {
			// A client certificate of the cluster's CA names this user.
			if role == nil {
				return pgerror.Newf(pgerror.CodeInvalidAuthorization, "role %q does not exist", args.User)
			}
			return mayLogIn(role, args.User)
		}
	}
	var v scram.Verifier
	if role != nil && role.Verifier != nil {
		v = *role.Verifier
	} else {
		v = c.s.mockVerifier(args.User)
	}
	ok, err := c.scram(v)
	if err != nil {
		return err
	}
	if !ok || role == nil || role.Verifier == nil {
		return pgerror.Newf(pgerror.CodeInvalidPassword, "password authentication failed for user %q", args.User)
	}
	if err := mayLogIn(role, args.User); err != nil {
		return err
	}
	_ = c.be.SetAuthType(pgproto3.AuthTypeOk)
	return nil
}

func mayLogIn(role *RoleAuth, user string) error {
	if !role.CanLogin {
		return pgerror.Newf(pgerror.CodeInvalidAuthorization, "role %q is not permitted to log in", user)
	}
	return nil
}

// mockVerifier is the verifier played against a user who has none: its
// salt is the same for the same user on this server, as a real one
// would be, so that repeated attempts do not tell the two apart.
func (s *Server) mockVerifier(user string) scram.Verifier {
	salt := scram.HMAC(s.mockSecret[:], user)[:16]
	return scram.Verifier{Iterations: scram.DefaultIterations, Salt: salt, StoredKey: make([]byte, sha256.Size), ServerKey: make([]byte, sha256.Size)}
}

// newMockSecret makes the key mock salts are derived with.
func newMockSecret() (k [32]byte) {
	_, _ = rand.Read(k[:])
	return k
}

// scram runs the SCRAM-SHA-256 exchange against v and reports whether
// the client's proof holds; if it does, the server's final message,
// which proves to the client that the server knew v, has been sent.
func (c *conn) scram(v scram.Verifier) (bool, error) {
	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	c.flush()
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, err := c.be.Receive()
	if err != nil {
		return false, pgerror.Newf(pgerror.CodeProtocolViolation, "invalid authentication message: %v", err)
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || first.AuthMechanism != "SCRAM-SHA-256" {
		return false, pgerror.New(pgerror.CodeProtocolViolation, "expected a SASL initial response for SCRAM-SHA-256")
	}
	// client-first-message: gs2-header "n,," (no channel binding), then
	// "n=<user>,r=<client nonce>". PostgreSQL ignores the SCRAM user name
	// in favour of the startup message's.
	cf := string(first.Data)
	if !strings.HasPrefix(cf, "n,,") && !strings.HasPrefix(cf, "y,,") {
		return false, pgerror.New(pgerror.CodeProtocolViolation, "SCRAM channel binding is not supported")
	}
	clientFirstBare := cf[3:]
	clientNonce := scramAttr(clientFirstBare, 'r')
	if clientNonce == "" {
		return false, pgerror.New(pgerror.CodeProtocolViolation, "malformed SCRAM client-first-message")
	}
	nonce := make([]byte, 18)
	_, _ = rand.Read(nonce)
	serverNonce := clientNonce + base64.StdEncoding.EncodeToString(nonce)
	serverFirst := "r=" + serverNonce + ",s=" + base64.StdEncoding.EncodeToString(v.Salt) + ",i=" + strconv.Itoa(v.Iterations)
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	c.flush()
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	msg, err = c.be.Receive()
	if err != nil {
		return false, pgerror.Newf(pgerror.CodeProtocolViolation, "invalid authentication message: %v", err)
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return false, pgerror.New(pgerror.CodeProtocolViolation, "expected a SASL response")
	}
	// client-final-message: "c=<binding>,r=<nonce>,p=<proof>".
	cfm := string(final.Data)
	i := strings.LastIndex(cfm, ",p=")
	if i < 0 || scramAttr(cfm, 'r') != serverNonce {
		return false, pgerror.New(pgerror.CodeProtocolViolation, "malformed SCRAM client-final-message")
	}
	proof, err := base64.StdEncoding.DecodeString(cfm[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return false, pgerror.New(pgerror.CodeProtocolViolation, "malformed SCRAM client proof")
	}
	authMessage := clientFirstBare + "," + serverFirst + "," + cfm[:i]
	if !v.Verify(authMessage, proof) {
		return false, nil
	}
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(v.ServerSignature(authMessage)))})
	return true, nil
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
