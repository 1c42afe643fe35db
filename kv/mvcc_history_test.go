package kv

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// TestMVCCHistories runs the datadriven files in testdata/mvcc_histories.
// Each file is a history of operations against one engine; a block
//
//	run [ok|error] [stats] [trace]
//	cmd arg=val ...
//	----
//	<engine state after the block, errors, reads>
//
// runs its commands in one batch. After every block the incremental stats
// must equal a full recompute. Timestamps are written as seconds
// ("10", "10.5", "10,2" for logical 2). Regenerate with -rewrite.
//
// Commands:
//
//	txn_begin t=<name> ts=<ts> [epoch=<n>] [priority=<n>]
//	txn_step t=<name> [n=<n>]             sequence += n
//	txn_advance t=<name> ts=<ts>          write timestamp = ts
//	txn_restart t=<name> [ts=<ts>]        epoch++, sequence = 0
//	txn_ignore_seqs t=<name> seqs=<a>-<b>[,<a>-<b>...]
//	put|del|cput|initput|increment|del_range [t=<name>] [ts=<ts>] [committed] k=<key> ...
//	                                      committed: the transaction's committed value (one-phase)
//	                                      fresh: fail on a version newer than the txn's read timestamp
//	get|scan [t=<name>] [ts=<ts>] k=<key> [end=<key>] ...
//	resolve_intent t=<name> k=<key> [status=COMMITTED|ABORTED|PENDING]
//	resolve_intent_range t=<name> k=<key> end=<key> [status=...] [max=<n>]
//	gc k=<key> end=<key> threshold=<ts>
//	put_unversioned k=<key> v=<value> | get_unversioned k=<key>
//	split_key k=<key> end=<key> target=<bytes>
//	flush                                 flushes the memtable (reads then hit SSTs)
func TestMVCCHistories(t *testing.T) {
	datadriven.Walk(t, "testdata/mvcc_histories", func(t *testing.T, path string) {
		e := openTestEngine(t)
		h := &history{t: t, e: e, txns: map[string]*Txn{}}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return h.run(d)
		})
	})
}

type history struct {
	t    *testing.T
	e    Engine
	ms   MVCCStats
	txns map[string]*Txn
	out  strings.Builder
}

type cmdArgs map[string]string

func parseLine(line string) (string, cmdArgs) {
	f := strings.Fields(line)
	args := cmdArgs{}
	for _, a := range f[1:] {
		k, v, _ := strings.Cut(a, "=")
		args[k] = v
	}
	return f[0], args
}

func (a cmdArgs) has(k string) bool { _, ok := a[k]; return ok }

func parseTS(s string) (hlc.Timestamp, error) {
	var ts hlc.Timestamp
	wall, logical, hasLogical := strings.Cut(s, ",")
	if hasLogical {
		l, err := strconv.ParseInt(logical, 10, 32)
		if err != nil {
			return ts, err
		}
		ts.Logical = int32(l)
	}
	sec, frac, _ := strings.Cut(wall, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return ts, err
	}
	ts.WallTime = n * 1e9
	if frac != "" {
		frac = (frac + "000000000")[:9]
		ns, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return ts, err
		}
		ts.WallTime += ns
	}
	return ts, nil
}

func (h *history) run(d *datadriven.TestData) string {
	if d.Cmd != "run" {
		h.t.Fatalf("%s: unknown directive %s", d.Pos, d.Cmd)
	}
	expectErr := d.HasArg("error")
	h.out.Reset()
	b := h.e.NewBatch()
	wrote := false
	var failed error
	for _, line := range strings.Split(d.Input, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmd, args := parseLine(line)
		if cmd == "flush" {
			wrote = wrote || !b.Empty()
			if err := b.Commit(false); err != nil {
				h.t.Fatal(err)
			}
			if err := h.e.Flush(); err != nil {
				h.t.Fatal(err)
			}
			b = h.e.NewBatch()
			continue
		}
		if err := h.exec(b, cmd, args); err != nil {
			if !expectErr {
				h.t.Errorf("%s: %s: unexpected error: %v", d.Pos, line, err)
			}
			failed = err
			fmt.Fprintf(&h.out, "error: (%T) %v\n", errors.UnwrapAll(err), err)
			break
		}
	}
	if expectErr && failed == nil {
		h.t.Errorf("%s: expected an error", d.Pos)
	}
	wrote = wrote || !b.Empty()
	if err := b.Commit(false); err != nil {
		h.t.Fatal(err)
	}
	var state string
	if wrote || d.HasArg("state") {
		state = h.dump()
	}
	if d.HasArg("stats") {
		fmt.Fprintf(&h.out, "stats: %s\n", h.ms)
	}
	h.checkStats(d.Pos)
	return state + h.out.String()
}

