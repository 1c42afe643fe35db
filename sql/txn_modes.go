package sql

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Transaction modes: BEGIN / SET TRANSACTION [ISOLATION LEVEL ...]
// [READ ONLY | READ WRITE] [[NOT] DEFERRABLE] [AS OF SYSTEM TIME ...],
// the transaction_read_only and default_transaction_read_only settings,
// and SELECT ... AS OF SYSTEM TIME.
//
// Every transaction is serializable: a weaker isolation level asked for
// gets serializable, which gives every guarantee the weaker ones do
// (CockroachDB does the same). DEFERRABLE (PostgreSQL: a serializable
// read-only transaction waits for a snapshot no serialization failure can
// touch) is taken as given: a read-only transaction here never makes
// another fail, and its own restarts are retried by the client as any
// 40001. READ ONLY refuses writes with 25006, as PostgreSQL does. AS OF
// SYSTEM TIME (CockroachDB's) reads the data as it was at a past
// timestamp, in a read-only transaction; there is no MVCC garbage
// collection yet, so no timestamp is too old.

const (
	codeReadOnlySQLTransaction pgerror.Code = "25006"
	codeActiveSQLTransaction   pgerror.Code = "25001"
)

// readOnlyNow reports whether the statement about to run may not write:
// the block's mode, or for a statement outside a block the session's
// default.
func (s *session) readOnlyNow() bool {
	if s.txn != nil && !s.implicit {
		return s.txnReadOnly
	}
	return s.defaultReadOnly()
}

func (s *session) defaultReadOnly() bool {
	return isOn(s.settings["default_transaction_read_only"])
}

func isOn(v string) bool {
	switch strings.ToLower(v) {
	case "on", "true", "1", "yes":
		return true
	}
	return false
}

// checkReadOnly refuses a statement that writes in a read-only
// transaction.
func (s *session) checkReadOnly(stmt tree.Statement) error {
	if !s.readOnlyNow() || !(tree.CanWriteData(stmt) || tree.CanModifySchema(stmt) || withWrites(stmt)) {
		return nil
	}
	return pgerror.Newf(codeReadOnlySQLTransaction, "cannot execute %s in a read-only transaction", stmt.StatementTag())
}

// beginBlock starts a transaction block with BEGIN's modes.
func (s *session) beginBlock(ctx context.Context, modes tree.TransactionModes) error {
	var txn kvapi.Txn
	var err error
	var asOf *hlc.Timestamp
	if modes.AsOf.Expr != nil {
		ts, err := s.asOfTimestamp(modes.AsOf.Expr)
		if err != nil {
			return err
		}
		asOf = &ts
		txn, err = s.historicalTxn(ctx, ts)
		if err != nil {
			return err
		}
	} else if txn, err = s.ex.newTxn(ctx); err != nil {
		return err
	}
	s.txn, s.blockAsOf, s.txnReadOnly = txn, asOf, s.defaultReadOnly() || asOf != nil
	s.savepoints, s.stmtsInBlock = nil, 0
	if err := s.applyModes(modes); err != nil {
		_ = txn.Rollback(ctx)
		s.txn, s.blockAsOf = nil, nil
		return err
	}
	return nil
}

// setTransaction is SET TRANSACTION: the open block's modes.
func (s *session) setTransaction(ctx context.Context, st *tree.SetTransaction) (*result, error) {
	res := &result{tag: "SET"}
	if s.txn == nil || s.implicit {
		// PostgreSQL warns and does nothing: the statement is its own
		// transaction, over when it ends.
		res.notices = append(res.notices, notice{pgerror.SeverityWarning, pgerror.CodeNoActiveSQLTransaction, "SET TRANSACTION can only be used in transaction blocks", ""})
		return res, nil
	}
	if st.Modes.AsOf.Expr != nil {
		if s.stmtsInBlock > 0 {
			return nil, pgerror.New(codeActiveSQLTransaction, "SET TRANSACTION AS OF SYSTEM TIME must come before any query of the transaction")
		}
		ts, err := s.asOfTimestamp(st.Modes.AsOf.Expr)
		if err != nil {
			return nil, err
		}
		txn, err := s.historicalTxn(ctx, ts)
		if err != nil {
			return nil, err
		}
		_ = s.txn.Rollback(ctx)
		s.txn, s.blockAsOf, s.txnReadOnly = txn, &ts, true
	}
	return res, s.applyModes(st.Modes)
}

// applyModes applies the isolation, access and priority modes to the
// open block.
func (s *session) applyModes(m tree.TransactionModes) error {
	switch m.UserPriority {
	case tree.UnspecifiedUserPriority, tree.Normal:
	default:
		return pgerror.Unsupported("transaction priority %s is not supported: every transaction has the normal priority", m.UserPriority)
	}
	switch m.ReadWriteMode {
	case tree.ReadOnly:
		s.txnReadOnly = true
	case tree.ReadWrite:
		return s.setReadWrite()
	}
	return nil
}

