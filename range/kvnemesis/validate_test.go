package kvnemesis

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

type opKind int

const (
	opGet opKind = iota
	opPut
	opDel
	opCPut
	opScan
)

// row is one row a scan returned, or one MVCC version in a store.
type row struct {
	key, value string
	ts         hlc.Timestamp
	// tombstone: a version that deletes (versions only).
	tombstone bool
}

// op is one KV operation and what it returned.
type op struct {
	kind     opKind
	key, end string
	maxKeys  int64
	// value is the value written (put, cput): unique in the history.
	value string
	// exp is a cput's expected value (nil: the key must have none).
	exp *string
	// Results: a get's value (found); a scan's rows.
	found bool
	got   string
	gotTs hlc.Timestamp
	rows  []row
	// err is the op's error; a cput whose condition failed has one and
	// wrote nothing.
	err        error
	condFailed bool
}

func (o *op) writes() bool { return o.kind == opPut || o.kind == opCPut || o.kind == opDel }

func (o *op) String() string {
	switch o.kind {
	case opGet:
		if !o.found {
			return fmt.Sprintf("get(%s)=∅", o.key)
		}
		return fmt.Sprintf("get(%s)=%s", o.key, o.got)
	case opPut:
		return fmt.Sprintf("put(%s,%s)", o.key, o.value)
	case opDel:
		return fmt.Sprintf("del(%s)", o.key)
	case opCPut:
		exp := "∅"
		if o.exp != nil {
			exp = *o.exp
		}
		s := fmt.Sprintf("cput(%s,%s,exp %s)", o.key, o.value, exp)
		if o.condFailed {
			s += "=failed"
		}
		return s
	default:
		var ks []string
		for _, r := range o.rows {
			ks = append(ks, r.key+"="+r.value)
		}
		return fmt.Sprintf("scan(%s,%s,max %d)=[%s]", o.key, o.end, o.maxKeys, strings.Join(ks, " "))
	}
}

type stepStatus int

const (
	committed stepStatus = iota
	// aborted: the client was told it failed for good (a transaction
	// attempt that ran again or rolled back, a cput whose condition
	// failed): nothing it wrote may remain.
	aborted
	// unknown: it failed in a way that leaves the outcome open.
	unknown
)

// step is one client operation: a single request, or a transaction (the
// operations of one attempt).
type step struct {
	client int
	txn    bool
	ops    []op
	status stepStatus
	// start and end bracket the call in real time.
	start, end time.Time
	// ts: a committed transaction's commit timestamp; a single request's
	// timestamp when the range reported it (zero otherwise).
	ts hlc.Timestamp
}

func (s *step) String() string {
	var b strings.Builder
	if s.txn {
		b.WriteString("txn{")
	}
	for i := range s.ops {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.ops[i].String())
	}
	if s.txn {
		b.WriteString("}")
	}
	fmt.Fprintf(&b, " c%d @%s", s.client, s.ts)
	switch s.status {
	case aborted:
		b.WriteString(" aborted")
	case unknown:
		b.WriteString(" unknown")
	}
	return b.String()
}

// history is the versions of the keys (ascending timestamps per key).
type history map[string][]row

// at returns the version of key visible at ts, skipping versions written
// by skip (a transaction's own, checked apart); ok false if none.
func (h history) at(key string, ts hlc.Timestamp, skip func(row) bool) (row, bool) {
	vs := h[key]
	for i := len(vs) - 1; i >= 0; i-- {
		if ts.Less(vs[i].ts) || (skip != nil && skip(vs[i])) {
			continue
		}
		return vs[i], true
	}
	return row{}, false
}

type opRef struct{ step, op int }

