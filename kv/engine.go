// Package kv is one store's storage layer: a multi-version, transactional
// key-value engine on Pebble (DESIGN.md §3). It is the only package that
// imports Pebble.
//
// The files read as a table of contents:
//
//	engine.go          Reader / Writer / Batch / Snapshot / Iterator over one Pebble DB
//	engine_metrics.go  compactions, read amplification, WAL fsync latency
//	keys.go            the local keyspace: lock table, range-local prefixes
//	mvcc_key.go        MVCCKey encoding and the Pebble comparer
//	mvcc_value.go      checksummed, typed values
//	mvcc.go            Get, Scan, Put, ConditionalPut, InitPut, Increment,
//	                   Delete, DeleteRange
//	mvcc_intent.go     transactions' provisional writes and lock records
//	mvcc_resolve.go    ResolveIntent and ResolveIntentRange
//	mvcc_stats.go      MVCCStats, kept incrementally and recomputed
//	mvcc_gc.go         garbage collection of old versions
//	mvcc_split.go      FindSplitKey
//	sst.go             export of a span as an SST, and ingestion
//
// Every version of a user key is stored at key+timestamp, newest first. A
// transaction's write is a provisional version plus a lock record in the
// lock table keyspace (CockroachDB's separated intents); readers consult
// the lock record to decide whether the provisional version is theirs.
package kv

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/errors"
	"github.com/cockroachdb/errors/oserror"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Reader reads from a consistent or live view of the store.
type Reader interface {
	// Get returns a copy of the raw stored value at key, or nil if there is
	// none. MVCC reads use MVCCGet; this is for unversioned, raw state.
	Get(key MVCCKey) ([]byte, error)
	// NewIterator returns an iterator over the versions of the user keys in
	// [opts.LowerBound, opts.UpperBound).
	NewIterator(opts IterOptions) (Iterator, error)

	// newPebbleIter and releasePebbleIter hand out a Pebble iterator over
	// encoded keys in [lower, upper) (nil for unbounded). Readers may hand
	// out the same cached iterator again after its release.
	newPebbleIter(lower, upper []byte) (*pebble.Iterator, error)
	releasePebbleIter(it *pebble.Iterator)
}

// Writer writes raw keys. MVCC writes go through MVCCPut and friends,
// which keep versions, locks and stats consistent.
type Writer interface {
	// Put stores the raw value at key.
	Put(key MVCCKey, value []byte) error
	// Clear removes key.
	Clear(key MVCCKey) error
	// ClearRange removes every key (every version of every user key, and the
	// unversioned keys) in [start, end).
	ClearRange(start, end []byte) error
}

// ReadWriter both reads and writes.
type ReadWriter interface {
	Reader
	Writer
}

// Batch collects writes and commits them atomically. A batch from NewBatch
// reads its own writes on top of the engine's live state. Not safe for
// concurrent use.
type Batch interface {
	ReadWriter
	// Commit applies the batch to the engine, durably (fsynced WAL) when
	// sync is set. A batch is closed after Commit.
	Commit(sync bool) error
	// Repr is the batch's serialized form, which Engine.ApplyBatchRepr
	// applies byte for byte (on every replica).
	Repr() []byte
	// Empty reports whether the batch holds no writes.
	Empty() bool
	// Len is the size of Repr.
	Len() int
	// Close releases the batch; a committed batch is already closed.
	Close()
}

// ReadOnly is a Reader that reuses its iterators; its view of the store is
// fixed at its first read. Not safe for concurrent use. Close it.
type ReadOnly interface {
	Reader
	Close()
}

// Snapshot is a consistent, point-in-time view of the store. Not safe for
// concurrent use. Close it.
type Snapshot interface {
	Reader
	Close()
}

