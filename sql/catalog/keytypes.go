package catalog

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// CheckKeyColumn refuses, with 0A000, a primary key column of a type
// whose key encoding loses part of the value: jsonb's drops each
// number's scale (rowenc/json.go), which an index, whose rows are read
// from the table, can afford and a primary key, whose columns are read
// from the key, cannot. PostgreSQL allows it.
func CheckKeyColumn(c *ColumnDescriptor) error {
	if err := CheckIndexable(c.Type()); err != nil {
		return err
	}
	if c.Type().Family() == types.JsonFamily {
		return pgerror.Newf(pgerror.CodeFeatureNotSupported,
			"column %q: a primary key of type jsonb is not supported yet", c.Name)
	}
	return nil
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
