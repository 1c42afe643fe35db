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
func TxnRecordKey(anchor []byte, id kv.TxnID) []byte {
	b := make([]byte, 0, len(kv.LocalRangePrefix)+len(anchor)+2+len(suffixTxnRecord)+len(id))
	b = append(b, kv.LocalRangePrefix...)
	b = encoding.EncodeBytesAscending(b, anchor)
	b = append(b, suffixTxnRecord...)
	return append(b, id[:]...)
}
