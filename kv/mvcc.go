package kv

import (
	"bytes"
	"math"

	"github.com/cockroachdb/errors"
	"github.com/cockroachdb/pebble/v2"
	"github.com/meridiandb/meridian/hlc"
)

// The MVCC operations. Each runs at a timestamp and, optionally, inside a
// transaction (opts.Txn). Reads see the newest committed version at or
// below their timestamp, plus their own transaction's intents; writes add a
// version, and inside a transaction an intent. Writes take the stats to
// update (nil to skip the bookkeeping).

// Uncertainty is a reader's uncertainty interval: a committed value in
// (read timestamp, GlobalLimit] may have been written before the read
// began on a node whose clock is ahead, so the reader cannot order itself
// before it. GlobalLimit is the read timestamp plus the maximum clock
// offset.
//
// LocalLimit, when set, is what the reader knows of this node's clock (an
// observed timestamp: the node's clock when the reader's transaction first
// reached it, or the start of the lease, if later). A version written
// here after that reading cannot have been committed before the reader
// began, so it is not uncertain: a version is uncertain only if its local
// timestamp (the clock here when it was written, see LocalTimestamp) is at
// or below LocalLimit too.
type Uncertainty struct {
	GlobalLimit, LocalLimit hlc.Timestamp
}

// uncertain reports whether a version at ts, written here when the clock
// read localTs, lies in the uncertainty interval of a read at readTs.
func (u Uncertainty) uncertain(readTs, ts, localTs hlc.Timestamp) bool {
	if u.GlobalLimit.IsEmpty() || ts.LessEq(readTs) || u.GlobalLimit.Less(ts) {
		return false
	}
	return u.LocalLimit.IsEmpty() || localTs.LessEq(u.LocalLimit)
}

// aboveLocalLimit reports whether a version at ts is uncertain or not
// depending on its local timestamp: ts is above the local limit and not
// above the global one.
func (u Uncertainty) aboveLocalLimit(ts hlc.Timestamp) bool {
	return !u.LocalLimit.IsEmpty() && u.LocalLimit.Less(ts) && ts.LessEq(u.GlobalLimit)
}

// MVCCGetOptions tune MVCCGet.
type MVCCGetOptions struct {
	// Txn is the reading transaction: its intents are visible to it.
	Txn *Txn
	// Uncertainty makes values in the reader's uncertainty interval an
	// error.
	Uncertainty Uncertainty
	// Tombstones returns a deletion as a tombstone value instead of nothing.
	Tombstones bool
	// FailOnMoreRecent makes any committed version at or above the read
	// timestamp a WriteTooOldError, and any other transaction's intent a
	// conflict: the read a write does.
	FailOnMoreRecent bool
}

// MVCCGetResult is what MVCCGet found.
type MVCCGetResult struct {
	// Value is nil when the key has no visible value.
	Value *Value
	// Timestamp is the version's timestamp.
	Timestamp hlc.Timestamp
}

// MVCCWriteOptions tune the write operations.
type MVCCWriteOptions struct {
	// Txn makes the write an intent of the transaction, at its
	// WriteTimestamp and Sequence.
	Txn *Txn
	// Committed writes the transaction's value as committed, with no
	// lock record: for a transaction that commits in the same batch (a
	// one-phase commit), which would otherwise write a lock record and
	// remove it again at once. It replaces an intent the transaction left
	// at the key earlier. A batch must not write one key twice this way:
	// the second write would find the first as another's committed value.
	Committed bool
	// FreshRead is for a transaction's write that depends on the key's
	// value (a conditional put, an increment): a committed version newer
	// than the transaction's read timestamp fails it with a
	// ReadNotFreshError, since the value it would act on is not the one
	// the transaction's snapshot holds. (Its own intent's value is.)
	FreshRead bool
	// KnownAbsent: the caller has made sure the key has no version and no
	// lock record (MVCCSpanEmpty over a span holding it, under latches
	// that keep it so), so the write reads neither. Nothing the write
	// depends on is looked at: the key must not have been written before
	// in the same batch either.
	KnownAbsent bool
	// LocalTimestamp is the clock here as the write is evaluated: a write
	// at a timestamp above it records it with the version (see
	// Uncertainty). Empty: the clock is known to be at or above the
	// write's timestamp.
	LocalTimestamp hlc.Timestamp
}

// KeyValue is one result of a scan.
type KeyValue struct {
	Key       []byte
	Value     Value
	Timestamp hlc.Timestamp
}

// readParams describe one read.
type readParams struct {
	ts               hlc.Timestamp
	txn              *Txn
	unc              Uncertainty
	failOnMoreRecent bool
	tombstones       bool
}

// readOutcome is what a read of one key found. value aliases the
// iterator's or the lock record's memory.
type readOutcome struct {
	found bool
	value Value
	ts    hlc.Timestamp
}