// validate checks steps against the versions of every key. It returns
// the violations of serializability and atomicity (errs) apart from those
// of real time (stale: a read that missed a write acknowledged before it
// began) and from commit timestamps misreported by the coordinator
// (reported: a committed transaction whose writes all sit at another
// timestamp than the one its coordinator reported; its reads are then
// checked at its writes' timestamp, where it committed).
func validate(steps []*step, h history) (errs, stale, reported []error) {
	fail := func(format string, args ...any) {
		if len(errs) < 20 {
			errs = append(errs, errors.Newf(format, args...))
		}
	}
	// final reports whether op j of s is the last write of its key in s
	// (only that one can leave a version).
	final := func(s *step, j int) bool {
		for k := j + 1; k < len(s.ops); k++ {
			if s.ops[k].writes() && s.ops[k].key == s.ops[j].key {
				return false
			}
		}
		return true
	}
	writer := map[string]opRef{}
	for i, s := range steps {
		for j := range s.ops {
			if o := &s.ops[j]; o.kind == opPut || o.kind == opCPut {
				writer[o.value] = opRef{i, j}
			}
		}
	}
	// 1. Every version was written by someone, once, by a write that
	// may have committed.
	versionOf := map[string]row{}
	for k, vs := range h {
		for _, v := range vs {
			if v.tombstone {
				continue
			}
			ref, ok := writer[v.value]
			if !ok {
				fail("%s=%s@%s: no client wrote %s", k, v.value, v.ts, v.value)
				continue
			}
			s := steps[ref.step]
			switch {
			case v.key != s.ops[ref.op].key:
				fail("%s=%s@%s: written to %s by %s", k, v.value, v.ts, s.ops[ref.op].key, s)
			case s.status == aborted:
				fail("%s=%s@%s: the write of a failed or aborted %s persisted", k, v.value, v.ts, s)
			case !final(s, ref.op):
				fail("%s=%s@%s: a write that %s overwrote later persisted", k, v.value, v.ts, s)
			}
			if prev, ok := versionOf[v.value]; ok {
				fail("%s: value %s at %s and %s", k, v.value, prev.ts, v.ts)
			}
			versionOf[v.value] = v
		}
	}
	// A committed transaction's commit timestamp is where its writes are.
	for _, s := range steps {
		if !s.txn || s.status != committed {
			continue
		}
		for j := range s.ops {
			o := &s.ops[j]
			if (o.kind != opPut && o.kind != opCPut) || !final(s, j) || o.err != nil {
				continue
			}
			if v, ok := versionOf[o.value]; ok && v.ts != s.ts {
				reported = append(reported, errors.Newf("%s: committed at %s (its writes' timestamp), its coordinator reported %s", s, v.ts, s.ts))
				s.ts = v.ts
			}
			break
		}
	}
	// 2. Acknowledged writes are there; a transaction's writes all at its
	// commit timestamp (one of unknown outcome: all or none).
	for _, s := range steps {
		if s.status == aborted {
			continue
		}
		var commitTs hlc.Timestamp
		if s.txn && s.status == committed {
			commitTs = s.ts
		}
		seen, missing := 0, 0
		for j := range s.ops {
			o := &s.ops[j]
			if !o.writes() || !final(s, j) || o.condFailed {
				continue
			}
			if o.kind == opDel {
				if s.txn && !commitTs.IsEmpty() {
					v, ok := h.at(o.key, commitTs, nil)
					if !ok || !v.tombstone || v.ts != commitTs {
						fail("%s: no tombstone of %s at the commit timestamp %s (found %+v)", s, o.key, commitTs, v)
					}
				}
				continue
			}
			v, ok := versionOf[o.value]
			if !ok {
				missing++
				if s.status == committed {
					fail("lost write: %s acknowledged, no version of %s=%s", s, o.key, o.value)
				}
				continue
			}
			seen++
			if !s.txn {
				continue
			}
			if !commitTs.IsEmpty() && v.ts != commitTs {
				fail("%s: %s=%s written at %s, not at the commit timestamp", s, o.key, o.value, v.ts)
			}
			if commitTs.IsEmpty() {
				commitTs = v.ts
			}
		}
		if s.txn && seen > 0 && missing > 0 {
			fail("atomicity: %s left %d of its writes and not %d", s, seen, missing)
		}
	}
	// 3. Reads: a transaction's at its commit timestamp (its own writes
	// laid over), a single request's at the timestamp the range served it
	// (or, unknown, each row must be a version at its timestamp).
	for _, s := range steps {
		if s.status != committed {
			continue
		}
		own := map[string]*op{}
		written := map[string]bool{}
		for j := range s.ops {
			if o := &s.ops[j]; o.writes() && o.err == nil {
				written[o.key] = true
			}
		}
		isOwn := func(v row) bool {
			if v.tombstone {
				return s.txn && v.ts == s.ts && written[v.key]
			}
			ref, ok := writer[v.value]
			return ok && steps[ref.step] == s
		}
		visible := func(key string) (string, bool) {
			if w := own[key]; w != nil {
				return w.value, w.kind != opDel
			}
			v, ok := h.at(key, s.ts, isOwn)
			return v.value, ok && !v.tombstone
		}
		for j := range s.ops {
			o := &s.ops[j]
			switch {
			case o.err != nil:
			case o.writes():
				if o.kind == opCPut && s.txn {
					// The condition held at the commit timestamp.
					val, found := visible(o.key)
					if (o.exp == nil) == found || (found && val != *o.exp) {
						fail("%s: cput of %s succeeded, but the key held %q (found %v) at %s", s, o.key, val, found, s.ts)
					}
				}
				own[o.key] = o
			case s.ts.IsEmpty():
				// A read whose timestamp is not known: each value read
				// is a version at the timestamp it came with.
				rows := o.rows
				if o.kind == opGet && o.found {
					rows = []row{{key: o.key, value: o.got, ts: o.gotTs}}
				}
				for _, r := range rows {
					v, ok := versionOf[r.value]
					if !ok || v.key != r.key || v.ts != r.ts {
						fail("%s: read %s=%s@%s, but the stores have %+v", s, r.key, r.value, r.ts, v)
					}
				}
			case o.kind == opGet:
				val, found := visible(o.key)
				if found != o.found || (found && val != o.got) {
					fail("%s: %s, but at %s the key holds %q (found %v)", s, o, s.ts, val, found)
				}
			case o.kind == opScan:
				var want []string
				for k := range keysIn(h, own, o.key, o.end) {
					if val, found := visible(k); found {
						want = append(want, k+"="+val)
					}
				}
				sort.Strings(want)
				if o.maxKeys > 0 && int64(len(want)) > o.maxKeys {
					want = want[:o.maxKeys]
				}
				var got []string
				for _, r := range o.rows {
					got = append(got, r.key+"="+r.value)
				}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					fail("%s: %s, but at %s the span holds [%s]", s, o, s.ts, strings.Join(want, " "))
				}
			}
		}
	}
	// 4. No stale reads: a read at timestamp T of a key sees every write
	// of it acknowledged before the read began (its timestamp ≤ T).
	for _, r := range steps {
		if r.status != committed || r.ts.IsEmpty() {
			continue
		}
		readKeys := map[string]bool{}
		for j := range r.ops {
			if o := &r.ops[j]; o.err == nil && o.kind == opGet {
				readKeys[o.key] = true
			}
		}
		for _, w := range steps {
			if w.status != committed || !w.end.Before(r.start) {
				continue
			}
			for j := range w.ops {
				o := &w.ops[j]
				if (o.kind != opPut && o.kind != opCPut) || o.condFailed || !readKeys[o.key] {
					continue
				}
				if v, ok := versionOf[o.value]; ok && r.ts.Less(v.ts) && len(stale) < 20 {
					stale = append(stale, errors.Newf("stale read: %s read at %s, below %s=%s@%s acknowledged before it began (%s)", r, r.ts, o.key, o.value, v.ts, w))
				}
			}
		}
	}
	return errs, stale, reported
}

// keysIn returns the keys in [start, end) with a version or an own write.
func keysIn(h history, own map[string]*op, start, end string) map[string]bool {
	out := map[string]bool{}
	for k := range h {
		if k >= start && k < end {
			out[k] = true
		}
	}
	for k := range own {
		if k >= start && k < end {
			out[k] = true
		}
	}
	return out
}
