// Package advisory keeps PostgreSQL's advisory locks (pg_advisory_lock and
// its family) for the whole cluster: a lock a session holds on one node
// excludes sessions on every other node, as the application that takes it
// expects (migration tools take one before they change a schema;
// CockroachDB's are no-ops).
//
// A lock is named by a database and a 64-bit key (one bigint, or two
// ints: PostgreSQL keeps the two forms apart). Each session that holds it
// has one record in the system keyspace,
//
//	/0x04 'a' <database> <space> <key> <node> <session> → epoch, counts
//
// with how often it holds it, per mode (exclusive, shared) and scope
// (session, transaction). Taking a lock is a transaction of its own: it
// reads every record of the lock and writes the session's own if no other
// session holds it in a conflicting mode. Serializable transactions make
// two that race for it see each other. A session's locks go with it: the
// transaction's at its end, all of them when it closes. A node that dies
// takes its sessions with it: a record names its node's liveness epoch,
// and once that epoch has ended (the node restarted, or its record expired
// and another node ended it) the record holds nothing and is removed by
// whoever meets it.
//
// A session that waits for a lock records what it waits for,
//
//	/0x04 'w' <node> <session> → the lock and mode
//
// and, after a second of waiting (PostgreSQL's deadlock_timeout), looks for
// a cycle of sessions each waiting for a lock the next holds; of those in
// one, the session with the highest ID fails with 40P01, as PostgreSQL
// fails one. Waiters poll the lock, at most every pollMax, and wake at once
// when a session of their own node releases one.
package advisory

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
)

var (
	lockPrefix = []byte{0x04, 'a'}
	waitPrefix = []byte{0x04, 'w'}
)

// Lock names an advisory lock: pg_advisory_lock(bigint) locks Space 1,
// pg_advisory_lock(int, int) Space 2 (the two ints as the high and low
// halves of Key), in the session's database.
type Lock struct {
	DB    uint32
	Space uint8
	Key   int64
}

// Mode is a lock's mode: exclusive locks exclude every other session,
// shared ones only other sessions' exclusive ones.
type Mode uint8

const (
	Exclusive Mode = iota
	Shared
)

func (m Mode) String() string {
	if m == Shared {
		return "ShareLock"
	}
	return "ExclusiveLock"
}

// Scope says how long a lock is held: until it is released (or the
// session ends), or until the transaction ends.
type Scope uint8

const (
	SessionScope Scope = iota
	XactScope
)

// Session names a session in the cluster: its node, that node's liveness
// epoch when the session started, and an ID unique in the cluster.
type Session struct {
	Node  int32
	Epoch int64
	ID    uint64
}

// Liveness tells whether a node's incarnation has ended.
type Liveness interface {
	// Gone reports whether node's liveness epoch epoch has ended: the
	// node restarted since, or its record expired (Gone may end the
	// epoch itself then, as taking over a dead node's leases does).
	Gone(ctx context.Context, node int32, epoch int64) bool
}

// counts is how often one session holds one lock, per mode and scope.
type counts [2][2]uint32 // [Scope][Mode]

func (c counts) holds(m Mode) bool { return c[SessionScope][m]+c[XactScope][m] > 0 }
func (c counts) empty() bool       { return !c.holds(Exclusive) && !c.holds(Shared) }

// conflicts reports whether a holder with counts c keeps another session
// from taking the lock in mode m.
func (c counts) conflicts(m Mode) bool {
	return c.holds(Exclusive) || (m == Exclusive && c.holds(Shared))
}

// record is one session's hold on one lock, as stored.
type record struct {
	epoch int64
	n     counts
}

func (r record) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(r.epoch))
	for s := range 2 {
		for m := range 2 {
			b = binary.BigEndian.AppendUint32(b, r.n[s][m])
		}
	}
	return b
}

func decodeRecord(b []byte) (record, error) {
	if len(b) != 8+4*4 {
		return record{}, errors.Newf("advisory lock record of %d bytes", len(b))
	}
	r := record{epoch: int64(binary.BigEndian.Uint64(b))}
	b = b[8:]
	for s := range 2 {
		for m := range 2 {
			r.n[s][m] = binary.BigEndian.Uint32(b)
			b = b[4:]
		}
	}
	return r, nil
}

func lockSpan(l Lock) []byte {
	k := encoding.EncodeUvarintAscending(append([]byte(nil), lockPrefix...), uint64(l.DB))
	k = append(k, l.Space)
	return encoding.EncodeVarintAscending(k, l.Key)
}

func lockKey(l Lock, s Session) []byte {
	k := encoding.EncodeUvarintAscending(lockSpan(l), uint64(s.Node))
	return encoding.EncodeUvarintAscending(k, s.ID)
}