func (p *readParams) own(lock *LockRecord) bool {
	return p.txn != nil && lock.Txn.ID == p.txn.ID
}

// conflicts reports whether another transaction's lock blocks the read.
// An intent in the uncertainty interval conflicts too: only its commit
// timestamp decides whether the reader must see it.
func (p *readParams) conflicts(lock *LockRecord) bool {
	if p.own(lock) {
		return false
	}
	return p.failOnMoreRecent || lock.Txn.WriteTimestamp.LessEq(p.ts) ||
		p.unc.uncertain(p.ts, lock.Txn.WriteTimestamp, lock.LocalTimestamp())
}

// seekTs is the newest version a read must look at.
func (p *readParams) seekTs(lock *LockRecord) hlc.Timestamp {
	if p.failOnMoreRecent {
		return hlc.MaxTimestamp
	}
	ts := p.ts
	ts.Forward(p.unc.GlobalLimit)
	if lock != nil && p.own(lock) {
		ts.Forward(lock.Txn.WriteTimestamp)
	}
	return ts
}

// readVersions decides what the reader sees of key, starting at the
// iterator's position (valid tells whether it has one) somewhere at or
// above every version it must consider, and stepping forward through the
// key's versions. A caller that has already decoded the iterator's key, a
// version of key, passes its timestamp as first (decoded); the key is not
// decoded again. The caller has ruled out a conflicting lock.
func (p *readParams) readVersions(
	it *pebble.Iterator, valid bool, key []byte, first hlc.Timestamp, decoded bool, lock *LockRecord,
) (readOutcome, error) {
	own := lock != nil && p.own(lock)
	if own && lock.Txn.Epoch > p.txn.Epoch {
		return readOutcome{}, errors.AssertionFailedf(
			"kv: intent on %q from epoch %d newer than reader's epoch %d", key, lock.Txn.Epoch, p.txn.Epoch)
	}
	ts := first
	for ; valid; valid, decoded = it.Next(), false {
		if !decoded {
			var same bool
			var err error
			if ts, same, err = decodeVersionOf(it.Key(), key); err != nil {
				return readOutcome{}, err
			} else if !same {
				break
			}
		}
		if ts.IsEmpty() {
			continue // the unversioned key
		}
		if lock != nil && ts == lock.Txn.WriteTimestamp {
			// The provisional version: only its own transaction sees it, at
			// the value of its current sequence.
			if own && lock.Txn.Epoch == p.txn.Epoch {
				raw, err := it.ValueAndErr()
				if err != nil {
					return readOutcome{}, err
				}
				cur, err := decodeValue(MVCCKey{Key: key, Timestamp: ts}, raw)
				if err != nil {
					return readOutcome{}, err
				}
				if v, ok := lock.valueAtSeq(p.txn.Sequence, p.txn.IgnoredSeqNums, cur); ok {
					return p.outcome(v, ts), nil
				}
			}
			continue
		}
		if p.failOnMoreRecent && p.ts.LessEq(ts) {
			return readOutcome{}, &WriteTooOldError{
				Key: append([]byte{}, key...), Timestamp: p.ts, ActualTimestamp: ts.Next()}
		}
		if p.ts.Less(ts) {
			localTs := ts
			if p.unc.aboveLocalLimit(ts) {
				// Above the local limit: only the value says whether it
				// was written here before the reader began.
				raw, err := it.ValueAndErr()
				if err != nil {
					return readOutcome{}, err
				}
				if localTs, err = storedLocalTimestamp(MVCCKey{Key: key, Timestamp: ts}, raw); err != nil {
					return readOutcome{}, err
				}
			}
			if p.unc.uncertain(p.ts, ts, localTs) {
				return readOutcome{}, &ReadWithinUncertaintyIntervalError{
					Key: append([]byte{}, key...), ReadTimestamp: p.ts, ValueTimestamp: ts,
					GlobalUncertaintyLimit: p.unc.GlobalLimit, LocalUncertaintyLimit: p.unc.LocalLimit,
				}
			}
			continue
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			return readOutcome{}, err
		}
		v, err := decodeValue(MVCCKey{Key: key, Timestamp: ts}, raw)
		if err != nil {
			return readOutcome{}, err
		}
		return p.outcome(v, ts), nil
	}
	return readOutcome{}, it.Error()
}

func (p *readParams) outcome(v Value, ts hlc.Timestamp) readOutcome {
	if v.IsTombstone() && !p.tombstones {
		return readOutcome{}
	}
	return readOutcome{found: true, value: v, ts: ts}
}

var lockTableLower, lockTableUpper = EncodeMVCCKey(MVCCKey{Key: LocalLockTablePrefix}), EncodeMVCCKey(MVCCKey{Key: LocalLockTableMax})

// lockTableBounds are the encoded bounds of the lock table keyspace.
func lockTableBounds() (lower, upper []byte) { return lockTableLower, lockTableUpper }

