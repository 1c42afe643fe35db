package lease

import (
	"context"
	"sort"
	"time"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
)

// Txn is a SQL transaction on a node with leases: it serves table
// descriptors from them (Table), notes the schema it writes, and runs the
// lease protocol at its commit.
type Txn struct {
	kvapi.Txn
	m  *Manager
	ts kvapi.Timestamped
	// used are the leases whose descriptors the transaction used.
	used []*Lease
	// wroteSchema: the transaction changed the schema; it reads every
	// descriptor from then on (the leases hold the committed schema).
	wroteSchema bool
	// wrote are the descriptors it wrote.
	wrote map[uint32]bool
	// claiming: the transaction runs a schema change, which claims every
	// descriptor it reads (claim); claimed are those it has.
	claiming bool
	claimed  map[uint32]bool
}

// ClaimOnRead makes txn claim every table descriptor it reads while on
// (a schema change's statement; see claim).
func ClaimOnRead(txn kvapi.Txn, on bool) {
	if t, ok := txn.(*Txn); ok {
		t.claiming = on
	}
}

func (t *Txn) Get(ctx context.Context, key []byte) ([]byte, error) {
	if t.claiming {
		if id, ok := catalog.DescIDOfKey(key); ok && !t.claimed[id] {
			if err := t.claim(ctx, key, id); err != nil {
				return nil, err
			}
		}
	}
	return t.Txn.Get(ctx, key)
}

// claim prepares descriptor id for a change before the schema change
// reads anything under it: it writes the descriptor back as it is (an
// intent that every lease acquisition from now on waits for), revokes the
// leases on it, and moves the transaction past every transaction that
// used them. The rows the schema change then reads (a backfill) hold
// every write made under the old version.
func (t *Txn) claim(ctx context.Context, key []byte, id uint32) error {
	raw, err := t.Txn.Get(ctx, key)
	if err != nil || raw == nil {
		return err
	}
	t.noteWrite(key)
	if err := t.Txn.Put(ctx, key, raw); err != nil {
		return err
	}
	if t.claimed == nil {
		t.claimed = map[uint32]bool{}
	}
	t.claimed[id] = true
	return t.revoke(ctx, []uint32{id})
}

var _ kvapi.Snapshotter = (*Txn)(nil)

// Snapshot is the wrapped transaction's (nil if it has none).
func (t *Txn) Snapshot() kvapi.Snapshot {
	if s, ok := t.Txn.(kvapi.Snapshotter); ok {
		return s.Snapshot()
	}
	return nil
}

// At is the wrapped transaction read at s: a view for reads, which the
// lease protocol (claims on descriptors, noted writes) has no part in.
func (t *Txn) At(s kvapi.Snapshot) kvapi.Txn { return t.Txn.(kvapi.Snapshotter).At(s) }

// Wrap returns t with leases; a transaction without a place in HLC time
// (sql/memkv's) is returned as it is.
func (m *Manager) Wrap(t kvapi.Txn) kvapi.Txn {
	ts, ok := t.(kvapi.Timestamped)
	if m == nil || !ok {
		return t
	}
	return &Txn{Txn: t, m: m, ts: ts}
}

// Table returns relation key's descriptor as txn sees it: from a lease
// if txn has leases and one fits, otherwise read in txn; nil if there is
// no such relation. The descriptor is the caller's to change (a shallow
// copy: its slices are shared and must not be written).
func Table(ctx context.Context, txn kvapi.Txn, key catalog.RelKey) (*catalog.TableDescriptor, error) {
	t, ok := txn.(*Txn)
	if !ok || t.wroteSchema {
		return catalog.GetTable(ctx, txn, key)
	}
	l := t.m.lease(ctx, key, t.ts.ReadTimestamp())
	if l == nil {
		return catalog.GetTable(ctx, txn, key)
	}
	t.m.Hits.Add(1)
	t.use(l)
	d := *l.desc
	return &d, nil
}

