package sem

import (
	"fmt"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
)

// CatalogTypes are the types pg_type lists: those a column can have, and
// the catalogs' own.
var CatalogTypes = []*types.T{
	types.Bool, types.Bytes, types.QChar, types.Name, types.Int, types.Int2, types.Int4, types.String,
	types.Oid, types.Float4, types.Float, types.BPChar, types.VarChar, types.Date, types.Time,
	types.Timestamp, types.TimestampTZ, types.Interval, types.Decimal, types.Uuid, types.Jsonb, types.Json, types.TimeTZ,
}

// pgTypeNames are format_type's names where they differ from pg_type's.
var pgTypeNames = map[oid.Oid]string{
	oid.T_bool: "boolean", oid.T_char: `"char"`, oid.T_int8: "bigint", oid.T_int2: "smallint", oid.T_int4: "integer",
	oid.T_float4: "real", oid.T_float8: "double precision", oid.T_bpchar: "character", oid.T_varchar: "character varying",
	oid.T_time: "time without time zone", oid.T_timestamp: "timestamp without time zone",
	oid.T_timestamptz: "timestamp with time zone", oid.T_timetz: "time with time zone",
}

// TypeName is a type's pg_type name: int4, varchar, timestamptz.
func TypeName(t *types.T) string {
	if n, ok := oid.TypeName[t.Oid()]; ok {
		return strings.ToLower(n)
	}
	return t.Name()
}

// TypeLen is pg_type.typlen: the fixed width, or -1 for variable length.
func TypeLen(t *types.T) int {
	switch t.Oid() {
	case oid.T_bool, oid.T_char:
		return 1
	case oid.T_int2:
		return 2
	case oid.T_int4, oid.T_oid, oid.T_float4, oid.T_date,
		oid.T_regclass, oid.T_regtype, oid.T_regnamespace, oid.T_regrole, oid.T_regproc, oid.T_regprocedure:
		return 4
	case oid.T_int8, oid.T_float8, oid.T_time, oid.T_timestamp, oid.T_timestamptz:
		return 8
	case oid.T_timetz:
		return 12
	case oid.T_interval, oid.T_uuid:
		return 16
	case oid.T_name:
		return 64
	}
	return -1
}

// Typmod is a column type's pg_attribute.atttypmod: numeric's precision
// and scale, or a character type's length, offset by 4 as PostgreSQL
// stores them; -1 for none.
func Typmod(t *types.T) int32 {
	if t.Family() == types.ArrayFamily {
		// An array column carries its element type's modifier.
		return Typmod(t.ArrayContents())
	}
	switch t.Oid() {
	case oid.T_numeric:
		if t.Precision() > 0 {
			return (t.Precision()<<16 | t.Scale()) + 4
		}
	case oid.T_varchar, oid.T_bpchar:
		if t.Width() > 0 {
			return t.Width() + 4
		}
	}
	return -1
}

// FormatTypeOf is FormatType of t, which may be a user-defined type (an
// enum, or an array of one), named by its metadata.
func FormatTypeOf(t *types.T, mod int32) string {
	switch {
	case t.Family() == types.EnumFamily && t.TypeMeta.Name != nil:
		return tree.NameString(t.TypeMeta.Name.Name)
	case t.Family() == types.ArrayFamily && t.ArrayContents().Family() == types.EnumFamily:
		return FormatTypeOf(t.ArrayContents(), mod) + "[]"
	}
	return FormatType(t.Oid(), mod)
}

// FormatType is format_type: a type's SQL name with its modifier, such as
// numeric(10,2) or character varying(20).
func FormatType(o oid.Oid, mod int32) string {
	t, ok := types.OidToType[o]
	if !ok {
		// The parser's table lacks json (it reads the name as jsonb).
		if t, ok = catalogType(o); !ok {
			return "???"
		}
	}
	// int2vector and oidvector are arrays to the parser, but types of
	// their own (not smallint[]) to PostgreSQL.
	if t.Family() == types.ArrayFamily && o != oid.T_int2vector && o != oid.T_oidvector {
		return FormatType(t.ArrayContents().Oid(), mod) + "[]"
	}
	name, ok := pgTypeNames[o]
	if !ok {
		name = TypeName(t)
	}
	if mod >= 4 {
		switch o {
		case oid.T_numeric:
			m := mod - 4
			return fmt.Sprintf("%s(%d,%d)", name, m>>16, m&0xffff)
		case oid.T_varchar, oid.T_bpchar:
			return fmt.Sprintf("%s(%d)", name, mod-4)
		}
	}
	return name
}

func catalogType(o oid.Oid) (*types.T, bool) {
	for _, t := range CatalogTypes {
		if t.Oid() == o {
			return t, true
		}
	}
	return nil, false
}
