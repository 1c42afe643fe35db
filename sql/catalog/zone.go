package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Zone configurations (CockroachDB's replication zones) say how the
// ranges of an object are replicated and sized: how many replicas, on
// which stores (constraints on the stores' localities), where the lease
// prefers to be, the range size bounds of the split and merge queues,
// and how long old MVCC versions are kept. They live in the system
// keyspace beside the descriptors, written in the statement's
// transaction:
//
//	/0x04 'z' 'r'                       → RANGE default
//	/0x04 'z' 'd' <database ID>         → a database's zone
//	/0x04 'z' 't' <table ID> <index ID> → a table's (index 0) or an index's zone
//
// Database and table IDs come from different counters, hence the kind
// byte. A zone sets some fields; the others are inherited, field by
// field, from the next zone out: index → table → database → default.
// RANGE default always has every field (built-in values until an ALTER
// RANGE default stores it). The cluster's nodes read the records to place
// replicas (server/replicate_queue.go), by the table ID that starts a
// range's start key.
var zonePrefix = []byte{0x04, 'z'}

// ZoneKind is the kind of object a zone configures.
type ZoneKind byte

const (
	ZoneDefault  ZoneKind = 'r'
	ZoneDatabase ZoneKind = 'd'
	ZoneTable    ZoneKind = 't'
)

// ZoneTarget names the object a zone configures: RANGE default, a
// database, a table (Index 0) or one of its indexes.
type ZoneTarget struct {
	Kind  ZoneKind
	ID    uint32
	Index uint32
}

// DefaultZoneTarget is RANGE default.
var DefaultZoneTarget = ZoneTarget{Kind: ZoneDefault}

func (t ZoneTarget) key() []byte {
	k := append(append([]byte(nil), zonePrefix...), byte(t.Kind))
	switch t.Kind {
	case ZoneDatabase:
		k = encoding.EncodeUvarintAscending(k, uint64(t.ID))
	case ZoneTable:
		k = encoding.EncodeUvarintAscending(k, uint64(t.ID))
		k = encoding.EncodeUvarintAscending(k, uint64(t.Index))
	}
	return k
}

func zoneTargetOfKey(k []byte) (ZoneTarget, bool) {
	if !bytes.HasPrefix(k, zonePrefix) || len(k) <= len(zonePrefix) {
		return ZoneTarget{}, false
	}
	t := ZoneTarget{Kind: ZoneKind(k[len(zonePrefix)])}
	rest := k[len(zonePrefix)+1:]
	var v uint64
	var err error
	switch t.Kind {
	case ZoneDefault:
		return t, len(rest) == 0
	case ZoneDatabase:
		_, v, err = encoding.DecodeUvarintAscending(rest)
		t.ID = uint32(v)
	case ZoneTable:
		if rest, v, err = encoding.DecodeUvarintAscending(rest); err == nil {
			t.ID = uint32(v)
			_, v, err = encoding.DecodeUvarintAscending(rest)
			t.Index = uint32(v)
		}
	default:
		return ZoneTarget{}, false
	}
	return t, err == nil
}

// ZoneConfig is one zone's settings; a nil field is inherited. The
// constraint fields keep the text the user gave (validated when set, see
// ParseConstraints and ParseLeasePreferences), as CockroachDB shows it.
type ZoneConfig struct {
	RangeMinBytes    *int64  `json:"range_min_bytes,omitempty"`
	RangeMaxBytes    *int64  `json:"range_max_bytes,omitempty"`
	GCTTLSeconds     *int64  `json:"gc_ttlseconds,omitempty"`
	NumReplicas      *int64  `json:"num_replicas,omitempty"`
	Constraints      *string `json:"constraints,omitempty"`
	VoterConstraints *string `json:"voter_constraints,omitempty"`
	LeasePreferences *string `json:"lease_preferences,omitempty"`
}

// The built-in RANGE default (CockroachDB's values).
const (
	DefaultRangeMinBytes = 128 << 20
	DefaultRangeMaxBytes = 512 << 20
	DefaultGCTTLSeconds  = 14400
	DefaultNumReplicas   = 3
	// MinRangeMaxBytes is the smallest range_max_bytes accepted.
	MinRangeMaxBytes = 64 << 10
)

// DefaultZoneConfig is RANGE default as the cluster starts with it.
func DefaultZoneConfig() *ZoneConfig {
	i := func(v int64) *int64 { return &v }
	s := func(v string) *string { return &v }
	return &ZoneConfig{
		RangeMinBytes: i(DefaultRangeMinBytes), RangeMaxBytes: i(DefaultRangeMaxBytes),
		GCTTLSeconds: i(DefaultGCTTLSeconds), NumReplicas: i(DefaultNumReplicas),
		Constraints: s("[]"), LeasePreferences: s("[]"),
	}
}

// Clone returns a copy of z that shares no field with it.
func (z *ZoneConfig) Clone() *ZoneConfig {
	c := &ZoneConfig{}
	raw, _ := json.Marshal(z)
	_ = json.Unmarshal(raw, c)
	return c
}

// InheritFrom fills z's unset fields from parent's.
func (z *ZoneConfig) InheritFrom(parent *ZoneConfig) {
	if parent == nil {
		return
	}
	if z.RangeMinBytes == nil {
		z.RangeMinBytes = parent.RangeMinBytes
	}
	if z.RangeMaxBytes == nil {
		z.RangeMaxBytes = parent.RangeMaxBytes
	}
	if z.GCTTLSeconds == nil {
		z.GCTTLSeconds = parent.GCTTLSeconds
	}
	if z.NumReplicas == nil {
		z.NumReplicas = parent.NumReplicas
	}
	if z.Constraints == nil {
		z.Constraints = parent.Constraints
	}
	if z.VoterConstraints == nil {
		z.VoterConstraints = parent.VoterConstraints
	}
	if z.LeasePreferences == nil {
		z.LeasePreferences = parent.LeasePreferences
	}
}

// Equal reports whether two zones set the same values.
func (z *ZoneConfig) Equal(o *ZoneConfig) bool {
	a, _ := json.Marshal(z)
	b, _ := json.Marshal(o)
	return bytes.Equal(a, b)
}

// Validate checks a fully resolved zone (every field set).
func (z *ZoneConfig) Validate() error {
	if *z.NumReplicas < 1 {
		return pgerror.Newf("22023", "num_replicas = %d: at least 1 replica is required", *z.NumReplicas)
	}
	if *z.RangeMaxBytes < MinRangeMaxBytes {
		return pgerror.Newf("22023", "range_max_bytes = %d is less than the minimum allowed %d", *z.RangeMaxBytes, MinRangeMaxBytes)
	}
	if *z.RangeMinBytes < 0 || *z.RangeMinBytes >= *z.RangeMaxBytes {
		return pgerror.Newf("22023", "range_min_bytes = %d must be at least 0 and less than range_max_bytes = %d", *z.RangeMinBytes, *z.RangeMaxBytes)
	}
	if *z.GCTTLSeconds < 1 {
		return pgerror.Newf("22023", "gc.ttlseconds = %d: must be at least 1", *z.GCTTLSeconds)
	}
	for _, c := range []*string{z.Constraints, z.VoterConstraints} {
		if c != nil {
			if _, err := ParseConstraints(*c); err != nil {
				return err
			}
		}
	}
	if z.LeasePreferences != nil {
		if _, err := ParseLeasePreferences(*z.LeasePreferences); err != nil {
			return err
		}
	}
	return nil
}

// ConfigSQL prints z as CockroachDB's SHOW ZONE CONFIGURATION does: the
// statement that would set it (every field, in CockroachDB's order;
// voter_constraints only when set).
func (z *ZoneConfig) ConfigSQL(alterWhat string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "ALTER %s CONFIGURE ZONE USING", alterWhat)
	var parts []string
	add := func(name string, v *int64) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s = %d", name, *v))
		}
	}
	addS := func(name string, v *string) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s = '%s'", name, strings.ReplaceAll(*v, "'", "''")))
		}
	}
	add("range_min_bytes", z.RangeMinBytes)
	add("range_max_bytes", z.RangeMaxBytes)
	add("gc.ttlseconds", z.GCTTLSeconds)
	add("num_replicas", z.NumReplicas)
	addS("constraints", z.Constraints)
	addS("voter_constraints", z.VoterConstraints)
	addS("lease_preferences", z.LeasePreferences)
	for i, p := range parts {
		sb.WriteString("\n\t" + p)
		if i < len(parts)-1 {
			sb.WriteByte(',')
		}
	}
	return sb.String()
}

