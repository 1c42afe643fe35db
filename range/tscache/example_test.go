package tscache_test

import (
	"fmt"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/tscache"
)

// Example shows a leaseholder recording reads and pushing a write above
// them, except above its own transaction's reads.
func Example() {
	c := tscache.New(tscache.Options{})
	var a, b kv.TxnID
	a[0], b[0] = 'A', 'B'
	at := func(sec int64) hlc.Timestamp { return hlc.Timestamp{WallTime: sec * 1e9} }

	c.SetLowWater(at(5))                       // the lease starts at 5
	c.Add([]byte("a"), []byte("m"), at(10), a) // A scans [a, m) at 10
	c.Add([]byte("k"), nil, at(12), b)         // B reads k at 12
	pushWrite := func(txn kv.TxnID, key string, ts hlc.Timestamp) hlc.Timestamp {
		if maxTS, by := c.GetMax([]byte(key), nil); by != txn && ts.LessEq(maxTS) {
			return maxTS.Next()
		}
		return ts
	}
	fmt.Println(pushWrite(a, "c", at(8)))  // A's own read does not push A
	fmt.Println(pushWrite(b, "c", at(8)))  // B's write goes above A's read
	fmt.Println(pushWrite(a, "k", at(11))) // A's write goes above B's read
	fmt.Println(pushWrite(b, "z", at(3)))  // nothing read there: the low-water mark
	// Output:
	// 8.000000000,0
	// 10.000000000,1
	// 12.000000000,1
	// 5.000000000,1
}
