package kvserver

import (
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/range/spanlatch"
)

func init() {
	registerCommand(rangepb.Refresh, command{
		declareKeys: declareAddrInTxn(spanlatch.Read),
		eval: func(ec *evalCtx, rd kv.Reader, _ kv.ReadWriter, _ *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
			r := req.(*rangepb.RefreshRequest)
			err := evalRefresh(ec, rd, r.Key, nil, r.RefreshFrom)
			return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_Refresh{Refresh: &rangepb.RefreshResponse{}}}, err
		},
	})
	registerCommand(rangepb.RefreshRange, command{
		declareKeys: declareAddrInTxn(spanlatch.Read),
		eval: func(ec *evalCtx, rd kv.Reader, _ kv.ReadWriter, _ *kv.MVCCStats, req rangepb.Request, _ hlc.Timestamp) (*rangepb.ResponseUnion, error) {
			r := req.(*rangepb.RefreshRangeRequest)
			err := evalRefresh(ec, rd, r.Span.GetKey(), r.Span.GetEndKey(), r.RefreshFrom)
			return &rangepb.ResponseUnion{Value: &rangepb.ResponseUnion_RefreshRange{RefreshRange: &rangepb.RefreshRangeResponse{}}}, err
		},
	})
}