// GetZone reads the zone of target; nil if it has none of its own
// (RANGE default: the built-in one).
func GetZone(ctx context.Context, txn Txn, target ZoneTarget) (*ZoneConfig, error) {
	raw, err := txn.Get(ctx, target.key())
	if err != nil {
		return nil, err
	}
	if raw == nil {
		if target.Kind == ZoneDefault {
			return DefaultZoneConfig(), nil
		}
		return nil, nil
	}
	z := &ZoneConfig{}
	if err := json.Unmarshal(raw, z); err != nil {
		return nil, errors.Wrapf(err, "corrupt zone configuration %v", target)
	}
	return z, nil
}

// PutZone stores target's zone.
func PutZone(ctx context.Context, txn Txn, target ZoneTarget, z *ZoneConfig) error {
	raw, err := json.Marshal(z)
	if err != nil {
		return err
	}
	return txn.Put(ctx, target.key(), raw)
}

// DeleteZone removes target's zone (RANGE default: back to the built-in
// values).
func DeleteZone(ctx context.Context, txn Txn, target ZoneTarget) error {
	return txn.Del(ctx, target.key())
}

// deleteTableZones removes the zones of a dropped table and its indexes.
func deleteTableZones(ctx context.Context, txn Txn, table uint32) error {
	start := encoding.EncodeUvarintAscending(append(append([]byte(nil), zonePrefix...), byte(ZoneTable)), uint64(table))
	kvs, err := txn.Scan(ctx, start, PrefixEnd(start), 0)
	if err != nil || len(kvs) == 0 {
		return err
	}
	keys := make([][]byte, len(kvs))
	for i, kv := range kvs {
		keys[i] = kv.Key
	}
	return txn.DelMany(ctx, keys)
}

