package kvserver

import (
	"encoding/binary"

	"github.com/meridiandb/meridian/kv"
)

// Per-replica keys live under /Local/RangeID/<id>/ (kv.LocalRangeIDPrefix
// followed by the range ID as 8 big-endian bytes), then:
//
//	r...  replicated: identical on every replica, written by applying
//	      commands (descriptor, lease, applied state)
//	u...  unreplicated: this replica's own Raft state (HardState, log,
//	      truncated state), never part of a snapshot
//
// All of them are unversioned engine keys.
const (
	replicatedInfix   = 'r'
	unreplicatedInfix = 'u'
)

var (
	suffixDesc         = []byte("desc")
	suffixLease        = []byte("leas")
	suffixAppliedState = []byte("appl")
	suffixHardState    = []byte("hrds")
	suffixTruncated    = []byte("trnc")
	suffixRaftLog      = []byte("rftl")
	suffixTombstone    = []byte("rtmb")
	suffixMergeFreeze  = []byte("mrgf")
)

func rangeIDPrefix(id RangeID) []byte {
	b := make([]byte, 0, len(kv.LocalRangeIDPrefix)+8+1+4+8)
	b = append(b, kv.LocalRangeIDPrefix...)
	return binary.BigEndian.AppendUint64(b, uint64(id))
}

func rangeIDKey(id RangeID, infix byte, suffix []byte) []byte {
	return append(append(rangeIDPrefix(id), infix), suffix...)
}

func descKey(id RangeID) []byte         { return rangeIDKey(id, replicatedInfix, suffixDesc) }
func leaseKey(id RangeID) []byte        { return rangeIDKey(id, replicatedInfix, suffixLease) }
func appliedStateKey(id RangeID) []byte { return rangeIDKey(id, replicatedInfix, suffixAppliedState) }

// mergeFreezeKey marks a range frozen by a merge (replica_merge.go).
func mergeFreezeKey(id RangeID) []byte { return rangeIDKey(id, replicatedInfix, suffixMergeFreeze) }
func hardStateKey(id RangeID) []byte   { return rangeIDKey(id, unreplicatedInfix, suffixHardState) }
func truncatedKey(id RangeID) []byte   { return rangeIDKey(id, unreplicatedInfix, suffixTruncated) }

// tombstoneKey holds the lowest replica ID of the range this store may
// host again, once a replica of it was removed here.
func tombstoneKey(id RangeID) []byte { return rangeIDKey(id, unreplicatedInfix, suffixTombstone) }

// raftLogPrefix is the prefix of a range's log entries; raftLogKey(id, i)
// sorts by index.
func raftLogPrefix(id RangeID) []byte { return rangeIDKey(id, unreplicatedInfix, suffixRaftLog) }

func raftLogKey(id RangeID, index uint64) []byte {
	return binary.BigEndian.AppendUint64(raftLogPrefix(id), index)
}

// replicatedSpan is the span of a range's replicated range-ID keys.
func replicatedSpan(id RangeID) kv.Span {
	p := rangeIDKey(id, replicatedInfix, nil)
	return kv.Span{Key: p, EndKey: rangeIDKey(id, replicatedInfix+1, nil)}
}

// rangeIDSpan is the span of every range-ID key of a range.
func rangeIDSpan(id RangeID) kv.Span {
	return kv.Span{Key: rangeIDPrefix(id), EndKey: rangeIDPrefix(id + 1)}
}

// descKeyRangeID extracts the range ID from a key of the form descKey(id),
// reporting false for any other key.
func descKeyRangeID(key []byte) (RangeID, bool) {
	p := len(kv.LocalRangeIDPrefix)
	if len(key) != p+8+1+len(suffixDesc) || string(key[:p]) != string(kv.LocalRangeIDPrefix) ||
		key[p+8] != replicatedInfix || string(key[p+9:]) != string(suffixDesc) {
		return 0, false
	}
	return RangeID(binary.BigEndian.Uint64(key[p : p+8])), true
}
