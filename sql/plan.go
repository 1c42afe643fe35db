package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/apd/v3"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/kv/encoding"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/mon"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// A plan is a tree of nodes, each pulling rows from its source (the
// Volcano model): scans at the leaves read the primary index through the
// transaction; filters, projections, sorts, limits and aggregations sit
// above them; write nodes at the top.

// resultColumn describes a column a node produces.
type resultColumn struct {
	name string
	typ  *types.T
	// table is the name or alias of the table the column belongs to in the
	// scope of a query ("" for computed columns), for qualified names.
	table string
	// tableID and attr name the table column it comes from, for
	// RowDescription (0 if none).
	tableID uint32
	attr    uint16
	hidden  bool
	// merged marks the second copy of a JOIN ... USING column: the join
	// shows the column once, so an unqualified name and * skip this copy
	// (a qualified name still reaches it).
	merged bool
	// starKey places the column among those * expands to, when a join
	// with USING or NATURAL has moved its merged columns first, as
	// PostgreSQL shows them (nil for every column of a FROM clause without
	// one: in place). See joinColumns and starOrder.
	starKey []int
	// noLateral marks a column of the FROM items before a LATERAL item
	// on the right of a RIGHT or FULL join: visible to it, but naming it
	// is an error (lateralRefError), as in PostgreSQL.
	noLateral bool
}

// runner carries what nodes need while running.
type runner struct {
	ctx  context.Context
	txn  kvapi.Txn
	eval *sem.EvalCtx
	// rowsAffected counts the rows a write node wrote; written the rows
	// of each table, for the statistics' refresh (auto_stats.go).
	rowsAffected int
	written      map[uint32]int
	// descs caches the descriptors foreign keys lead to, by ID.
	descs map[uint32]*catalog.TableDescriptor
	// ticks counts checkCancel's calls.
	ticks int
	// mem is charged for the rows nodes hold in memory (sorts, hash
	// tables, buffered inputs), against the node's SQL memory budget. It
	// is the statement's, closed when the statement ends; nil tracks
	// nothing.
	mem *mon.Account
	// spill holds the statement's temporary files, where sorts that
	// outgrow mem go (nil: nowhere; they fail with 53200).
	spill *spillFiles
	// readOnly: the statement writes nothing, so a correlated
	// subquery's answers may be kept per outer values (subquery_memo.go).
	readOnly bool
	// autocommit: the statement's transaction commits right after it
	// (insert_deferred.go); deferred is what it left to that commit.
	autocommit bool
	deferred   *deferredInsert
	// snap, when set, is the statement's snapshot of its transaction's
	// writes, which its scans read at (reader): a statement with
	// data-modifying WITH queries (with_dml.go).
	snap kvapi.Snapshot
	// sharedWrites are the relations more than one part of such a
	// statement writes (runner.changedByStatement).
	sharedWrites map[uint32]bool
}

// reader is the transaction the statement's scans read through: at the
// statement's snapshot when it has one, so that what its parts write
// does not change what its parts read. Writes, and the reads that check
// them (conflicts, foreign keys), use r.txn: they see the latest.
func (r *runner) reader() kvapi.Txn {
	if r.snap != nil {
		return r.txn.(kvapi.Snapshotter).At(r.snap)
	}
	return r.txn
}

// wrote counts n rows a write node wrote to table d.
func (r *runner) wrote(d *catalog.TableDescriptor, n int) {
	r.rowsAffected += n
	if r.written == nil {
		r.written = map[uint32]int{}
	}
	r.written[d.ID] += n
}

// grow charges n bytes a node now holds to the statement's memory
// account: it fails with SQLSTATE 53200 if the node's budget
// (--max-sql-memory) cannot take them.
func (r *runner) grow(n int64) error { return r.mem.Grow(r.ctx, n) }

// growRow charges a row a node buffers.
func (r *runner) growRow(row tree.Datums) error {
	if err := r.checkCancel(); err != nil {
		return err
	}
	return r.grow(rowenc.DatumsSize(row))
}

// checkCancel ends a statement whose context is done (a CancelRequest,
// statement_timeout) between rows: the nodes that may work long without
// a KV request (filters and joins, sorts and hash tables, generated
// series) call it per row, and it looks every 256th call.
func (r *runner) checkCancel() error {
	r.ticks++
	if r.ticks&255 == 0 {
		return r.ctx.Err()
	}
	return nil
}

