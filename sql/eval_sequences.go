package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

var _ sem.Sequences = (*stmtCatalog)(nil)

// Nextval implements sem.Sequences.
func (c *stmtCatalog) Nextval(e *sem.EvalCtx, seq tree.Datum) (int64, error) {
	d, err := sequenceByArg(e, seq)
	if err == nil {
		err = c.privs(e).checkSequence(d, catalog.PrivUsage, catalog.PrivUpdate)
	}
	if err != nil {
		return 0, err
	}
	return nextval(e, d)
}

// Currval implements sem.Sequences.
func (c *stmtCatalog) Currval(e *sem.EvalCtx, seq tree.Datum) (int64, error) {
	d, err := sequenceByArg(e, seq)
	if err == nil {
		err = c.privs(e).checkSequence(d, catalog.PrivUsage, catalog.PrivSelect)
	}
	if err != nil {
		return 0, err
	}
	return currval(e, d)
}

// Setval implements sem.Sequences.
func (c *stmtCatalog) Setval(e *sem.EvalCtx, seq tree.Datum, v int64, called bool) error {
	d, err := sequenceByArg(e, seq)
	if err == nil {
		err = c.privs(e).checkSequence(d, catalog.PrivUpdate)
	}
	if err != nil {
		return err
	}
	return setval(e, d, v, called)
}

// Lastval implements sem.Sequences.
func (c *stmtCatalog) Lastval(e *sem.EvalCtx) (int64, error) {
	s := sessionOf(e)
	if s == nil || s.lastSequence == 0 {
		return 0, pgerror.New("55000", "lastval is not yet defined in this session")
	}
	d, err := catalog.GetTableByID(e.Ctx, e.Txn, s.lastSequence)
	if err != nil {
		return 0, err
	}
	if d == nil {
		return 0, pgerror.New("55000", "lastval is not yet defined in this session")
	}
	if err := c.privs(e).checkSequence(d, catalog.PrivUsage, catalog.PrivSelect); err != nil {
		return 0, err
	}
	return currval(e, d)
}

// privs is the statement's privilege checker, made on first use (nil,
// checking nothing, outside a session or for root).
func (c *stmtCatalog) privs(e *sem.EvalCtx) *privChecker {
	s := sessionOf(e)
	if c == nil || s == nil || e.Txn == nil {
		return nil
	}
	if c.priv == nil {
		c.priv = s.newPrivChecker(e.Ctx, e.Txn)
	}
	return c.priv
}
