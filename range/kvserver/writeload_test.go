package kvserver_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
)

// writeLoad writes fresh keys to one range, one after another, and
// remembers every write that was acknowledged, so that a test can kill and
// partition nodes under it and then check that nothing acknowledged is lost.
type writeLoad struct {
	c     *kvtest.Cluster
	id    kvserver.RangeID
	key   func(string) []byte
	stop  context.CancelFunc
	wg    sync.WaitGroup
	mu    sync.Mutex
	acked map[string]string
}

// startWriteLoad starts writing to range id; key maps a key name to the
// key written.
func startWriteLoad(ctx context.Context, c *kvtest.Cluster, id kvserver.RangeID, key func(string) []byte) *writeLoad {
	w := &writeLoad{c: c, id: id, key: key, acked: map[string]string{}}
	wctx, stop := context.WithCancel(ctx)
	w.stop = stop
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for i := 0; wctx.Err() == nil; i++ {
			k, v := fmt.Sprintf("k%05d", i), fmt.Sprintf("v%d", i)
			if err := c.Put(wctx, id, key(k), []byte(v)); err == nil {
				w.mu.Lock()
				w.acked[k] = v
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// count returns the number of writes acknowledged so far.
func (w *writeLoad) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// waitAcked waits until at least n writes were acknowledged.
func (w *writeLoad) waitAcked(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	for w.count() < n {
		if ctx.Err() != nil {
			t.Fatalf("only %d writes acknowledged, want %d", w.count(), n)
		}
		waitFor(2 * time.Millisecond)
	}
}

// finish stops the writer and checks that every acknowledged write reads
// back.
func (w *writeLoad) finish(ctx context.Context, t *testing.T) {
	t.Helper()
	w.stop()
	w.wg.Wait()
	for k, v := range w.acked {
		got, found, err := w.c.Get(ctx, w.id, w.key(k))
		if err != nil || !found || string(got) != v {
			t.Fatalf("acknowledged write %s=%s lost: %q %v %v", k, v, got, found, err)
		}
	}
}