// PlanGeneration returns the generation of the leases txn's descriptors
// come from; ok is false when they do not all come from leases (txn is
// not a leased one, or it wrote the schema itself). Any descriptor a
// transaction may see differs from the one a plan was built with only
// after a lease changed: a plan built when the generation was g may run
// again while it still is g.
func PlanGeneration(txn kvapi.Txn) (gen uint64, ok bool) {
	t, ok := txn.(*Txn)
	if !ok || t.wroteSchema {
		return 0, false
	}
	return t.m.generation.Load(), true
}

// TableByID is Table for a descriptor known by its ID (a foreign key's
// other table): the first read of an ID not leased yet reads it in txn to
// learn its name, and leases it by that name as Table does.
func TableByID(ctx context.Context, txn kvapi.Txn, id uint32) (*catalog.TableDescriptor, error) {
	t, ok := txn.(*Txn)
	if !ok || t.wroteSchema {
		return catalog.GetTableByID(ctx, txn, id)
	}
	t.m.mu.Lock()
	l := t.m.mu.byID[id]
	t.m.mu.Unlock()
	var key catalog.RelKey
	if l != nil {
		key = l.desc.Key()
	} else {
		d, err := catalog.GetTableByID(ctx, txn, id)
		if err != nil || d == nil {
			return d, err
		}
		key = d.Key()
	}
	d, err := Table(ctx, txn, key)
	if err != nil || d == nil || d.ID != id {
		// Renamed or dropped since: what txn reads decides.
		return catalog.GetTableByID(ctx, txn, id)
	}
	return d, nil
}

func (t *Txn) use(l *Lease) {
	for _, u := range t.used {
		if u == l {
			return
		}
	}
	t.used = append(t.used, l)
}

// WroteDescriptor reports whether the transaction wrote descriptor id
// (created or changed it): what it holds of it is not committed yet.
func (t *Txn) WroteDescriptor(id uint32) bool { return t.wrote[id] }

func (t *Txn) noteWrite(key []byte) {
	if !catalog.IsSchemaKey(key) {
		return
	}
	t.wroteSchema = true
	if id, ok := catalog.DescIDOfKey(key); ok {
		if t.wrote == nil {
			t.wrote = map[uint32]bool{}
		}
		t.wrote[id] = true
	}
}

func (t *Txn) Put(ctx context.Context, key, value []byte) error {
	t.noteWrite(key)
	return t.Txn.Put(ctx, key, value)
}

func (t *Txn) PutMany(ctx context.Context, kvs []kvapi.KeyValue) error {
	for _, kv := range kvs {
		t.noteWrite(kv.Key)
	}
	return t.Txn.PutMany(ctx, kvs)
}

func (t *Txn) Del(ctx context.Context, key []byte) error {
	t.noteWrite(key)
	return t.Txn.Del(ctx, key)
}

func (t *Txn) DelMany(ctx context.Context, keys [][]byte) error {
	for _, k := range keys {
		t.noteWrite(k)
	}
	return t.Txn.DelMany(ctx, keys)
}

// Commit commits before the deadline of every lease the transaction used,
// after revoking the leases on the descriptors it wrote.
func (t *Txn) Commit(ctx context.Context) error {
	defer func() { t.used = nil }()
	var unclaimed []uint32
	for id := range t.wrote {
		if !t.claimed[id] {
			unclaimed = append(unclaimed, id)
		}
	}
	if len(unclaimed) > 0 {
		sort.Slice(unclaimed, func(i, j int) bool { return unclaimed[i] < unclaimed[j] })
		if err := t.revoke(ctx, unclaimed); err != nil {
			return err
		}
	}
	for _, l := range t.used {
		if t.wrote[l.desc.ID] {
			// It read what it changed in the transaction.
			continue
		}
		l.mu.RLock()
		defer l.mu.RUnlock()
		t.ts.UpdateDeadline(l.deadline)
	}
	if err := t.Txn.Commit(ctx); err != nil {
		return err
	}
	// A revocation's answer must be at or above this commit.
	_, _ = t.m.cfg.Clock.Update(t.ts.ReadTimestamp())
	return nil
}

func (t *Txn) Rollback(ctx context.Context) error {
	t.used = nil
	return t.Txn.Rollback(ctx)
}