func lockConflict(key []byte, lock *LockRecord) *LockConflictError {
	return &LockConflictError{Locks: []Lock{{Key: append([]byte{}, key...), Txn: lock.Txn}}}
}

func checkKey(key []byte) error {
	if IsLockTableKey(key) {
		return errors.Newf("kv: MVCC operation on lock table key %q", key)
	}
	return nil
}

func checkTs(ts hlc.Timestamp) error {
	if ts.IsEmpty() || ts.WallTime < 0 || ts.Logical < 0 {
		return errors.Newf("kv: MVCC operation at invalid timestamp %s", ts)
	}
	return nil
}

// MVCCGet reads key at ts.
func MVCCGet(r Reader, key []byte, ts hlc.Timestamp, opts MVCCGetOptions) (MVCCGetResult, error) {
	if err := checkKey(key); err != nil {
		return MVCCGetResult{}, err
	}
	if err := checkTs(ts); err != nil {
		return MVCCGetResult{}, err
	}
	// The lock table gets its own iterator, bounded to the lock table, so
	// the lookup skips every SST of user data.
	lit, err := r.newPebbleIter(lockTableBounds())
	if err != nil {
		return MVCCGetResult{}, err
	}
	var arr [64]byte
	buf := arr[:0]
	lock, _, err := readLock(lit, key, &buf)
	r.releasePebbleIter(lit)
	if err != nil {
		return MVCCGetResult{}, err
	}
	it, err := r.newPebbleIter(nil, nil)
	if err != nil {
		return MVCCGetResult{}, err
	}
	defer r.releasePebbleIter(it)
	p := readParams{ts: ts, txn: opts.Txn, unc: opts.Uncertainty,
		failOnMoreRecent: opts.FailOnMoreRecent, tombstones: opts.Tombstones}
	if lock != nil && p.conflicts(lock) {
		return MVCCGetResult{}, lockConflict(key, lock)
	}
	buf = AppendMVCCKey(buf[:0], MVCCKey{Key: key, Timestamp: p.seekTs(lock)})
	out, err := p.readVersions(it, it.SeekPrefixGE(buf), key, hlc.Timestamp{}, false, lock)
	if err != nil || !out.found {
		return MVCCGetResult{}, err
	}
	v := &Value{Type: out.value.Type}
	if out.value.RawBytes != nil {
		v.RawBytes = append(make([]byte, 0, len(out.value.RawBytes)), out.value.RawBytes...)
	}
	return MVCCGetResult{Value: v, Timestamp: out.ts}, nil
}

// MVCCScanOptions tune MVCCScan.
type MVCCScanOptions struct {
	Txn              *Txn
	Uncertainty      Uncertainty
	Tombstones       bool
	FailOnMoreRecent bool
	// Reverse scans from the end of the span backwards.
	Reverse bool
	// MaxKeys, when positive, stops the scan after that many results.
	MaxKeys int64
	// TargetBytes, when positive, stops the scan once the results hold that
	// many bytes (keys plus values); the result crossing it is included.
	TargetBytes int64
}

// MVCCScanResult is what MVCCScan found. The results are kept in
// pointer-free buffers (cheap to build and invisible to the garbage
// collector's scanning); At and KVs present them as KeyValues.
type MVCCScanResult struct {
	// chunks hold the keys and values; a full chunk is never grown, a new
	// one is started, so building the result copies every byte once.
	chunks [][]byte
	// index describes the results in blocks of scanIndexBlock entries
	// (the first may be smaller when MaxKeys is): like the chunks, a full
	// block is never grown or copied. Result i is
	// index[i/scanIndexBlock][i%scanIndexBlock].
	index [][]scanEntry
	n     int
	// NumBytes is the size of the results, keys plus values.
	NumBytes int64
	// ResumeSpan, when the scan stopped at a limit, is what is left to scan.
	ResumeSpan *Span
}

// scanEntry describes one result: its key and value are
// chunks[chunk][keyStart:keyEnd:valEnd]. The timestamp is flattened to
// keep the entry at 32 bytes.
type scanEntry struct {
	chunk, keyStart, keyEnd, valEnd uint32
	wallTime                        int64
	logical                         int32
	typ                             ValueType
}

const (
	scanChunkSize  = 16 << 10
	scanIndexBlock = 256
)

// Len is the number of results.
func (r *MVCCScanResult) Len() int { return r.n }

// At returns result i; its slices alias the result's memory.
func (r *MVCCScanResult) At(i int) KeyValue {
	e := r.index[i/scanIndexBlock][i%scanIndexBlock]
	c := r.chunks[e.chunk]
	kv := KeyValue{
		Key:       c[e.keyStart:e.keyEnd:e.keyEnd],
		Value:     Value{Type: e.typ},
		Timestamp: hlc.Timestamp{WallTime: e.wallTime, Logical: e.logical},
	}
	if e.valEnd > e.keyEnd {
		kv.Value.RawBytes = c[e.keyEnd:e.valEnd:e.valEnd]
	}
	return kv
}

