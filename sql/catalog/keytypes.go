package catalog

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// CheckKeyColumn refuses, with 0A000, a primary key column of a type
// whose key encoding loses part of the value: jsonb's drops each
// number's scale (rowenc/json.go), which an index, whose rows are read
// from the table, can afford and a primary key, whose columns are read
// from the key, cannot. PostgreSQL allows it.
func CheckKeyColumn(c *ColumnDescriptor) error {
	if c.Type().Family() == types.JsonFamily {
		return pgerror.Newf(pgerror.CodeFeatureNotSupported,
			"column %q: a primary key of type jsonb is not supported yet", c.Name)
	}
	return nil
}