// revoke revokes every lease on descriptors ids, deletes their records,
// and moves the transaction above every transaction that used them (see
// the package comment). The transaction has written the descriptors.
func (t *Txn) revoke(ctx context.Context, ids []uint32) error {
	type record struct {
		key  []byte
		node int32
		exp  hlc.Timestamp
	}
	// The descriptors' writes go down first: every lease acquisition
	// from here on must meet them (their intents) and wait.
	if f, ok := t.Txn.(kvapi.WriteFlusher); ok {
		if err := f.FlushWrites(ctx); err != nil {
			return err
		}
	}
	// The records are read at the present: a lease taken since the
	// transaction began, recorded after the transaction observed the
	// record's node, would otherwise be certain to be after its reads
	// (observed timestamps), go unseen here, and fail the refresh up to
	// the revocation's timestamp below, restarting the schema change. A
	// move that fails here would fail there as well.
	if err := t.ts.ForwardTimestamp(ctx, t.m.cfg.Clock.Now()); err != nil {
		return err
	}
	var records []record
	holders := map[int32]bool{}
	for _, id := range ids {
		start, end := catalog.LeaseSpan(id)
		kvs, err := t.Txn.Scan(ctx, start, end, 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			node, ok := catalog.LeaseNodeOfKey(kv.Key)
			exp, err := decodeTimestamp(kv.Value)
			if !ok || err != nil {
				// A record that cannot be read protects nothing.
				records = append(records, record{key: kv.Key})
				continue
			}
			records = append(records, record{key: kv.Key, node: node, exp: exp})
			holders[node] = true
		}
	}
	if len(records) == 0 {
		return nil
	}
	clock := t.m.cfg.Clock
	now := clock.Now()
	above := now
	answered := map[int32]bool{}
	revoke := t.m.revokeFunc()
	for node := range holders {
		var ts hlc.Timestamp
		var err error
		switch {
		case node == t.m.cfg.NodeID:
			ts, err = t.m.Revoke(ids, now)
		case revoke != nil:
			ts, err = revoke(ctx, node, ids, now)
		default:
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			// A node that does not answer is waited out below.
			continue
		}
		answered[node] = true
		above.Forward(ts)
	}
	keys := make([][]byte, 0, len(records))
	for _, r := range records {
		keys = append(keys, r.key)
		if r.node == 0 || answered[r.node] {
			continue
		}
		// Its holder may still commit under it until it expires.
		if err := waitPast(ctx, clock, r.exp); err != nil {
			return err
		}
		above.Forward(r.exp)
	}
	if err := t.ts.ForwardTimestamp(ctx, above.Next()); err != nil {
		return err
	}
	return t.Txn.DelMany(ctx, keys)
}

// waitPast waits until clock is past ts: a commit above ts is then not in
// the future, where reads that follow it in real time would miss it.
func waitPast(ctx context.Context, clock *hlc.Clock, ts hlc.Timestamp) error {
	for {
		wait := time.Duration(ts.WallTime - clock.Now().WallTime)
		if wait < 0 {
			return nil
		}
		t := time.NewTimer(wait + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

var _ kvapi.LockWaiter = (*Txn)(nil)

// SetLockTimeout and SetLockNoWait pass kvapi.LockWaiter through to the
// wrapped transaction (a no-op on one that never waits).
// InsertAbsentTxn returns the transaction's AbsentInserter, if it has
// one. (Txn does not implement the interface itself: a type assertion
// would then succeed on a transaction that cannot.)
func (t *Txn) InsertAbsentTxn() (kvapi.AbsentInserter, bool) {
	ai, ok := t.Txn.(kvapi.AbsentInserter)
	return ai, ok
}

func (t *Txn) SetLockTimeout(d time.Duration) {
	if lw, ok := t.Txn.(kvapi.LockWaiter); ok {
		lw.SetLockTimeout(d)
	}
}

func (t *Txn) SetLockNoWait(on bool) {
	if lw, ok := t.Txn.(kvapi.LockWaiter); ok {
		lw.SetLockNoWait(on)
	}
}
