package catalog

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// SequenceOptions define a sequence (PostgreSQL's pg_sequence). A
// sequence is a relation whose one row (last_value, log_cnt, is_called)
// lives at its primary index's prefix, so that SELECT * FROM seq reads it
// as PostgreSQL shows it.
type SequenceOptions struct {
	// Type is the integer type the sequence was declared AS (bigint by
	// default); it bounds MinValue and MaxValue.
	Type      string `json:"type"`
	Increment int64  `json:"increment"`
	MinValue  int64  `json:"min_value"`
	MaxValue  int64  `json:"max_value"`
	Start     int64  `json:"start"`
	// Cache is how many values a session takes at once (PostgreSQL's
	// CACHE: the values it does not use are lost, never handed out twice).
	Cache int64 `json:"cache"`
	Cycle bool  `json:"cycle,omitempty"`
	// OwnedBy names the table (by ID) and column whose DROP drops the
	// sequence: a SERIAL or identity column's, or OWNED BY's.
	OwnedByTable  uint32 `json:"owned_by_table,omitempty"`
	OwnedByColumn string `json:"owned_by_column,omitempty"`
}

// SequenceColumns are the columns of a sequence's row.
var SequenceColumns = []ColumnDescriptor{
	{ID: 1, Name: "last_value", TypeName: "INT8", typ: types.Int},
	{ID: 2, Name: "log_cnt", TypeName: "INT8", typ: types.Int},
	{ID: 3, Name: "is_called", TypeName: "BOOL", typ: types.Bool},
}

// UsesSequence reports whether c's default calls nextval on sequence
// seq (named alone or with its schema, as defaults keep it).
func (c *ColumnDescriptor) UsesSequence(seq *TableDescriptor) bool {
	return strings.Contains(c.Default, "nextval('"+seq.Name+"'") || strings.Contains(c.Default, "nextval('"+seq.Schema+"."+seq.Name+"'")
}

// DefaultUsing returns the column of d whose default calls nextval on
// the sequence seq, if any.
func (d *TableDescriptor) DefaultUsing(seq string) string {
	for _, c := range d.Columns {
		if strings.Contains(c.Default, "nextval('"+seq+"'") {
			return c.Name
		}
	}
	return ""
}
