// Package notify carries PostgreSQL's NOTIFY to the sessions that LISTEN,
// on every node of the cluster, in commit order, and only for transactions
// that committed.
//
// NOTIFY writes the notification into the system keyspace in the
// notifying transaction,
//
//	/0x04 'q' <transaction nonce> <sequence> → database, channel, payload, sender's PID
//
// so it exists exactly if the transaction commits, at its commit
// timestamp. Each node with listeners runs one Hub, which reads the whole
// queue as of a timestamp T a little behind its clock (a historical read:
// it waits for the intents below T and leaves T in the timestamp cache, so
// nothing commits into the queue at or below T afterwards), hands its
// sessions the notifications that committed since its previous read, in
// order of commit timestamp (and, within one transaction, of NOTIFY), and
// moves on to T. Notifications older than Retention are deleted by
// whichever node meets them; a node that falls further behind than that
// misses them.
package notify

import (
	"bytes"
	"context"
	"encoding/binary"
	"sort"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv/encoding"
)

var queuePrefix = []byte{0x04, 'q'}

// QueueSpan is the span of every queued notification.
func QueueSpan() (start, end []byte) {
	return queuePrefix, []byte{0x04, 'q' + 1}
}

// Notification is one NOTIFY.
type Notification struct {
	DB      uint32
	Channel string
	Payload string
	// PID is the sending session's process ID.
	PID uint32
}

// Key is the queue key of a transaction's seq-th notification; nonce
// tells the transaction apart from every other.
func Key(nonce uint64, seq int) []byte {
	k := binary.BigEndian.AppendUint64(append([]byte(nil), queuePrefix...), nonce)
	return encoding.EncodeUvarintAscending(k, uint64(seq))
}

// Encode is a notification as queued.
func Encode(n Notification) []byte {
	b := binary.BigEndian.AppendUint32(nil, n.DB)
	b = binary.BigEndian.AppendUint32(b, n.PID)
	b = binary.AppendUvarint(b, uint64(len(n.Channel)))
	b = append(b, n.Channel...)
	return append(b, n.Payload...)
}

// Decode reads a queued notification.
func Decode(b []byte) (Notification, error) {
	if len(b) < 9 {
		return Notification{}, errors.New("notification too short")
	}
	n := Notification{DB: binary.BigEndian.Uint32(b), PID: binary.BigEndian.Uint32(b[4:])}
	l, k := binary.Uvarint(b[8:])
	if k <= 0 || uint64(len(b)-8-k) < l {
		return Notification{}, errors.New("notification's channel out of bounds")
	}
	rest := b[8+k:]
	n.Channel, n.Payload = string(rest[:l]), string(rest[l:])
	return n, nil
}

// Row is a queued notification as read, with the timestamp its
// transaction committed at.
type Row struct {
	Key   []byte
	Value []byte
	TS    hlc.Timestamp
}

// Source is the queue as the node reads it.
type Source interface {
	// Read returns every queued notification as of ts.
	Read(ctx context.Context, ts hlc.Timestamp) ([]Row, error)
	// Delete removes queued notifications.
	Delete(ctx context.Context, keys [][]byte) error
	// Now is the node's clock.
	Now() hlc.Timestamp
}

const (
	// Lag is how far behind its clock the hub reads: a notifying
	// transaction that commits at a timestamp the hub read past is pushed
	// above it, which costs it a refresh.
	Lag = 50 * time.Millisecond
	// PollInterval is how often a hub with listeners reads the queue.
	PollInterval = 20 * time.Millisecond
	// Retention is how long a notification stays queued.
	Retention = 30 * time.Second
)

// Listener receives the notifications of the channels it listens on.
// Deliver is called from the hub's goroutine, in commit order; it must
// not block.
type Listener interface {
	Deliver(Notification)
}

type channelKey struct {
	db      uint32
	channel string
}

// Hub is one node's notification delivery: its sessions' LISTENs, and the
// loop that reads the queue for them.
type Hub struct {
	src Source

	mu struct {
		sync.Mutex
		listeners map[channelKey]map[Listener]bool
		// wake is closed (and replaced) when the first listener arrives.
		wake chan struct{}
		// after is the timestamp the queue was last read at: what
		// committed at or below it has been delivered. Zero while no
		// session listens (the next reader starts at its clock).
		after hlc.Timestamp
	}
}

// NewHub returns a hub reading src; Run delivers.
func NewHub(src Source) *Hub {
	h := &Hub{src: src}
	h.mu.listeners = map[channelKey]map[Listener]bool{}
	h.mu.wake = make(chan struct{})
	return h
}

// Listen makes l receive the notifications of channel in database db
// that commit from now on.
func (h *Hub) Listen(db uint32, channel string, l Listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := channelKey{db, channel}
	if h.mu.listeners[k] == nil {
		h.mu.listeners[k] = map[Listener]bool{}
	}
	h.mu.listeners[k][l] = true
	if h.mu.after.IsEmpty() {
		h.mu.after = h.src.Now().Add(-int64(Lag), 0)
		close(h.mu.wake)
		h.mu.wake = make(chan struct{})
	}
}

// Unlisten stops l receiving channel's notifications in db.
func (h *Hub) Unlisten(db uint32, channel string, l Listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := channelKey{db, channel}
	delete(h.mu.listeners[k], l)
	if len(h.mu.listeners[k]) == 0 {
		delete(h.mu.listeners, k)
	}
	if len(h.mu.listeners) == 0 {
		h.mu.after = hlc.Timestamp{}
	}
}

// Run reads the queue and delivers until ctx ends: every PollInterval
// while some session listens. A failed read is tried again at the next
// tick, from where the last one left off.
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		h.mu.Lock()
		idle, wake := h.mu.after.IsEmpty(), h.mu.wake
		h.mu.Unlock()
		if idle {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_ = h.Poll(ctx)
	}
}

// Poll reads the queue once and delivers what committed since the last
// read.
func (h *Hub) Poll(ctx context.Context) error {
	h.mu.Lock()
	after := h.mu.after
	h.mu.Unlock()
	if after.IsEmpty() {
		return nil
	}
	upTo := h.src.Now().Add(-int64(Lag), 0)
	if !after.Less(upTo) {
		return nil
	}
	rows, err := h.src.Read(ctx, upTo)
	if err != nil {
		return err
	}
	var fresh []Row
	var old [][]byte
	expired := upTo.Add(-int64(Retention), 0)
	for _, r := range rows {
		if after.Less(r.TS) && r.TS.LessEq(upTo) {
			fresh = append(fresh, r)
		}
		if r.TS.Less(expired) {
			old = append(old, r.Key)
		}
	}
	// Commit order; one transaction's notifications share a timestamp
	// and its nonce, and follow their sequence in the key.
	sort.Slice(fresh, func(i, j int) bool {
		if fresh[i].TS != fresh[j].TS {
			return fresh[i].TS.Less(fresh[j].TS)
		}
		return bytes.Compare(fresh[i].Key, fresh[j].Key) < 0
	})
	h.mu.Lock()
	if h.mu.after != after {
		// Every listener went (and maybe another came) meanwhile: the
		// next read starts where that left it.
		h.mu.Unlock()
		return nil
	}
	for _, r := range fresh {
		n, err := Decode(r.Value)
		if err != nil {
			continue // a notification that cannot be read reaches nobody
		}
		for l := range h.mu.listeners[channelKey{n.DB, n.Channel}] {
			l.Deliver(n)
		}
	}
	h.mu.after = upTo
	h.mu.Unlock()
	if len(old) > 0 {
		return h.src.Delete(ctx, old)
	}
	return nil
}
