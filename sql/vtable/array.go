package vtable

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sem"
)

// arrayTypeRows is the pg_type row of t's array type (_int4 for int4,
// OID 1007, as in PostgreSQL), none if t has no array type: array
// columns report these OIDs (pg_attribute.atttypid) and clients look
// them up.
func arrayTypeRows(t *types.T, coll oid.Oid) []tree.Datums {
	arr := types.CalcArrayOid(t)
	if arr == 0 {
		return nil
	}
	return []tree.Datums{{tree.NewDOid(arr), tree.NewDName("_" + sem.TypeName(t)), tree.NewDOid(pgCatalogOID), tree.NewDOid(ownerOID),
		tree.NewDInt(-1), tree.NewDString("b"), tree.NewDOid(coll), tree.NewDOid(t.Oid()),
		tree.NewDOid(0), tree.NewDOid(0), tree.DBoolFalse, tree.NewDInt(-1), tree.NewDOid(0), tree.NewDString("A"), tree.DNull}}
}

// typCategory is pg_type.typcategory of a built-in type.
func typCategory(t *types.T) string {
	switch t.Family() {
	case types.BoolFamily:
		return "B"
	case types.IntFamily, types.FloatFamily, types.DecimalFamily, types.OidFamily:
		return "N"
	case types.StringFamily:
		return "S"
	case types.DateFamily, types.TimestampFamily, types.TimestampTZFamily, types.TimeFamily, types.TimeTZFamily:
		return "D"
	case types.IntervalFamily:
		return "T"
	case types.BitFamily:
		return "V"
	case types.ArrayFamily:
		return "A"
	case types.INetFamily:
		return "I"
	case types.EnumFamily:
		return "E"
	}
	return "U"
}

// EnumLabelOID is the pg_enum OID of the i'th member of enum d: above
// every relation's and index's OID.
func EnumLabelOID(d *catalog.TypeDescriptor, i int) oid.Oid {
	return oid.Oid(RelOIDBase + 1<<25 + d.ID<<10 + uint32(i))
}
