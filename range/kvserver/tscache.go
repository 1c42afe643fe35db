package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/tscache"
)

// tsCache is the timestamp cache a leaseholder keeps (DESIGN.md §5): the
// highest timestamp each key span was read at, so that a later write below
// it is pushed above it, and a low-water mark below which every key counts
// as read (set at the start of each lease: reads served under earlier
// leases, here or elsewhere, are not known).
//
// The interface is the part of range/tscache.Cache the replica uses (an
// interval B-tree with bounded memory: past its budget, the oldest reads
// fold into the low-water mark).
type tsCache interface {
	// Add records a read of [start, end) (the key start if end is nil) at
	// ts by txn (zero: not transactional).
	Add(start, end []byte, ts hlc.Timestamp, txn kv.TxnID)
	// GetMax returns the highest read timestamp over [start, end) and the
	// transaction that read there, if exactly one did.
	GetMax(start, end []byte) (hlc.Timestamp, kv.TxnID)
	// SetLowWater raises the low-water mark.
	SetLowWater(ts hlc.Timestamp)
}

func newTSCache() tsCache { return tscache.New(tscache.Options{}) }
