package rowenc

import (
	"unsafe"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
)

// Sizes of rows in memory, for the SQL memory budget (sql/mon). They are
// estimates: a datum's own Size (its struct and what it points to) plus
// the interface value that holds it, and a constant per row for the slice
// header and the bookkeeping of the container the row sits in (a slice of
// rows, a map entry).

// DatumOverhead is the memory of the interface value holding a datum.
const DatumOverhead = int64(unsafe.Sizeof(tree.Datum(nil)))

// RowOverhead is the memory a buffered row costs besides its datums.
const RowOverhead = int64(unsafe.Sizeof(tree.Datums(nil))) + 24

// DatumSize estimates the memory d holds.
func DatumSize(d tree.Datum) int64 {
	if d == nil {
		return DatumOverhead
	}
	return DatumOverhead + int64(d.Size())
}

// DatumsSize estimates the memory a buffered row holds.
func DatumsSize(row tree.Datums) int64 {
	sz := RowOverhead
	for _, d := range row {
		sz += DatumSize(d)
	}
	return sz
}

// KeySize estimates the memory of an encoded key held in a map (a
// DISTINCT set, a hash table): its bytes, the string header, and the
// map's per-entry overhead.
func KeySize(key string) int64 {
	return int64(len(key)) + int64(unsafe.Sizeof(key)) + 32
}
