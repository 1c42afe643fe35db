package catalog

import (
	"context"
	"encoding/json"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
)

// Table statistics are what ANALYZE (or the automatic refresh after
// enough rows changed) last found in a table: its row count and, per
// column, the distinct and NULL counts, the average width and an
// equi-depth histogram. The planner estimates row counts from them. One
// record per table in the system keyspace, replaced whole by each
// collection and removed with the table:
//
//	/0x04 'S' <table ID> → TableStatistics (JSON)
var statisticsPrefix = []byte{0x04, 'S'}

// TableStatistics are one collection's figures for a table.
type TableStatistics struct {
	// Name is CREATE STATISTICS's name, __analyze__ for ANALYZE's,
	// __auto__ for the background refresh's.
	Name string `json:"name,omitempty"`
	// CreatedNanos is when they were collected (Unix nanoseconds).
	CreatedNanos int64              `json:"created"`
	RowCount     int64              `json:"rows"`
	Columns      []ColumnStatistics `json:"columns"`
}

// ColumnStatistics are one column's figures.
type ColumnStatistics struct {
	ColumnID uint32 `json:"id"`
	// Distinct counts the distinct non-NULL values (estimated).
	Distinct int64 `json:"distinct"`
	Nulls    int64 `json:"nulls"`
	// AvgWidth is the average size in bytes of the non-NULL values.
	AvgWidth int64 `json:"avg_width"`
	// Histogram are the upper bounds (inclusive, key-encoded, ascending)
	// of equi-depth buckets over the non-NULL values of a sample: each
	// bucket holds about the same share of them. Empty for a type without
	// a key encoding.
	Histogram [][]byte `json:"histogram,omitempty"`
}

// Column returns the figures of column id; nil if there are none.
func (s *TableStatistics) Column(id uint32) *ColumnStatistics {
	if s == nil {
		return nil
	}
	for i := range s.Columns {
		if s.Columns[i].ColumnID == id {
			return &s.Columns[i]
		}
	}
	return nil
}

func statisticsKey(table uint32) []byte {
	return encoding.EncodeUvarintAscending(append([]byte(nil), statisticsPrefix...), uint64(table))
}

// GetStatistics returns table's statistics; nil if it was never analyzed.
func GetStatistics(ctx context.Context, txn Txn, table uint32) (*TableStatistics, error) {
	raw, err := txn.Get(ctx, statisticsKey(table))
	if err != nil || raw == nil {
		return nil, err
	}
	s := &TableStatistics{}
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, errors.Wrapf(err, "corrupt statistics of table %d", table)
	}
	return s, nil
}

// PutStatistics replaces table's statistics.
func PutStatistics(ctx context.Context, txn Txn, table uint32, s *TableStatistics) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return txn.Put(ctx, statisticsKey(table), raw)
}

// deleteStatistics removes a dropped table's statistics.
func deleteStatistics(ctx context.Context, txn Txn, table uint32) error {
	return txn.Del(ctx, statisticsKey(table))
}

// ListStatistics returns the statistics of every analyzed table, by
// table ID.
func ListStatistics(ctx context.Context, txn Txn) (map[uint32]*TableStatistics, error) {
	kvs, err := txn.Scan(ctx, statisticsPrefix, PrefixEnd(statisticsPrefix), 0)
	if err != nil {
		return nil, err
	}
	out := make(map[uint32]*TableStatistics, len(kvs))
	for _, kv := range kvs {
		_, id, err := encoding.DecodeUvarintAscending(kv.Key[len(statisticsPrefix):])
		if err != nil {
			return nil, errors.Wrapf(err, "corrupt statistics key %x", kv.Key)
		}
		s := &TableStatistics{}
		if err := json.Unmarshal(kv.Value, s); err != nil {
			return nil, errors.Wrapf(err, "corrupt statistics of table %d", id)
		}
		out[uint32(id)] = s
	}
	return out, nil
}
