package pgarray

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// Lower bounds. PostgreSQL's arrays carry a lower bound per dimension
// ('[0:2]={1,2,3}'); the parser's tree.DArray has no field for one and
// cannot be extended. Nearly every array has lower bounds 1, and every
// path written for DArray handles those; so an array's bounds other
// than 1 are kept beside it, in a table keyed by the array's address,
// and an array missing from the table has lower bounds 1. Code unaware
// of the bounds thus keeps working (it sees the array as if its bounds
// were 1); the paths where PostgreSQL honours them (output, storage,
// the wire's binary format, subscripts, comparison, concatenation, the
// dimension functions) ask Lower.
//
// An entry holds a weak pointer to its array: once the array is garbage
// its entry no longer matches (a new array allocated at the same address
// is not the one recorded) and a cleanup removes it. Only the outermost
// DArray of a multidimensional array (see package pgarray) carries the
// bounds, for all its dimensions; its sub-arrays never do.

type boundsEntry struct {
	arr   weak.Pointer[tree.DArray]
	lower []int
}

var bounds struct {
	// n is the number of entries, so that the common case (no array with
	// other bounds alive) costs one atomic load.
	n  atomic.Int64
	mu sync.RWMutex
	m  map[uintptr]boundsEntry
}

// Lower is a's lower bounds, one a dimension, outermost first; nil when
// every one is 1 (always for the empty array).
func Lower(a *tree.DArray) []int {
	if a == nil || bounds.n.Load() == 0 {
		return nil
	}
	key := uintptr(unsafe.Pointer(a))
	bounds.mu.RLock()
	e, ok := bounds.m[key]
	bounds.mu.RUnlock()
	if !ok || e.arr.Value() != a {
		return nil
	}
	return e.lower
}

// LowerOrOnes is a's lower bounds, one a dimension, 1s included.
func LowerOrOnes(a *tree.DArray) []int {
	if lb := Lower(a); lb != nil {
		return lb
	}
	out := make([]int, NDims(a))
	for i := range out {
		out[i] = 1
	}
	return out
}

// HasBounds reports whether some lower bound of a is not 1.
func HasBounds(a *tree.DArray) bool { return Lower(a) != nil }

// WithLower is a with lower bounds lower (one a dimension of a; nil or
// all 1 for the default): a itself when it has them already, else a
// shallow copy that has them (a may be shared, so it is never changed).
func WithLower(a *tree.DArray, lower []int) *tree.DArray {
	if allOnes(lower) || len(a.Array) == 0 {
		lower = nil
	}
	if sameDims(Lower(a), lower) {
		return a
	}
	c := *a
	if lower != nil {
		register(&c, append([]int(nil), lower...))
	}
	return &c
}

// Unbounded is a with lower bounds 1 (a itself when it has them).
func Unbounded(a *tree.DArray) *tree.DArray { return WithLower(a, nil) }

func allOnes(lower []int) bool {
	for _, l := range lower {
		if l != 1 {
			return false
		}
	}
	return true
}

// register records lower as the bounds of a, an array no one else has
// seen yet.
func register(a *tree.DArray, lower []int) {
	key := uintptr(unsafe.Pointer(a))
	bounds.mu.Lock()
	if bounds.m == nil {
		bounds.m = map[uintptr]boundsEntry{}
	}
	bounds.m[key] = boundsEntry{arr: weak.Make(a), lower: lower}
	bounds.n.Store(int64(len(bounds.m)))
	bounds.mu.Unlock()
	runtime.AddCleanup(a, forget, key)
}

// forget drops the entry at key if its array is gone (a newer array at
// the same address may have replaced it).
func forget(key uintptr) {
	bounds.mu.Lock()
	if e, ok := bounds.m[key]; ok && e.arr.Value() == nil {
		delete(bounds.m, key)
		bounds.n.Store(int64(len(bounds.m)))
	}
	bounds.mu.Unlock()
}

// BuildBounded is Build with lower bounds lower (nil: all 1).
func BuildBounded(elem *types.T, dims, lower []int, flat tree.Datums) *tree.DArray {
	return WithLower(Build(elem, dims, flat), lower)
}

// CheckBounds is PostgreSQL's ArrayCheckBounds: every upper bound
// (lower + length - 1) must fit an int4.
func CheckBounds(dims, lower []int) error {
	for i := range lower {
		if i < len(dims) && int64(lower[i])+int64(dims[i]) > 1<<31-1 {
			return pgerror.Newf(pgerror.CodeProgramLimitExceeded, "array lower bound is too large: %d", lower[i])
		}
	}
	return nil
}

// DimsText is array_dims's answer and the decoration of array_out:
// [lo:hi] for each dimension; "" for the empty array.
func DimsText(a *tree.DArray) string {
	dims := Dims(a)
	lower := Lower(a)
	var b strings.Builder
	for i, n := range dims {
		lo := 1
		if lower != nil {
			lo = lower[i]
		}
		fmt.Fprintf(&b, "[%d:%d]", lo, lo+n-1)
	}
	return b.String()
}
