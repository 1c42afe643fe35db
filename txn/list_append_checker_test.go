package txn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/errors"
)

// A list-append history, checked as Jepsen's Elle checks one (Kingsbury
// and Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
// Observations", VLDB 2020). Every key holds a list; transactions read
// lists and append values, each value appended once in the whole history.
// Because a list carries the order of every append made to it, a read
// tells which writes came before it and which after, so the dependency
// graph of the committed transactions can be inferred from the reads
// alone: no clocks, no model of the database.

// laOp is one operation of a list-append transaction.
type laOp struct {
	append bool
	key    int
	// val is the value appended (append).
	val int
	// read is the list read (read), own appends of the transaction
	// included.
	read []int
}

// laStatus is what the client knows of a transaction's outcome.
type laStatus int

const (
	laCommitted laStatus = iota
	// laUnknown: the commit failed and may or may not have happened (an
	// ambiguous result, a context that ended). Its appends may show up
	// in reads; if one does, it committed.
	laUnknown
	// laAborted: an attempt the client was told failed and ran again (or
	// gave up): none of its appends may ever be read (G1a).
	laAborted
)

// laTxn is one transaction of the history: the operations of its last
// attempt, in order.
type laTxn struct {
	ops    []laOp
	status laStatus
	// client is the worker that ran it (for the report).
	client int
	// trace says where the attempt read and committed (for the report):
	// its ID, epoch and read timestamp after each operation, its commit
	// timestamp.
	trace []string
}

func (t *laTxn) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "c%d[", t.client)
	for i, op := range t.ops {
		if i > 0 {
			b.WriteString(" ")
		}
		if op.append {
			fmt.Fprintf(&b, "a(%d,%d)", op.key, op.val)
		} else {
			fmt.Fprintf(&b, "r(%d,%v)", op.key, op.read)
		}
	}
	switch t.status {
	case laUnknown:
		b.WriteString(" ?")
	case laAborted:
		b.WriteString(" aborted")
	}
	b.WriteString("]")
	if len(t.trace) > 0 {
		b.WriteString(" {" + strings.Join(t.trace, " ") + "}")
	}
	return b.String()
}

// Dependency edge kinds, weakest first (Adya's ww, wr and rw).
type laEdge uint8

const (
	edgeWW laEdge = 1 << iota
	edgeWR
	edgeRW
)

func (e laEdge) String() string {
	switch {
	case e&edgeWW != 0:
		return "ww"
	case e&edgeWR != 0:
		return "wr"
	default:
		return "rw"
	}
}

// laWriter names the transaction that appended a value to a key.
type laWriter struct{ key, val int }

// checkListAppend checks a list-append history: every read is explained
// by a prefix of its key's committed order of appends (no value from
// nowhere or from an aborted transaction, no value twice, no two reads
// that disagree on the order, own appends read back); every committed
// append is in its key's final order (the history must end with a read
// of every key); and the dependency graph (ww, wr, rw edges inferred
// from the orders) has no cycle. A cycle is reported with the weakest
// edges that close one: G0 (ww only), G1c (ww and wr), G-single (one rw)
// or G2 (several).
func checkListAppend(txns []*laTxn) error {
	writer := map[laWriter]int{}
	for i, t := range txns {
		for _, op := range t.ops {
			if !op.append {
				continue
			}
			w := laWriter{op.key, op.val}
			if j, ok := writer[w]; ok {
				return errors.AssertionFailedf("value %d appended to key %d twice (%s, %s): the generator must not", op.val, op.key, txns[j], t)
			}
			writer[w] = i
		}
	}
	// external[i][j] is what read op j of txn i saw of others' appends:
	// the list read minus the transaction's own appends so far, which
	// must end it.
	external := make([][][]int, len(txns))
	for i, t := range txns {
		external[i] = make([][]int, len(t.ops))
		own := map[int][]int{}
		seen := map[int][]int{}
		for j, op := range t.ops {
			if op.append {
				own[op.key] = append(own[op.key], op.val)
				continue
			}
			o := own[op.key]
			if len(op.read) < len(o) || !slices.Equal(op.read[len(op.read)-len(o):], o) {
				return errors.Newf("internal inconsistency: %s read key %d as %v, not ending with its own appends %v", t, op.key, op.read, o)
			}
			ext := op.read[:len(op.read)-len(o)]
			if prev, ok := seen[op.key]; ok && !slices.Equal(prev, ext) {
				return errors.Newf("non-repeatable read: %s read key %d as %v, then %v (own appends aside)", t, op.key, prev, ext)
			}
			seen[op.key] = ext
			external[i][j] = ext
		}
	}
	// Which transactions committed: those acknowledged, and those of
	// unknown outcome whose appends a committed transaction read (to a
	// fixed point: such a transaction's own reads then count too).
	committed := make([]bool, len(txns))
	for i, t := range txns {
		committed[i] = t.status == laCommitted
	}
	for changed := true; changed; {
		changed = false
		for i, t := range txns {
			if !committed[i] {
				continue
			}
			for j, op := range t.ops {
				for _, v := range external[i][j] {
					if !op.append {
						w, ok := writer[laWriter{op.key, v}]
						if !ok {
							return errors.Newf("%s read key %d as %v: nobody appended %d (garbage read)", t, op.key, op.read, v)
						}
						if txns[w].status == laAborted {
							return errors.Newf("G1a (aborted read): %s read key %d as %v, with %d appended by the aborted attempt %s", t, op.key, op.read, v, txns[w])
						}
						if !committed[w] {
							committed[w] = true
							changed = true
						}
					}
				}
			}
		}
	}
	// Each key's order: the longest list read; every read is a prefix.
	order := map[int][]int{}
	for i, t := range txns {
		if !committed[i] {
			continue
		}
		for j, op := range t.ops {
			if op.append {
				continue
			}
			if ext := external[i][j]; len(ext) > len(order[op.key]) {
				order[op.key] = ext
			}
		}
	}
	for k, o := range order {
		pos := map[int]int{}
		for p, v := range o {
			if q, ok := pos[v]; ok {
				return errors.Newf("key %d read as %v: value %d at %d and %d (duplicated append)", k, o, v, q, p)
			}
			pos[v] = p
		}
	}
	for i, t := range txns {
		if !committed[i] {
			continue
		}
		for j, op := range t.ops {
			if op.append {
				if !slices.Contains(order[op.key], op.val) {
					return errors.Newf("lost write: %s committed, but no read of key %d (longest %v) has %d", t, op.key, order[op.key], op.val)
				}
				continue
			}
			if ext := external[i][j]; !slices.Equal(ext, order[op.key][:len(ext)]) {
				return errors.Newf("incompatible orders: %s read key %d as %v, not a prefix of %v read elsewhere", t, op.key, op.read, order[op.key])
			}
		}
	}
	// The graph.
	g := make([]map[int]laEdge, len(txns))
	addEdge := func(from, to int, e laEdge) {
		if from == to {
			return
		}
		if g[from] == nil {
			g[from] = map[int]laEdge{}
		}
		g[from][to] |= e
	}
	for k, o := range order {
		for p := 1; p < len(o); p++ {
			addEdge(writer[laWriter{k, o[p-1]}], writer[laWriter{k, o[p]}], edgeWW)
		}
	}
	for i, t := range txns {
		if !committed[i] {
			continue
		}
		for j, op := range t.ops {
			if op.append {
				continue
			}
			ext, o := external[i][j], order[op.key]
			if len(ext) > 0 {
				addEdge(writer[laWriter{op.key, ext[len(ext)-1]}], i, edgeWR)
			}
			if len(ext) < len(o) {
				addEdge(i, writer[laWriter{op.key, o[len(ext)]}], edgeRW)
			}
		}
	}
	for _, allowed := range []laEdge{edgeWW, edgeWW | edgeWR, edgeWW | edgeWR | edgeRW} {
		if cyc := findCycle(g, allowed); cyc != nil {
			return describeCycle(txns, g, cyc, allowed)
		}
	}
	return nil
}

