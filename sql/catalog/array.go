package catalog

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// CheckKeyable refuses an array column as a key column (of the primary
// key or an index): arrays are stored in an encoding whose byte order is
// not their SQL order (see rowenc/array.go). PostgreSQL allows it.
func (c *ColumnDescriptor) CheckKeyable() error {
	if c.Type().Family() == types.ArrayFamily {
		return pgerror.Newf(pgerror.CodeFeatureNotSupported, "column %q: an array column in a primary key or an index is not supported yet", c.Name)
	}
	return nil
}