// KVs returns all results.
func (r *MVCCScanResult) KVs() []KeyValue {
	out := make([]KeyValue, r.Len())
	for i := range out {
		out[i] = r.At(i)
	}
	return out
}

// MVCCScan reads the keys in [start, end) at ts. It returns a
// LockConflictError naming every conflicting lock it found.
func MVCCScan(r Reader, start, end []byte, ts hlc.Timestamp, opts MVCCScanOptions) (MVCCScanResult, error) {
	if err := checkTs(ts); err != nil {
		return MVCCScanResult{}, err
	}
	if bytes.Compare(start, end) >= 0 {
		return MVCCScanResult{}, nil
	}
	s := scanner{
		r: r, start: start, end: end, opts: &opts,
		p: readParams{ts: ts, txn: opts.Txn, unc: opts.Uncertainty,
			failOnMoreRecent: opts.FailOnMoreRecent, tombstones: opts.Tombstones},
	}
	return s.run()
}

// scanner is the state of one MVCCScan.
type scanner struct {
	r          Reader
	start, end []byte
	opts       *MVCCScanOptions
	p          readParams

	data, locks *pebble.Iterator
	lockValid   bool
	buf         []byte

	res MVCCScanResult
	// chunk and block are the last of res.chunks and res.index, made at
	// full length: chunk[:used] is taken, block[:res.n%scanIndexBlock]
	// is. run trims them to what was used.
	chunk     []byte
	used      int
	block     []scanEntry
	conflicts []Lock
}

func (s *scanner) run() (res MVCCScanResult, err error) {
	s.data, err = s.r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: s.start}), EncodeMVCCKey(MVCCKey{Key: s.end}))
	if err != nil {
		return res, err
	}
	defer s.r.releasePebbleIter(s.data)
	llo, lhi := lockTableSpan(s.start, s.end)
	s.locks, err = s.r.newPebbleIter(EncodeMVCCKey(MVCCKey{Key: llo}), EncodeMVCCKey(MVCCKey{Key: lhi}))
	if err != nil {
		return res, err
	}
	defer s.r.releasePebbleIter(s.locks)

	var resume *Span
	if s.opts.Reverse {
		resume, err = s.reverse()
	} else {
		resume, err = s.forward()
	}
	if err != nil {
		return res, err
	}
	if len(s.conflicts) > 0 {
		return res, &LockConflictError{Locks: s.conflicts}
	}
	if n := len(s.res.chunks); n > 0 {
		s.res.chunks[n-1] = s.chunk[:s.used]
	}
	if n := len(s.res.index); n > 0 {
		s.res.index[n-1] = s.block[:(s.res.n-1)%scanIndexBlock+1]
	}
	s.res.ResumeSpan = resume
	return s.res, nil
}

// full reports whether a limit has been reached.
func (s *scanner) full() bool {
	return (s.opts.MaxKeys > 0 && int64(s.res.n) >= s.opts.MaxKeys) ||
		(s.opts.TargetBytes > 0 && s.res.NumBytes >= s.opts.TargetBytes)
}

// handleKey reads key, the iterator being at or above its newest version
// (valid tells whether it has a position; decoded, whether ts is the
// timestamp of the key there, a version of key). onKey reports that it
// certainly left the iterator on one of key's versions; otherwise the
// iterator may be there, past them, or exhausted.
func (s *scanner) handleKey(key []byte, valid bool, ts hlc.Timestamp, decoded bool, lock *LockRecord) (onKey bool, err error) {
	if lock != nil && s.p.conflicts(lock) {
		s.conflicts = append(s.conflicts, Lock{Key: append([]byte{}, key...), Txn: lock.Txn})
		return decoded, nil
	}
	out, err := s.p.readVersions(s.data, valid, key, ts, decoded, lock)
	if err != nil || !out.found {
		return false, err
	}
	return true, s.add(key, out.ts, out.value)
}

