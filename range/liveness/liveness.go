// Package liveness keeps node liveness records, on which epoch-based range
// leases rest (see kvserver's replica_lease.go for the argument why two
// leases never overlap).
//
// Each node has one record, {node, epoch, expiration}, stored as an MVCC
// value at Key(node) in the liveness range, whose ID the configuration
// names. A node heartbeats: it extends its record's expiration with a
// conditional put on the record it last saw, so it never overwrites a
// change it has not seen. While the record is live, the node's epoch
// leases are valid. Once a record has expired, another node may increment
// its epoch (again a conditional put on the exact record), which ends every
// lease of the old epoch for good: the owner's next heartbeat fails its
// condition, reads the record, and carries on at the new epoch. A node
// increments its own epoch in its first heartbeat after (re)starting, so
// leases of a previous incarnation never become valid again.
//
// Every node caches all records, refreshed by a scan of the liveness span
// after each heartbeat; the cache only moves forward (a higher epoch, or a
// later expiration at the same epoch), and every record it holds was once
// stored, so what it says of a lease's validity errs only on the side of
// "not live".
//
// The liveness range itself must use expiration-based leases: an epoch
// lease on it would depend on the records it serves.
package liveness

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/rangepb"
	"github.com/meridiandb/meridian/stop"
	"google.golang.org/protobuf/proto"
)

// keyPrefix starts the liveness records. User keys start at kv.LocalMax
// (0x02); until the keyspace has its /System prefix (DESIGN.md §3), the
// system keys liveness needs sit right there, below every table key.
var keyPrefix = append(append([]byte{}, kv.LocalMax...), "liveness/"...)

// Key returns the key of node's record: keyPrefix, then the node ID as 4
// big-endian bytes, so records sort by node.
func Key(node kvserver.NodeID) []byte {
	return binary.BigEndian.AppendUint32(append([]byte{}, keyPrefix...), uint32(node))
}

// Span returns the span holding every record; the liveness range must
// contain it.
func Span() (start, end []byte) {
	end = append([]byte{}, keyPrefix...)
	end[len(end)-1]++
	return append([]byte{}, keyPrefix...), end
}

// Sender sends KV requests to a range, finding its leaseholder.
// kvclient.Sender and kvtest.Cluster implement it.
type Sender interface {
	Send(ctx context.Context, id kvserver.RangeID, reqs ...*rangepb.RequestUnion) (*rangepb.BatchResponse, error)
}

// Config configures a node's liveness. Zero fields take the defaults.
type Config struct {
	// NodeID is this node. Required.
	NodeID kvserver.NodeID
	// Clock is the node's clock. Required.
	Clock *hlc.Clock
	// Sender reaches the liveness range. Required.
	Sender Sender
	// RangeID is the liveness range, which holds Span. Required.
	RangeID kvserver.RangeID
	// LivenessDuration is how long a heartbeat keeps the record live, in
	// HLC time. Default 9s.
	LivenessDuration time.Duration
	// HeartbeatInterval is the HLC time between heartbeats: a heartbeat is
	// due once the record has less than LivenessDuration −
	// HeartbeatInterval left. Default LivenessDuration/2.
	HeartbeatInterval time.Duration
	// TickInterval is the real time between checks whether a heartbeat is
	// due. Default 100ms.
	TickInterval time.Duration
	// HeartbeatTimeout bounds one heartbeat, in real time. Default 3s.
	HeartbeatTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.LivenessDuration == 0 {
		c.LivenessDuration = 9 * time.Second
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = c.LivenessDuration / 2
	}
	if c.TickInterval == 0 {
		c.TickInterval = 100 * time.Millisecond
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = 3 * time.Second
	}
}

// Validate checks the required fields and the defaults' consistency.
func (c *Config) Validate() error {
	switch {
	case c.NodeID == 0:
		return errors.New("liveness: NodeID is required")
	case c.Clock == nil:
		return errors.New("liveness: Clock is required")
	case c.Sender == nil:
		return errors.New("liveness: Sender is required")
	case c.RangeID == 0:
		return errors.New("liveness: RangeID is required")
	case c.HeartbeatInterval >= c.LivenessDuration:
		return errors.Newf("liveness: heartbeat interval %s must be below the liveness duration %s", c.HeartbeatInterval, c.LivenessDuration)
	}
	return nil
}

// ErrRecordLive marks an epoch increment refused because the record has
// not expired.
var ErrRecordLive = errors.New("liveness record is live")

// ErrEpochIncremented marks a heartbeat that found its epoch ended by
// another node; the next heartbeat carries on at the new epoch.
var ErrEpochIncremented = errors.New("liveness epoch was incremented")

