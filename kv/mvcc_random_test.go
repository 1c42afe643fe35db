package kv

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

var randomSeed = flag.Uint64("mvcc-seed", 0, "seed for TestMVCCRandomized (0: random)")

// TestMVCCRandomized runs random histories of MVCC operations — plain and
// transactional writes, savepoint rollbacks, restarts, pushes, commits,
// aborts, GC — against the engine and against a simple in-memory model,
// comparing every read and every error kind. After each history the
// incremental stats must equal a recompute.
func TestMVCCRandomized(t *testing.T) {
	seed := *randomSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	histories, ops := 100, 500
	if testing.Short() {
		histories = 10
	}
	for h := 0; h < histories; h++ {
		s := seed + uint64(h)
		if !runRandomHistory(t, s, ops) {
			t.Fatalf("history failed; reproduce with -run TestMVCCRandomized -mvcc-seed=%d", s)
		}
	}
}

// The model: committed versions per key (newest first) and at most one
// intent per key.
type refVersion struct {
	ts hlc.Timestamp
	v  Value
	// local is the version's local timestamp (see Uncertainty).
	local hlc.Timestamp
}

type refWrite struct {
	seq int32
	v   Value
}

type refIntent struct {
	txn    TxnID
	epoch  int32
	ts     hlc.Timestamp
	local  hlc.Timestamp // the provisional version's local timestamp
	writes []refWrite    // ascending seq, this epoch's writes
}

// valueAt is the newest write at or below seq not ignored.
func (in *refIntent) valueAt(seq int32, ignored []SeqNumRange) (Value, bool) {
	for i := len(in.writes) - 1; i >= 0; i-- {
		w := in.writes[i]
		if w.seq <= seq && !seqIgnored(w.seq, ignored) {
			return w.v, true
		}
	}
	return Value{}, false
}

type refModel struct {
	committed map[string][]refVersion
	intents   map[string]*refIntent
}

type errKind int

const (
	errNone errKind = iota
	errConflict
	errWTO
	errUncertain
	errCondition
	errOther
)

func kindOf(err error) errKind {
	switch {
	case err == nil:
		return errNone
	case errors.HasType(err, (*LockConflictError)(nil)):
		return errConflict
	case errors.HasType(err, (*WriteTooOldError)(nil)):
		return errWTO
	case errors.HasType(err, (*ReadWithinUncertaintyIntervalError)(nil)):
		return errUncertain
	case errors.HasType(err, (*ConditionFailedError)(nil)):
		return errCondition
	}
	return errOther
}

// read is what a read at ts by txn sees of key.
func (m *refModel) read(key string, ts hlc.Timestamp, txn *Txn, unc Uncertainty) (refVersion, bool, errKind) {
	// A version is uncertain if it is above ts, at or below the global
	// limit, and its local timestamp is at or below the local limit.
	uncertain := func(vts, local hlc.Timestamp) bool {
		return ts.Less(vts) && !unc.GlobalLimit.IsEmpty() && vts.LessEq(unc.GlobalLimit) &&
			(unc.LocalLimit.IsEmpty() || local.LessEq(unc.LocalLimit))
	}
	if in := m.intents[key]; in != nil {
		own := txn != nil && in.txn == txn.ID
		if !own && (in.ts.LessEq(ts) || uncertain(in.ts, in.local)) {
			return refVersion{}, false, errConflict
		}
		if own && in.epoch == txn.Epoch {
			if v, ok := in.valueAt(txn.Sequence, txn.IgnoredSeqNums); ok {
				return refVersion{ts: in.ts, v: v}, !v.IsTombstone(), errNone
			}
		}
	}
	for _, v := range m.committed[key] {
		if ts.Less(v.ts) {
			if uncertain(v.ts, v.local) {
				return refVersion{}, false, errUncertain
			}
			continue
		}
		return v, !v.v.IsTombstone(), errNone
	}
	return refVersion{}, false, errNone
}