// ListZones returns every stored zone (RANGE default only once it is
// stored; ResolveZone falls back to the built-in one).
func ListZones(ctx context.Context, txn Txn) (map[ZoneTarget]*ZoneConfig, error) {
	kvs, err := txn.Scan(ctx, zonePrefix, PrefixEnd(zonePrefix), 0)
	if err != nil {
		return nil, err
	}
	out := map[ZoneTarget]*ZoneConfig{}
	for _, kv := range kvs {
		t, ok := zoneTargetOfKey(kv.Key)
		if !ok {
			continue
		}
		z := &ZoneConfig{}
		if err := json.Unmarshal(kv.Value, z); err != nil {
			return nil, errors.Wrapf(err, "corrupt zone configuration %v", t)
		}
		out[t] = z
	}
	return out, nil
}

// SortedZoneTargets returns zones' targets in SHOW ZONE CONFIGURATIONS'
// order: default, databases, tables and their indexes.
func SortedZoneTargets(zones map[ZoneTarget]*ZoneConfig) []ZoneTarget {
	out := make([]ZoneTarget, 0, len(zones))
	for t := range zones {
		out = append(out, t)
	}
	rank := map[ZoneKind]int{ZoneDefault: 0, ZoneDatabase: 1, ZoneTable: 2}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Index < b.Index
	})
	return out
}

// ZoneSet is every zone with what resolving a key's zone needs: each
// table's database. Not to be changed once in use; then safe for
// concurrent use.
type ZoneSet struct {
	Zones map[ZoneTarget]*ZoneConfig
	// TableDB maps a table ID to its database's ID.
	TableDB map[uint32]uint32
	// Tables lists the table IDs in order (the places zones may change).
	Tables []uint32

	boundariesOnce sync.Once
	boundaries     [][]byte // sorted; see computeBoundaries
}