// holderOf decodes the node and session of a lock record's key.
func holderOf(l Lock, key []byte) (node int32, id uint64, err error) {
	rest := key[len(lockSpan(l)):]
	rest, n, err := encoding.DecodeUvarintAscending(rest)
	if err != nil {
		return 0, 0, err
	}
	_, id, err = encoding.DecodeUvarintAscending(rest)
	return int32(n), id, err
}

func waitKey(s Session) []byte {
	k := encoding.EncodeUvarintAscending(append([]byte(nil), waitPrefix...), uint64(s.Node))
	return encoding.EncodeUvarintAscending(k, s.ID)
}

func encodeWait(l Lock, m Mode) []byte {
	b := binary.BigEndian.AppendUint32(nil, l.DB)
	b = append(b, l.Space, byte(m))
	return binary.BigEndian.AppendUint64(b, uint64(l.Key))
}

func decodeWait(b []byte) (Lock, Mode, error) {
	if len(b) != 4+2+8 {
		return Lock{}, 0, errors.Newf("advisory lock wait of %d bytes", len(b))
	}
	return Lock{DB: binary.BigEndian.Uint32(b), Space: b[4], Key: int64(binary.BigEndian.Uint64(b[6:]))}, Mode(b[5]), nil
}

// Manager takes and releases the advisory locks of one node's sessions.
type Manager struct {
	db   kvapi.DB
	live Liveness

	mu struct {
		sync.Mutex
		// released is closed (and replaced) whenever a session of this
		// node releases a lock: its waiters look again at once.
		released chan struct{}
	}
}

// NewManager returns the advisory locks over db. live may be nil (one
// process, whose sessions end with it: no record outlives its node).
func NewManager(db kvapi.DB, live Liveness) *Manager {
	m := &Manager{db: db, live: live}
	m.mu.released = make(chan struct{})
	return m
}

// holder is another session's record of a lock.
type holder struct {
	key     []byte
	node    int32
	id      uint64
	rec     record
	corrupt bool
}

// holders reads every record of l in txn.
func holders(ctx context.Context, txn kvapi.Txn, l Lock) ([]holder, error) {
	start := lockSpan(l)
	kvs, err := txn.Scan(ctx, start, catalog.PrefixEnd(start), 0)
	if err != nil {
		return nil, err
	}
	out := make([]holder, 0, len(kvs))
	for _, kv := range kvs {
		h := holder{key: kv.Key}
		var err error
		if h.node, h.id, err = holderOf(l, kv.Key); err == nil {
			h.rec, err = decodeRecord(kv.Value)
		}
		// A record that cannot be read holds nothing; it is removed
		// with the stale ones.
		h.corrupt = err != nil
		out = append(out, h)
	}
	return out, nil
}

// gone reports whether h's session no longer exists: its node's epoch
// ended, or the record is unreadable.
func (m *Manager) gone(ctx context.Context, h holder) bool {
	return h.corrupt || (m.live != nil && m.live.Gone(ctx, h.node, h.rec.epoch))
}

func sameSession(h holder, s Session) bool { return h.node == s.Node && h.id == s.ID }

// tryTake takes l for s once, in a transaction of its own: false if
// another live session holds it in a conflicting mode.
func (m *Manager) tryTake(ctx context.Context, s Session, l Lock, mode Mode, scope Scope) (bool, error) {
	took := false
	err := m.run(ctx, func(txn kvapi.Txn) error {
		took = false
		hs, err := holders(ctx, txn, l)
		if err != nil {
			return err
		}
		own := record{epoch: s.Epoch}
		var stale [][]byte
		for _, h := range hs {
			switch {
			case sameSession(h, s) && !h.corrupt:
				own = h.rec
			case m.gone(ctx, h):
				stale = append(stale, h.key)
			case h.rec.n.conflicts(mode):
				return nil
			}
		}
		if len(stale) > 0 {
			if err := txn.DelMany(ctx, stale); err != nil {
				return err
			}
		}
		own.n[scope][mode]++
		took = true
		return txn.Put(ctx, lockKey(l, s), own.encode())
	})
	return took && err == nil, err
}

// Release drops one hold of s on l in mode and scope; false if s held
// none.
func (m *Manager) Release(ctx context.Context, s Session, l Lock, mode Mode, scope Scope) (bool, error) {
	return m.release(ctx, s, l, mode, scope, false)
}

// ReleaseAll drops every hold of s on l in scope.
func (m *Manager) ReleaseAll(ctx context.Context, s Session, l Lock, scope Scope) error {
	_, err := m.release(ctx, s, l, 0, scope, true)
	return err
}

