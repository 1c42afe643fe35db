package notify

import (
	"bytes"
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/meridiandb/meridian/hlc"
)

// fakeQueue is a Source whose rows and clock the test sets.
type fakeQueue struct {
	mu      sync.Mutex
	now     hlc.Timestamp
	rows    []Row
	deleted [][]byte
}

func (q *fakeQueue) Read(_ context.Context, ts hlc.Timestamp) ([]Row, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Row
	for _, r := range q.rows {
		if r.TS.LessEq(ts) {
			out = append(out, r)
		}
	}
	// As a scan returns them: in key order, not commit order.
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out, nil
}

func (q *fakeQueue) Delete(_ context.Context, keys [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deleted = append(q.deleted, keys...)
	return nil
}

func (q *fakeQueue) Now() hlc.Timestamp {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.now
}

func (q *fakeQueue) commit(ts int64, nonce uint64, ns ...Notification) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, n := range ns {
		q.rows = append(q.rows, Row{Key: Key(nonce, i+1), Value: Encode(n), TS: hlc.Timestamp{WallTime: ts}})
	}
}

func (q *fakeQueue) advance(to int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.now = hlc.Timestamp{WallTime: to}
}

type collect struct{ got []string }

func (c *collect) Deliver(n Notification) { c.got = append(c.got, n.Channel+":"+n.Payload) }

const ms = int64(1e6)

// TestHubOrder: the hub delivers what committed since its last read, in
// commit timestamp order and each transaction's in sequence, to the
// listeners of the channel in the database, each once; nothing committed
// before the first LISTEN; and deletes what is past the retention.
func TestHubOrder(t *testing.T) {
	ctx := context.Background()
	q := &fakeQueue{now: hlc.Timestamp{WallTime: 1000 * ms}}
	h := NewHub(q)
	q.commit(900*ms, 1, Notification{DB: 1, Channel: "c", Payload: "before listen"})
	a, b := &collect{}, &collect{}
	h.Listen(1, "c", a)
	h.Listen(1, "c", b)
	h.Listen(2, "c", b) // another database's c
	// Nonce 9 sorts after nonce 3 but commits first.
	q.commit(1010*ms, 9, Notification{DB: 1, Channel: "c", Payload: "x1"}, Notification{DB: 1, Channel: "c", Payload: "x2"})
	q.commit(1020*ms, 3, Notification{DB: 1, Channel: "c", Payload: "y"})
	q.commit(1030*ms, 4, Notification{DB: 1, Channel: "other", Payload: "z"}, Notification{DB: 2, Channel: "c", Payload: "db2"})
	q.commit(1200*ms, 5, Notification{DB: 1, Channel: "c", Payload: "later"})
	q.advance(1100 * ms) // reads up to 1050 ms
	if err := h.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if g := a.got; len(g) != 3 || g[0] != "c:x1" || g[1] != "c:x2" || g[2] != "c:y" {
		t.Fatalf("a got %v", g)
	}
	if g := b.got; len(g) != 4 || g[3] != "c:db2" {
		t.Fatalf("b got %v", g)
	}
	q.advance(1300 * ms)
	if err := h.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if g := a.got; len(g) != 4 || g[3] != "c:later" {
		t.Fatalf("a after the second read got %v", g)
	}
	h.Unlisten(1, "c", a)
	q.commit(1300*ms, 6, Notification{DB: 1, Channel: "c", Payload: "after unlisten"})
	q.advance(1000*ms + int64(Retention) + 100*ms)
	if err := h.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if len(a.got) != 4 || b.got[len(b.got)-1] != "c:after unlisten" {
		t.Fatalf("after UNLISTEN: a %v, b %v", a.got, b.got)
	}
	// Past the retention: the six notifications that committed before
	// 1050 ms.
	if len(q.deleted) != 6 || !bytes.Equal(q.deleted[0], Key(1, 1)) {
		t.Fatalf("deleted %d keys, want the 6 past the retention", len(q.deleted))
	}
}

// TestEncoding: a notification reads back as written; a short or
// inconsistent one is refused.
func TestEncoding(t *testing.T) {
	n := Notification{DB: 7, Channel: "Chan", Payload: "a,b'c", PID: 99}
	got, err := Decode(Encode(n))
	if err != nil || got != n {
		t.Fatalf("%+v %v", got, err)
	}
	for _, b := range [][]byte{nil, {1, 2, 3}, append(Encode(n)[:8], 0xff)} {
		if _, err := Decode(b); err == nil {
			t.Fatalf("decoded %x", b)
		}
	}
}
