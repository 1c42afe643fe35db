package kvtest

import (
	"testing"

	"github.com/meridiandb/meridian/kv"
)

// LockRecords counts the lock records (intents) in the engines of every
// live node: a test waits for it to reach 0 after its transactions end.
func (c *Cluster) LockRecords(t testing.TB) int {
	t.Helper()
	n := 0
	for _, node := range c.Nodes {
		if !node.Alive() {
			continue
		}
		it, err := node.Engine.NewIterator(kv.IterOptions{LowerBound: kv.LocalLockTablePrefix, UpperBound: kv.LocalLockTableMax})
		if err != nil {
			t.Fatal(err)
		}
		for it.SeekGE(kv.MVCCKey{Key: kv.LocalLockTablePrefix}); ; it.Next() {
			ok, err := it.Valid()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			// An empty value is a marker a resolution left: no lock.
			if v, err := it.UnsafeValue(); err != nil {
				t.Fatal(err)
			} else if len(v) > 0 {
				n++
			}
		}
		it.Close()
	}
	return n
}
