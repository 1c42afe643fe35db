package sql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/kvapi"
)

// EXPLAIN prints the plan as an indented tree, one node a line with what
// decides its cost: the access path of each scan (a primary-key point or
// prefix, a secondary index, or the whole table), lookup joins, filters.
// EXPLAIN ANALYZE also runs the statement (in its transaction, which is
// then committed or rolled back as usual) and adds each node's rows and
// time (its inputs' included), and the KV requests it made itself with
// the rows they read.

func explainPlan(p planNode, ests map[planNode]estimate, stats map[planNode]*nodeStats) []string {
	var lines []string
	var walk func(p planNode, depth int)
	walk = func(p planNode, depth int) {
		if c, ok := p.(*countingNode); ok {
			p = c.planNode
		}
		desc, inputs := p.explain()
		line := strings.Repeat("  ", depth) + "• " + desc
		if e, ok := ests[p]; ok {
			line += "  " + e.String()
		}
		if s := stats[p]; s != nil {
			line += fmt.Sprintf("  (rows: %d, time: %s", s.rows, s.time.Round(time.Microsecond))
			// The node's own KV work: what it did, less its inputs'.
			kv := s.kv
			for _, in := range inputs {
				if c, ok := (*in).(*countingNode); ok {
					kv.requests -= c.stats.kv.requests
					kv.rowsRead -= c.stats.kv.rowsRead
				}
			}
			if kv.requests > 0 {
				line += fmt.Sprintf(", kv: %d requests, %d rows read", kv.requests, kv.rowsRead)
			}
			line += ")"
		}
		lines = append(lines, line)
		for _, in := range inputs {
			walk(*in, depth+1)
		}
	}
	walk(p, 0)
	return lines
}

// nodeStats are what EXPLAIN ANALYZE measures per node, its inputs'
// included.
type nodeStats struct {
	rows int
	time time.Duration
	kv   kvCounts
}

// countingNode wraps a node to count its rows, the time spent in it and
// the KV requests it made (its children's included).
type countingNode struct {
	planNode
	stats *nodeStats
	now   func() time.Time
	kv    *kvCounts
}

func (c *countingNode) next(r *runner) (tree.Datums, error) {
	start, kv := c.now(), *c.kv
	row, err := c.planNode.next(r)
	c.stats.time += c.now().Sub(start)
	c.stats.kv.requests += c.kv.requests - kv.requests
	c.stats.kv.rowsRead += c.kv.rowsRead - kv.rowsRead
	if row != nil {
		c.stats.rows++
	}
	return row, err
}

// instrument wraps every node of a plan in a countingNode, and r's
// transaction in one that counts its KV requests.
func instrument(p planNode, r *runner, stats map[planNode]*nodeStats, now func() time.Time) planNode {
	ct := &countingTxn{Txn: r.txn, counts: &kvCounts{}}
	r.txn = ct
	return instrumentNode(p, stats, now, ct.counts)
}

func instrumentNode(p planNode, stats map[planNode]*nodeStats, now func() time.Time, kv *kvCounts) planNode {
	_, inputs := p.explain()
	for _, in := range inputs {
		*in = instrumentNode(*in, stats, now, kv)
	}
	s := &nodeStats{}
	stats[p] = s
	return &countingNode{planNode: p, stats: s, now: now, kv: kv}
}

// kvCounts are KV requests and the rows they read.
type kvCounts struct{ requests, rowsRead int }

// countingTxn counts the KV requests made through it (EXPLAIN ANALYZE):
// each call is one request, batched or not.
type countingTxn struct {
	kvapi.Txn
	counts *kvCounts
}

var _ kvapi.Snapshotter = (*countingTxn)(nil)

// Snapshot is the counted transaction's (nil if it has none).
func (t *countingTxn) Snapshot() kvapi.Snapshot {
	if s, ok := t.Txn.(kvapi.Snapshotter); ok {
		return s.Snapshot()
	}
	return nil
}

// At reads at s, counted here.
func (t *countingTxn) At(s kvapi.Snapshot) kvapi.Txn {
	return &countingTxn{Txn: t.Txn.(kvapi.Snapshotter).At(s), counts: t.counts}
}

func (t *countingTxn) read(n int) { t.counts.requests++; t.counts.rowsRead += n }

func present(v []byte) int {
	if v == nil {
		return 0
	}
	return 1
}

func (t *countingTxn) Get(ctx context.Context, key []byte) ([]byte, error) {
	v, err := t.Txn.Get(ctx, key)
	t.read(present(v))
	return v, err
}

func (t *countingTxn) GetForUpdate(ctx context.Context, key []byte) ([]byte, error) {
	v, err := t.Txn.GetForUpdate(ctx, key)
	t.read(present(v))
	return v, err
}

func (t *countingTxn) Scan(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error) {
	kvs, err := t.Txn.Scan(ctx, start, end, limit)
	t.read(len(kvs))
	return kvs, err
}

func (t *countingTxn) ScanForUpdate(ctx context.Context, start, end []byte, limit int64) ([]kvapi.KeyValue, error) {
	kvs, err := t.Txn.ScanForUpdate(ctx, start, end, limit)
	t.read(len(kvs))
	return kvs, err
}

func (t *countingTxn) GetMany(ctx context.Context, keys [][]byte) ([][]byte, error) {
	vals, err := t.Txn.GetMany(ctx, keys)
	n := 0
	for _, v := range vals {
		n += present(v)
	}
	t.read(n)
	return vals, err
}

func (t *countingTxn) Put(ctx context.Context, key, value []byte) error {
	t.read(0)
	return t.Txn.Put(ctx, key, value)
}

func (t *countingTxn) PutMany(ctx context.Context, kvs []kvapi.KeyValue) error {
	t.read(0)
	return t.Txn.PutMany(ctx, kvs)
}

func (t *countingTxn) Del(ctx context.Context, key []byte) error {
	t.read(0)
	return t.Txn.Del(ctx, key)
}

func (t *countingTxn) DelMany(ctx context.Context, keys [][]byte) error {
	t.read(0)
	return t.Txn.DelMany(ctx, keys)
}

// SetLockTimeout and SetLockNoWait pass on to a transaction that bounds
// its waits (kvapi.LockWaiter); one that does not never waits.
func (t *countingTxn) SetLockTimeout(d time.Duration) {
	if lw, ok := t.Txn.(kvapi.LockWaiter); ok {
		lw.SetLockTimeout(d)
	}
}

func (t *countingTxn) SetLockNoWait(on bool) {
	if lw, ok := t.Txn.(kvapi.LockWaiter); ok {
		lw.SetLockNoWait(on)
	}
}

// explainResult is EXPLAIN's output: one text column, QUERY PLAN.
func explainResult(lines []string) *result {
	res := &result{cols: []resultColumn{{name: "QUERY PLAN", typ: types.String}}, tag: fmt.Sprintf("SELECT %d", len(lines))}
	for _, l := range lines {
		res.rows = append(res.rows, tree.Datums{tree.NewDString(l)})
	}
	return res
}
