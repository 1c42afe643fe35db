package kvserver_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/range/kvclient"
	"github.com/meridiandb/meridian/range/kvserver"
	"github.com/meridiandb/meridian/range/kvserver/kvtest"
	"github.com/meridiandb/meridian/range/rangepb"
)

var splitSeed = flag.Uint64("split-seed", 0, "seed of TestSplitRandomized (0: random)")

// TestSplitRandomized runs random writes, deletes, scans (forward and
// reverse, with limits), splits and node restarts through a DistSender on a
// 3-node cluster whose transport drops, duplicates and delays messages, and
// checks every read against an in-memory model. Writes whose outcome is
// ambiguous (a node restarted under them) leave their key uncertain until
// it is written again. At the end every key, meta2 and both halves of every
// split are checked. Rerun a failure with -split-seed.
func TestSplitRandomized(t *testing.T) {
	seed := *splitSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -split-seed %d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	c, ds := newSplitCluster(t, kvtest.Options{Nodes: 3, Seed: seed})
	for a := kvserver.NodeID(1); a <= 3; a++ {
		for b := kvserver.NodeID(1); b <= 3; b++ {
			if a != b {
				c.Transport.SetFaults(a, b, kvserver.Faults{DropProb: 0.02, DupProb: 0.02, MaxDelay: 2 * time.Millisecond})
			}
		}
	}
	ctx := testCtx(t)
	const keys = 500
	model := map[string]string{}
	uncertain := map[string]bool{}
	splits := 0
	deadline := time.NewTimer(4 * time.Second)
	defer deadline.Stop()
	for op := 0; op < 800; op++ {
		select {
		case <-deadline.C:
			t.Logf("stopping after %d ops, %d splits", op, splits)
			op = 1 << 30
			continue
		default:
		}
		k := userKey(rng.IntN(keys))
		switch p := rng.IntN(100); {
		case p < 45:
			v := fmt.Sprintf("v%d", op)
			_, err := send(ctx, ds, put(k, v))
			applyWrite(t, model, uncertain, k, v, true, err)
		case p < 55:
			_, err := send(ctx, ds, &rangepb.RequestUnion{Value: &rangepb.RequestUnion_Delete{Delete: &rangepb.DeleteRequest{Key: []byte(k)}}})
			applyWrite(t, model, uncertain, k, "", false, err)
		case p < 85:
			a, b := rng.IntN(keys), rng.IntN(keys)
			if a > b {
				a, b = b, a
			}
			checkScan(t, ctx, ds, model, uncertain, userKey(a), userKey(b+1), int64(rng.IntN(3)*rng.IntN(40)), rng.IntN(2) == 0)
		case p < 97:
			_, err := ds.AdminSplit(ctx, []byte(k))
			var isk *kvserver.InvalidSplitKeyError
			switch {
			case err == nil:
				splits++
			case errors.As(err, &isk): // already a boundary
			default:
				t.Fatalf("op %d: split at %s: %v", op, k, err)
			}
		default:
			// Restart a node that holds no lease of range 1, so that
			// service goes on without waiting out a lease.
			n := 1 + rng.IntN(3)
			if n == c.Leaseholder(1) {
				continue
			}
			c.StopNode(n)
			c.RestartNode(n)
		}
	}
	// Writes again every uncertain key, then everything must match.
	for k := range uncertain {
		_, err := send(ctx, ds, put(k, "final"))
		applyWrite(t, model, uncertain, k, "final", true, err)
	}
	checkScan(t, ctx, kvclient.NewDistSender(c), model, uncertain, userKey(0), userKey(keys), 0, false)
	recs := waitMeta2(t, ctx, c, splits+1)
	t.Logf("%d splits, %d keys", splits, len(model))
	for _, d := range recs {
		id := kvserver.RangeID(d.RangeId)
		succeedsSoon(t, func() error { return c.CheckConsistency(ctx, id) })
	}
}

// applyWrite records a write's outcome in the model: acknowledged, it is
// the key's value; failed ambiguously, the key is uncertain.
func applyWrite(t *testing.T, model map[string]string, uncertain map[string]bool, k, v string, isPut bool, err error) {
	t.Helper()
	var ambig *kvserver.AmbiguousResultError
	switch {
	case err == nil:
		if isPut {
			model[k] = v
		} else {
			delete(model, k)
		}
		delete(uncertain, k)
	case errors.As(err, &ambig):
		uncertain[k] = true
	default:
		t.Fatalf("write %s: %v", k, err)
	}
}

// checkScan scans [start, end) with a limit and compares with the model,
// skipping uncertain keys.
func checkScan(t *testing.T, ctx context.Context, ds *kvclient.DistSender, model map[string]string, uncertain map[string]bool,
	start, end string, maxKeys int64, reverse bool) {
	t.Helper()
	resp, err := send(ctx, ds, scan(start, end, maxKeys, reverse))
	if err != nil {
		t.Fatalf("scan [%s, %s): %v", start, end, err)
	}
	s := resp.Responses[0].GetScan()
	var want []string
	for k := range model {
		if k >= start && k < end {
			want = append(want, k)
		}
	}
	sort.Strings(want)
	if reverse {
		for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
			want[i], want[j] = want[j], want[i]
		}
	}
	// Compare in order, letting uncertain keys be present or not.
	i := 0
	for _, row := range s.Rows {
		k := string(row.Key)
		for i < len(want) && want[i] != k && uncertain[want[i]] {
			i++
		}
		if i < len(want) && want[i] == k {
			if string(row.Value) != model[k] && !uncertain[k] {
				t.Fatalf("scan [%s, %s) max %d reverse %v: %s=%q, want %q", start, end, maxKeys, reverse, k, row.Value, model[k])
			}
			i++
			continue
		}
		if !uncertain[k] {
			t.Fatalf("scan [%s, %s) max %d reverse %v: unexpected row %s=%q", start, end, maxKeys, reverse, k, row.Value)
		}
	}
	if len(s.ResumeKey) == 0 {
		for ; i < len(want); i++ {
			if !uncertain[want[i]] {
				t.Fatalf("scan [%s, %s) max %d reverse %v: missing %s", start, end, maxKeys, reverse, want[i])
			}
		}
		return
	}
	if maxKeys == 0 || int64(len(s.Rows)) != maxKeys {
		t.Fatalf("scan [%s, %s) max %d: resume key %q after %d rows", start, end, maxKeys, s.ResumeKey, len(s.Rows))
	}
	if last := s.Rows[len(s.Rows)-1].Key; (!reverse && bytes.Compare(s.ResumeKey, last) <= 0) || (reverse && bytes.Compare(s.ResumeKey, last) > 0) {
		t.Fatalf("scan [%s, %s): resume key %q does not follow the last row %q", start, end, s.ResumeKey, last)
	}
}
