package concurrency

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/stop"
)

// TestConcurrencyManager runs the datadriven files in
// testdata/concurrency_manager against a Manager with an in-memory Pusher
// (transaction records in a map) and a manual clock. Requests sequence on
// their own goroutines; after every command the harness waits until each
// request has either returned or blocked with no signal pending, then
// prints what each request did, in the order requests were created.
// Transactions print by name. Commands:
//
//	new-txn name=A ts=10 [priority=N]       a PENDING record, heartbeated now
//	new-request name=r1 txn=A|none ts=10 [unc=20] spans=w@a,r@b-d
//	                                        (unc: the global uncertainty limit)
//	sequence r=r1                           SequenceReq (in the background)
//	finish r=r1                             FinishReq
//	handle-lock-conflict r=r1 k=a txn=B     evaluation found B's intent on a
//	on-lock-acquired r=r1 k=a               r1's txn wrote an intent on a
//	on-lock-updated txn=A k=a [end=b] status=committed|aborted|pending [ts=20]
//	on-txn-updated txn=A status=committed|aborted|pending [ts=20]
//	                                        the record changes, the manager is told
//	set-record txn=A status=aborted         the record changes through another
//	                                        range's manager: this one is not told
//	advance-clock s=N                       the manual clock moves N seconds
//	debug-lock-table                        holders and queues
//	debug-wait-queue                        the waiting pushes (pusher -> pushee)
//
// Rewrite expectations with -rewrite.
func TestConcurrencyManager(t *testing.T) {
	datadriven.Walk(t, "testdata/concurrency_manager", func(t *testing.T, path string) {
		h := newCMHarness(t)
		defer h.stopper.Stop()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return h.run(t, d)
		})
	})
}

// fakeRecords is the in-memory Pusher: transaction records, intents
// resolved by name.
type fakeRecords struct {
	mu      sync.Mutex
	records map[kv.TxnID]*TxnRecord
}

var _ Pusher = (*fakeRecords)(nil)

func (f *fakeRecords) QueryTxn(_ context.Context, txn kv.TxnMeta) (TxnRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[txn.ID]
	if !ok {
		return TxnRecord{}, errors.Newf("no record for txn %s", txn.ID.Short())
	}
	return *r, nil
}

func (f *fakeRecords) PushTxn(_ context.Context, _ *kv.TxnMeta, pushee kv.TxnMeta, typ PushType, pushTo hlc.Timestamp, _ bool) (TxnRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[pushee.ID]
	if !ok {
		return TxnRecord{}, errors.Newf("no record for txn %s", pushee.ID.Short())
	}
	if !r.finalized() {
		if typ == PushAbort {
			r.Status = kv.ABORTED
		} else {
			r.Meta.WriteTimestamp.Forward(pushTo)
		}
	}
	return *r, nil
}

func (f *fakeRecords) ResolveIntent(context.Context, LockUpdate) error { return nil }

type cmRequest struct {
	name string
	req  Request
	g    *Guard
	// running is true from a background call's start to its return;
	// blockedSeen is the signal count a blocked call reported.
	running     bool
	blocked     bool
	blockedSeen uint64
	events      []string
}

type cmHarness struct {
	t       *testing.T
	stopper *stop.Stopper
	manual  *hlc.ManualClock
	clock   *hlc.Clock
	fake    *fakeRecords
	m       *Manager
	txns    map[string]*kv.TxnMeta

	mu    sync.Mutex
	reqs  []*cmRequest
	byKey map[*LockSpan]*cmRequest
}

func newCMHarness(t *testing.T) *cmHarness {
	h := &cmHarness{
		t:       t,
		stopper: stop.NewStopper(),
		manual:  hlc.NewManualClock(100e9),
		fake:    &fakeRecords{records: map[kv.TxnID]*TxnRecord{}},
		txns:    map[string]*kv.TxnMeta{},
		byKey:   map[*LockSpan]*cmRequest{},
	}
	h.clock = hlc.NewClock(h.manual.UnixNano, 0)
	h.m = NewManager(Config{
		Pusher: h.fake,
		Clock:  h.clock,
		// Wake-ups come only from commands, so runs are deterministic.
		PushRecheckInterval: time.Hour,
		Knobs: TestingKnobs{
			OnEvent: func(g *Guard, ev string) {
				h.mu.Lock()
				defer h.mu.Unlock()
				r := h.reqOf(g)
				r.events = append(r.events, ev)
			},
			BeforeBlock: func(g *Guard, seen uint64) {
				h.mu.Lock()
				defer h.mu.Unlock()
				r := h.reqOf(g)
				r.g, r.blocked, r.blockedSeen = g, true, seen
			},
		},
	})
	return h
}

func (h *cmHarness) reqOf(g *Guard) *cmRequest {
	r, ok := h.byKey[&g.req.Spans[0]]
	if !ok {
		h.t.Fatalf("unknown request %+v", g.req)
	}
	return r
}

