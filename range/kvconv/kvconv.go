// Package kvconv converts between the MVCC layer's transaction metadata
// (kv) and its wire form (rangepb), for the range layer and the RPC
// codecs that carry the MVCC layer's errors.
package kvconv

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/range/rangepb"
)

// TxnMetaToKV converts a transaction's wire metadata to the MVCC layer's.
func TxnMetaToKV(m *rangepb.TxnMeta) kvpb.TxnMeta {
	var id kvpb.TxnID
	copy(id[:], m.GetId())
	return kvpb.TxnMeta{
		ID: id, Key: m.GetKey(), Epoch: m.GetEpoch(), WriteTimestamp: tsFromProto(m.GetWriteTimestamp()),
		MinTimestamp: tsFromProto(m.GetMinTimestamp()), Sequence: m.GetSequence(), Priority: m.GetPriority(),
	}
}

// TxnMetaFromKV converts the MVCC layer's transaction metadata to its wire
// form.
func TxnMetaFromKV(m kvpb.TxnMeta) *rangepb.TxnMeta {
	return &rangepb.TxnMeta{
		Id: append([]byte(nil), m.ID[:]...), Key: m.Key, Epoch: m.Epoch, WriteTimestamp: tsToProto(m.WriteTimestamp),
		MinTimestamp: tsToProto(m.MinTimestamp), Sequence: m.Sequence, Priority: m.Priority,
	}
}

func tsToProto(ts hlc.Timestamp) *rangepb.Timestamp { return rangepb.TimestampOf(ts) }

func tsFromProto(p *rangepb.Timestamp) hlc.Timestamp { return p.HLC() }