// Engine is one store: one Pebble instance. Reads and writes on the Engine
// itself are safe for concurrent use; writes on it are applied one by one
// without fsync (use a Batch for atomicity and durability).
type Engine interface {
	ReadWriter
	// NewBatch returns a batch that reads its own writes.
	NewBatch() Batch
	// NewWriteOnlyBatch returns a cheaper batch that cannot be read.
	NewWriteOnlyBatch() Batch
	// NewReadOnly returns a reader that reuses iterators.
	NewReadOnly() ReadOnly
	// NewSnapshot returns a point-in-time view.
	NewSnapshot() Snapshot
	// ApplyBatchRepr applies a serialized batch (Batch.Repr) atomically.
	ApplyBatchRepr(repr []byte, sync bool) error
	// IngestSST adds an SST (from ExportSST) to the store, replacing nothing:
	// its span must be empty or cleared first (see IngestSST).
	IngestSST(ctx context.Context, sst []byte) error
	// Flush flushes the memtable to an SST.
	Flush() error
	// Compact compacts [start, end) of user keys.
	Compact(ctx context.Context, start, end []byte) error
	// Metrics returns the engine's counters.
	Metrics() Metrics
	// Close closes the store; no other call may follow.
	Close() error
}

// IterOptions bounds an Iterator.
type IterOptions struct {
	// LowerBound and UpperBound are user keys; nil means unbounded.
	LowerBound, UpperBound []byte
}

// Iterator walks encoded MVCC keys in engine order. Not safe for
// concurrent use.
type Iterator interface {
	// SeekGE positions at the first key ≥ key.
	SeekGE(key MVCCKey)
	// SeekLT positions at the last key < key.
	SeekLT(key MVCCKey)
	// Next and Prev step one key.
	Next()
	Prev()
	// NextKey steps to the first key of the next user key.
	NextKey()
	// Valid reports whether the iterator is positioned, or the error that
	// stopped it.
	Valid() (bool, error)
	// UnsafeKey is the current key; its memory is valid until the next call
	// that moves the iterator.
	UnsafeKey() MVCCKey
	// UnsafeValue is the current raw value, valid until the next move.
	UnsafeValue() ([]byte, error)
	// Close releases the iterator.
	Close()
}

// Options configure an engine. The zero value works: EnsureDefaults fills
// every unset field.
type Options struct {
	// InMemory keeps the store in memory (tests); dir is then ignored.
	InMemory bool
	// CacheSize is the block cache's size in bytes. Default 128 MiB.
	CacheSize int64
	// MemTableSize is the size of one memtable in bytes. Default 32 MiB:
	// Pebble reserves each live memtable's size out of the block cache,
	// and a read of a row written again and again steps over every
	// version of it still in the memtable (a hot row's lock record is
	// written and deleted by every transaction). With 64 MiB memtables
	// and the default 128 MiB cache, a bulk load left the cache no room
	// and pgbench -S ran at ~150 tps for the first 10 s after pgbench -i
	// (2-core VM, 2026-12-06); with 8 MiB, ~2,000-3,000. Since one-phase
	// commits write no lock records (and their removal), 32 MiB: the
	// TPC-C load (Raft log entries of a few MB each, which a small
	// memtable flushes to L0 before the log is truncated) takes 5.8 s
	// instead of 6.2-6.7 s (4 runs each); the first 10 s of pgbench -S
	// after pgbench -i ran 6,930 and 6,099 tps against 7,161 and 6,763
	// next (8 MiB: 6,470 and 6,002 against 7,173 and 7,028); TPC-C
	// 11,224 and 11,316 tpmC (8 MiB: 10,764 and 11,748); RSS after
	// TPC-C ~430 MB (8 MiB: ~400 MB). 2-core VM, 2026-12-07.
	MemTableSize uint64
	// MaxOpenFiles bounds the open SST files. Default 1000.
	MaxOpenFiles int
	// Logger receives Pebble's messages. Default: Pebble's (stderr).
	Logger Logger
}

