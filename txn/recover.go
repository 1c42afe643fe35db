package txn

import (
	"context"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/rangepb"
	"google.golang.org/protobuf/proto"
)

// recoverStaged finishes the transaction's own STAGING record when its
// rollback was refused (IndeterminateCommitError: a parallel commit whose
// outcome the coordinator never learnt, its answer lost): as any pusher
// would, it asks for every in-flight write (QueryIntent, which keeps a
// missing one from ever landing where it would count), then commits the
// record if all were there, aborts it otherwise (RecoverTxn), and resolves
// its intents. It returns the record's final status.
func (db *DB) recoverStaged(ctx context.Context, staging *rangepb.Transaction) (rangepb.TransactionStatus, error) {
	implicit := true
	if ws := staging.GetInFlightWrites(); len(ws) > 0 {
		ba := &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}}
		for _, w := range ws {
			m := proto.Clone(staging.Meta).(*rangepb.TxnMeta)
			m.Sequence = w.Sequence
			ba.Requests = append(ba.Requests, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_QueryIntent{QueryIntent: &rangepb.QueryIntentRequest{
				Key: w.Key, Txn: m}}})
		}
		br, err := db.sender.Send(ctx, ba)
		if err != nil {
			return 0, errors.Wrap(err, "recovering the transaction's STAGING record")
		}
		for _, res := range br.Responses {
			implicit = implicit && res.GetQueryIntent().GetFound()
		}
	}
	br, err := db.sender.Send(ctx, &rangepb.BatchRequest{Header: &rangepb.BatchHeader{}, Requests: []*rangepb.RequestUnion{{
		Value: &rangepb.RequestUnion_RecoverTxn{RecoverTxn: &rangepb.RecoverTxnRequest{
			Key: staging.Meta.Key, Txn: staging.Meta, ImplicitlyCommitted: implicit}}}}})
	if err != nil {
		return 0, err
	}
	return br.Responses[0].GetRecoverTxn().GetRecoveredTxn().GetStatus(), nil
}

// rollbackStaged handles a rollback refused because the record is STAGING
// (err): it recovers the record. Either outcome ends the transaction; a
// commit found there is one the caller was told was ambiguous.
func (db *DB) rollbackStaged(ctx context.Context, err error) error {
	var ice *rangepb.IndeterminateCommitError
	if !errors.As(err, &ice) || ice.StagingTxn.GetMeta() == nil {
		return err
	}
	if _, rerr := db.recoverStaged(ctx, ice.StagingTxn); rerr != nil {
		return rerr
	}
	return nil
}