// add appends a result. Its hot path stores no pointers (the chunk and
// block are filled by offset), so it needs no write barriers while the
// garbage collector runs.
func (s *scanner) add(key []byte, ts hlc.Timestamp, v Value) error {
	size := len(key) + len(v.RawBytes)
	if size > math.MaxUint32/2 {
		return errors.New("kv: scan result too large")
	}
	if len(s.chunk)-s.used < size {
		if n := len(s.res.chunks); n > 0 {
			s.res.chunks[n-1] = s.chunk[:s.used]
		}
		s.chunk, s.used = make([]byte, max(scanChunkSize, size)), 0
		s.res.chunks = append(s.res.chunks, s.chunk)
	}
	i := s.res.n % scanIndexBlock
	switch {
	case i == 0:
		n := scanIndexBlock
		if s.res.n == 0 && s.opts.MaxKeys > 0 {
			n = int(min(int64(n), s.opts.MaxKeys))
		}
		s.block = make([]scanEntry, n)
		s.res.index = append(s.res.index, s.block)
	case i == len(s.block):
		// Only a first block sized for MaxKeys can fill up early.
		s.block = append(s.block, make([]scanEntry, scanIndexBlock-len(s.block))...)
		s.res.index[len(s.res.index)-1] = s.block
	}
	e := &s.block[i]
	*e = scanEntry{chunk: uint32(len(s.res.chunks) - 1), keyStart: uint32(s.used),
		wallTime: ts.WallTime, logical: ts.Logical, typ: v.Type}
	s.used += copy(s.chunk[s.used:], key)
	e.keyEnd = uint32(s.used)
	s.used += copy(s.chunk[s.used:], v.RawBytes)
	e.valEnd = uint32(s.used)
	s.res.n++
	s.res.NumBytes += int64(size)
	return nil
}

// lockFor returns the lock record of key, walking the lock iterator
// forward (reverse scans seek it for each key).
func (s *scanner) lockFor(key []byte) (*LockRecord, error) {
	for s.lockValid {
		lk, err := DecodeMVCCKey(s.locks.Key())
		if err != nil {
			return nil, err
		}
		locked, err := DecodeLockTableKey(lk.Key)
		if err != nil {
			return nil, err
		}
		switch c := bytes.Compare(locked, key); {
		case c < 0:
			s.buf = AppendMVCCKey(append(s.buf[:0], LocalLockTablePrefix...), MVCCKey{Key: key})
			s.lockValid = s.locks.SeekGE(s.buf)
			continue
		case c > 0:
			return nil, nil
		}
		v, err := s.locks.ValueAndErr()
		if err != nil || isLockMarker(v) {
			return nil, err
		}
		rec, err := DecodeLockRecord(v)
		if err != nil {
			return nil, &ChecksumError{Key: lk, Reason: err.Error()}
		}
		return rec, nil
	}
	return nil, s.locks.Error()
}

func (s *scanner) forward() (*Span, error) {
	s.lockValid = s.locks.First()
	valid := s.data.First()
	var key []byte // the last user key read
	for read := false; valid; {
		k, err := DecodeMVCCKey(s.data.Key())
		if err != nil {
			return nil, err
		}
		if read && bytes.Equal(k.Key, key) {
			// An older version of the key just read. The scan steps with
			// Next after a key, the cheapest step when, as usual, the key
			// has one version; only when it has more does NextPrefix skip
			// the rest of them.
			valid = s.data.NextPrefix()
			continue
		}
		if s.full() {
			return &Span{Key: append([]byte{}, k.Key...), EndKey: s.end}, nil
		}
		key, read = append(key[:0], k.Key...), true
		lock, err := s.lockFor(key)
		if err != nil {
			return nil, err
		}
		onKey, err := s.handleKey(key, true, k.Timestamp, true, lock)
		if err != nil {
			return nil, err
		}
		if onKey {
			valid = s.data.Next()
		} else {
			// handleKey left the iterator on a version of key, on a later
			// key, or exhausted.
			valid = s.data.Valid()
		}
	}
	return nil, s.data.Error()
}

func (s *scanner) reverse() (*Span, error) {
	valid := s.data.Last()
	var key []byte
	for valid {
		k, err := DecodeMVCCKey(s.data.Key())
		if err != nil {
			return nil, err
		}
		if s.full() {
			return &Span{Key: s.start, EndKey: keyNext(k.Key)}, nil
		}
		key = append(key[:0], k.Key...)
		s.buf = AppendMVCCKey(append(s.buf[:0], LocalLockTablePrefix...), MVCCKey{Key: key})
		s.lockValid = s.locks.SeekGE(s.buf)
		lock, err := s.lockFor(key)
		if err != nil {
			return nil, err
		}
		s.buf = AppendMVCCKey(s.buf[:0], MVCCKey{Key: key})
		if _, err := s.handleKey(key, s.data.SeekGE(s.buf), hlc.Timestamp{}, false, lock); err != nil {
			return nil, err
		}
		s.buf = AppendMVCCKey(s.buf[:0], MVCCKey{Key: key})
		valid = s.data.SeekLT(s.buf)
	}
	return nil, s.data.Error()
}

// writeState is what a write learned about its key before writing.
type writeState struct {
	lock     *LockRecord // the writer's own lock, if any
	lockSize int64
	// cur is the own intent's current value (valid when lock != nil).
	cur Value
	// versions are the newest versions, down to the newest committed one,
	// for the stats.
	versions []statVersion
	// marker: a lock record removed is left as a marker (isLockMarker).
	marker bool
}