// write checks a write of key at ts by txn (nil: plain) and returns the
// error kind the engine must report.
func (m *refModel) checkWrite(key string, ts hlc.Timestamp, txn *Txn) errKind {
	if in := m.intents[key]; in != nil && (txn == nil || in.txn != txn.ID) {
		return errConflict
	}
	if vs := m.committed[key]; len(vs) > 0 && ts.LessEq(vs[0].ts) {
		return errWTO
	}
	return errNone
}

func (m *refModel) write(key string, ts hlc.Timestamp, txn *Txn, v Value) {
	if txn == nil {
		m.addCommitted(key, ts, ts, v)
		return
	}
	in := m.intents[key]
	if in == nil || in.epoch != txn.Epoch {
		in = &refIntent{txn: txn.ID, epoch: txn.Epoch}
		m.intents[key] = in
	}
	in.ts, in.local = txn.WriteTimestamp, txn.WriteTimestamp
	in.writes = append(in.writes, refWrite{seq: txn.Sequence, v: v})
}

func (m *refModel) addCommitted(key string, ts, local hlc.Timestamp, v Value) {
	vs := append(m.committed[key], refVersion{ts: ts, v: v, local: local})
	sort.Slice(vs, func(i, j int) bool { return vs[j].ts.Less(vs[i].ts) })
	m.committed[key] = vs
}

// resolve applies a LockUpdate for one key.
func (m *refModel) resolve(key string, u LockUpdate) {
	in := m.intents[key]
	if in == nil || in.txn != u.Txn.ID {
		return
	}
	if u.Status == ABORTED || (u.Status == COMMITTED && in.epoch < u.Txn.Epoch) {
		delete(m.intents, key)
		return
	}
	if in.epoch == u.Txn.Epoch {
		in.writes = slices.DeleteFunc(in.writes, func(w refWrite) bool { return seqIgnored(w.seq, u.IgnoredSeqNums) })
		if len(in.writes) == 0 {
			delete(m.intents, key)
			return
		}
	}
	in.ts.Forward(u.Txn.WriteTimestamp)
	if u.Status == COMMITTED {
		delete(m.intents, key)
		m.addCommitted(key, in.ts, in.local, in.writes[len(in.writes)-1].v)
	}
}

func (m *refModel) gc(threshold hlc.Timestamp) {
	for k, vs := range m.committed {
		in := m.intents[k]
		for i, v := range vs {
			if in != nil && v.ts == in.ts {
				continue
			}
			if v.ts.LessEq(threshold) {
				cut := i + 1
				if v.v.IsTombstone() {
					cut = i
				}
				m.committed[k] = vs[:cut]
				break
			}
		}
		if len(m.committed[k]) == 0 {
			delete(m.committed, k)
		}
	}
}

