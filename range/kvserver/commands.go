package kvserver

import (
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

// The replica's KV commands, after CockroachDB's batcheval: each method
// (rangepb.Method, whose flags say what it does) registers in a file of
// its own (cmd_*.go) the latches it declares and its evaluation; the
// request path (collectSpans, evaluate) only looks them up. Admin methods
// register an adminCommand instead (replica_admin.go).

// command is one method's latches and evaluation.
type command struct {
	// declareKeys declares the request's latches in d.
	declareKeys func(d *latchDecl, req rangepb.Request) error
	// eval runs the request at ts: reads against rd, writes into rw (nil
	// for a read-only batch, which only IsReadOnly methods are in) with
	// their stats delta in ms. Inside a transaction (ec.txn) reads are at
	// its read timestamp and see its intents, writes are intents at its
	// write timestamp.
	eval func(ec *evalCtx, rd kv.Reader, rw kv.ReadWriter, ms *kv.MVCCStats, req rangepb.Request, ts hlc.Timestamp) (*rangepb.ResponseUnion, error)
	// waitsForLocks: the request respects other transactions' locks on
	// its keys (see lockSpans): reads wait for intents below their
	// timestamp, writes and locking reads for every lock.
	waitsForLocks bool
	// afterEval, if set, tells the lock table what the request did once
	// served (see updateLockTable): res is its response.
	afterEval func(u *lockTableUpdate, req rangepb.Request, res *rangepb.ResponseUnion)
}

var commands [rangepb.NumMethods]*command

// registerCommand registers method m's command (from an init function).
func registerCommand(m rangepb.Method, c command) {
	if commands[m] != nil || adminCommands[m] != nil {
		panic(errors.AssertionFailedf("method %s registered twice", m))
	}
	commands[m] = &c
}

// latchDecl collects the latches of a batch's requests, checking their
// keys against the range.
type latchDecl struct {
	desc *rangepb.RangeDescriptor
	// txn is the batch header's transaction, if any.
	txn     *rangepb.Transaction
	rangeID RangeID
	spans   []spanlatch.LatchSpan
	// write: a latch is a write latch (the batch is proposed to Raft).
	write bool
}

// add declares a latch on the user key or span [key, end) of the range.
func (d *latchDecl) add(key, end []byte, access spanlatch.Access) error {
	if err := checkInRange(d.desc, key, end); err != nil {
		return err
	}
	d.local(key, end, access)
	return nil
}

// local declares a latch on [key, end) unchecked: a range-local key.
func (d *latchDecl) local(key, end []byte, access spanlatch.Access) {
	if len(end) == 0 {
		// A single key's span, with its end spelled out: the latch
		// manager would otherwise build it anew in every comparison with
		// every held latch.
		end = append(key[:len(key):len(key)], 0)
	}
	d.spans = append(d.spans, spanlatch.LatchSpan{Span: spanlatch.Span{Key: key, EndKey: end}, Access: access})
	if access == spanlatch.Write {
		d.write = true
	}
}

// record declares a latch on the record of transaction id anchored at
// anchor, which must be in the range.
func (d *latchDecl) record(anchor []byte, id kv.TxnID, access spanlatch.Access) error {
	if err := checkInRange(d.desc, anchor, nil); err != nil {
		return err
	}
	d.local(TxnRecordKey(anchor, id), nil, access)
	return nil
}

// needTxn refuses a request that needs a transaction in the header.
func (d *latchDecl) needTxn(what rangepb.Method) error {
	if d.txn.GetMeta() == nil || len(d.txn.Meta.Id) != len(kv.TxnID{}) {
		return errors.Newf("%s needs a transaction in the batch header", what)
	}
	return nil
}

// declareAddr declares a latch on the request's own key or span.
func declareAddr(access spanlatch.Access) func(*latchDecl, rangepb.Request) error {
	return func(d *latchDecl, req rangepb.Request) error {
		key, end, _ := req.Addr()
		return d.add(key, end, access)
	}
}

// declareAddrInTxn is declareAddr for a request that needs a transaction.
func declareAddrInTxn(access spanlatch.Access) func(*latchDecl, rangepb.Request) error {
	return func(d *latchDecl, req rangepb.Request) error {
		if err := d.needTxn(req.Method()); err != nil {
			return err
		}
		key, end, _ := req.Addr()
		return d.add(key, end, access)
	}
}
