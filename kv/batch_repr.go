package kv

import (
	"github.com/cockroachdb/errors"
	"github.com/cockroachdb/pebble/v2"
)

// AppendBatchRepr adds the writes of a serialized batch (Batch.Repr) to b,
// so that a replica applies a replicated command's writes and its own
// bookkeeping (applied index, stats) in one atomic commit.
func AppendBatchRepr(b Batch, repr []byte) error {
	pb, ok := b.(*pebbleBatch)
	if !ok {
		return errors.AssertionFailedf("kv: AppendBatchRepr on %T", b)
	}
	if len(repr) == 0 {
		return nil
	}
	var src pebble.Batch
	if err := src.SetRepr(repr); err != nil {
		return errors.Wrap(err, "kv: decoding a serialized batch")
	}
	return errors.Wrap(pb.b.Apply(&src, nil), "kv: applying a serialized batch")
}
