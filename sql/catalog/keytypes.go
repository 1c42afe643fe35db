package catalog

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// CheckKeyColumn refuses a primary key column of a type that cannot key
// one. A type whose key encoding loses part of the value (jsonb's drops
// each number's scale) is allowed: the row value keeps a copy of such a
// column (rowenc.StoredInValue), which is what the row reads back.
func CheckKeyColumn(c *ColumnDescriptor) error {
	if err := c.CheckKeyable(); err != nil {
		return err
	}
	return CheckIndexable(c.Type())
}

// CheckIndexable refuses, as PostgreSQL does, a key or index column of a
// type without a btree operator class: json, which has no ordering nor
// even equality.
func CheckIndexable(t *types.T) error {
	if t.Oid() == oid.T_json {
		return pgerror.WithHint(pgerror.New("42704", `data type json has no default operator class for access method "btree"`),
			"You must specify an operator class for the index or define a default operator class for the data type.")
	}
	return nil
}