// scoped runs fn on a copy of r whose buffers charge an account of their
// own, returned to the budget when fn returns: for a plan run many times
// in one statement (a correlated subquery, an iteration of a recursive
// query), whose buffers die with each run.
func (r *runner) scoped(fn func(sub *runner) error) error {
	sub := *r
	sub.mem = r.mem.Monitor().NewAccount()
	defer sub.mem.Close()
	err := fn(&sub)
	r.rowsAffected, r.descs, r.written = sub.rowsAffected, sub.descs, sub.written
	return err
}

// planNode produces rows; next returns nil at the end.
type planNode interface {
	columns() []resultColumn
	next(r *runner) (tree.Datums, error)
	// explain returns the node's EXPLAIN line and its inputs, which EXPLAIN
	// prints below it and EXPLAIN ANALYZE wraps to count their rows: hence
	// pointers to the node's own fields, which instrument replaces. Every
	// node describes itself, so a new node cannot be left out of EXPLAIN.
	explain() (string, []*planNode)
}

// evalIn evaluates expr against row.
func (r *runner) evalIn(expr tree.TypedExpr, row tree.Datums) (tree.Datum, error) {
	r.eval.Row = row
	return r.eval.Eval(expr)
}

func (r *runner) passes(filter tree.TypedExpr, row tree.Datums) (bool, error) {
	if err := r.checkCancel(); err != nil {
		return false, err
	}
	if filter == nil {
		return true, nil
	}
	d, err := r.evalIn(filter, row)
	if err != nil {
		return false, err
	}
	return d != tree.DNull && bool(tree.MustBeDBool(d)), nil
}

// scanNode reads a table's rows in [start, end) of its primary index,
// keeping those that pass filter.
type scanNode struct {
	desc *catalog.TableDescriptor
	cols []resultColumn
	// span computes the key span once the parameters are known; nil
	// scans the whole table.
	span   func(r *runner) (start, end []byte, err error)
	filter tree.TypedExpr
	// index, when set, is the secondary index span reads: each entry
	// leads to its row by a point read of the primary index, unless
	// indexOnly: the statement needs no column the entries lack
	// (index_only.go).
	index     *catalog.IndexDescriptor
	indexOnly bool
	// inverted, when set, makes index an inverted index the scan reads
	// the entries of the filter's containment in (scan_inverted.go).
	inverted *invertedPlan
	// locking makes the reads locking reads (the scan of an UPDATE or
	// DELETE): see kvapi.Txn.ScanForUpdate.
	locking bool
	// noWait: the locking reads fail at once on a row another transaction
	// holds (FOR UPDATE NOWAIT; kvapi.LockWaiter).
	noWait bool
	// point: the span fixes the whole primary key (of the primary index):
	// the scan is one Get.
	point bool
	// pkFixed is how many leading primary key columns the span fixes by
	// equality (when it reads the primary index): rows come out ordered by
	// the primary key columns after them.
	pkFixed int
	// firstBatch, when set, is the size of the first read: a LIMIT above
	// needs no more (hintLimit), and a locking read should lock no more.
	firstBatch int64
	// estimate is the rows the statistics expect (0: unknown), set for
	// EXPLAIN (annotateEstimates).
	estimate float64

	started   bool
	buf       []kvapi.KeyValue
	resume    []byte
	end       []byte
	exhausted bool
}

const scanBatch = 1000