// mvccWrite writes key at ts, or at the transaction's write timestamp.
// compute receives the value the writer sees (nil if none; a tombstone is
// passed on) and returns the value to write, or skip to write nothing.
func mvccWrite(
	rw ReadWriter, ms *MVCCStats, key []byte, ts hlc.Timestamp, opts MVCCWriteOptions,
	compute func(existing *Value) (v Value, skip bool, err error),
) error {
	txn := opts.Txn
	if err := checkKey(key); err != nil {
		return err
	}
	writeTs := ts
	if txn != nil {
		writeTs = txn.WriteTimestamp
	}
	if err := checkTs(writeTs); err != nil {
		return err
	}
	var arr [64]byte
	buf := arr[:0]
	var lock *LockRecord
	var lockSize int64
	var it *pebble.Iterator
	if !opts.KnownAbsent {
		var err error
		if it, err = rw.newPebbleIter(nil, nil); err != nil {
			return err
		}
		defer rw.releasePebbleIter(it)
		if lock, lockSize, err = readLock(it, key, &buf); err != nil {
			return err
		}
	}
	if lock != nil && (txn == nil || lock.Txn.ID != txn.ID) {
		return lockConflict(key, lock)
	}
	if lock != nil && lock.Txn.Epoch > txn.Epoch {
		return errors.AssertionFailedf("kv: write to %q at epoch %d below its intent's epoch %d",
			key, txn.Epoch, lock.Txn.Epoch)
	}
	st := writeState{lock: lock, lockSize: lockSize}
	// resolveOwn finishes a Committed write to a key where the transaction
	// had an intent already: that intent, with its history, is updated as
	// usual and then resolved as committed, as the commit would have.
	resolveOwn := func() error {
		if !opts.Committed || lock == nil {
			return nil
		}
		meta := txn.TxnMeta
		meta.WriteTimestamp = writeTs
		_, err := MVCCResolveIntent(rw, ms, LockUpdate{Span: Span{Key: key}, Txn: meta, Status: COMMITTED,
			IgnoredSeqNums: txn.IgnoredSeqNums})
		return err
	}
	var committed *Value
	var committedTs hlc.Timestamp
	buf = AppendMVCCKey(buf[:0], MVCCKey{Key: key, Timestamp: hlc.MaxTimestamp})
	for valid := it != nil && it.SeekPrefixGE(buf); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return err
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		st.versions = append(st.versions, statVersion{ts: k.Timestamp, valLen: int64(len(raw)), tombstone: valueIsTombstone(raw)})
		v, err := decodeValue(k, raw)
		if err != nil {
			return err
		}
		v.RawBytes = append([]byte(nil), v.RawBytes...)
		if lock != nil && k.Timestamp == lock.Txn.WriteTimestamp {
			st.cur = v
			continue
		}
		committed, committedTs = &v, k.Timestamp
		break
	}
	if it != nil {
		if err := it.Error(); err != nil {
			return err
		}
	}
	sameEpoch := lock != nil && lock.Txn.Epoch == txn.Epoch
	existing := committed
	ownValue := false
	if sameEpoch {
		if v, ok := lock.valueAtSeq(txn.Sequence-1, txn.IgnoredSeqNums, st.cur); ok {
			existing, ownValue = &v, true
		}
	}
	if opts.FreshRead && txn != nil && !ownValue && committed != nil && txn.ReadTimestamp.Less(committedTs) {
		return &ReadNotFreshError{Key: append([]byte{}, key...), ReadTimestamp: txn.ReadTimestamp, ActualTimestamp: committedTs.Next()}
	}
	if committed != nil && writeTs.LessEq(committedTs) {
		return &WriteTooOldError{Key: append([]byte{}, key...), Timestamp: writeTs, ActualTimestamp: committedTs.Next()}
	}
	v, skip, err := compute(existing)
	if err != nil || skip {
		return err
	}
	if sameEpoch && txn.Sequence <= lock.Txn.Sequence {
		// A replay of an earlier write is harmless if it writes the same
		// value; anything else means the sequence numbers went backwards.
		if prev, ok := lock.valueAtSeq(txn.Sequence, nil, st.cur); ok && prev.Equal(v) {
			return resolveOwn()
		}
		return errors.Wrapf(ErrSequenceRegression, "key %q: write at sequence %d, intent at sequence %d",
			key, txn.Sequence, lock.Txn.Sequence)
	}

	var localTs hlc.Timestamp
	if lt := opts.LocalTimestamp; !lt.IsEmpty() && lt.Less(writeTs) {
		localTs = lt
	}
	var newLock *LockRecord
	if txn != nil && (!opts.Committed || lock != nil) {
		newLock = &LockRecord{Txn: txn.TxnMeta, LocalTs: localTs}
		newLock.Txn.WriteTimestamp = writeTs
		if sameEpoch {
			newLock.History = append(append(make([]IntentHistoryEntry, 0, len(lock.History)+1), lock.History...),
				IntentHistoryEntry{Sequence: lock.Txn.Sequence, Value: st.cur})
		}
	}
	if err := writeVersion(rw, ms, key, st, writeTs, v, localTs, newLock); err != nil {
		return err
	}
	return resolveOwn()
}