// findCycle returns a cycle (its nodes, in order) of the graph restricted
// to the allowed edge kinds, or nil: the shortest cycle through some node
// of the first strongly connected component of more than one node.
func findCycle(g []map[int]laEdge, allowed laEdge) []int {
	succ := func(v int) []int {
		var out []int
		for w, e := range g[v] {
			if e&allowed != 0 {
				out = append(out, w)
			}
		}
		slices.Sort(out)
		return out
	}
	// Tarjan's algorithm, iterative so that long histories do not
	// overflow the stack.
	n := len(g)
	index, low := make([]int, n), make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next := 0
	var comp []int
	type frame struct {
		v    int
		succ []int
		i    int
	}
	for root := 0; root < n && comp == nil; root++ {
		if index[root] >= 0 {
			continue
		}
		frames := []frame{{v: root, succ: succ(root)}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(frames) > 0 && comp == nil {
			f := &frames[len(frames)-1]
			if f.i < len(f.succ) {
				w := f.succ[f.i]
				f.i++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					frames = append(frames, frame{v: w, succ: succ(w)})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				p := frames[len(frames)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				var c []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					c = append(c, w)
					if w == v {
						break
					}
				}
				if len(c) > 1 {
					comp = c
				}
			}
		}
	}
	if comp == nil {
		return nil
	}
	in := map[int]bool{}
	for _, v := range comp {
		in[v] = true
	}
	// Breadth-first from comp[0] back to itself, inside the component.
	start := comp[0]
	prev := map[int]int{}
	queue := []int{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range succ(v) {
			if !in[w] {
				continue
			}
			if w == start {
				cyc := []int{v}
				for cyc[0] != start {
					cyc = append([]int{prev[cyc[0]]}, cyc...)
				}
				return cyc
			}
			if _, ok := prev[w]; !ok {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return comp
}

func describeCycle(txns []*laTxn, g []map[int]laEdge, cyc []int, allowed laEdge) error {
	var b strings.Builder
	rw := 0
	for i, v := range cyc {
		w := cyc[(i+1)%len(cyc)]
		e := g[v][w] & allowed
		if e&(edgeWW|edgeWR) == 0 {
			rw++
		}
		fmt.Fprintf(&b, "\n  T%d %s -%s->", v, txns[v], e)
	}
	fmt.Fprintf(&b, " T%d", cyc[0])
	kind := "G0 (write cycle)"
	switch {
	case rw == 1:
		kind = "G-single (read skew: one anti-dependency)"
	case rw > 1:
		kind = "G2 (anti-dependency cycle)"
	case allowed&edgeWR != 0:
		kind = "G1c (circular information flow)"
	}
	return errors.Newf("%s:%s", kind, b.String())
}