// forEachRow calls fn with every row of d, in primary key order: the
// scan that DDL's checks and rewrites of existing rows run.
func forEachRow(r *runner, d *catalog.TableDescriptor, fn func(row tree.Datums) error) error {
	scan := &scanNode{desc: d, cols: resultColumns(d)}
	for {
		row, err := scan.next(r)
		if err != nil || row == nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// forEachStored calls fn with each stored pair of d's primary index (a
// row's key and value), in r's transaction, read scanBatch at a time.
func forEachStored(r *runner, d *catalog.TableDescriptor, fn func(key, value []byte) error) error {
	start := d.IndexPrefix()
	end := catalog.PrefixEnd(start)
	for {
		kvs, err := r.txn.Scan(r.ctx, start, end, scanBatch)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := fn(kv.Key, kv.Value); err != nil {
				return err
			}
		}
		if len(kvs) < scanBatch {
			return nil
		}
		start = append(append([]byte(nil), kvs[len(kvs)-1].Key...), 0)
	}
}

func (n *scanNode) columns() []resultColumn { return n.cols }

func (n *scanNode) explain() (string, []*planNode) {
	s := "scan " + n.desc.Name
	switch {
	case n.inverted != nil:
		s += "@" + n.index.Name + " (inverted index spans, then a point read of each row)"
	case n.index != nil && n.indexOnly:
		s += "@" + n.index.Name + " (index span, index only)"
	case n.index != nil:
		s += "@" + n.index.Name + " (index span, then a point read of each row)"
	case n.span != nil:
		s += "@" + n.desc.Name + "_pkey (primary key span)"
	default:
		s += "@" + n.desc.Name + "_pkey (full scan)"
	}
	if n.filter != nil {
		s += " filter: " + tree.AsString(n.filter)
	}
	return s, nil
}

func (n *scanNode) next(r *runner) (tree.Datums, error) {
	if !n.started && n.desc.Unpopulated {
		// Checked when the scan runs, not when it is planned: as in
		// PostgreSQL, EXPLAIN and CREATE VIEW may name such a relation.
		return nil, unpopulatedError(n.desc)
	}
	if n.noWait {
		if lw, ok := r.txn.(kvapi.LockWaiter); ok {
			lw.SetLockNoWait(true)
			defer lw.SetLockNoWait(false)
		}
	}
	if n.inverted != nil {
		return n.nextInverted(r)
	}
	if !n.started {
		n.started = true
		n.resume = n.desc.IndexPrefix()
		n.end = catalog.PrefixEnd(n.resume)
		if n.span != nil {
			s, e, err := n.span(r)
			if err != nil {
				return nil, err
			}
			if s == nil {
				n.exhausted = true // the predicate can match nothing
			}
			n.resume, n.end = s, e
		}
	}
	for {
		if len(n.buf) == 0 {
			if n.exhausted {
				return nil, nil
			}
			rd := r.reader()
			scan := rd.Scan
			if n.locking {
				scan = rd.ScanForUpdate
			}
			if n.point {
				// One row at most: a Get, cheaper than a scan all the
				// way down (no span splitting, no MVCC scanner).
				n.exhausted = true
				get := rd.Get
				if n.locking {
					get = rd.GetForUpdate
				}
				v, err := get(r.ctx, n.resume)
				if err != nil || v == nil {
					return nil, err
				}
				n.buf = []kvapi.KeyValue{{Key: n.resume, Value: v}}
				continue
			}
			batch := int64(scanBatch)
			if n.firstBatch > 0 {
				batch, n.firstBatch = min(batch, n.firstBatch), 0
			}
			kvs, err := scan(r.ctx, n.resume, n.end, batch)
			if err != nil {
				return nil, err
			}
			if int64(len(kvs)) < batch {
				n.exhausted = true
			} else {
				n.resume = append(append([]byte(nil), kvs[len(kvs)-1].Key...), 0)
			}
			if n.index != nil && !n.locking && !n.indexOnly {
				// The batch's rows in one read, not one per entry.
				if kvs, err = n.rowsOfEntries(r, kvs); err != nil {
					return nil, err
				}
			}
			n.buf = kvs
			if len(kvs) == 0 {
				return nil, nil
			}
		}
		kv := n.buf[0]
		n.buf = n.buf[1:]
		row, err := n.rowOf(r, kv)
		if err != nil {
			return nil, err
		}
		if ok, err := r.passes(n.filter, row); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		return row, nil
	}
}

// rowOf is the row of a pair the scan read: a row of the primary index,
// or an index entry's (index-only), or, for a locking scan of an index,
// the row the entry leads to, read (and locked) now.
func (n *scanNode) rowOf(r *runner, kv kvapi.KeyValue) (tree.Datums, error) {
	if n.indexOnly && n.index != nil {
		return rowOfEntry(n.desc, n.index, kv.Key)
	}
	if n.index != nil && n.locking {
		pk, err := rowenc.PrimaryKeyFromIndexKey(n.desc, n.index, kv.Key)
		if err != nil {
			return nil, err
		}
		v, err := r.reader().GetForUpdate(r.ctx, pk)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, errors.AssertionFailedf("table %q: index %q entry names a missing row", n.desc.Name, n.index.Name)
		}
		kv = kvapi.KeyValue{Key: pk, Value: v}
	}
	return rowenc.DecodeRow(n.desc, kv.Key, kv.Value)
}

// rowsOfEntries reads the rows a batch of secondary index entries lead
// to, with one GetMany.
func (n *scanNode) rowsOfEntries(r *runner, entries []kvapi.KeyValue) ([]kvapi.KeyValue, error) {
	pks := make([][]byte, len(entries))
	for i, kv := range entries {
		pk, err := rowenc.PrimaryKeyFromIndexKey(n.desc, n.index, kv.Key)
		if err != nil {
			return nil, err
		}
		pks[i] = pk
	}
	vals, err := r.reader().GetMany(r.ctx, pks)
	if err != nil {
		return nil, err
	}
	out := make([]kvapi.KeyValue, len(pks))
	for i, v := range vals {
		if v == nil {
			return nil, errors.AssertionFailedf("table %q: index %q entry names a missing row", n.desc.Name, n.index.Name)
		}
		out[i] = kvapi.KeyValue{Key: pks[i], Value: v}
	}
	return out, nil
}