func runRandomHistory(t *testing.T, seed uint64, nOps int) (ok bool) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	e := openTestEngine(t)
	m := &refModel{committed: map[string][]refVersion{}, intents: map[string]*refIntent{}}
	var ms MVCCStats
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	txns := map[TxnID]*Txn{}
	var txnList []TxnID
	nextTxn := 0
	var gcThreshold hlc.Timestamp
	now := int64(100)
	fail := func(format string, args ...interface{}) bool {
		t.Errorf("seed %d: "+format, append([]interface{}{seed}, args...)...)
		return false
	}
	randTs := func() hlc.Timestamp {
		w := now - int64(rng.IntN(20))
		ts := hlc.Timestamp{WallTime: w * 1e9, Logical: int32(rng.IntN(3))}
		if ts.LessEq(gcThreshold) {
			ts = gcThreshold.Next()
		}
		return ts
	}
	randTxn := func() *Txn {
		if len(txnList) == 0 {
			return nil
		}
		return txns[txnList[rng.IntN(len(txnList))]]
	}
	randValue := func() Value {
		if rng.IntN(4) == 0 {
			return MakeIntValue(int64(rng.IntN(100)))
		}
		return MakeBytesValue([]byte(fmt.Sprintf("v%d", rng.IntN(1000))))
	}
	// apply runs a write in a batch, committing it only on success.
	apply := func(op func(b Batch, ms *MVCCStats) error) error {
		b := e.NewBatch()
		msCopy := ms
		err := op(b, &msCopy)
		if err != nil {
			b.Close()
			return err
		}
		if cerr := b.Commit(false); cerr != nil {
			t.Fatal(cerr)
		}
		ms = msCopy
		return nil
	}
	endTxn := func(txn *Txn, status TxnStatus) bool {
		// Half the resolved locks stay as markers (as a hot key's do):
		// reads, writes and the stats must take them for no lock.
		u := LockUpdate{Span: Span{Key: []byte("a"), EndKey: []byte("z")}, Txn: txn.TxnMeta, Status: status,
			IgnoredSeqNums: txn.IgnoredSeqNums, KeepMarker: func([]byte) bool { return rng.IntN(2) == 0 }}
		err := apply(func(b Batch, ms *MVCCStats) error {
			_, _, err := MVCCResolveIntentRange(b, ms, u, 0)
			return err
		})
		if err != nil {
			return fail("resolve %s: %v", status, err)
		}
		for _, k := range keys {
			m.resolve(k, u)
		}
		if status != PENDING {
			delete(txns, txn.ID)
			txnList = slices.DeleteFunc(txnList, func(id TxnID) bool { return id == txn.ID })
		}
		return true
	}

	for op := 0; op < nOps; op++ {
		if rng.IntN(10) == 0 {
			now++
		}
		if rng.IntN(150) == 0 {
			// Move the data to SSTs now and then: reads must agree there too.
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		key := keys[rng.IntN(len(keys))]
		switch r := rng.IntN(100); {
		case r < 8: // begin
			if len(txnList) >= 3 {
				continue
			}
			nextTxn++
			var id TxnID
			copy(id[:], fmt.Sprintf("T%d", nextTxn))
			ts := randTs()
			txns[id] = &Txn{TxnMeta: TxnMeta{ID: id, WriteTimestamp: ts, MinTimestamp: ts}, ReadTimestamp: ts}
			txnList = append(txnList, id)
		case r < 40: // write
			txn := randTxn()
			if rng.IntN(3) == 0 {
				txn = nil
			}
			ts := randTs()
			wts := ts
			if txn != nil {
				txn.Sequence++
				wts = txn.WriteTimestamp
			}
			v := randValue()
			del := rng.IntN(4) == 0
			if del {
				v = TombstoneValue
			}
			want := m.checkWrite(key, wts, txn)
			err := apply(func(b Batch, ms *MVCCStats) error {
				if del {
					_, err := MVCCDelete(b, ms, []byte(key), ts, MVCCWriteOptions{Txn: txn})
					return err
				}
				return MVCCPut(b, ms, []byte(key), ts, v, MVCCWriteOptions{Txn: txn})
			})
			if got := kindOf(err); got != want {
				return fail("op %d: write %q at %s (txn %v): got error %v, want kind %d", op, key, wts, txn != nil, err, want)
			}
			if err == nil {
				m.write(key, wts, txn, v)
			} else if txn != nil && want == errWTO {
				// What a coordinator does: move the write timestamp up.
				var wto *WriteTooOldError
				if errors.As(err, &wto) {
					txn.WriteTimestamp.Forward(wto.ActualTimestamp)
				}
			}
		case r < 48: // increment or cput
			txn := randTxn()
			ts := randTs()
			wts := ts
			if txn != nil {
				txn.Sequence++
				wts = txn.WriteTimestamp
			}
			want := m.checkWrite(key, wts, txn)
			var cur refVersion
			var found bool
			if want == errNone {
				rt := wts
				if txn == nil {
					rt = wts.Prev()
				}
				var rtxn *Txn
				if txn != nil {
					c := *txn
					c.Sequence--
					rtxn = &c
				}
				cur, found, _ = m.read(key, hlc.MaxTimestamp.Prev(), rtxn, Uncertainty{})
				_ = rt
			}
			if rng.IntN(2) == 0 {
				if want == errNone && found && cur.v.Type != ValueTypeInt {
					want = errOther
				}
				var n int64
				err := apply(func(b Batch, ms *MVCCStats) error {
					var err error
					n, err = MVCCIncrement(b, ms, []byte(key), ts, 1, MVCCWriteOptions{Txn: txn})
					return err
				})
				if got := kindOf(err); got != want {
					return fail("op %d: increment %q: got %v, want kind %d", op, key, err, want)
				}
				if err == nil {
					var old int64
					if found {
						old, _ = cur.v.GetInt()
					}
					if n != old+1 {
						return fail("op %d: increment %q: got %d, want %d", op, key, n, old+1)
					}
					m.write(key, wts, txn, MakeIntValue(n))
				}
			} else {
				var exp *Value
				if rng.IntN(2) == 0 && found {
					v := cur.v
					exp = &v
				} else if rng.IntN(2) == 0 {
					v := randValue()
					exp = &v
				}
				if want == errNone {
					ok := (exp == nil && !found) || (exp != nil && found && exp.Equal(cur.v))
					if !ok {
						want = errCondition
					}
				}
				v := randValue()
				err := apply(func(b Batch, ms *MVCCStats) error {
					return MVCCConditionalPut(b, ms, []byte(key), ts, v, exp, false, MVCCWriteOptions{Txn: txn})
				})
				if got := kindOf(err); got != want {
					return fail("op %d: cput %q exp=%v (found %v %v): got %v, want kind %d", op, key, exp, found, cur.v, err, want)
				}
				if err == nil {
					m.write(key, wts, txn, v)
				}
			}
		case r < 68: // get
			txn := randTxn()
			if rng.IntN(2) == 0 {
				txn = nil
			}
			ts := randTs()
			if txn != nil {
				ts = txn.ReadTimestamp
				if ts.LessEq(gcThreshold) {
					continue
				}
			}
			var unc Uncertainty
			if rng.IntN(3) == 0 {
				unc.GlobalLimit = ts.Add(int64(rng.IntN(5))*1e9, 0)
				if rng.IntN(2) == 0 {
					unc.LocalLimit = ts.Add(int64(rng.IntN(3))*1e9, 0)
				}
			}
			want, wantFound, wantErr := m.read(key, ts, txn, unc)
			res, err := MVCCGet(e, []byte(key), ts, MVCCGetOptions{Txn: txn, Uncertainty: unc})
			if got := kindOf(err); got != wantErr {
				return fail("op %d: get %q at %s: got error %v, want kind %d", op, key, ts, err, wantErr)
			}
			if err == nil {
				if (res.Value != nil) != wantFound || (wantFound && (!res.Value.Equal(want.v) || res.Timestamp != want.ts)) {
					return fail("op %d: get %q at %s (txn %v): got %v @%s, want %v %v @%s", op, key, ts, txn != nil, res.Value, res.Timestamp, wantFound, want.v, want.ts)
				}
			}
		case r < 76: // scan
			txn := randTxn()
			if rng.IntN(2) == 0 {
				txn = nil
			}
			ts := randTs()
			if txn != nil {
				ts = txn.ReadTimestamp
				if ts.LessEq(gcThreshold) {
					continue
				}
			}
			i, j := rng.IntN(len(keys)), rng.IntN(len(keys)+1)
			if i > j {
				i, j = j, i
			}
			start, end := keys[i], "z"
			if j < len(keys) {
				end = keys[j]
			}
			reverse := rng.IntN(2) == 0
			maxKeys := int64(rng.IntN(4))
			var unc Uncertainty
			if rng.IntN(4) == 0 {
				unc.GlobalLimit = ts.Add(int64(rng.IntN(5))*1e9, 0)
			}
			// The model's scan: the same walk over keys with data.
			var span []string
			for _, k := range keys {
				if k >= start && k < end && (len(m.committed[k]) > 0 || m.intents[k] != nil) {
					span = append(span, k)
				}
			}
			if reverse {
				slices.Reverse(span)
			}
			var wantKVs []refVersion
			var wantKeys []string
			wantErr := errNone
			conflicts := 0
			for _, k := range span {
				if maxKeys > 0 && int64(len(wantKVs)) >= maxKeys {
					break
				}
				v, found, ek := m.read(k, ts, txn, unc)
				if ek == errUncertain {
					wantErr = errUncertain
					break
				}
				if ek == errConflict {
					conflicts++
					continue
				}
				if found {
					wantKVs = append(wantKVs, v)
					wantKeys = append(wantKeys, k)
				}
			}
			if wantErr == errNone && conflicts > 0 {
				wantErr = errConflict
			}
			res, err := MVCCScan(e, []byte(start), []byte(end), ts, MVCCScanOptions{Txn: txn, Uncertainty: unc, Reverse: reverse, MaxKeys: maxKeys})
			if got := kindOf(err); got != wantErr {
				return fail("op %d: scan [%s,%s) at %s: got error %v, want kind %d", op, start, end, ts, err, wantErr)
			}
			if err == nil {
				if len(res.KVs()) != len(wantKVs) {
					return fail("op %d: scan [%s,%s) at %s rev=%v max=%d: got %d results, want %v", op, start, end, ts, reverse, maxKeys, len(res.KVs()), wantKeys)
				}
				for i, kv := range res.KVs() {
					if string(kv.Key) != wantKeys[i] || !kv.Value.Equal(wantKVs[i].v) || kv.Timestamp != wantKVs[i].ts {
						return fail("op %d: scan result %d: got %q=%v@%s, want %q=%v@%s", op, i, kv.Key, kv.Value, kv.Timestamp, wantKeys[i], wantKVs[i].v, wantKVs[i].ts)
					}
				}
			}
		case r < 82: // savepoint rollback or restart
			txn := randTxn()
			if txn == nil {
				continue
			}
			if rng.IntN(3) == 0 {
				txn.Epoch++
				txn.Sequence = 0
				txn.IgnoredSeqNums = nil
				txn.WriteTimestamp.Forward(randTs())
				txn.ReadTimestamp = txn.WriteTimestamp
			} else if txn.Sequence > 0 {
				from := int32(rng.IntN(int(txn.Sequence))) + 1
				txn.IgnoredSeqNums = append(txn.IgnoredSeqNums, SeqNumRange{Start: from, End: txn.Sequence})
				txn.Sequence++
			}
		case r < 86: // push
			txn := randTxn()
			if txn == nil {
				continue
			}
			txn.WriteTimestamp.Forward(randTs())
			if !endTxn(txn, PENDING) {
				return false
			}
		case r < 96: // commit or abort
			txn := randTxn()
			if txn == nil {
				continue
			}
			status := COMMITTED
			if rng.IntN(3) == 0 {
				status = ABORTED
			}
			if !endTxn(txn, status) {
				return false
			}
		default: // GC
			th := hlc.Timestamp{WallTime: (now - 10 - int64(rng.IntN(10))) * 1e9}
			if th.LessEq(gcThreshold) {
				continue
			}
			// Keep every active transaction's reads above the threshold.
			for _, txn := range txns {
				if txn.ReadTimestamp.LessEq(th) {
					th = hlc.Timestamp{}
				}
			}
			if th.IsEmpty() {
				continue
			}
			gcThreshold = th
			if err := apply(func(b Batch, ms *MVCCStats) error {
				if rng.IntN(2) == 0 {
					_, err := MVCCGarbageCollect(b, ms, KeyMin, KeyMax, th)
					return err
				}
				// As the GC queue does: list the keys in pages, then
				// collect them key by key.
				for start := KeyMin; start != nil; {
					keys, resume, err := MVCCGarbageKeys(b, start, KeyMax, th, 1+rng.IntN(4))
					if err != nil {
						return err
					}
					if _, err := MVCCGarbageCollectKeys(b, ms, keys, th); err != nil {
						return err
					}
					start = resume
				}
				return nil
			}); err != nil {
				return fail("gc: %v", err)
			}
			m.gc(th)
		}
		if op%50 == 49 || op == nOps-1 {
			got, err := ComputeStats(e, KeyMin, KeyMax, ms.LastUpdateNanos)
			if err != nil {
				t.Fatal(err)
			}
			if got != ms {
				return fail("op %d: stats diverged:\nincremental: %s\nrecomputed:  %s", op, ms, got)
			}
		}
	}
	return true
}