func (h *cmHarness) req(t *testing.T, d *datadriven.TestData) *cmRequest {
	var name string
	d.ScanArgs(t, "r", &name)
	for _, r := range h.reqs {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("%s: unknown request %s", d.Pos, name)
	return nil
}

func (h *cmHarness) txn(t *testing.T, d *datadriven.TestData) *kv.TxnMeta {
	var name string
	d.ScanArgs(t, "txn", &name)
	txn, ok := h.txns[name]
	if !ok {
		t.Fatalf("%s: unknown txn %s", d.Pos, name)
	}
	return txn
}

func scanTS(t *testing.T, d *datadriven.TestData, key string) hlc.Timestamp {
	var s string
	d.ScanArgs(t, key, &s)
	wall, logical, _ := strings.Cut(s, ",")
	w, err := strconv.ParseInt(wall, 10, 64)
	if err != nil {
		t.Fatalf("%s: bad timestamp %s", d.Pos, s)
	}
	l, _ := strconv.ParseInt(logical, 10, 32)
	return hlc.Timestamp{WallTime: w * 1e9, Logical: int32(l)}
}

func scanStatus(t *testing.T, d *datadriven.TestData) kv.TxnStatus {
	var s string
	d.ScanArgs(t, "status", &s)
	switch s {
	case "committed":
		return kv.COMMITTED
	case "aborted":
		return kv.ABORTED
	case "pending":
		return kv.PENDING
	}
	t.Fatalf("%s: bad status %s", d.Pos, s)
	return 0
}

func parseSpans(t *testing.T, s string) []LockSpan {
	var out []LockSpan
	for _, f := range strings.Split(s, ",") {
		acc, keys, ok := strings.Cut(f, "@")
		if !ok {
			t.Fatalf("bad span %q", f)
		}
		var ls LockSpan
		if acc == "w" {
			ls.Access = Write
		}
		k, end, isRange := strings.Cut(keys, "-")
		ls.Key = []byte(k)
		if isRange {
			ls.EndKey = []byte(end)
		}
		out = append(out, ls)
	}
	return out
}

// background runs f as r's call on a stopper task.
func (h *cmHarness) background(t *testing.T, r *cmRequest, f func(ctx context.Context) (*Guard, error)) {
	h.mu.Lock()
	if r.running {
		t.Fatalf("%s is already running", r.name)
	}
	r.running, r.blocked = true, false
	h.mu.Unlock()
	err := h.stopper.RunAsyncTask("request "+r.name, func(ctx context.Context) {
		g, err := f(ctx)
		h.mu.Lock()
		defer h.mu.Unlock()
		r.running, r.blocked = false, false
		if err != nil {
			r.g = nil
			r.events = append(r.events, fmt.Sprintf("error: %v", err))
			return
		}
		r.g = g
		r.events = append(r.events, "sequenced")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// quiesce waits until every request has returned or is blocked with no
// signal pending since it looked at its state.
func (h *cmHarness) quiesce(t *testing.T) {
	deadline := time.After(10 * time.Second)
	for {
		h.mu.Lock()
		busy := ""
		for _, r := range h.reqs {
			if r.running && !(r.blocked && r.g != nil && r.g.sig.sent.Load() == r.blockedSeen) {
				busy = r.name
			}
		}
		h.mu.Unlock()
		if busy == "" {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("request %s did not settle", busy)
		default:
			runtime.Gosched()
		}
	}
}

// output prints and clears the requests' events, naming transactions.
func (h *cmHarness) output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, r := range h.reqs {
		for _, ev := range r.events {
			fmt.Fprintf(&b, "%s: %s\n", r.name, h.names(ev))
		}
		r.events = nil
	}
	return b.String()
}

func (h *cmHarness) names(s string) string {
	for name, txn := range h.txns {
		s = strings.ReplaceAll(s, txn.ID.Short(), name)
	}
	return s
}

func (h *cmHarness) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "new-txn":
		var name string
		d.ScanArgs(t, "name", &name)
		var id kv.TxnID
		copy(id[:], name)
		txn := &kv.TxnMeta{ID: id, Key: []byte(name), WriteTimestamp: scanTS(t, d, "ts")}
		txn.MinTimestamp = txn.WriteTimestamp
		if d.HasArg("priority") {
			var p int
			d.ScanArgs(t, "priority", &p)
			txn.Priority = int32(p)
		}
		h.txns[name] = txn
		h.fake.mu.Lock()
		h.fake.records[id] = &TxnRecord{Meta: *txn, Status: kv.PENDING, LastActive: h.clock.Now()}
		h.fake.mu.Unlock()
		return ""

	case "new-request":
		var name, txnName, spans string
		d.ScanArgs(t, "name", &name)
		d.ScanArgs(t, "txn", &txnName)
		d.ScanArgs(t, "spans", &spans)
		r := &cmRequest{name: name, req: Request{Timestamp: scanTS(t, d, "ts"), Spans: parseSpans(t, spans)}}
		if d.HasArg("unc") {
			r.req.UncertaintyLimit = scanTS(t, d, "unc")
		}
		if txnName != "none" {
			txn := *h.txns[txnName]
			r.req.Txn = &txn
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, r)
		h.byKey[&r.req.Spans[0]] = r
		h.mu.Unlock()
		return ""

	case "sequence":
		r := h.req(t, d)
		h.background(t, r, func(ctx context.Context) (*Guard, error) {
			return h.m.SequenceReq(ctx, r.req)
		})

	case "handle-lock-conflict":
		r := h.req(t, d)
		var k string
		d.ScanArgs(t, "k", &k)
		holder := h.txn(t, d)
		h.fake.mu.Lock()
		meta := h.fake.records[holder.ID].Meta
		h.fake.mu.Unlock()
		lce := &kv.LockConflictError{Locks: []kv.Lock{{Key: []byte(k), Txn: meta}}}
		h.mu.Lock()
		g := r.g
		h.mu.Unlock()
		h.background(t, r, func(ctx context.Context) (*Guard, error) {
			return h.m.HandleLockConflictError(ctx, g, lce)
		})

	case "finish":
		r := h.req(t, d)
		h.mu.Lock()
		g, running := r.g, r.running
		if !running {
			r.g = nil
		}
		h.mu.Unlock()
		switch {
		case running:
			return fmt.Sprintf("%s is still sequencing", r.name)
		case g == nil:
			return fmt.Sprintf("%s holds nothing", r.name)
		}
		h.m.FinishReq(g)

	case "on-lock-acquired":
		r := h.req(t, d)
		var k string
		d.ScanArgs(t, "k", &k)
		h.fake.mu.Lock()
		meta := h.fake.records[r.req.Txn.ID].Meta
		h.fake.mu.Unlock()
		if err := h.m.OnLockAcquired([]byte(k), meta); err != nil {
			return fmt.Sprintf("error: %v", err)
		}

	case "on-lock-updated":
		txn := h.txn(t, d)
		var k, end string
		d.ScanArgs(t, "k", &k)
		up := LockUpdate{Span: Span{Key: []byte(k)}, Txn: *txn, Status: scanStatus(t, d)}
		if d.HasArg("end") {
			d.ScanArgs(t, "end", &end)
			up.EndKey = []byte(end)
		}
		if d.HasArg("ts") {
			up.Txn.WriteTimestamp = scanTS(t, d, "ts")
		}
		h.m.OnLockUpdated(up)

	case "on-txn-updated":
		txn := h.txn(t, d)
		h.fake.mu.Lock()
		rec := h.fake.records[txn.ID]
		rec.Status = scanStatus(t, d)
		if d.HasArg("ts") {
			rec.Meta.WriteTimestamp = scanTS(t, d, "ts")
		}
		cp := *rec
		h.fake.mu.Unlock()
		h.m.OnTxnUpdated(cp)

	case "set-record":
		txn := h.txn(t, d)
		h.fake.mu.Lock()
		h.fake.records[txn.ID].Status = scanStatus(t, d)
		h.fake.mu.Unlock()
		return ""

	case "advance-clock":
		var s int
		d.ScanArgs(t, "s", &s)
		h.manual.Increment(int64(s) * 1e9)
		return ""

	case "debug-lock-table":
		var b strings.Builder
		for _, l := range h.m.lt.snapshot() {
			fmt.Fprintf(&b, "%q:", l.key)
			if l.holder != nil {
				fmt.Fprintf(&b, " holder=%s@%s", l.holder.ID.Short(), l.holder.WriteTimestamp)
			}
			if len(l.queue) > 0 {
				b.WriteString(" queue=")
				for i, q := range l.queue {
					if i > 0 {
						b.WriteString(",")
					}
					h.mu.Lock()
					name := h.reqOf(q.g).name
					h.mu.Unlock()
					acc := "r"
					if q.write {
						acc = "w"
					}
					fmt.Fprintf(&b, "%s(%s)", name, acc)
				}
			}
			b.WriteString("\n")
		}
		if b.Len() == 0 {
			return "empty"
		}
		return h.names(b.String())

	case "debug-wait-queue":
		var lines []string
		for _, e := range h.m.twq.edges() {
			from := e[0].Short()
			if e[0] == (kv.TxnID{}) {
				from = "non-txn"
			}
			lines = append(lines, fmt.Sprintf("%s -> %s", from, e[1].Short()))
		}
		sort.Strings(lines)
		if len(lines) == 0 {
			return "empty"
		}
		return h.names(strings.Join(lines, "\n"))

	default:
		t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
	}
	h.quiesce(t)
	return h.output()
}