// valuesNode produces rows of expressions (VALUES, or a SELECT without
// FROM: one row of nothing).
type valuesNode struct {
	cols []resultColumn
	rows [][]tree.TypedExpr
	i    int
}

func (n *valuesNode) columns() []resultColumn { return n.cols }

func (n *valuesNode) explain() (string, []*planNode) {
	return fmt.Sprintf("values (%d rows)", len(n.rows)), nil
}

func (n *valuesNode) next(r *runner) (tree.Datums, error) {
	if n.i >= len(n.rows) {
		return nil, nil
	}
	exprs := n.rows[n.i]
	n.i++
	row := make(tree.Datums, len(exprs))
	for i, e := range exprs {
		d, err := r.evalIn(e, nil)
		if err != nil {
			return nil, err
		}
		row[i] = d
	}
	return row, nil
}

// filterNode keeps the rows that pass its predicate.
type filterNode struct {
	src    planNode
	filter tree.TypedExpr
}

func (n *filterNode) columns() []resultColumn { return n.src.columns() }

func (n *filterNode) explain() (string, []*planNode) {
	return "filter: " + tree.AsString(n.filter), []*planNode{&n.src}
}

func (n *filterNode) next(r *runner) (tree.Datums, error) {
	for {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		if ok, err := r.passes(n.filter, row); err != nil || ok {
			return row, err
		}
	}
}

// renderNode computes expressions over its source's rows.
type renderNode struct {
	src   planNode
	exprs []tree.TypedExpr
	cols  []resultColumn
	// srf runs the select list's set-returning calls, found on the first
	// row (once ORDER BY has added its columns); nil when there are none.
	srf        *srfExpander
	srfChecked bool
}

func (n *renderNode) columns() []resultColumn { return n.cols }

func (n *renderNode) explain() (string, []*planNode) {
	var cols []string
	for _, c := range n.cols {
		cols = append(cols, c.name)
	}
	return "render " + strings.Join(cols, ", "), []*planNode{&n.src}
}