// Logger is where Pebble's informational and error messages go.
type Logger interface {
	Infof(format string, args ...interface{})
	Errorf(format string, args ...interface{})
	Fatalf(format string, args ...interface{})
}

// Defaults of Options.
const (
	DefaultCacheSize    = 128 << 20
	DefaultMemTableSize = 32 << 20
	DefaultMaxOpenFiles = 1000
)

// EnsureDefaults fills the unset fields of o with their defaults.
func (o *Options) EnsureDefaults() {
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.MaxOpenFiles == 0 {
		o.MaxOpenFiles = DefaultMaxOpenFiles
	}
}

// Store format. The version file is written before Pebble creates the
// store, so a store without it was not written by Meridian.
const (
	storeVersionFile = "MERIDIAN_STORE_VERSION"
	// StoreFormatVersion is the on-disk format this binary reads and writes.
	StoreFormatVersion = 1
	storeVersionPrefix = "meridian-store-format: "
)

// pebbleEngine implements Engine.
type pebbleEngine struct {
	db  *pebble.DB
	dir string
	fs  vfs.FS
	// corruptions counts on-disk corruption Pebble detected (the reads that
	// hit it fail with an error).
	corruptions atomic.Int64
}

var _ Engine = (*pebbleEngine)(nil)

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts Options) (Engine, error) {
	opts.EnsureDefaults()
	popts := &pebble.Options{
		Comparer:     mvccComparer,
		MemTableSize: opts.MemTableSize,
		MaxOpenFiles: opts.MaxOpenFiles,
		// Ingested SSTs and new stores use the same, newest format.
		FormatMajorVersion: pebble.FormatNewest,
	}
	if opts.Logger != nil {
		popts.Logger = opts.Logger
	}
	e := &pebbleEngine{dir: dir}
	logger := popts.Logger
	if logger == nil {
		logger = pebble.DefaultLogger
	}
	// Pebble's default is to crash the process on corruption; a store
	// reports it as an error on the read that found it, and in Metrics.
	popts.EventListener = &pebble.EventListener{
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			e.corruptions.Add(1)
			logger.Errorf("kv: %s", info)
		},
	}
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	popts.FS = vfs.Default
	if opts.InMemory {
		popts.FS = vfs.NewMem()
		dir = ""
	} else if err := checkStoreVersion(dir); err != nil {
		return nil, err
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref() // the DB holds its own reference
	popts.Cache = cache
	db, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, errors.Wrapf(err, "kv: opening store %q", dir)
	}
	e.db, e.dir, e.fs = db, dir, popts.FS
	return e, nil
}

// checkStoreVersion verifies dir holds a store of a known format, or
// marks a new store with the current format.
// HoldsStore reports whether dir holds a Meridian store (its format
// version file).
func HoldsStore(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, storeVersionFile))
	return err == nil
}

