package kvserver_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/kv"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

const benchValueSize = 256

// BenchmarkReplicatedPut measures one synchronous replicated write at a
// time: layer=pebble is the same write as one raw synced engine commit,
// replicas=1 and replicas=3 go through evaluation, Raft (a synced log
// append on each replica) and apply.
func BenchmarkReplicatedPut(b *testing.B) {
	value := make([]byte, benchValueSize)
	b.Run("layer=pebble", func(b *testing.B) {
		eng, err := kv.Open(b.TempDir(), kv.Options{Logger: kv.QuietLogger{}})
		if err != nil {
			b.Fatal(err)
		}
		defer eng.Close()
		ts := hlc.Timestamp{WallTime: 1}
		b.ResetTimer()
		for i := range b.N {
			batch := eng.NewBatch()
			if err := kv.MVCCPut(batch, nil, []byte(fmt.Sprintf("k%09d", i)), ts, kv.MakeBytesValue(value), kv.MVCCWriteOptions{}); err != nil {
				b.Fatal(err)
			}
			if err := batch.Commit(true); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			c, ctx := benchCluster(b, replicas)
			b.ResetTimer()
			for i := range b.N {
				if err := c.Put(ctx, 1, []byte(fmt.Sprintf("k%09d", i)), value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReplicatedPutParallel measures throughput with many concurrent
// writers: Raft appends their commands together, so the cost of a synced
// log write is shared.
func BenchmarkReplicatedPutParallel(b *testing.B) {
	value := make([]byte, benchValueSize)
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("replicas=3/writers=%d", writers), func(b *testing.B) {
			c, ctx := benchCluster(b, 3)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if err := c.Put(ctx, 1, []byte(fmt.Sprintf("k%09d", i)), value); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")

		})
	}
}

func benchCluster(b *testing.B, replicas int) (*kvtest.Cluster, context.Context) {
	b.Helper()
	// Production-sized engines: the test default's small memtables would
	// measure flushes and compactions more than replication.
	c := kvtest.NewCluster(b, kvtest.Options{Nodes: replicas, Engine: kv.Options{CacheSize: kv.DefaultCacheSize, MemTableSize: kv.DefaultMemTableSize}})
	ctx := context.Background()
	if replicas > 1 {
		var nodes []int
		for n := 2; n <= replicas; n++ {
			nodes = append(nodes, n)
		}
		if _, err := c.AddVoters(ctx, 1, nodes...); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Put(ctx, 1, []byte("warmup"), nil); err != nil {
		b.Fatal(err)
	}
	return c, ctx
}