func (h *history) checkStats(pos string) {
	got, err := ComputeStats(h.e, KeyMin, KeyMax, h.ms.LastUpdateNanos)
	if err != nil {
		h.t.Fatal(err)
	}
	if got != h.ms {
		h.t.Errorf("%s: stats diverged:\nincremental: %s\nrecomputed:  %s", pos, h.ms, got)
		h.ms = got
	}
}

func (h *history) txn(args cmdArgs) *Txn {
	name, ok := args["t"]
	if !ok {
		return nil
	}
	txn, ok := h.txns[name]
	if !ok {
		h.t.Fatalf("unknown txn %s", name)
	}
	return txn
}

func (h *history) ts(args cmdArgs, k string) hlc.Timestamp {
	s, ok := args[k]
	if !ok {
		return hlc.Timestamp{}
	}
	ts, err := parseTS(s)
	if err != nil {
		h.t.Fatalf("bad timestamp %s=%s: %v", k, s, err)
	}
	return ts
}

func (h *history) int(args cmdArgs, k string, def int64) int64 {
	s, ok := args[k]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		h.t.Fatalf("bad integer %s=%s", k, s)
	}
	return n
}

// readTs is ts= if given, else the txn's read timestamp.
func (h *history) readTs(args cmdArgs, txn *Txn) hlc.Timestamp {
	if ts := h.ts(args, "ts"); !ts.IsEmpty() || txn == nil {
		return ts
	}
	return txn.ReadTimestamp
}

func txnID(name string) TxnID {
	var id TxnID
	copy(id[:], name)
	return id
}

func txnName(id TxnID) string { return strings.TrimRight(string(id[:]), "\x00") }