// release drops one hold of s on l in mode and scope (all of that scope's
// holds when all); false if s held none.
func (m *Manager) release(ctx context.Context, s Session, l Lock, mode Mode, scope Scope, all bool) (bool, error) {
	had := false
	err := m.run(ctx, func(txn kvapi.Txn) error {
		had = false
		key := lockKey(l, s)
		v, err := txn.Get(ctx, key)
		if err != nil || v == nil {
			return err
		}
		r, err := decodeRecord(v)
		if err != nil {
			return txn.Del(ctx, key)
		}
		if all {
			had = r.n[scope] != [2]uint32{}
			r.n[scope] = [2]uint32{}
		} else {
			if r.n[scope][mode] == 0 {
				return nil
			}
			had = true
			r.n[scope][mode]--
		}
		if r.n.empty() {
			return txn.Del(ctx, key)
		}
		return txn.Put(ctx, key, r.encode())
	})
	if err == nil && had {
		m.mu.Lock()
		close(m.mu.released)
		m.mu.released = make(chan struct{})
		m.mu.Unlock()
	}
	return had && err == nil, err
}

func (m *Manager) releasedCh() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.released
}

// run runs fn in a transaction of its own and commits it, again while it
// fails with a serialization failure (another session taking or
// releasing the same lock).
func (m *Manager) run(ctx context.Context, fn func(kvapi.Txn) error) error {
	return kvapi.RunTxn(ctx, m.db, maxAttempts, 20*time.Millisecond, fn)
}

const maxAttempts = 100

// blockers returns the live sessions other than s that hold l in a mode
// conflicting with mode, as read in txn.
func (m *Manager) blockers(ctx context.Context, txn kvapi.Txn, s Session, l Lock, mode Mode) ([]Session, error) {
	hs, err := holders(ctx, txn, l)
	if err != nil {
		return nil, err
	}
	var out []Session
	for _, h := range hs {
		if sameSession(h, s) || h.corrupt || !h.rec.n.conflicts(mode) || m.gone(ctx, h) {
			continue
		}
		out = append(out, Session{Node: h.node, Epoch: h.rec.epoch, ID: h.id})
	}
	return out, nil
}

// Scanner is what List reads with: a transaction.
type Scanner interface {
	Scan(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error)
}

// Held is one session's hold on an advisory lock, or its wait for one, as
// pg_locks shows it.
type Held struct {
	Lock    Lock
	Mode    Mode
	PID     uint32 // the session's process ID
	Granted bool   // false: the session waits for the lock
}

// List returns every advisory lock held in the cluster, one entry per
// session and mode, and every wait, as read in txn (records of ended
// sessions included: a taker removes those it meets).
func List(ctx context.Context, txn Scanner) ([]Held, error) {
	kvs, err := txn.Scan(ctx, lockPrefix, catalog.PrefixEnd(lockPrefix), 0)
	if err != nil {
		return nil, err
	}
	var out []Held
	for _, kv := range kvs {
		l, id, ok := decodeLockKey(kv.Key)
		r, err := decodeRecord(kv.Value)
		if !ok || err != nil {
			continue
		}
		for _, m := range []Mode{Exclusive, Shared} {
			if r.n.holds(m) {
				out = append(out, Held{Lock: l, Mode: m, PID: uint32(id >> 32), Granted: true})
			}
		}
	}
	waits, err := txn.Scan(ctx, waitPrefix, catalog.PrefixEnd(waitPrefix), 0)
	if err != nil {
		return nil, err
	}
	for _, kv := range waits {
		rest, _, err := encoding.DecodeUvarintAscending(kv.Key[len(waitPrefix):])
		if err != nil {
			continue
		}
		_, id, err := encoding.DecodeUvarintAscending(rest)
		if err != nil {
			continue
		}
		l, m, err := decodeWait(kv.Value)
		if err != nil {
			continue
		}
		out = append(out, Held{Lock: l, Mode: m, PID: uint32(id >> 32)})
	}
	return out, nil
}

// decodeLockKey reads a lock record's key: the lock and the session ID.
func decodeLockKey(key []byte) (Lock, uint64, bool) {
	rest, db, err := encoding.DecodeUvarintAscending(key[len(lockPrefix):])
	if err != nil || len(rest) == 0 {
		return Lock{}, 0, false
	}
	l := Lock{DB: uint32(db), Space: rest[0]}
	rest, l.Key, err = encoding.DecodeVarintAscending(rest[1:])
	if err != nil {
		return Lock{}, 0, false
	}
	rest, _, err = encoding.DecodeUvarintAscending(rest) // the node
	if err != nil {
		return Lock{}, 0, false
	}
	_, id, err := encoding.DecodeUvarintAscending(rest)
	return l, id, err == nil
}