// LoadZoneSet reads every zone and the tables' databases.
func LoadZoneSet(ctx context.Context, txn Txn) (*ZoneSet, error) {
	zones, err := ListZones(ctx, txn)
	if err != nil {
		return nil, err
	}
	tables, err := ListAllTables(ctx, txn)
	if err != nil {
		return nil, err
	}
	zs := &ZoneSet{Zones: zones, TableDB: map[uint32]uint32{}}
	for _, t := range tables {
		zs.TableDB[t.ID] = t.ParentID
		zs.Tables = append(zs.Tables, t.ID)
	}
	sort.Slice(zs.Tables, func(i, j int) bool { return zs.Tables[i] < zs.Tables[j] })
	return zs, nil
}

// Resolve returns the zone of a table's index (index 0: the table as a
// whole; table 0: outside every table), every field set, and the most
// specific target that has a zone of its own.
func (zs *ZoneSet) Resolve(table, index uint32) (*ZoneConfig, ZoneTarget) {
	return ResolveZone(zs.Zones, zs.TableDB[table], table, index)
}

// ResolveZone resolves the zone of index of table in database db out of
// zones (the zero IDs skip a level).
func ResolveZone(zones map[ZoneTarget]*ZoneConfig, db, table, index uint32) (*ZoneConfig, ZoneTarget) {
	out := &ZoneConfig{}
	from := DefaultZoneTarget
	chain := []ZoneTarget{DefaultZoneTarget}
	if db != 0 {
		chain = append(chain, ZoneTarget{Kind: ZoneDatabase, ID: db})
	}
	if table != 0 {
		chain = append(chain, ZoneTarget{Kind: ZoneTable, ID: table})
		if index != 0 {
			chain = append(chain, ZoneTarget{Kind: ZoneTable, ID: table, Index: index})
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if z, ok := zones[chain[i]]; ok {
			if from == DefaultZoneTarget && i > 0 {
				from = chain[i]
			}
			out.InheritFrom(z)
		}
	}
	out.InheritFrom(DefaultZoneConfig())
	return out, from
}

// KeyZoneIDs returns the table and index a key belongs to (0, 0 for a
// key outside the tables).
func KeyZoneIDs(key []byte) (table, index uint32) {
	rest, t, err := encoding.DecodeUvarintAscending(key)
	if err != nil || t < FirstTableID || t >= 1<<32 {
		return 0, 0
	}
	if _, i, err := encoding.DecodeUvarintAscending(rest); err == nil && i < 1<<32 {
		index = uint32(i)
	}
	return uint32(t), index
}

// ForKey resolves the zone of the range that starts at key. A key below
// every table (the system keys, meta) gets RANGE default.
func (zs *ZoneSet) ForKey(key []byte) *ZoneConfig {
	t, i := KeyZoneIDs(key)
	z, _ := zs.Resolve(t, i)
	return z
}

// SplitKeyIn returns the first key in (start, end) where the resolved
// zone differs from start's, nil if the zone is the same throughout: the
// places where a range must split so that each range has one zone. The
// boundaries are table starts, and the starts and ends of indexes with
// zones of their own.
func (zs *ZoneSet) SplitKeyIn(start, end []byte) []byte {
	zs.boundariesOnce.Do(zs.computeBoundaries)
	i := sort.Search(len(zs.boundaries), func(i int) bool { return bytes.Compare(zs.boundaries[i], start) > 0 })
	if i == len(zs.boundaries) || (len(end) > 0 && bytes.Compare(zs.boundaries[i], end) >= 0) {
		return nil
	}
	base := zs.ForKey(start)
	for _, k := range zs.boundaries[i:] {
		if len(end) > 0 && bytes.Compare(k, end) >= 0 {
			return nil
		}
		if !zs.ForKey(k).Equal(base) {
			return k
		}
	}
	return nil
}

// computeBoundaries sorts the keys where a zone may change, once.
func (zs *ZoneSet) computeBoundaries() {
	var out [][]byte
	for _, id := range zs.Tables {
		p := encoding.EncodeUvarintAscending(nil, uint64(id))
		out = append(out, p, PrefixEnd(p))
	}
	for t := range zs.Zones {
		if t.Kind == ZoneTable && t.Index != 0 {
			p := encoding.EncodeUvarintAscending(encoding.EncodeUvarintAscending(nil, uint64(t.ID)), uint64(t.Index))
			out = append(out, p, PrefixEnd(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	zs.boundaries = out
}