func (n *renderNode) next(r *runner) (tree.Datums, error) {
	if !n.srfChecked {
		n.srf, n.srfChecked = newSRFExpander(n.exprs), true
	}
	if n.srf != nil {
		return n.srf.nextRow(r, n)
	}
	row, err := n.src.next(r)
	if err != nil || row == nil {
		return nil, err
	}
	out := make(tree.Datums, len(n.exprs))
	for i, e := range n.exprs {
		if out[i], err = r.evalIn(e, row); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sortNode sorts its source's rows; NULLs sort first ascending, last
// descending, as in PostgreSQL.
type sortNode struct {
	src   planNode
	order []orderCol
	bufferedRows
	// merge, once the sort has spilled runs to disk, merges them
	// (sort_spill.go).
	merge *runMerger
}

// bufferedRows is the output of a node that computes all of its rows on
// its first next (a sort, an aggregation, window functions, a recursive
// query), then hands them out in order.
type bufferedRows struct {
	filled bool
	rows   []tree.Datums
	pos    int
}

// nextFilled fills the rows with fill the first time, then returns them
// one by one, nil at the end.
func (b *bufferedRows) nextFilled(fill func() error) (tree.Datums, error) {
	if !b.filled {
		b.filled = true
		if err := fill(); err != nil {
			return nil, err
		}
	}
	if b.pos >= len(b.rows) {
		return nil, nil
	}
	b.pos++
	return b.rows[b.pos-1], nil
}

// compareOrdered compares a and b as ORDER BY does: NULLs after every
// value ascending, before every value descending (PostgreSQL's default,
// NULLS LAST and NULLS FIRST), unless nullsFirst says otherwise.
func compareOrdered(r *runner, a, b tree.Datum, desc, nullsFirst bool) (int, error) {
	switch {
	case a == tree.DNull && b == tree.DNull:
		return 0, nil
	case a == tree.DNull || b == tree.DNull:
		c := 1 // a is NULL: after b
		if b == tree.DNull {
			c = -1
		}
		if nullsFirst {
			c = -c
		}
		return c, nil
	}
	c, err := r.eval.Compare(a, b)
	if err != nil {
		return 0, err
	}
	if desc {
		c = -c
	}
	return c, nil
}

// orderDirection is an ORDER BY item's direction and where its NULLs go:
// PostgreSQL's default puts them last ascending and first descending.
func orderDirection(o *tree.Order) (desc, nullsFirst bool) {
	desc = o.Direction == tree.Descending
	switch o.NullsOrder {
	case tree.NullsFirst:
		return desc, true
	case tree.NullsLast:
		return desc, false
	}
	return desc, desc
}

type orderCol struct {
	idx  int
	desc bool
	// nullsFirst: NULLs sort before the values (NULLS FIRST; by default
	// with DESC).
	nullsFirst bool
}

func (n *sortNode) columns() []resultColumn { return n.src.columns() }

func (n *sortNode) explain() (string, []*planNode) {
	var keys []string
	for _, o := range n.order {
		k := fmt.Sprintf("@%d", o.idx+1)
		if o.desc {
			k += " desc"
		}
		if o.nullsFirst != o.desc {
			k += map[bool]string{true: " nulls first", false: " nulls last"}[o.nullsFirst]
		}
		keys = append(keys, k)
	}
	return "sort " + strings.Join(keys, ", "), []*planNode{&n.src}
}

func (n *sortNode) next(r *runner) (tree.Datums, error) {
	row, err := n.nextFilled(func() error { return n.fill(r) })
	if n.merge != nil && err == nil {
		// The rows held were handed to the merge with the runs.
		return n.merge.next()
	}
	return row, err
}

// limitNode skips offset rows, then passes at most count.
type limitNode struct {
	src           planNode
	count, offset tree.TypedExpr
	started       bool
	left, skip    int64
	unlimited     bool
}

func (n *limitNode) columns() []resultColumn { return n.src.columns() }

func (n *limitNode) explain() (string, []*planNode) {
	s := "limit"
	if n.count != nil {
		s += " " + tree.AsString(n.count)
	}
	if n.offset != nil {
		s += " offset " + tree.AsString(n.offset)
	}
	return s, []*planNode{&n.src}
}

func (n *limitNode) next(r *runner) (tree.Datums, error) {
	if !n.started {
		n.started = true
		n.unlimited = true
		if n.count != nil {
			d, err := r.evalIn(n.count, nil)
			if err != nil {
				return nil, err
			}
			if d != tree.DNull {
				n.unlimited, n.left = false, int64(tree.MustBeDInt(d))
				if n.left < 0 {
					return nil, pgerror.New("2201W", "LIMIT must not be negative")
				}
			}
		}
		if n.offset != nil {
			d, err := r.evalIn(n.offset, nil)
			if err != nil {
				return nil, err
			}
			if d != tree.DNull {
				if n.skip = int64(tree.MustBeDInt(d)); n.skip < 0 {
					return nil, pgerror.New("2201X", "OFFSET must not be negative")
				}
			}
		}
	}
	if !n.unlimited {
		hintLimit(n.src, n.left+n.skip)
	}
	for ; n.skip > 0; n.skip-- {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
	}
	if !n.unlimited {
		if n.left == 0 {
			return nil, nil
		}
		n.left--
	}
	return n.src.next(r)
}

// groupNode aggregates its source's rows by the values of groupBy; each
// output row is the group's values followed by its aggregates. Without
// GROUP BY it produces exactly one row, even for no input.
type groupNode struct {
	src     planNode
	groupBy []tree.TypedExpr
	// sets are the grouping sets, as positions in groupBy; nil: one set
	// of them all (grouping_sets.go).
	sets [][]int
	aggs []aggSpec
	cols []resultColumn
	// filled: the input is aggregated; held are the groups (in the order
	// they appeared) the rows are made from as they are asked for, pos
	// the next one; each group's memory goes back to the budget as its
	// row goes out.
	filled bool
	held   []*heldGroup
	pos    int
	// allSets are the grouping sets, nil standing for one of every
	// grouping value.
	allSets [][]int
	// spilled holds the groups that did not fit the memory budget, on
	// disk, to aggregate after the held ones (group_spill.go); depth is
	// how many spills this aggregation is below.
	spilled *groupSpill
	depth   int
}

// heldGroup is one group of an aggregation in memory.
type heldGroup struct {
	key    tree.Datums
	set    int
	states []aggState
	// charged is what the budget was charged for the group.
	charged int64
}

type aggSpec struct {
	kind sem.AggKind
	// distinct aggregates each distinct argument value once.
	distinct bool
	// arg is nil for count_rows.
	arg tree.TypedExpr
	// arg2 is string_agg's delimiter.
	arg2 tree.TypedExpr
	typ  *types.T
	// filter is FILTER (WHERE ...): only the rows it holds for count.
	filter tree.TypedExpr
	// order is the call's ORDER BY: the rows are taken in that order
	// (buffered, then replayed; see replayOrdered).
	order []aggOrder
	// grouping, for GROUPING(args), are its arguments' positions among
	// the grouped values.
	grouping []int
}

// aggStateSize is an aggState's memory, for the budget.
const aggStateSize = int64(unsafe.Sizeof(aggState{}))

type aggState struct {
	// seen holds the encoded argument values a DISTINCT aggregate has
	// taken.
	seen  map[string]struct{}
	count int64
	acc   tree.Datum // sum (as the result type), min, max
	buf   []byte     // string_agg
	json  *jsonAggState
	fsum  float64
	fsxx  float64 // avg of floats: the sum of squares (aggregate_float.go)
	// more is the state of the aggregates of aggregates_more.go.
	more moreAggState
	// ordered are the buffered rows of an aggregate with ORDER BY.
	ordered []orderedInput
}

func (n *groupNode) columns() []resultColumn { return n.cols }

func (n *groupNode) explain() (string, []*planNode) {
	var aggs []string
	for _, a := range n.aggs {
		aggs = append(aggs, string(a.kind))
	}
	return fmt.Sprintf("group (%d keys) %s", len(n.groupBy), strings.Join(aggs, ", ")), []*planNode{&n.src}
}

func (n *groupNode) next(r *runner) (tree.Datums, error) {
	if !n.filled {
		n.filled = true
		if err := n.aggregate(r); err != nil {
			return nil, err
		}
	}
	if n.pos < len(n.held) {
		g := n.held[n.pos]
		n.held[n.pos] = nil
		n.pos++
		// The group's memory goes back first: its row is made of it.
		r.mem.Shrink(g.charged)
		return n.output(r, g)
	}
	if n.spilled != nil {
		return n.spilled.next(r)
	}
	return nil, nil
}

// aggregate reads the input into groups: held ones, and, past the memory
// budget, those spilled to disk.
func (n *groupNode) aggregate(r *runner) error {
	sets := n.sets
	if sets == nil {
		all := make([]int, len(n.groupBy))
		for i := range all {
			all[i] = i
		}
		sets = [][]int{all}
	}
	n.allSets = sets
	// spill takes the rows of the groups that no longer fit the budget,
	// by a hash of their group, once one did not (group_spill.go).
	var spill *groupPartitions
	// heldBytes are the held groups' charges, up to spillPast.
	var heldBytes int64
	spillPast := r.spillPast()
	byKey := map[string]*heldGroup{}
	full := make(tree.Datums, len(n.groupBy))
	for {
		row, err := n.src.next(r)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		for i, e := range n.groupBy {
			if full[i], err = r.evalIn(e, row); err != nil {
				return err
			}
		}
		for si, set := range sets {
			key := make(tree.Datums, len(n.groupBy))
			for i := range key {
				key[i] = tree.DNull
			}
			var enc []byte
			if n.sets != nil {
				enc = encoding.EncodeUvarintAscending(enc, uint64(si))
			}
			for _, p := range set {
				key[p] = full[p]
				if enc, err = rowenc.EncodeDatum(enc, key[p]); err != nil {
					return err
				}
			}
			g := byKey[string(enc)]
			if g == nil && spill != nil {
				if err := spill.put(enc, row); err != nil {
					return err
				}
				continue
			}
			// toSpill starts spilling (once) and spills the row, after
			// err, the budget's refusal of a new group.
			toSpill := func(err error) error {
				if !n.spillable(r, err) {
					return err
				}
				if spill == nil {
					if spill, err = newGroupPartitions(r, n.src.columns()); err != nil {
						return err
					}
				}
				return spill.put(enc, row)
			}
			isNew, before := g == nil, r.mem.Used()
			if g == nil {
				charge := rowenc.KeySize(string(enc)) + rowenc.DatumsSize(key) + int64(len(n.aggs))*aggStateSize
				err := r.grow(charge)
				if err == nil && spillPast > 0 && heldBytes+charge > spillPast && n.spillable(r, errOverShare) {
					// Its share of the budget is spent: spill as if refused.
					r.mem.Shrink(charge)
					err = errOverShare
				}
				if err != nil {
					if err := toSpill(err); err != nil {
						return err
					}
					continue
				}
				heldBytes += charge
				g = &heldGroup{key: key, set: si, states: make([]aggState, len(n.aggs)), charged: charge}
				byKey[string(enc)] = g
				n.held = append(n.held, g)
			}
			for i, a := range n.aggs {
				if a.kind == "grouping" {
					continue
				}
				if err := accumulate(r, &g.states[i], a, row); err != nil {
					if !isNew {
						return err
					}
					// The new group's first row does not fit (a DISTINCT
					// or ordered aggregate's state): the group goes to
					// disk instead, with what it was charged.
					r.mem.Shrink(r.mem.Used() - before)
					delete(byKey, string(enc))
					n.held = n.held[:len(n.held)-1]
					if err := toSpill(err); err != nil {
						return err
					}
					break
				}
			}
		}
	}
	// A grouping set of no columns has its one row even without input,
	// as an aggregate without GROUP BY.
	for si, set := range sets {
		if len(set) > 0 {
			continue
		}
		if byKey[string(encoding.EncodeUvarintAscending(nil, uint64(si)))] != nil && n.sets != nil {
			continue
		}
		if n.sets == nil && len(n.held) > 0 {
			continue
		}
		key := make(tree.Datums, len(n.groupBy))
		for i := range key {
			key[i] = tree.DNull
		}
		n.held = append(n.held, &heldGroup{key: key, set: si, states: make([]aggState, len(n.aggs))})
	}
	if spill != nil {
		var err error
		n.spilled, err = spill.finish(n)
		return err
	}
	return nil
}

// output is a group's row: its values, then its aggregates.
func (n *groupNode) output(r *runner, g *heldGroup) (tree.Datums, error) {
	out := append(tree.Datums{}, g.key...)
	for i, a := range n.aggs {
		if a.kind == "grouping" {
			mask := 0
			for _, p := range a.grouping {
				mask <<= 1
				if !slices.Contains(n.allSets[g.set], p) {
					mask |= 1
				}
			}
			out = append(out, tree.NewDInt(tree.DInt(mask)))
			continue
		}
		if err := replayOrdered(r, &g.states[i], a); err != nil {
			return nil, err
		}
		d, err := finish(&g.states[i], a)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func accumulate(r *runner, s *aggState, a aggSpec, row tree.Datums) error {
	if a.filter != nil {
		ok, err := r.passes(a.filter, row)
		if err != nil || !ok {
			return err
		}
	}
	if len(a.order) > 0 {
		return bufferOrdered(r, s, a, row)
	}
	if a.kind == "count_rows" {
		s.count++
		return nil
	}
	if isJSONAgg(a.kind) {
		return accumulateJSON(r, s, a, row)
	}
	d, err := r.evalIn(a.arg, row)
	if err != nil || (d == tree.DNull && !moreAggs[a.kind].takesNulls) {
		return err
	}
	if a.distinct {
		enc, err := rowenc.EncodeDatum(nil, d)
		if err != nil {
			return err
		}
		if _, dup := s.seen[string(enc)]; dup {
			return nil
		}
		if err := r.grow(rowenc.KeySize(string(enc))); err != nil {
			return err
		}
		if s.seen == nil {
			s.seen = map[string]struct{}{}
		}
		s.seen[string(enc)] = struct{}{}
	}
	s.count++
	if impl, ok := moreAggs[a.kind]; ok {
		if a.arg2 != nil && orderedSetAggs[string(a.kind)] && s.more.frac == nil {
			if s.more.frac, err = r.evalIn(a.arg2, row); err != nil {
				return err
			}
		}
		return impl.add(r, &s.more, a, d)
	}
	switch a.kind {
	case "string_agg":
		// The delimiter is the row's own, written before every value but
		// the first; a NULL delimiter adds nothing.
		if s.count > 1 {
			sep, err := r.evalIn(a.arg2, row)
			if err != nil {
				return err
			}
			if sep != tree.DNull {
				if err := r.grow(int64(len(tree.MustBeDString(sep)))); err != nil {
					return err
				}
				s.buf = append(s.buf, tree.MustBeDString(sep)...)
			}
		}
		if err := r.grow(int64(len(tree.MustBeDString(d)))); err != nil {
			return err
		}
		s.buf = append(s.buf, tree.MustBeDString(d)...)
	case "count":
	case "min", "max":
		if s.acc == nil {
			s.acc = d
			return nil
		}
		c, err := r.eval.Compare(d, s.acc)
		if err != nil {
			return err
		}
		if (a.kind == "min" && c < 0) || (a.kind == "max" && c > 0) {
			s.acc = d
		}
	case "sum", "avg":
		if a.typ.Family() == types.FloatFamily {
			return accumulateFloat(s, a, sem.ToFloat(d))
		}
		if a.typ.Family() == types.IntervalFamily {
			return accumulateInterval(s, d)
		}
		sum := &tree.DDecimal{}
		if s.acc != nil {
			sum.Decimal.Set(&s.acc.(*tree.DDecimal).Decimal)
		}
		if _, err := tree.ExactCtx.Add(&sum.Decimal, &sum.Decimal, sem.ToDecimal(d)); err != nil {
			return err
		}
		s.acc = sum
	default:
		return errors.AssertionFailedf("unknown aggregate %s", a.kind)
	}
	return nil
}

func finish(s *aggState, a aggSpec) (tree.Datum, error) {
	if impl, ok := moreAggs[a.kind]; ok {
		return impl.result(&s.more, a)
	}
	if isJSONAgg(a.kind) {
		return finishJSON(s, a)
	}
	switch a.kind {
	case "count", "count_rows":
		return tree.NewDInt(tree.DInt(s.count)), nil
	case "min", "max":
		if s.acc == nil {
			return tree.DNull, nil
		}
		return s.acc, nil
	case "string_agg":
		if s.count == 0 {
			return tree.DNull, nil
		}
		return tree.NewDString(string(s.buf)), nil
	}
	if s.count == 0 {
		return tree.DNull, nil
	}
	if a.typ.Family() == types.FloatFamily {
		v := s.fsum
		if a.kind == "avg" {
			v /= float64(s.count)
		}
		return tree.NewDFloat(tree.DFloat(v)), nil
	}
	if a.typ.Family() == types.IntervalFamily {
		return finishInterval(s, a)
	}
	sum := s.acc.(*tree.DDecimal)
	if a.kind == "sum" {
		if a.typ.Family() == types.IntFamily {
			v, err := sum.Int64()
			if err != nil {
				return nil, sem.ErrIntOutOfRange
			}
			return tree.NewDInt(tree.DInt(v)), nil
		}
		return sum, nil
	}
	avg := &tree.DDecimal{}
	if err := sem.PGNumericDiv(&avg.Decimal, &sum.Decimal, apd.New(s.count, 0)); err != nil {
		return nil, err
	}
	return avg, nil
}

// distinctOnNode passes the first row of each distinct value of the key
// columns.
type distinctOnNode struct {
	src  planNode
	keys []int
	seen map[string]bool
}

func (n *distinctOnNode) columns() []resultColumn { return n.src.columns() }

func (n *distinctOnNode) explain() (string, []*planNode) {
	var keys []string
	for _, k := range n.keys {
		keys = append(keys, fmt.Sprintf("@%d", k+1))
	}
	return "distinct on " + strings.Join(keys, ", "), []*planNode{&n.src}
}

func (n *distinctOnNode) next(r *runner) (tree.Datums, error) {
	for {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		key := make(tree.Datums, len(n.keys))
		for i, k := range n.keys {
			key[i] = row[k]
		}
		// NULLs are equal here, as for DISTINCT.
		k := tree.AsString(&tree.DTuple{D: key})
		if n.seen == nil {
			n.seen = map[string]bool{}
		}
		if n.seen[k] {
			continue
		}
		if err := r.grow(rowenc.KeySize(k)); err != nil {
			return nil, err
		}
		n.seen[k] = true
		return row, nil
	}
}

// hintLimit tells the scan below renders (which pass rows one for one)
// that no more than k rows will be taken, before it reads: its first read
// is no bigger.
func hintLimit(p planNode, k int64) {
	for {
		switch n := p.(type) {
		case *renderNode:
			p = n.src
			continue
		case *scanNode:
			if !n.started && k > 0 {
				n.firstBatch = k
			}
		}
		return
	}
}

// scanOrdered reports whether plan, a render of a primary-index scan,
// yields its rows in the order given (over the render's columns) without
// a sort: columns the span fixes by equality are constant, and the rest
// must follow the primary key's columns after them, ascending.
func scanOrdered(plan planNode, order []orderCol) bool {
	rn, ok := plan.(*renderNode)
	if !ok {
		return false
	}
	sn, ok := rn.src.(*scanNode)
	if !ok || sn.index != nil {
		return false
	}
	pk := sn.desc.PrimaryKey
	fixed := map[int]bool{}
	for _, c := range pk[:sn.pkFixed] {
		fixed[c] = true
	}
	pos := sn.pkFixed
	for _, o := range order {
		if o.idx >= len(rn.exprs) {
			return false
		}
		v, ok := rn.exprs[o.idx].(*tree.IndexedVar)
		if !ok || o.desc {
			return false
		}
		if fixed[v.Idx] {
			continue
		}
		if pos >= len(pk) || pk[pos] != v.Idx {
			return false
		}
		pos++
	}
	return true
}