func (h *history) exec(b Batch, cmd string, args cmdArgs) error {
	var txn *Txn
	if cmd != "txn_begin" {
		txn = h.txn(args)
	}
	key := []byte(args["k"])
	wopts := MVCCWriteOptions{Txn: txn, Committed: args.has("committed"), FreshRead: args.has("fresh"),
		LocalTimestamp: h.ts(args, "localTs")}
	ts := h.readTs(args, txn)
	value := func() Value {
		if s, ok := args["i"]; ok {
			n, _ := strconv.ParseInt(s, 10, 64)
			return MakeIntValue(n)
		}
		return MakeBytesValue([]byte(args["v"]))
	}
	unc := Uncertainty{GlobalLimit: h.ts(args, "globalUncertaintyLimit"), LocalLimit: h.ts(args, "localUncertaintyLimit")}
	switch cmd {
	case "txn_begin":
		name := args["t"]
		ts := h.ts(args, "ts")
		h.txns[name] = &Txn{
			TxnMeta: TxnMeta{ID: txnID(name), Key: key, Epoch: int32(h.int(args, "epoch", 0)),
				WriteTimestamp: ts, MinTimestamp: ts, Priority: int32(h.int(args, "priority", 1))},
			ReadTimestamp: ts,
		}
	case "txn_step":
		txn.Sequence += int32(h.int(args, "n", 1))
	case "txn_advance":
		txn.WriteTimestamp = h.ts(args, "ts")
	case "txn_restart":
		txn.Epoch++
		txn.Sequence = 0
		txn.IgnoredSeqNums = nil
		if ts := h.ts(args, "ts"); !ts.IsEmpty() {
			txn.WriteTimestamp, txn.ReadTimestamp = ts, ts
		}
	case "txn_ignore_seqs":
		txn.IgnoredSeqNums = nil
		for _, r := range strings.Split(args["seqs"], ",") {
			a, bs, _ := strings.Cut(r, "-")
			x, _ := strconv.Atoi(a)
			y, _ := strconv.Atoi(bs)
			txn.IgnoredSeqNums = append(txn.IgnoredSeqNums, SeqNumRange{Start: int32(x), End: int32(y)})
		}
	case "put":
		return MVCCPut(b, &h.ms, key, ts, value(), wopts)
	case "del":
		found, err := MVCCDelete(b, &h.ms, key, ts, wopts)
		if err == nil {
			fmt.Fprintf(&h.out, "del: %q: found key %v\n", key, found)
		}
		return err
	case "cput":
		var exp *Value
		if c, ok := args["cond"]; ok {
			v := MakeBytesValue([]byte(c))
			exp = &v
		}
		return MVCCConditionalPut(b, &h.ms, key, ts, value(), exp, args.has("allow_missing"), wopts)
	case "initput":
		return MVCCInitPut(b, &h.ms, key, ts, value(), args.has("failOnTombstones"), wopts)
	case "increment":
		n, err := MVCCIncrement(b, &h.ms, key, ts, h.int(args, "inc", 1), wopts)
		if err == nil {
			fmt.Fprintf(&h.out, "inc: current value = %d\n", n)
		}
		return err
	case "del_range":
		keys, n, resume, err := MVCCDeleteRange(b, &h.ms, key, []byte(args["end"]), ts, wopts,
			h.int(args, "max", 0), args.has("returnKeys"))
		if err != nil {
			return err
		}
		fmt.Fprintf(&h.out, "del_range: %q-%q -> deleted %d key(s)\n", key, args["end"], n)
		for _, k := range keys {
			fmt.Fprintf(&h.out, "del_range: returned %q\n", k)
		}
		if resume != nil {
			fmt.Fprintf(&h.out, "del_range: resume span [%q,%q)\n", resume.Key, resume.EndKey)
		}
	case "get":
		res, err := MVCCGet(b, key, ts, MVCCGetOptions{Txn: txn, Uncertainty: unc,
			Tombstones: args.has("tombstones"), FailOnMoreRecent: args.has("failOnMoreRecent")})
		if err != nil {
			return err
		}
		if res.Value == nil {
			fmt.Fprintf(&h.out, "get: %q -> <no data>\n", key)
		} else {
			fmt.Fprintf(&h.out, "get: %q -> %s @%s\n", key, res.Value, res.Timestamp)
		}
	case "scan":
		res, err := MVCCScan(b, key, []byte(args["end"]), ts, MVCCScanOptions{Txn: txn, Uncertainty: unc,
			Tombstones: args.has("tombstones"), FailOnMoreRecent: args.has("failOnMoreRecent"),
			Reverse: args.has("reverse"), MaxKeys: h.int(args, "max", 0), TargetBytes: h.int(args, "targetbytes", 0)})
		if err != nil {
			return err
		}
		for _, kv := range res.KVs() {
			fmt.Fprintf(&h.out, "scan: %q -> %s @%s\n", kv.Key, kv.Value, kv.Timestamp)
		}
		if len(res.KVs()) == 0 {
			fmt.Fprintf(&h.out, "scan: %q-%q -> <no data>\n", key, args["end"])
		}
		if res.ResumeSpan != nil {
			fmt.Fprintf(&h.out, "scan: resume span [%q,%q) bytes=%d\n", res.ResumeSpan.Key, res.ResumeSpan.EndKey, res.NumBytes)
		}
	case "resolve_intent", "resolve_intent_range":
		status := COMMITTED
		switch args["status"] {
		case "ABORTED":
			status = ABORTED
		case "PENDING":
			status = PENDING
		}
		u := LockUpdate{Span: Span{Key: key, EndKey: []byte(args["end"])}, Txn: txn.TxnMeta, Status: status,
			IgnoredSeqNums: txn.IgnoredSeqNums}
		if cmd == "resolve_intent" {
			found, err := MVCCResolveIntent(b, &h.ms, u)
			if err == nil {
				fmt.Fprintf(&h.out, "resolve_intent: %q -> resolved %v\n", key, found)
			}
			return err
		}
		n, resume, err := MVCCResolveIntentRange(b, &h.ms, u, h.int(args, "max", 0))
		if err == nil {
			fmt.Fprintf(&h.out, "resolve_intent_range: %q-%q -> resolved %d key(s)\n", key, args["end"], n)
			if resume != nil {
				fmt.Fprintf(&h.out, "resolve_intent_range: resume span [%q,%q)\n", resume.Key, resume.EndKey)
			}
		}
		return err
	case "gc":
		res, err := MVCCGarbageCollect(b, &h.ms, key, []byte(args["end"]), h.ts(args, "threshold"))
		if err == nil {
			fmt.Fprintf(&h.out, "gc: removed %d version(s) of %d key(s)\n", res.VersionsRemoved, res.KeysAffected)
		}
		return err
	case "gc_keys":
		keys, resume, err := MVCCGarbageKeys(b, key, []byte(args["end"]), h.ts(args, "threshold"), int(h.int(args, "max", 100)))
		if err == nil {
			fmt.Fprintf(&h.out, "gc_keys: %q resume %q\n", keys, resume)
		}
		return err
	case "old_locks":
		locks, resume, err := MVCCOldLocks(b, key, []byte(args["end"]), h.ts(args, "threshold"), int(h.int(args, "max", 100)))
		if err == nil {
			for _, l := range locks {
				fmt.Fprintf(&h.out, "old_locks: %q txn=%s ts=%s\n", l.Key, txnName(l.Txn.ID), l.Txn.WriteTimestamp)
			}
			fmt.Fprintf(&h.out, "old_locks: resume %q\n", resume)
		}
		return err
	case "put_unversioned":
		return MVCCPutUnversioned(b, &h.ms, key, value())
	case "get_unversioned":
		v, err := MVCCGetUnversioned(b, key)
		if err == nil {
			if v == nil {
				fmt.Fprintf(&h.out, "get_unversioned: %q -> <no data>\n", key)
			} else {
				fmt.Fprintf(&h.out, "get_unversioned: %q -> %s\n", key, v)
			}
		}
		return err
	case "split_key":
		sk, err := FindSplitKey(b, key, []byte(args["end"]), h.int(args, "target", 0))
		if err == nil {
			fmt.Fprintf(&h.out, "split_key: %q\n", sk)
		}
		return err
	default:
		h.t.Fatalf("unknown command %s", cmd)
	}
	return nil
}

