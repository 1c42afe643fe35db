package sql

import (
	"context"
	"time"

	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/pgwire/scram"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// RoleAuthenticator authenticates pgwire clients against the roles stored
// in the cluster (CREATE ROLE ... PASSWORD). Safe for concurrent use.
type RoleAuthenticator struct {
	db kvapi.DB
}

var _ pgwire.Authenticator = (*RoleAuthenticator)(nil)

// NewRoleAuthenticator reads roles from db.
func NewRoleAuthenticator(db kvapi.DB) *RoleAuthenticator { return &RoleAuthenticator{db: db} }

// Role implements pgwire.Authenticator: it reads the role in a
// transaction of its own, retried if it must be.
func (a *RoleAuthenticator) Role(ctx context.Context, user string) (*pgwire.RoleAuth, error) {
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		r, err := a.readRole(ctx, user)
		if err != nil && pgerror.CodeOf(err) == pgerror.CodeSerializationFailure && attempt < maxImplicitRetries {
			// As execStmt: a role written slightly in the future is
			// uncertain until the clocks pass it.
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, err
			case <-t.C:
			}
			backoff = min(2*backoff, 100*time.Millisecond)
			continue
		}
		if err != nil || r == nil {
			return nil, err
		}
		ra := &pgwire.RoleAuth{CanLogin: r.Login}
		if v, ok := scram.Parse(r.Password); ok {
			ra.Verifier = &v
		}
		return ra, nil
	}
}

func (a *RoleAuthenticator) readRole(ctx context.Context, user string) (*catalog.Role, error) {
	txn, err := a.db.NewTxn(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = txn.Rollback(ctx) }()
	r, err := catalog.GetRole(ctx, txn, user)
	if err != nil {
		return nil, err
	}
	return r, txn.Commit(ctx)
}