// writeVersion replaces the key's provisional version (if st.lock) by a
// version at ts holding v, with local timestamp localTs (none if empty),
// and its lock record by newLock (nil for none), updating ms.
func writeVersion(rw ReadWriter, ms *MVCCStats, key []byte, st writeState, ts hlc.Timestamp, v Value, localTs hlc.Timestamp, newLock *LockRecord) error {
	var oldTs hlc.Timestamp
	if st.lock != nil {
		oldTs = st.lock.Txn.WriteTimestamp
		if oldTs != ts {
			if err := rw.Clear(MVCCKey{Key: key, Timestamp: oldTs}); err != nil {
				return err
			}
		}
	}
	enc := appendValueLocal(make([]byte, 0, encodedValueLen(v)+valueLocalTsLen), key, v, localTs)
	if err := rw.Put(MVCCKey{Key: key, Timestamp: ts}, enc); err != nil {
		return err
	}
	var lockSize int64
	switch {
	case newLock != nil:
		lv := EncodeLockRecord(newLock)
		lk := MVCCKey{Key: LockTableKey(key)}
		lockSize = int64(lk.EncodedLen() + len(lv))
		if err := rw.Put(lk, lv); err != nil {
			return err
		}
	case st.lock != nil:
		if err := clearLock(rw, key, st.marker); err != nil {
			return err
		}
	}
	if ms == nil {
		return nil
	}
	after := withoutVersion(st.versions, oldTs, st.lock != nil)
	after = withVersion(after, statVersion{ts: ts, valLen: int64(len(enc)), tombstone: v.IsTombstone()})
	var lb, la *statLock
	if st.lock != nil {
		lb = &statLock{size: st.lockSize, intentTs: oldTs}
	}
	if newLock != nil {
		la = &statLock{size: lockSize, intentTs: ts}
	}
	ms.Add(statsDelta(key, st.versions, after, lb, la, statsNow(ms, ts)))
	return nil
}

// withoutVersion returns a copy of vs without the version at ts (if drop).
func withoutVersion(vs []statVersion, ts hlc.Timestamp, drop bool) []statVersion {
	out := make([]statVersion, 0, len(vs)+1)
	for _, v := range vs {
		if drop && v.ts == ts {
			continue
		}
		out = append(out, v)
	}
	return out
}

// withVersion inserts (or replaces) v in vs, keeping newest first.
func withVersion(vs []statVersion, v statVersion) []statVersion {
	for i := range vs {
		if vs[i].ts == v.ts {
			vs[i] = v
			return vs
		}
		if vs[i].ts.Less(v.ts) {
			vs = append(vs, statVersion{})
			copy(vs[i+1:], vs[i:])
			vs[i] = v
			return vs
		}
	}
	return append(vs, v)
}

// MVCCPut writes value to key at ts (inside opts.Txn: as an intent at the
// transaction's write timestamp).
func MVCCPut(rw ReadWriter, ms *MVCCStats, key []byte, ts hlc.Timestamp, value Value, opts MVCCWriteOptions) error {
	if value.IsTombstone() {
		return errors.New("kv: MVCCPut of a tombstone; use MVCCDelete")
	}
	return mvccWrite(rw, ms, key, ts, opts, func(*Value) (Value, bool, error) { return value, false, nil })
}

// MVCCDelete writes a tombstone to key at ts and reports whether the key
// had a value.
func MVCCDelete(rw ReadWriter, ms *MVCCStats, key []byte, ts hlc.Timestamp, opts MVCCWriteOptions) (bool, error) {
	var found bool
	err := mvccWrite(rw, ms, key, ts, opts, func(existing *Value) (Value, bool, error) {
		found = existing != nil && !existing.IsTombstone()
		return TombstoneValue, false, nil
	})
	return found && err == nil, err
}

// MVCCConditionalPut writes value to key if the value the writer sees
// equals expected (nil: no value). allowIfDoesNotExist also accepts a
// missing value. Otherwise it returns a ConditionFailedError with the
// actual value.
func MVCCConditionalPut(
	rw ReadWriter, ms *MVCCStats, key []byte, ts hlc.Timestamp, value Value, expected *Value,
	allowIfDoesNotExist bool, opts MVCCWriteOptions,
) error {
	return mvccWrite(rw, ms, key, ts, opts, func(existing *Value) (Value, bool, error) {
		if existing != nil && existing.IsTombstone() {
			existing = nil
		}
		switch {
		case existing == nil && (expected == nil || allowIfDoesNotExist):
		case existing != nil && expected != nil && existing.Equal(*expected):
		default:
			return Value{}, false, &ConditionFailedError{Key: append([]byte{}, key...), ActualValue: existing}
		}
		return value, false, nil
	})
}