// setReadWrite makes the open block read-write, where PostgreSQL allows
// it.
func (s *session) setReadWrite() error {
	switch {
	case s.blockAsOf != nil:
		return pgerror.New(codeReadOnlySQLTransaction, "a transaction AS OF SYSTEM TIME is read-only")
	case s.txnReadOnly && s.stmtsInBlock > 0:
		return pgerror.New(codeActiveSQLTransaction, "transaction read-write mode must be set before any query")
	}
	s.txnReadOnly = false
	return nil
}

// stmtAsOf returns the AS OF SYSTEM TIME clause of a top-level SELECT.
func stmtAsOf(stmt tree.Statement) *tree.AsOfClause {
	sel, ok := stmt.(*tree.Select)
	if !ok {
		return nil
	}
	for {
		switch s := sel.Select.(type) {
		case *tree.ParenSelect:
			sel = s.Select
			continue
		case *tree.SelectClause:
			if s.From.AsOf.Expr != nil {
				return &s.From.AsOf
			}
		}
		return nil
	}
}

// historicalTxn returns a read-only transaction reading at ts. It serves
// no leased descriptors: it reads the schema as it was at ts.
func (s *session) historicalTxn(ctx context.Context, ts hlc.Timestamp) (kvapi.Txn, error) {
	hdb, ok := s.ex.db.(kvapi.HistoricalDB)
	if !ok {
		return nil, pgerror.Unsupported("AS OF SYSTEM TIME needs a store that keeps history; this one (the in-memory test store) keeps none")
	}
	return hdb.NewHistoricalTxn(ctx, ts)
}

// nanosRE matches nanoseconds since the epoch, with an optional logical
// part after a dot (an HLC timestamp as CockroachDB prints it).
var nanosRE = regexp.MustCompile(`^(\d+)(?:\.(\d+))?$`)

// followerReadStaleness is how far behind follower_read_timestamp() is,
// CockroachDB's default.
const followerReadStaleness = 4800 * time.Millisecond

// asOfTimestamp evaluates an AS OF SYSTEM TIME expression, as CockroachDB
// takes it: a timestamp ('2026-12-05 10:00:00'), a negative interval
// relative to now ('-10s'), nanoseconds since the epoch (a number or a
// string; a decimal's fraction is the logical part), or
// follower_read_timestamp(). A time in the future is refused.
func (s *session) asOfTimestamp(e tree.Expr) (hlc.Timestamp, error) {
	now := s.ex.now()
	fail := func(format string, args ...any) (hlc.Timestamp, error) {
		return hlc.Timestamp{}, pgerror.Newf(pgerror.CodeInvalidParameterValue, "AS OF SYSTEM TIME: "+format, args...)
	}
	var ts hlc.Timestamp
	switch v := e.(type) {
	case *tree.CastExpr:
		return s.asOfTimestamp(v.Expr)
	case *tree.ParenExpr:
		return s.asOfTimestamp(v.Expr)
	case *tree.FuncExpr:
		if !strings.EqualFold(v.Func.String(), "follower_read_timestamp") || len(v.Exprs) != 0 {
			return fail("%s is not a timestamp Meridian can read at: give a timestamp, a negative interval or follower_read_timestamp()", tree.AsString(e))
		}
		ts = hlc.Timestamp{WallTime: now.Add(-followerReadStaleness).UnixNano()}
	case *tree.NumVal:
		return s.asOfTimestamp(tree.NewStrVal(v.String()))
	case *tree.StrVal:
		str := v.RawString()
		if m := nanosRE.FindStringSubmatch(str); m != nil {
			wall, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				return fail("%q is out of range", str)
			}
			ts = hlc.Timestamp{WallTime: wall}
			if m[2] != "" {
				logical, err := strconv.ParseInt(m[2], 10, 32)
				if err != nil {
					return fail("%q: the logical part is out of range", str)
				}
				ts.Logical = int32(logical)
			}
			break
		}
		if iv, err := tree.ParseDInterval(duration.IntervalStyle_POSTGRES, str); err == nil {
			if iv.Duration.Compare(duration.Duration{}) >= 0 {
				return fail("interval value %q must be negative (a time before now)", str)
			}
			ts = hlc.Timestamp{WallTime: duration.Add(now, iv.Duration).UnixNano()}
			break
		}
		t, _, err := tree.ParseDTimestampTZ(tree.NewParseContext(now), str, time.Microsecond)
		if err != nil {
			return fail("%q is neither a timestamp nor a negative interval", str)
		}
		ts = hlc.Timestamp{WallTime: t.UnixNano()}
	default:
		return fail("%s: expected a constant timestamp, a negative interval or follower_read_timestamp()", tree.AsString(e))
	}
	if ts.WallTime > now.UnixNano() {
		return fail("cannot specify timestamp in the future (%s > now %s)", time.Unix(0, ts.WallTime).UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	}
	if ts.WallTime <= 0 {
		return fail("timestamp %s is before the epoch", tree.AsString(e))
	}
	return ts, nil
}

// withWrites reports whether a statement's WITH holds a data-modifying
// statement (a SELECT that writes).
func withWrites(stmt tree.Statement) bool {
	if w := topWith(stmt); w != nil {
		for _, cte := range w.CTEList {
			if _, ok := cte.Stmt.(*tree.Select); !ok {
				return true
			}
		}
	}
	return false
}
