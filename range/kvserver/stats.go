package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
)

func statsToProto(s kv.MVCCStats) *rangepb.MVCCStats {
	return &rangepb.MVCCStats{
		LastUpdateNanos: s.LastUpdateNanos, GcBytesAge: s.GCBytesAge,
		LiveBytes: s.LiveBytes, LiveCount: s.LiveCount,
		KeyBytes: s.KeyBytes, KeyCount: s.KeyCount,
		ValBytes: s.ValBytes, ValCount: s.ValCount,
		IntentBytes: s.IntentBytes, IntentCount: s.IntentCount,
		LockBytes: s.LockBytes, LockCount: s.LockCount,
		SysBytes: s.SysBytes, SysCount: s.SysCount,
	}
}

func statsFromProto(p *rangepb.MVCCStats) kv.MVCCStats {
	if p == nil {
		return kv.MVCCStats{}
	}
	return kv.MVCCStats{
		LastUpdateNanos: p.LastUpdateNanos, GCBytesAge: p.GcBytesAge,
		LiveBytes: p.LiveBytes, LiveCount: p.LiveCount,
		KeyBytes: p.KeyBytes, KeyCount: p.KeyCount,
		ValBytes: p.ValBytes, ValCount: p.ValCount,
		IntentBytes: p.IntentBytes, IntentCount: p.IntentCount,
		LockBytes: p.LockBytes, LockCount: p.LockCount,
		SysBytes: p.SysBytes, SysCount: p.SysCount,
	}
}

func tsToProto(ts hlc.Timestamp) *rangepb.Timestamp { return rangepb.TimestampOf(ts) }

func tsFromProto(p *rangepb.Timestamp) hlc.Timestamp { return p.HLC() }