func checkStoreVersion(dir string) error {
	path := filepath.Join(dir, storeVersionFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		v, perr := parseStoreVersion(data)
		if perr != nil {
			return errors.Mark(errors.Wrapf(perr, "kv: store %q", dir), ErrUnknownStoreVersion)
		}
		if v != StoreFormatVersion {
			return errors.Wrapf(ErrUnknownStoreVersion,
				"store %q has format version %d; this binary reads version %d", dir, v, StoreFormatVersion)
		}
		return nil
	case !oserror.IsNotExist(err):
		return errors.Wrapf(err, "kv: reading store version")
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !oserror.IsNotExist(err) {
		return errors.Wrapf(err, "kv: reading store directory")
	}
	for _, e := range entries {
		if n := e.Name(); n == "CURRENT" || strings.HasPrefix(n, "MANIFEST-") || strings.HasPrefix(n, "OPTIONS-") {
			return errors.Wrapf(ErrUnknownStoreVersion,
				"store %q has no %s file: not written by a known Meridian version", dir, storeVersionFile)
		}
	}
	return writeStoreVersion(dir, StoreFormatVersion)
}

func parseStoreVersion(data []byte) (int, error) {
	line, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
	s, ok := strings.CutPrefix(string(line), storeVersionPrefix)
	if !ok {
		return 0, errors.Newf("malformed %s: %q", storeVersionFile, line)
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.Wrapf(err, "malformed %s", storeVersionFile)
	}
	return v, nil
}

// writeStoreVersion atomically writes the version file: temp file, fsync,
// rename, fsync of the directory.
func writeStoreVersion(dir string, v int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrapf(err, "kv: creating store directory")
	}
	tmp := filepath.Join(dir, storeVersionFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return errors.Wrap(err, "kv: writing store version")
	}
	_, err = f.WriteString(storeVersionPrefix + strconv.Itoa(v) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, storeVersionFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	return errors.Wrap(err, "kv: writing store version")
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (e *pebbleEngine) Close() error { return e.db.Close() }

func (e *pebbleEngine) Get(key MVCCKey) ([]byte, error) { return pebbleGet(e, key) }

func (e *pebbleEngine) NewIterator(opts IterOptions) (Iterator, error) {
	return newMVCCIterator(e, opts)
}

func (e *pebbleEngine) newPebbleIter(lower, upper []byte) (*pebble.Iterator, error) {
	return e.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
}

func (e *pebbleEngine) releasePebbleIter(it *pebble.Iterator) { _ = it.Close() }

func (e *pebbleEngine) Put(key MVCCKey, value []byte) error {
	return e.db.Set(EncodeMVCCKey(key), value, pebble.NoSync)
}

func (e *pebbleEngine) Clear(key MVCCKey) error {
	return e.db.Delete(EncodeMVCCKey(key), pebble.NoSync)
}

func (e *pebbleEngine) ClearRange(start, end []byte) error {
	return e.db.DeleteRange(EncodeMVCCKey(MVCCKey{Key: start}), EncodeMVCCKey(MVCCKey{Key: end}), pebble.NoSync)
}

func (e *pebbleEngine) NewBatch() Batch {
	b := &pebbleBatch{b: e.db.NewIndexedBatch(), indexed: true}
	b.iters = iterCache{newIter: b.b.NewIter, refresh: true}
	return b
}

func (e *pebbleEngine) NewWriteOnlyBatch() Batch {
	return &pebbleBatch{b: e.db.NewBatch()}
}

func (e *pebbleEngine) NewReadOnly() ReadOnly {
	return &cachingReader{iters: iterCache{newIter: e.db.NewIter}}
}

func (e *pebbleEngine) NewSnapshot() Snapshot {
	s := e.db.NewSnapshot()
	return &cachingReader{iters: iterCache{newIter: s.NewIter}, closer: s.Close}
}

func (e *pebbleEngine) ApplyBatchRepr(repr []byte, sync bool) error {
	b := e.db.NewBatch()
	defer b.Close()
	if err := b.SetRepr(append([]byte(nil), repr...)); err != nil {
		return errors.Wrap(err, "kv: malformed batch")
	}
	return e.db.Apply(b, writeOpts(sync))
}

func (e *pebbleEngine) Flush() error { return e.db.Flush() }

func (e *pebbleEngine) Compact(ctx context.Context, start, end []byte) error {
	return e.db.Compact(ctx, EncodeMVCCKey(MVCCKey{Key: start}), EncodeMVCCKey(MVCCKey{Key: end}), false)
}

func writeOpts(sync bool) *pebble.WriteOptions {
	if sync {
		return pebble.Sync
	}
	return pebble.NoSync
}

// pebbleGet returns a copy of the raw value at key.
func pebbleGet(r Reader, key MVCCKey) ([]byte, error) {
	ek := EncodeMVCCKey(key)
	it, err := r.newPebbleIter(nil, nil)
	if err != nil {
		return nil, err
	}
	defer r.releasePebbleIter(it)
	if !it.SeekPrefixGE(ek) || !bytes.Equal(it.Key(), ek) {
		return nil, it.Error()
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, err
	}
	return append([]byte{}, v...), nil
}

// pebbleBatch implements Batch.
type pebbleBatch struct {
	b       *pebble.Batch
	indexed bool
	closed  bool
	iters   iterCache
}

func (b *pebbleBatch) Get(key MVCCKey) ([]byte, error) { return pebbleGet(b, key) }

func (b *pebbleBatch) NewIterator(opts IterOptions) (Iterator, error) {
	return newMVCCIterator(b, opts)
}

func (b *pebbleBatch) newPebbleIter(lower, upper []byte) (*pebble.Iterator, error) {
	if !b.indexed {
		return nil, errors.AssertionFailedf("kv: reading from a write-only batch")
	}
	return b.iters.get(lower, upper)
}

func (b *pebbleBatch) releasePebbleIter(it *pebble.Iterator) { b.iters.put(it) }

func (b *pebbleBatch) Put(key MVCCKey, value []byte) error {
	return b.b.Set(EncodeMVCCKey(key), value, nil)
}

func (b *pebbleBatch) Clear(key MVCCKey) error { return b.b.Delete(EncodeMVCCKey(key), nil) }

func (b *pebbleBatch) ClearRange(start, end []byte) error {
	return b.b.DeleteRange(EncodeMVCCKey(MVCCKey{Key: start}), EncodeMVCCKey(MVCCKey{Key: end}), nil)
}

func (b *pebbleBatch) Commit(sync bool) error {
	if b.closed {
		return errors.AssertionFailedf("kv: commit of a closed batch")
	}
	b.iters.close()
	err := b.b.Commit(writeOpts(sync))
	b.Close()
	return err
}

func (b *pebbleBatch) Repr() []byte { return b.b.Repr() }
func (b *pebbleBatch) Empty() bool  { return b.b.Empty() }
func (b *pebbleBatch) Len() int     { return b.b.Len() }

func (b *pebbleBatch) Close() {
	if !b.closed {
		b.closed = true
		b.iters.close()
		_ = b.b.Close()
	}
}

// cachingReader implements ReadOnly and Snapshot: it keeps two Pebble
// iterators (point reads use one for the lock table, one for the data) and
// hands them out again once released, so a sequence of reads pays for two
// iterators.
type cachingReader struct {
	iters  iterCache
	closer func() error
}

func (r *cachingReader) Get(key MVCCKey) ([]byte, error) { return pebbleGet(r, key) }

func (r *cachingReader) NewIterator(opts IterOptions) (Iterator, error) {
	return newMVCCIterator(r, opts)
}

func (r *cachingReader) newPebbleIter(lower, upper []byte) (*pebble.Iterator, error) {
	return r.iters.get(lower, upper)
}

func (r *cachingReader) releasePebbleIter(it *pebble.Iterator) { r.iters.put(it) }

func (r *cachingReader) Close() {
	r.iters.close()
	if r.closer != nil {
		_ = r.closer()
		r.closer = nil
	}
}

// iterCache keeps two Pebble iterators to hand out again once released:
// creating one (over the memtables and every level's files) costs more
// than a seek. Over an indexed batch (refresh), an iterator handed out
// again is refreshed to see the batch's writes since: a batch of ten
// thousand writes (a bulk load's chunk) otherwise created and closed an
// iterator for each, a third of its evaluation.
type iterCache struct {
	newIter func(*pebble.IterOptions) (*pebble.Iterator, error)
	refresh bool
	slots   [2]iterSlot
	// next is the slot to evict when no slot's bounds match.
	next int
}

type iterSlot struct {
	it           *pebble.Iterator
	lower, upper []byte
	inUse        bool
}

func sameBound(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func (c *iterCache) get(lower, upper []byte) (*pebble.Iterator, error) {
	// Prefer a free slot with the same bounds, then any free slot.
	slot := -1
	for i := range c.slots {
		s := &c.slots[i]
		if !s.inUse && s.it != nil && sameBound(s.lower, lower) && sameBound(s.upper, upper) {
			s.inUse = true
			if c.refresh {
				s.it.SetOptions(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
			}
			return s.it, nil
		}
		if !s.inUse && (slot < 0 || i == c.next) {
			slot = i
		}
	}
	if slot < 0 {
		return c.newIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	}
	s := &c.slots[slot]
	c.next = 1 - slot
	if s.it == nil {
		it, err := c.newIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			return nil, err
		}
		s.it = it
	} else if c.refresh {
		s.it.SetOptions(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	} else {
		s.it.SetBounds(lower, upper)
	}
	s.lower, s.upper, s.inUse = lower, upper, true
	return s.it, nil
}

func (c *iterCache) put(it *pebble.Iterator) {
	for i := range c.slots {
		if c.slots[i].it == it {
			c.slots[i].inUse = false
			return
		}
	}
	_ = it.Close()
}

func (c *iterCache) close() {
	for i := range c.slots {
		if c.slots[i].it != nil {
			_ = c.slots[i].it.Close()
			c.slots[i] = iterSlot{}
		}
	}
}

// mvccIterator implements Iterator over a Pebble iterator.
type mvccIterator struct {
	r   Reader
	it  *pebble.Iterator
	key MVCCKey
	err error
	buf []byte
}

func newMVCCIterator(r Reader, opts IterOptions) (*mvccIterator, error) {
	var lower, upper []byte
	if opts.LowerBound != nil {
		lower = EncodeMVCCKey(MVCCKey{Key: opts.LowerBound})
	}
	if opts.UpperBound != nil {
		upper = EncodeMVCCKey(MVCCKey{Key: opts.UpperBound})
	}
	it, err := r.newPebbleIter(lower, upper)
	if err != nil {
		return nil, err
	}
	return &mvccIterator{r: r, it: it}, nil
}

func (i *mvccIterator) decode(valid bool) {
	i.err = nil
	if !valid {
		return
	}
	i.key, i.err = DecodeMVCCKey(i.it.Key())
}

func (i *mvccIterator) SeekGE(key MVCCKey) {
	i.buf = AppendMVCCKey(i.buf[:0], key)
	i.decode(i.it.SeekGE(i.buf))
}

func (i *mvccIterator) SeekLT(key MVCCKey) {
	i.buf = AppendMVCCKey(i.buf[:0], key)
	i.decode(i.it.SeekLT(i.buf))
}

func (i *mvccIterator) Next() { i.decode(i.it.Next()) }
func (i *mvccIterator) Prev() { i.decode(i.it.Prev()) }

func (i *mvccIterator) NextKey() {
	if !i.it.Valid() {
		return
	}
	i.buf = append(append(i.buf[:0], i.key.Key...), 0, 0)
	i.decode(i.it.SeekGE(i.buf))
}

func (i *mvccIterator) Valid() (bool, error) {
	if i.err != nil {
		return false, i.err
	}
	if err := i.it.Error(); err != nil {
		return false, err
	}
	return i.it.Valid(), nil
}

func (i *mvccIterator) UnsafeKey() MVCCKey           { return i.key }
func (i *mvccIterator) UnsafeValue() ([]byte, error) { return i.it.ValueAndErr() }

func (i *mvccIterator) Close() {
	if i.it != nil {
		i.r.releasePebbleIter(i.it)
		i.it = nil
	}
}

// NewReadWriter joins a Reader and a separate Writer: reads see r and not
// what was written to w. A write that reads nothing it wrote itself (a
// batch of one request) evaluates this way over a ReadOnly of the engine
// and a write-only batch, sparing the indexed batch's read path.
func NewReadWriter(r Reader, w Writer) ReadWriter { return splitReadWriter{r, w} }

type splitReadWriter struct {
	Reader
	Writer
}
