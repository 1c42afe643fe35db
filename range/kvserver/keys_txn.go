package kvserver

import (
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/kv/encoding"
)

// Range-local keys live under /Local/Range/<key>/ (kv.LocalRangePrefix,
// then the key they are anchored at, escaped and terminated so that no
// anchor is a prefix of another's keys), then a suffix (DESIGN.md §3). They
// are replicated with the range holding <key>, and unversioned.
var suffixTxnRecord = []byte("txn-")

// TxnRecordKey is the key of the record of transaction id anchored at
// anchor: /Local/Range/<anchor>/txn-<id>.
func TxnRecordKey(anchor []byte, id kv.TxnID) []byte { return txnLocalKey(anchor, suffixTxnRecord, id) }

// txnLocalKey is /Local/Range/<anchor>/<suffix><id>.
func txnLocalKey(anchor, suffix []byte, id kv.TxnID) []byte {
	b := make([]byte, 0, len(kv.LocalRangePrefix)+len(anchor)+2+len(suffix)+len(id))
	b = append(b, kv.LocalRangePrefix...)
	b = encoding.EncodeBytesAscending(b, anchor)
	b = append(b, suffix...)
	return append(b, id[:]...)
}

// decodeTxnRecordKey returns the anchor of a key built by TxnRecordKey;
// ok is false for any other key.
func decodeTxnRecordKey(key []byte) (anchor []byte, ok bool) {
	p := len(kv.LocalRangePrefix)
	if len(key) < p || string(key[:p]) != string(kv.LocalRangePrefix) {
		return nil, false
	}
	rest, anchor, err := encoding.DecodeBytesAscending(key[p:], nil)
	if err != nil || len(rest) != len(suffixTxnRecord)+len(kv.TxnID{}) || string(rest[:len(suffixTxnRecord)]) != string(suffixTxnRecord) {
		return nil, false
	}
	return anchor, true
}

var suffixTxnLockSpans = []byte("txl-")

// TxnLockSpansKey is the key of the spans of intents a committed
// transaction left to resolve after its commit (rangepb.TxnLockSpans),
// next to its record: /Local/Range/<anchor>/txl-<id>.
func TxnLockSpansKey(anchor []byte, id kv.TxnID) []byte {
	return txnLocalKey(anchor, suffixTxnLockSpans, id)
}