// MVCCInitPut writes value to key unless the key already holds a different
// value (ConditionFailedError); an equal value is left alone. With
// failOnTombstones a deleted key fails too.
func MVCCInitPut(
	rw ReadWriter, ms *MVCCStats, key []byte, ts hlc.Timestamp, value Value, failOnTombstones bool,
	opts MVCCWriteOptions,
) error {
	return mvccWrite(rw, ms, key, ts, opts, func(existing *Value) (Value, bool, error) {
		switch {
		case existing == nil:
		case existing.IsTombstone():
			if failOnTombstones {
				return Value{}, false, &ConditionFailedError{Key: append([]byte{}, key...), ActualValue: existing}
			}
		case existing.Equal(value):
			return Value{}, true, nil
		default:
			return Value{}, false, &ConditionFailedError{Key: append([]byte{}, key...), ActualValue: existing}
		}
		return value, false, nil
	})
}

// MVCCIncrement adds inc to the integer at key (0 when there is none) and
// returns the new value.
func MVCCIncrement(rw ReadWriter, ms *MVCCStats, key []byte, ts hlc.Timestamp, inc int64, opts MVCCWriteOptions) (int64, error) {
	var n int64
	err := mvccWrite(rw, ms, key, ts, opts, func(existing *Value) (Value, bool, error) {
		n = 0
		if existing != nil && !existing.IsTombstone() {
			i, err := existing.GetInt()
			if err != nil {
				return Value{}, false, errors.Wrapf(err, "key %q", key)
			}
			n = i
		}
		n += inc
		return MakeIntValue(n), false, nil
	})
	return n, err
}

// MVCCDeleteRange deletes the keys with values in [start, end) at ts, at
// most maxKeys of them when positive, and returns how many it deleted, the
// keys if returnKeys, and the span left when it stopped at maxKeys.
func MVCCDeleteRange(
	rw ReadWriter, ms *MVCCStats, start, end []byte, ts hlc.Timestamp, opts MVCCWriteOptions,
	maxKeys int64, returnKeys bool,
) (deleted [][]byte, num int64, resume *Span, err error) {
	readTs := ts
	if opts.Txn != nil {
		readTs = opts.Txn.WriteTimestamp
	}
	res, err := MVCCScan(rw, start, end, readTs, MVCCScanOptions{Txn: opts.Txn, FailOnMoreRecent: true, MaxKeys: maxKeys})
	if err != nil {
		return nil, 0, nil, err
	}
	for _, kv := range res.KVs() {
		if _, err := MVCCDelete(rw, ms, kv.Key, ts, opts); err != nil {
			return nil, 0, nil, err
		}
		if returnKeys {
			deleted = append(deleted, kv.Key)
		}
	}
	return deleted, int64(res.Len()), res.ResumeSpan, nil
}

// MVCCPutUnversioned writes an unversioned (checksummed) value at key: for
// range-local metadata that is not read at a timestamp.
func MVCCPutUnversioned(rw ReadWriter, ms *MVCCStats, key []byte, v Value) error {
	return putUnversioned(rw, ms, key, &v)
}

// MVCCDeleteUnversioned removes the unversioned value at key.
func MVCCDeleteUnversioned(rw ReadWriter, ms *MVCCStats, key []byte) error {
	return putUnversioned(rw, ms, key, nil)
}

func putUnversioned(rw ReadWriter, ms *MVCCStats, key []byte, v *Value) error {
	if err := checkKey(key); err != nil {
		return err
	}
	mk := MVCCKey{Key: key}
	var old []byte
	if ms != nil {
		var err error
		if old, err = rw.Get(mk); err != nil {
			return err
		}
	}
	var err error
	var enc []byte
	if v != nil {
		enc = appendValue(nil, key, *v)
		err = rw.Put(mk, enc)
	} else {
		err = rw.Clear(mk)
	}
	if err != nil || ms == nil {
		return err
	}
	if old != nil {
		ms.SysCount--
		ms.SysBytes -= int64(mk.EncodedLen() + len(old))
	}
	if v != nil {
		ms.SysCount++
		ms.SysBytes += int64(mk.EncodedLen() + len(enc))
	}
	return nil
}

// MVCCGetUnversioned reads the unversioned value at key (nil if none).
func MVCCGetUnversioned(r Reader, key []byte) (*Value, error) {
	mk := MVCCKey{Key: key}
	raw, err := r.Get(mk)
	if err != nil || raw == nil {
		return nil, err
	}
	v, err := decodeValue(mk, raw)
	if err != nil {
		return nil, err
	}
	return &v, nil
}
