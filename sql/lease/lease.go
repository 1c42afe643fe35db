// Package lease caches table descriptors on a node under leases, so that
// a statement reads no descriptor from the KV store in the steady state.
//
// A lease is a record in the system keyspace (catalog.LeaseKey: the
// descriptor, the node → the lease's expiration), written in the
// transaction that read the descriptor. A transaction that uses a leased
// descriptor must commit before the lease's deadline (its expiration, or
// the moment it was revoked) and at or after the moment it was acquired.
//
// A schema change keeps one version in use at a time. It claims every
// descriptor it reads before it reads anything under it (a backfill), and
// at its commit every other descriptor it wrote: it writes the descriptor
// (an intent), reads its lease records, asks their nodes to revoke them —
// each lowers the lease's deadline to its clock's now, after the commits
// in flight under the lease, and answers with that clock — deletes the
// records, and moves its own timestamp above every answer. So every
// transaction that used the old version commits before the new one (or
// fails with 40001), and every lease acquired afterwards reads the new
// one: an acquisition meets the schema change's intent on the descriptor
// and waits for it. A record whose node does not answer is waited out
// until it expires. This is CockroachDB's lease protocol with one version
// instead of two: simpler, at the price of a schema change that waits for
// the transactions in flight on the tables it changes.
package lease

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// DefaultDuration is how long a lease lasts; one in use is renewed once
// half of it is gone.
const DefaultDuration = time.Minute

// revokeWait bounds how long a revocation waits for the commits in flight
// under a lease: one that waits on the schema change's own intents would
// otherwise wait forever. The schema change then fails with 40001.
const revokeWait = 5 * time.Second

// RevokeFunc asks node to revoke its leases on ids (Manager.Revoke there),
// telling it now; it returns that node's clock after the revocation.
type RevokeFunc func(ctx context.Context, node int32, ids []uint32, now hlc.Timestamp) (hlc.Timestamp, error)

// Config configures a Manager.
type Config struct {
	// DB runs the transactions that acquire leases.
	DB kvapi.DB
	// NodeID is this node's ID, which its lease records carry.
	NodeID int32
	// Clock is the node's clock.
	Clock *hlc.Clock
	// Duration is how long a lease lasts. Default: DefaultDuration.
	Duration time.Duration
	// Revoke reaches the other nodes. Nil: there are none.
	Revoke RevokeFunc
}

// Manager holds a node's leases.
type Manager struct {
	cfg Config
	mu  struct {
		sync.Mutex
		byName map[catalog.RelKey]*Lease
		byID   map[uint32]*Lease
		// revocations counts Revoke calls: an acquisition that saw a
		// revocation start while it ran installs nothing.
		revocations uint64
	}
	// Hits and Acquisitions count descriptors served from a lease and
	// leases acquired (for tests and metrics).
	Hits, Acquisitions atomic.Int64
	// generation counts changes to the set of leases (one installed, one
	// revoked): a plan built from leased descriptors stays valid while it
	// does not change (PlanGeneration).
	generation atomic.Uint64
}

// Lease is one node's lease on one version of a table descriptor.
type Lease struct {
	desc      *catalog.TableDescriptor
	validFrom hlc.Timestamp
	// mu is held for reading around the commit of every transaction
	// that used the lease, and for writing by its revocation.
	mu       sync.RWMutex
	deadline hlc.Timestamp
}

// NewManager returns a node's lease manager.
func NewManager(cfg Config) *Manager {
	if cfg.Duration <= 0 {
		cfg.Duration = DefaultDuration
	}
	m := &Manager{cfg: cfg}
	m.mu.byName = map[catalog.RelKey]*Lease{}
	m.mu.byID = map[uint32]*Lease{}
	return m
}

// SetRevoke sets how the manager reaches the other nodes (once the node
// knows them).
func (m *Manager) SetRevoke(f RevokeFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Revoke = f
}

func (m *Manager) revokeFunc() RevokeFunc {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg.Revoke
}