// NodeLiveness is one node's view of every node's liveness, and the
// heartbeat of its own record. It is safe for concurrent use.
type NodeLiveness struct {
	cfg Config

	mu struct {
		sync.Mutex
		// records are the newest records known, by node. They are never
		// modified, only replaced.
		records map[kvserver.NodeID]entry
		// started is set by the first successful heartbeat, which starts
		// this incarnation's epoch.
		started bool
	}
}

// entry is a record and its stored bytes, the condition of the next
// conditional put on it.
type entry struct {
	rec *rangepb.Liveness
	raw []byte
}

var _ kvserver.NodeLiveness = (*NodeLiveness)(nil)

// New returns a node's liveness; Start runs its heartbeat loop.
func New(cfg Config) (*NodeLiveness, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nl := &NodeLiveness{cfg: cfg}
	nl.mu.records = map[kvserver.NodeID]entry{}
	return nl, nil
}

// Start runs the heartbeat loop as a task of stopper.
func (nl *NodeLiveness) Start(stopper *stop.Stopper) error {
	return stopper.RunAsyncTask("liveness-heartbeat", nl.heartbeatLoop)
}

// heartbeatLoop checks every TickInterval (real time) whether a heartbeat
// is due (in HLC time), heartbeats, then refreshes the cache. A failed
// heartbeat is retried at the next tick.
func (nl *NodeLiveness) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(nl.cfg.TickInterval)
	defer t.Stop()
	for {
		if nl.heartbeatDue() {
			hctx, cancel := context.WithTimeout(ctx, nl.cfg.HeartbeatTimeout)
			_ = nl.Heartbeat(hctx)
			_ = nl.Refresh(hctx)
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (nl *NodeLiveness) heartbeatDue() bool {
	nl.mu.Lock()
	e, ok := nl.mu.records[nl.cfg.NodeID]
	started := nl.mu.started
	nl.mu.Unlock()
	if !ok || !started {
		return true
	}
	due := tsFromProto(e.rec.Expiration).Add(-int64(nl.cfg.LivenessDuration-nl.cfg.HeartbeatInterval), 0)
	return !nl.cfg.Clock.Now().Less(due)
}

// Heartbeat extends this node's record by LivenessDuration from now. The
// first one of this incarnation starts a new epoch (1 if the node has no
// record yet).
func (nl *NodeLiveness) Heartbeat(ctx context.Context) error {
	self := nl.cfg.NodeID
	nl.mu.Lock()
	cur, known := nl.mu.records[self]
	started := nl.mu.started
	nl.mu.Unlock()
	if !started {
		// What we may have cached is not enough: the condition must be the
		// stored record.
		var err error
		if cur, known, err = nl.fetch(ctx, self); err != nil {
			return errors.Wrap(err, "liveness: reading this node's record")
		}
	}
	next := &rangepb.Liveness{
		NodeId:     int32(self),
		Epoch:      1,
		Expiration: tsToProto(nl.cfg.Clock.Now().Add(int64(nl.cfg.LivenessDuration), 0)),
	}
	var exp []byte
	if known {
		exp, next.Epoch = cur.raw, cur.rec.Epoch
		if !started {
			next.Epoch++
		}
	}
	raw, err := marshal(next)
	if err != nil {
		return err
	}
	if err := nl.cput(ctx, self, raw, exp, known); err != nil {
		// Learn what is stored, so the next attempt's condition holds.
		actual, found, ferr := nl.fetch(ctx, self)
		if started && ferr == nil && found && actual.rec.Epoch > cur.rec.Epoch {
			return errors.Mark(errors.Wrapf(err, "liveness: n%d heartbeat at epoch %d", self, next.Epoch), ErrEpochIncremented)
		}
		return errors.Wrapf(err, "liveness: n%d heartbeat", self)
	}
	nl.update(entry{rec: next, raw: raw})
	nl.mu.Lock()
	nl.mu.started = true
	nl.mu.Unlock()
	return nil
}

// Refresh reads every record from the liveness range into the cache.
func (nl *NodeLiveness) Refresh(ctx context.Context) error {
	start, end := Span()
	for len(start) > 0 {
		resp, err := nl.cfg.Sender.Send(ctx, nl.cfg.RangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Scan{
			Scan: &rangepb.ScanRequest{Span: &rangepb.Span{Key: start, EndKey: end}},
		}})
		if err != nil {
			return errors.Wrap(err, "liveness: scanning the records")
		}
		scan := resp.Responses[0].GetScan()
		for _, kv := range scan.Rows {
			rec := &rangepb.Liveness{}
			if err := proto.Unmarshal(kv.Value, rec); err != nil {
				return errors.Wrapf(err, "liveness: decoding the record at %q", kv.Key)
			}
			nl.update(entry{rec: rec, raw: kv.Value})
		}
		start = scan.ResumeKey
	}
	return nil
}

// IncrementEpoch ends rec's epoch, once its expiration has passed on this
// node's clock. It returns nil if the epoch has moved past rec's already
// (someone else incremented it, or the node restarted), ErrRecordLive if
// the record is live.
func (nl *NodeLiveness) IncrementEpoch(ctx context.Context, rec *rangepb.Liveness) error {
	node := kvserver.NodeID(rec.NodeId)
	nl.mu.Lock()
	cur, ok := nl.mu.records[node]
	nl.mu.Unlock()
	if !ok {
		return errors.Newf("liveness: n%d has no known record", node)
	}
	if cur.rec.Epoch > rec.Epoch {
		return nil
	}
	if nl.cfg.Clock.Now().LessEq(tsFromProto(cur.rec.Expiration)) {
		return errors.Wrapf(ErrRecordLive, "n%d epoch %d", node, cur.rec.Epoch)
	}
	// The expiration stays: it says nothing of the new epoch, whose owner
	// must heartbeat to make it live.
	next := &rangepb.Liveness{NodeId: rec.NodeId, Epoch: cur.rec.Epoch + 1, Expiration: cur.rec.Expiration}
	raw, err := marshal(next)
	if err != nil {
		return err
	}
	if err := nl.cput(ctx, node, raw, cur.raw, true); err != nil {
		actual, found, ferr := nl.fetch(ctx, node)
		if ferr == nil && found && actual.rec.Epoch > rec.Epoch {
			return nil
		}
		return errors.Wrapf(err, "liveness: incrementing the epoch of n%d", node)
	}
	nl.update(entry{rec: next, raw: raw})
	return nil
}

// GetLiveness returns the newest record of node known here. The record
// must not be modified. This node's own record is unknown until its first
// heartbeat has started this incarnation's epoch: the stored one may be a
// previous incarnation's, still live, whose leases must stay dead.
func (nl *NodeLiveness) GetLiveness(node kvserver.NodeID) (*rangepb.Liveness, bool) {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	if node == nl.cfg.NodeID && !nl.mu.started {
		return nil, false
	}
	e, ok := nl.mu.records[node]
	return e.rec, ok
}

// Self returns this node's record, once its first heartbeat succeeded.
func (nl *NodeLiveness) Self() (*rangepb.Liveness, bool) { return nl.GetLiveness(nl.cfg.NodeID) }

// IsLive reports whether node's newest known record is live at ts.
func (nl *NodeLiveness) IsLive(node kvserver.NodeID, ts hlc.Timestamp) bool {
	rec, ok := nl.GetLiveness(node)
	return ok && ts.Less(tsFromProto(rec.Expiration))
}

// update caches e unless a newer record of its node is cached.
func (nl *NodeLiveness) update(e entry) {
	node := kvserver.NodeID(e.rec.NodeId)
	nl.mu.Lock()
	defer nl.mu.Unlock()
	if old, ok := nl.mu.records[node]; ok {
		if old.rec.Epoch > e.rec.Epoch ||
			(old.rec.Epoch == e.rec.Epoch && !tsFromProto(old.rec.Expiration).Less(tsFromProto(e.rec.Expiration))) {
			return
		}
	}
	nl.mu.records[node] = e
}

// fetch reads node's record from the liveness range into the cache.
func (nl *NodeLiveness) fetch(ctx context.Context, node kvserver.NodeID) (entry, bool, error) {
	resp, err := nl.cfg.Sender.Send(ctx, nl.cfg.RangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Get{
		Get: &rangepb.GetRequest{Key: Key(node)},
	}})
	if err != nil {
		return entry{}, false, err
	}
	g := resp.Responses[0].GetGet()
	if !g.Found {
		return entry{}, false, nil
	}
	rec := &rangepb.Liveness{}
	if err := proto.Unmarshal(g.Value, rec); err != nil {
		return entry{}, false, errors.Wrapf(err, "liveness: decoding the record of n%d", node)
	}
	e := entry{rec: rec, raw: g.Value}
	nl.update(e)
	return e, true, nil
}

// cput writes raw as node's record if the stored one is exp (or absent,
// when !expExists).
func (nl *NodeLiveness) cput(ctx context.Context, node kvserver.NodeID, raw, exp []byte, expExists bool) error {
	_, err := nl.cfg.Sender.Send(ctx, nl.cfg.RangeID, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_ConditionalPut{
		ConditionalPut: &rangepb.ConditionalPutRequest{Key: Key(node), Value: raw, ExpValue: exp, ExpExists: expExists},
	}})
	return err
}

func marshal(rec *rangepb.Liveness) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	return b, errors.Wrap(err, "liveness: encoding a record")
}

func tsToProto(ts hlc.Timestamp) *rangepb.Timestamp { return rangepb.TimestampOf(ts) }

func tsFromProto(p *rangepb.Timestamp) hlc.Timestamp {
	return hlc.Timestamp{WallTime: p.GetWallTime(), Logical: p.GetLogical()}
}