// dump prints every key in the engine.
func (h *history) dump() string {
	var sb strings.Builder
	it, err := h.e.newPebbleIter(nil, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	defer h.e.releasePebbleIter(it)
	var lines []string
	for valid := it.First(); valid; valid = it.Next() {
		k, err := DecodeMVCCKey(it.Key())
		if err != nil {
			h.t.Fatal(err)
		}
		raw, _ := it.ValueAndErr()
		switch {
		case IsLockTableKey(k.Key):
			rec, err := DecodeLockRecord(raw)
			if err != nil {
				h.t.Fatal(err)
			}
			locked, _ := DecodeLockTableKey(k.Key)
			var hist []string
			for _, e := range rec.History {
				hist = append(hist, fmt.Sprintf("%d:%s", e.Sequence, e.Value))
			}
			line := fmt.Sprintf("lock: %q -> txn=%s epoch=%d ts=%s seq=%d", locked, txnName(rec.Txn.ID),
				rec.Txn.Epoch, rec.Txn.WriteTimestamp, rec.Txn.Sequence)
			if !rec.LocalTs.IsEmpty() {
				line += fmt.Sprintf(" local=%s", rec.LocalTs)
			}
			if len(hist) > 0 {
				line += " history=[" + strings.Join(hist, " ") + "]"
			}
			lines = append(lines, line)
		case !k.IsValue():
			v, err := decodeValue(k, raw)
			if err != nil {
				h.t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("sys: %q -> %s", k.Key, v))
		default:
			v, err := decodeValue(k, raw)
			if err != nil {
				h.t.Fatal(err)
			}
			line := fmt.Sprintf("data: %s -> %s", k, v)
			if lts, err := storedLocalTimestamp(k, raw); err != nil {
				h.t.Fatal(err)
			} else if lts != k.Timestamp {
				line += fmt.Sprintf(" (local=%s)", lts)
			}
			lines = append(lines, line)
		}
	}
	// The lock table sorts before user data; print it after, as a
	// separate section, for readability.
	sort.SliceStable(lines, func(i, j int) bool {
		return !strings.HasPrefix(lines[i], "lock:") && strings.HasPrefix(lines[j], "lock:")
	})
	for _, l := range lines {
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	if len(lines) == 0 {
		sb.WriteString("<no data>\n")
	}
	return sb.String()
}