// lease returns a lease on relation key good for a transaction reading
// at ts, acquiring one if the cached one is missing or half gone; nil if
// there is no such relation or no lease fits.
func (m *Manager) lease(ctx context.Context, key catalog.RelKey, ts hlc.Timestamp) *Lease {
	m.mu.Lock()
	l := m.mu.byName[key]
	m.mu.Unlock()
	if l == nil || l.remaining(m.cfg.Clock.Now()) < m.cfg.Duration/2 {
		var err error
		if l, err = m.acquire(ctx, key); err != nil || l == nil {
			return nil
		}
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if ts.Less(l.validFrom) || !ts.Less(l.deadline) {
		return nil
	}
	return l
}

func (l *Lease) remaining(now hlc.Timestamp) time.Duration {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return time.Duration(l.deadline.WallTime - now.WallTime)
}

// acquire reads relation key's descriptor and writes this node's lease
// record on it, in one transaction, and caches the lease.
func (m *Manager) acquire(ctx context.Context, key catalog.RelKey) (*Lease, error) {
	m.mu.Lock()
	gen := m.mu.revocations
	m.mu.Unlock()
	txn, err := m.cfg.DB.NewTxn(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = txn.Rollback(ctx) }()
	ts, ok := txn.(kvapi.Timestamped)
	if !ok {
		return nil, nil
	}
	d, err := catalog.GetTable(ctx, txn, key)
	if err != nil || d == nil {
		return nil, err
	}
	exp := ts.ReadTimestamp()
	exp.WallTime += int64(m.cfg.Duration)
	if err := txn.Put(ctx, catalog.LeaseKey(d.ID, m.cfg.NodeID), encodeTimestamp(exp)); err != nil {
		return nil, err
	}
	if err := txn.Commit(ctx); err != nil {
		return nil, err
	}
	l := &Lease{desc: d, validFrom: ts.ReadTimestamp(), deadline: exp}
	if !l.validFrom.Less(exp) {
		return nil, nil
	}
	m.Acquisitions.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.revocations != gen {
		return nil, nil
	}
	if old := m.mu.byID[d.ID]; old != nil {
		delete(m.mu.byName, old.desc.Key())
	}
	m.mu.byName[d.Key()], m.mu.byID[d.ID] = l, l
	m.generation.Add(1)
	return l, nil
}

// Revoke revokes this node's leases on ids: no transaction uses them
// from now on, and none that used them commits after the timestamp it
// returns. now is the revoker's clock: this node's acquisitions from now
// on read at timestamps above the revoker's intents.
func (m *Manager) Revoke(ids []uint32, now hlc.Timestamp) (hlc.Timestamp, error) {
	if _, err := m.cfg.Clock.Update(now); err != nil {
		return hlc.Timestamp{}, err
	}
	m.mu.Lock()
	m.mu.revocations++
	m.generation.Add(1)
	var revoked []*Lease
	for _, id := range ids {
		if l := m.mu.byID[id]; l != nil {
			revoked = append(revoked, l)
			delete(m.mu.byID, id)
			delete(m.mu.byName, l.desc.Key())
		}
	}
	m.mu.Unlock()
	for _, l := range revoked {
		if !lockWithin(&l.mu, revokeWait) {
			return hlc.Timestamp{}, pgerror.Newf(pgerror.CodeSerializationFailure,
				"restart transaction: table %q is in use by a transaction that does not finish; the schema change gives way", l.desc.Name)
		}
		if now := m.cfg.Clock.Now(); now.Less(l.deadline) {
			l.deadline = now
		}
		l.mu.Unlock()
	}
	return m.cfg.Clock.Now(), nil
}

// lockWithin locks mu if it can within d. A waiting Lock holds off new
// readers (commits under the lease), so a busy table cannot starve it. If
// d passes first, the lock is released as soon as it is taken: the
// commit holding the lease up finishes once the schema change that gave
// way has rolled back.
func lockWithin(mu *sync.RWMutex, d time.Duration) bool {
	locked := make(chan struct{})
	go func() {
		mu.Lock()
		close(locked)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-locked:
		return true
	case <-t.C:
		go func() {
			<-locked
			mu.Unlock()
		}()
		return false
	}
}

func encodeTimestamp(ts hlc.Timestamp) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(ts.WallTime))
	return binary.BigEndian.AppendUint32(b, uint32(ts.Logical))
}

func decodeTimestamp(b []byte) (hlc.Timestamp, error) {
	if len(b) != 12 {
		return hlc.Timestamp{}, errors.Newf("corrupt lease record: %d bytes, want 12", len(b))
	}
	return hlc.Timestamp{WallTime: int64(binary.BigEndian.Uint64(b)), Logical: int32(binary.BigEndian.Uint32(b[8:]))}, nil
}
