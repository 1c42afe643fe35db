package kv

import (
	"bytes"
	"context"

	"github.com/cockroachdb/errors"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// VerifySST checks an SST received from another store before it is
// ingested: it must be readable (block checksums hold), hold only point
// keys that decode as MVCC keys, and every key must lie inside one of
// spans. A snapshot that fails is refused whole, so nothing of it lands.
func VerifySST(sst []byte, spans ...Span) error {
	o := &pebble.Options{Comparer: mvccComparer, FormatMajorVersion: pebble.FormatNewest}
	o.EnsureDefaults()
	r, err := sstable.NewMemReader(sst, o.MakeReaderOptions())
	if err != nil {
		return errors.Wrap(err, "kv: unreadable SST")
	}
	defer r.Close()
	props, err := r.ReadPropertiesBlock(context.Background(), nil)
	if err != nil {
		return errors.Wrap(err, "kv: unreadable SST properties")
	}
	if props.NumRangeDeletions+props.NumRangeKeySets+props.NumRangeKeyDels > 0 {
		return errors.New("kv: SST holds range deletions or range keys; only plain keys are allowed")
	}
	it, err := r.NewIter(sstable.NoTransforms, nil, nil, sstable.AssertNoBlobHandles)
	if err != nil {
		return errors.Wrap(err, "kv: unreadable SST")
	}
	defer it.Close()
	for kv := it.First(); kv != nil; kv = it.Next() {
		if kv.Kind() != pebble.InternalKeyKindSet {
			return errors.Newf("kv: SST holds a %s entry; only plain keys are allowed", kv.Kind())
		}
		k, err := DecodeMVCCKey(kv.K.UserKey)
		if err != nil {
			return errors.Wrap(err, "kv: SST holds an undecodable key")
		}
		if !inSpans(k.Key, spans) {
			return errors.Newf("kv: SST key %q lies outside the spans it may cover", k.Key)
		}
		if _, _, err := kv.Value(nil); err != nil {
			return errors.Wrapf(err, "kv: SST value of %q unreadable", k.Key)
		}
	}
	if err := it.Error(); err != nil {
		return errors.Wrap(err, "kv: corrupt SST")
	}
	return nil
}

func inSpans(key []byte, spans []Span) bool {
	for _, sp := range spans {
		if bytes.Compare(key, sp.Key) >= 0 && bytes.Compare(key, sp.EndKey) < 0 {
			return true
		}
	}
	return false
}
