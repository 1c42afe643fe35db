package catalog

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Cluster settings (SET CLUSTER SETTING) live in the system keyspace as
// text, one record per setting changed from its default:
//
//	/0x04 's' <name> → the value, in its canonical text form
//
// Every node reads them (with the zone configurations) and applies them
// to its queues; a setting without a record has its node's default.
var settingPrefix = []byte{0x04, 's'}

// SettingType is a cluster setting's value type.
type SettingType byte

const (
	SettingBool SettingType = iota
	SettingInt
	SettingFloat
	SettingDuration
)

// String is the type as SHOW ALL CLUSTER SETTINGS prints it (CockroachDB's
// one-letter codes).
func (t SettingType) String() string {
	return [...]string{"b", "i", "f", "d"}[t]
}

// Setting describes one cluster setting.
type Setting struct {
	Name        string
	Type        SettingType
	Default     string
	Description string
}

// Settings are the cluster settings Meridian knows, by name: the knobs of
// the split, merge and replicate queues and of failure detection. Names
// are CockroachDB's where it has the knob.
var Settings = map[string]Setting{
	"kv.range_split.by_load_enabled": {Name: "kv.range_split.by_load_enabled", Type: SettingBool, Default: "false",
		Description: "split ranges that serve more than kv.range_split.load_qps_threshold requests per second"},
	"kv.range_split.load_qps_threshold": {Name: "kv.range_split.load_qps_threshold", Type: SettingInt, Default: "2500",
		Description: "the requests per second above which a range splits by load"},
	"kv.range_merge.queue.enabled": {Name: "kv.range_merge.queue.enabled", Type: SettingBool, Default: "false",
		Description: "merge small, cold neighbouring ranges (below their zone's range_min_bytes)"},
	"kv.range_split.by_size_enabled": {Name: "kv.range_split.by_size_enabled", Type: SettingBool, Default: "true",
		Description: "split ranges larger than their zone's range_max_bytes"},
	"kv.allocator.rebalancing.enabled": {Name: "kv.allocator.rebalancing.enabled", Type: SettingBool, Default: "true",
		Description: "move replicas and leases to balance their counts across stores"},
	"kv.allocator.load_based_lease_rebalancing.enabled": {Name: "kv.allocator.load_based_lease_rebalancing.enabled", Type: SettingBool, Default: "true",
		Description: "with rebalancing on, balance leases by the requests per second their stores serve (under load), not by their counts"},
	"kv.allocator.load_based_replica_rebalancing.enabled": {Name: "kv.allocator.load_based_replica_rebalancing.enabled", Type: SettingBool, Default: "true",
		Description: "with rebalancing and load-based lease rebalancing on, move replicas of hot ranges where leases alone cannot balance the requests per second their stores serve"},
	"sql.stats.automatic_collection.enabled": {Name: "sql.stats.automatic_collection.enabled", Type: SettingBool, Default: "true",
		Description: "refresh a table's planner statistics in the background once enough of its rows changed"},
	"server.time_until_store_dead": {Name: "server.time_until_store_dead", Type: SettingDuration, Default: "5m0s",
		Description: "how long a node must be unreachable before its replicas are rebuilt elsewhere"},
}

// SettingNames returns the known settings' names, sorted.
func SettingNames() []string {
	out := make([]string, 0, len(Settings))
	for n := range Settings {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// CanonicalSetting checks value against setting s's type and returns its
// canonical text.
func CanonicalSetting(s Setting, value string) (string, error) {
	switch s.Type {
	case SettingBool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return "", pgerror.Newf("22023", "%s: %q is not a boolean", s.Name, value)
		}
		return strconv.FormatBool(b), nil
	case SettingInt:
		i, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return "", pgerror.Newf("22023", "%s: %q is not an integer", s.Name, value)
		}
		return strconv.FormatInt(i, 10), nil
	case SettingFloat:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return "", pgerror.Newf("22023", "%s: %q is not a number", s.Name, value)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	default:
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return "", pgerror.Newf("22023", "%s: %q is not a positive duration such as '5m0s'", s.Name, value)
		}
		return d.String(), nil
	}
}

func settingKey(name string) []byte {
	return encoding.EncodeStringAscending(append([]byte(nil), settingPrefix...), name)
}

// PutSetting stores a setting's canonical value.
func PutSetting(ctx context.Context, txn Txn, name, value string) error {
	return txn.Put(ctx, settingKey(name), []byte(value))
}

// ResetSetting removes a setting's record: back to the default.
func ResetSetting(ctx context.Context, txn Txn, name string) error {
	return txn.Del(ctx, settingKey(name))
}

// ListSettings returns the settings changed from their defaults.
func ListSettings(ctx context.Context, txn Txn) (map[string]string, error) {
	kvs, err := txn.Scan(ctx, settingPrefix, PrefixEnd(settingPrefix), 0)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, kv := range kvs {
		_, name, err := encoding.DecodeStringAscending(kv.Key[len(settingPrefix):])
		if err != nil {
			return nil, errors.Wrapf(err, "corrupt cluster setting key %q", kv.Key)
		}
		out[name] = string(kv.Value)
	}
	return out, nil
}
