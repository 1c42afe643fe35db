package kv

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/errors"
	"github.com/cockroachdb/errors/oserror"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// SSTs carry a span of the store between stores: a replica snapshot is
// ExportSST on the sender and IngestSST on the receiver.

var sstWriterOpts = sync.OnceValue(func() sstable.WriterOptions {
	o := &pebble.Options{Comparer: mvccComparer, FormatMajorVersion: pebble.FormatNewest}
	o.EnsureDefaults()
	wo := o.MakeWriterOptions(0, pebble.FormatNewest.MaxTableFormat())
	wo.FilterPolicy = nil
	return wo
})

// ExportSST writes every key (all versions, unversioned keys included) of
// the given spans to an SST and returns its bytes. The spans must be sorted
// and must not overlap. It returns nil when the spans hold no keys.
func ExportSST(r Reader, spans ...Span) ([]byte, error) {
	var buf memWritable
	w := sstable.NewWriter(&buf, sstWriterOpts())
	n := 0
	for _, sp := range spans {
		lo := EncodeMVCCKey(MVCCKey{Key: sp.Key})
		hi := EncodeMVCCKey(MVCCKey{Key: sp.EndKey})
		it, err := r.newPebbleIter(lo, hi)
		if err != nil {
			_ = w.Close()
			return nil, err
		}
		for valid := it.First(); valid; valid = it.Next() {
			v, err := it.ValueAndErr()
			if err == nil {
				err = w.Set(it.Key(), v)
			}
			if err != nil {
				r.releasePebbleIter(it)
				_ = w.Close()
				return nil, errors.Wrap(err, "kv: exporting SST")
			}
			n++
		}
		err = it.Error()
		r.releasePebbleIter(it)
		if err != nil {
			_ = w.Close()
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, errors.Wrap(err, "kv: exporting SST")
	}
	if n == 0 {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// memWritable is an objstorage.Writable into memory.
type memWritable struct{ bytes.Buffer }

func (m *memWritable) Write(p []byte) error { _, err := m.Buffer.Write(p); return err }
func (m *memWritable) Finish() error        { return nil }
func (m *memWritable) Abort()               {}

var ingestSeq atomic.Uint64

// IngestSST adds the keys of an SST made by ExportSST. Keys already in the
// store are shadowed by the SST's, but keys absent from the SST are kept:
// to replace a span (a replica snapshot), clear the span with ClearRange
// in a committed batch first.
func (e *pebbleEngine) IngestSST(ctx context.Context, sst []byte) error {
	if len(sst) == 0 {
		return nil
	}
	fs := e.fs
	path := fs.PathJoin(e.dir, "ingest-"+itoa(ingestSeq.Add(1))+".sst")
	f, err := fs.Create(path, "")
	if err != nil {
		return errors.Wrap(err, "kv: ingesting SST")
	}
	_, err = f.Write(sst)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = e.db.Ingest(ctx, []string{path})
	}
	// Pebble links or copies the file; ours is no longer needed.
	if rerr := fs.Remove(path); rerr != nil && !oserror.IsNotExist(rerr) && err == nil {
		err = rerr
	}
	return errors.Wrap(err, "kv: ingesting SST")
}

func itoa(n uint64) string { return string(appendUint(nil, n)) }

func appendUint(b []byte, n uint64) []byte {
	if n >= 10 {
		b = appendUint(b, n/10)
	}
	return append(b, byte('0'+n%10))
}
