package kvserver

import (
	"sync/atomic"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

// Observed timestamps (DESIGN.md §5). A transaction's uncertainty interval
// runs from its read timestamp to a max clock offset above it: a value in
// there may have been committed before the transaction began, on a node
// whose clock runs ahead. Once the transaction has read this node's clock
// (an observed timestamp: the first batch of the transaction a replica
// here evaluates records it in the transaction, which carries it from
// then on), a value this node wrote after that reading was certainly
// committed after the transaction began: it is not uncertain. The local
// uncertainty limit is that reading.
//
// It holds only for what this node wrote. So the limit is raised to the
// start of the lease (what earlier leaseholders wrote, elsewhere, came
// before it) and to the freeze of the last merge this store applied (the
// right-hand range's data came from its leaseholder, written before its
// freeze, which the merge's leaseholder took as its clock). And a value's
// own time of writing here, its local timestamp, is below its timestamp
// when the write was ahead of the clock or a push moved its intent up
// (kv.Uncertainty): the check compares that, not the timestamp, with the
// limit.

// observedTimestamp returns txn's observation of node's clock.
func observedTimestamp(txn *rangepb.Transaction, node NodeID) (hlc.Timestamp, bool) {
	for _, o := range txn.GetObservedTimestamps() {
		if o.NodeId == int32(node) {
			return tsFromProto(o.Timestamp), true
		}
	}
	return hlc.Timestamp{}, false
}

// observe records in ec's transaction the clock of this node at now,
// unless the transaction observed it before.
func (ec *evalCtx) observe() {
	node := ec.r.store.nodeID
	if _, ok := observedTimestamp(ec.txn, node); ok {
		return
	}
	ec.txn.ObservedTimestamps = append(ec.txn.ObservedTimestamps,
		&rangepb.ObservedTimestamp{NodeId: int32(node), Timestamp: tsToProto(ec.now)})
}

// uncertaintyFloor is the lowest local uncertainty limit a read under
// lease l may have: the lease's start, or the last merge's freeze.
func (r *Replica) uncertaintyFloor(l *rangepb.Lease) hlc.Timestamp {
	floor := tsFromProto(l.GetStart())
	floor.Forward(r.store.mergeFloor.get())
	return floor
}

// localUncertaintyLimit is txn's local uncertainty limit here under lease
// l: false if the transaction has not observed this node's clock, or if
// the limit would not be below the global one. The lease is read only
// when there is an observation to raise to its floor.
func (r *Replica) localUncertaintyLimit(txn *rangepb.Transaction, l func() *rangepb.Lease) (hlc.Timestamp, bool) {
	obs, ok := observedTimestamp(txn, r.store.nodeID)
	if !ok {
		return hlc.Timestamp{}, false
	}
	obs.Forward(r.uncertaintyFloor(l()))
	return obs, obs.Less(tsFromProto(txn.GetGlobalUncertaintyLimit()))
}

// uncertainty is the batch's uncertainty interval.
func (ec *evalCtx) uncertainty() kv.Uncertainty {
	maxOffset := int64(ec.r.store.clock.MaxOffset())
	if ec.txn == nil {
		// A non-transactional read at the leaseholder's clock is uncertain
		// about values up to a clock offset ahead too (committed at a
		// pushed timestamp, or by a node whose clock runs ahead); it is
		// retried above them (sendWithConcurrency). Its observation of
		// this node's clock is the clock it reads at.
		if ec.historical {
			return kv.Uncertainty{}
		}
		local := ec.now
		local.Forward(ec.r.uncertaintyFloor(ec.lease))
		return kv.Uncertainty{GlobalLimit: ec.now.Add(maxOffset, 0), LocalLimit: local}
	}
	u := kv.Uncertainty{GlobalLimit: tsFromProto(ec.txn.GlobalUncertaintyLimit)}
	if local, ok := ec.r.localUncertaintyLimit(ec.txn, func() *rangepb.Lease { return ec.lease }); ok {
		u.LocalLimit = local
	}
	return u
}

// localClock is the clock here as the batch's writes are evaluated,
// read once: a write above it records it (kv.MVCCWriteOptions).
func (ec *evalCtx) localClock() hlc.Timestamp {
	if ec.writeClock.IsEmpty() {
		ec.writeClock = ec.r.store.clock.Now()
	}
	return ec.writeClock
}

// mergeFloor is the freeze timestamp of the last merge a store applied.
// Every read of a replica with a local uncertainty limit reads it: no
// lock.
type mergeFloor struct {
	ts atomic.Pointer[hlc.Timestamp]
}

func (f *mergeFloor) get() hlc.Timestamp {
	if p := f.ts.Load(); p != nil {
		return *p
	}
	return hlc.Timestamp{}
}

func (f *mergeFloor) raise(ts hlc.Timestamp) {
	for {
		cur := f.ts.Load()
		if cur != nil && ts.LessEq(*cur) {
			return
		}
		if f.ts.CompareAndSwap(cur, &ts) {
			return
		}
	}
}
