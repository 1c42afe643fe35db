package sql

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/duration"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/encoding"
	"github.com/meridiandb/meridian/hlc"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
	"github.com/meridiandb/meridian/sql/rowenc"
	"github.com/meridiandb/meridian/sql/vtable"
)

// The admin statements that show and move ranges, in CockroachDB's syntax
// so that its users' habits carry over: SHOW RANGES, ALTER TABLE|INDEX ...
// SPLIT AT, UNSPLIT AT / UNSPLIT ALL, SCATTER, ALTER RANGE ... RELOCATE.
// They run on the node through ClusterAdmin; an executor without one (the
// in-memory test store) answers 0A000. Zone configurations are zone.go's.

// ClusterAdmin is what the admin statements need from the node.
type ClusterAdmin interface {
	// Ranges returns the ranges overlapping [start, end) (nil end: to the
	// end), in key order.
	Ranges(ctx context.Context, start, end []byte) ([]RangeInfo, error)
	// Split splits the range holding key at key (nothing to do if a range
	// starts there). The merge queue leaves the boundary alone until
	// expiration (zero: for good).
	Split(ctx context.Context, key []byte, expiration hlc.Timestamp) error
	// TransferLease moves range id's lease to its replica on node to.
	TransferLease(ctx context.Context, id int64, to int32) error
	// RelocateVoter moves range id's voter on node from to node to.
	RelocateVoter(ctx context.Context, id int64, from, to int32) error
	// Unsplit merges the range starting at key into the range before it
	// (nothing to do if no range starts at key).
	Unsplit(ctx context.Context, key []byte) error
	// Nodes returns the cluster's nodes (crdb_internal.gossip_nodes).
	Nodes(ctx context.Context) ([]vtable.NodeRow, error)
}

// RangeInfo is one range as SHOW RANGES prints it. Store IDs are node
// IDs (one store per node).
type RangeInfo struct {
	RangeID          int64
	StartKey, EndKey []byte
	// Replicas are the nodes holding a replica, Voters those voting.
	Replicas, Voters []int32
	// Leaseholder is the node holding the lease; 0 when unknown.
	Leaseholder int32
	// Localities are the replicas' nodes' localities.
	Localities map[int32]string
}

// The admin statements' result columns (CockroachDB's names).
var (
	showRangesCols = []resultColumn{
		{name: "start_key", typ: types.String}, {name: "end_key", typ: types.String}, {name: "range_id", typ: types.Int},
		{name: "replicas", typ: types.IntArray}, {name: "replica_localities", typ: types.StringArray},
		{name: "voting_replicas", typ: types.IntArray}, {name: "lease_holder", typ: types.Int},
		{name: "lease_holder_locality", typ: types.String},
	}
	splitCols    = []resultColumn{{name: "key", typ: types.Bytes}, {name: "pretty", typ: types.String}, {name: "split_enforced_until", typ: types.Timestamp}}
	unsplitCols  = []resultColumn{{name: "key", typ: types.Bytes}, {name: "pretty", typ: types.String}}
	relocateCols = []resultColumn{{name: "range_id", typ: types.Int}, {name: "pretty", typ: types.String}, {name: "result", typ: types.String}}
)

// UseClusterAdmin lets the sessions run the admin statements through a.
// Call it before the first session.
func (ex *Executor) UseClusterAdmin(a ClusterAdmin) { ex.admin = a }

// execAdmin runs stmt if it is an admin statement, and reports whether it
// was.
func (s *session) execAdmin(b *builder, r *runner, stmt tree.Statement) (*result, bool, error) {
	switch st := stmt.(type) {
	case *tree.ShowRanges, *tree.Split, *tree.Unsplit, *tree.RelocateRange, *tree.Scatter:
		if s.ex.admin == nil {
			return nil, true, pgerror.Unsupported("%s needs a cluster: this executor runs on the in-memory test store", stmt.StatementTag())
		}
	case *tree.Relocate:
		return nil, true, pgerror.Unsupported("ALTER TABLE ... RELOCATE is not supported: use ALTER RANGE n RELOCATE [LEASE | VOTERS] [FROM n] TO n")
	case *tree.SetZoneConfig:
		res, err := s.setZoneConfig(b, r, st)
		return res, true, err
	case *tree.ShowZoneConfig:
		res, err := s.showZoneConfig(b, st)
		return res, true, err
	case *tree.SetClusterSetting:
		res, err := s.setClusterSetting(b, r, st)
		return res, true, err
	case *tree.ShowClusterSetting:
		res, err := s.showClusterSetting(b, st)
		return res, true, err
	case *tree.ShowClusterSettingList:
		res, err := s.showClusterSettings(b)
		return res, true, err
	case *tree.ShowTableStats:
		res, err := s.showTableStats(b, st)
		return res, true, err
	case *tree.CreateStats:
		res, err := s.createStats(b, r, st)
		return res, true, err
	default:
		_ = st
		return nil, false, nil
	}
	var res *result
	var err error
	switch st := stmt.(type) {
	case *tree.ShowRanges:
		res, err = s.showRanges(b, st)
	case *tree.Split:
		res, err = s.splitAt(b, r, st)
	case *tree.Unsplit:
		res, err = s.unsplit(b, r, st)
	case *tree.Scatter:
		res, err = s.scatter(b, r, st)
	case *tree.RelocateRange:
		res, err = s.relocateRange(b, r, st)
	}
	return res, true, err
}

// tableIndex resolves t@i (or t: its primary index).
func (b *builder) tableIndex(tn tree.TableIndexName) (*catalog.TableDescriptor, *catalog.IndexDescriptor, error) {
	d, _, err := b.table(&tn.Table)
	if err != nil {
		return nil, nil, err
	}
	name := string(tn.Index)
	if name == "" || name == d.Name+"_pkey" || name == "primary" {
		return d, nil, nil
	}
	if i := d.FindIndex(name); i >= 0 {
		return d, &d.Indexes[i], nil
	}
	return nil, nil, pgerror.Newf("42704", "index %q does not exist", name)
}

// indexID is idx's ID; nil is the primary index.
func indexID(idx *catalog.IndexDescriptor) uint32 {
	if idx == nil {
		return catalog.PrimaryIndexID
	}
	return idx.ID
}

// indexKeyTypes are the types of the values an index's keys hold, in
// order: the indexed columns, then (a secondary index) the primary key's.
func indexKeyTypes(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor) []*types.T {
	if idx != nil && idx.Inverted() {
		return nil // keyed by parts of values, not the column's
	}
	var out []*types.T
	if idx != nil {
		for _, c := range idx.Columns {
			out = append(out, d.Columns[c].Type())
		}
	}
	for _, c := range d.PrimaryKey {
		out = append(out, d.Columns[c].Type())
	}
	return out
}

func (s *session) showRanges(b *builder, st *tree.ShowRanges) (*result, error) {
	if o := st.Options; o != nil && (o.Explain || o.Keys || o.Mode != tree.UniqueRanges) {
		return nil, pgerror.Unsupported("SHOW RANGES WITH KEYS, EXPLAIN, TABLES or INDEXES is not supported yet")
	}
	var start, end []byte
	var rel *catalog.TableDescriptor // keys print relative to it
	tables, err := catalog.ListAllTables(b.ctx, b.txn)
	if err != nil {
		return nil, err
	}
	switch st.Source {
	case tree.ShowRangesTable, tree.ShowRangesIndex:
		d, idx, err := b.tableIndex(st.TableOrIndex)
		if err != nil {
			return nil, err
		}
		rel = d
		if st.Source == tree.ShowRangesIndex {
			start = d.IndexPrefixOf(indexID(idx))
		} else {
			start = d.TablePrefix()
		}
		end = catalog.PrefixEnd(start)
	case tree.ShowRangesCluster:
	default:
		// A database's (the current one, or FROM DATABASE d): the
		// ranges its tables' keys lie in.
		start = encoding.EncodeUvarintAscending(nil, uint64(catalog.FirstTableID))
	}
	ranges, err := s.ex.admin.Ranges(b.ctx, start, end)
	if err != nil {
		return nil, err
	}
	if st.Source == tree.ShowRangesCurrentDatabase || st.Source == tree.ShowRangesDatabase {
		db := s.names.db
		if st.Source == tree.ShowRangesDatabase {
			if db, err = catalog.MustGetDatabase(b.ctx, b.txn, string(st.DatabaseName)); err != nil {
				return nil, err
			}
		}
		if ranges, err = rangesOfDatabase(b, db, ranges); err != nil {
			return nil, err
		}
	}
	byID := map[uint32]*catalog.TableDescriptor{}
	for _, t := range tables {
		byID[t.ID] = t
	}
	pretty := func(k []byte) string { return prettyKey(k, byID) }
	if rel != nil {
		abs, lo, hi := pretty, start, end
		base := "/Table/" + fmt.Sprint(rel.ID)
		pretty = func(k []byte) string {
			switch {
			case bytes.Compare(k, lo) < 0 && len(k) > 0:
				return "<before:" + abs(k) + ">"
			case len(k) == 0:
				return "<before:/Min>"
			case bytes.Compare(k, hi) >= 0:
				return "<after:" + abs(k) + ">"
			}
			return "…" + strings.TrimPrefix(abs(k), base)
		}
	}
	res := &result{tag: "SHOW RANGES", cols: showRangesCols}
	ints := func(xs []int32) tree.Datum {
		a := tree.NewDArray(types.Int)
		for _, x := range xs {
			_ = a.Append(tree.NewDInt(tree.DInt(x)))
		}
		return a
	}
	for _, ri := range ranges {
		locs := tree.NewDArray(types.String)
		for _, n := range ri.Replicas {
			_ = locs.Append(tree.NewDString(ri.Localities[n]))
		}
		var lh, lhLoc tree.Datum = tree.DNull, tree.DNull
		if ri.Leaseholder != 0 {
			lh, lhLoc = tree.NewDInt(tree.DInt(ri.Leaseholder)), tree.NewDString(ri.Localities[ri.Leaseholder])
		}
		res.rows = append(res.rows, tree.Datums{
			tree.NewDString(pretty(ri.StartKey)), tree.NewDString(pretty(ri.EndKey)), tree.NewDInt(tree.DInt(ri.RangeID)),
			ints(ri.Replicas), locs, ints(ri.Voters), lh, lhLoc,
		})
	}
	return res, nil
}

// prettyKey prints a key as CockroachDB does: /Table/<id>/<index>/<key
// values> for a table's keys (values decoded by the table's key types),
// /Min and /Max, and the system keys with their non-printable bytes in hex.
func prettyKey(k []byte, tables map[uint32]*catalog.TableDescriptor) string {
	switch {
	case len(k) == 0:
		return "/Min"
	case string(k) == "\xff\xff":
		return "/Max"
	}
	if rest, id, err := encoding.DecodeUvarintAscending(k); err == nil && id >= catalog.FirstTableID && id < 1<<32 {
		var sb strings.Builder
		fmt.Fprintf(&sb, "/Table/%d", id)
		d := tables[uint32(id)]
		if len(rest) == 0 {
			return sb.String()
		}
		rest, idxID, err := encoding.DecodeUvarintAscending(rest)
		if err != nil {
			return sb.String() + "/" + hexBytes(rest)
		}
		fmt.Fprintf(&sb, "/%d", idxID)
		if d != nil {
			var idx *catalog.IndexDescriptor
			for i := range d.Indexes {
				if uint64(d.Indexes[i].ID) == idxID {
					idx = &d.Indexes[i]
				}
			}
			if idx != nil || idxID == catalog.PrimaryIndexID {
				for _, t := range indexKeyTypes(d, idx) {
					if len(rest) == 0 {
						break
					}
					r, v, err := rowenc.DecodeDatum(rest, t)
					if err != nil {
						break
					}
					rest = r
					sb.WriteString("/" + string(pgformat.EncodeText(v)))
				}
			}
		}
		if len(rest) > 0 {
			sb.WriteString("/" + hexBytes(rest))
		}
		return sb.String()
	}
	var sb strings.Builder
	sb.WriteByte('/')
	for _, c := range k {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	return sb.String()
}

func hexBytes(b []byte) string { return fmt.Sprintf(`\x%x`, b) }

// splitAt is ALTER TABLE|INDEX ... SPLIT AT <rows>: a range boundary at
// each row's key (a prefix of the index's key columns).
func (s *session) splitAt(b *builder, r *runner, st *tree.Split) (*result, error) {
	var expiration hlc.Timestamp
	enforced := tree.Datum(tree.DNull)
	if st.ExpireExpr != nil {
		var err error
		if expiration, enforced, err = splitExpiration(b, r, st.ExpireExpr); err != nil {
			return nil, err
		}
	}
	d, idx, err := b.tableIndex(st.TableOrIndex)
	if err != nil {
		return nil, err
	}
	keys, err := b.indexKeysOf(r, d, idx, st.Rows, "SPLIT AT")
	if err != nil {
		return nil, err
	}
	res := &result{tag: "SPLIT", cols: splitCols}
	tables := map[uint32]*catalog.TableDescriptor{d.ID: d}
	for _, key := range keys {
		if err := s.ex.admin.Split(b.ctx, key, expiration); err != nil {
			return nil, err
		}
		res.rows = append(res.rows, tree.Datums{tree.NewDBytes(tree.DBytes(key)), tree.NewDString(prettyKey(key, tables)), enforced})
	}
	return res, nil
}

// indexKeysOf encodes the rows of a SPLIT AT or UNSPLIT AT statement as
// keys of the index (a prefix of its key columns each).
func (b *builder) indexKeysOf(r *runner, d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, sel *tree.Select, what string) ([][]byte, error) {
	if idx != nil && idx.Inverted() {
		// Its keys are parts of values (index_inverted.go), which no
		// row of column values names.
		return nil, pgerror.Unsupported("%s of a GIN index is not supported", what)
	}
	keyTypes := indexKeyTypes(d, idx)
	rows, err := b.rowsOf(r, sel)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, row := range rows {
		if len(row) > len(keyTypes) {
			return nil, pgerror.Newf("42601", "too many columns in %s data: the index has %d key columns", what, len(keyTypes))
		}
		key := d.IndexPrefixOf(indexID(idx))
		for i, v := range row {
			want := keyTypes[i]
			if v == tree.DNull || v.ResolvedType().Family() != want.Family() {
				return nil, pgerror.Newf("42804", "%s data column %d (%s) must be of type %s, not type %s", what, i+1, want.SQLString(), want.SQLString(), v.ResolvedType().SQLString())
			}
			if key, err = rowenc.EncodeDatum(key, v); err != nil {
				return nil, err
			}
		}
		out = append(out, key)
	}
	return out, nil
}

// unsplit is ALTER TABLE|INDEX ... UNSPLIT AT VALUES (...) | UNSPLIT ALL:
// the ranges starting at the keys (ALL: every range starting inside the
// table's or index's keys) are merged into the ranges before them at
// once. (CockroachDB only lifts the split's "sticky" mark and lets its
// merge queue merge later; here no split is sticky, so the merge is done
// by the statement.) A range whose neighbour has replicas on other nodes
// cannot merge: 0A000.
func (s *session) unsplit(b *builder, r *runner, st *tree.Unsplit) (*result, error) {
	d, idx, err := b.tableIndex(st.TableOrIndex)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	if st.All {
		start := d.IndexPrefixOf(indexID(idx))
		if st.TableOrIndex.Index == "" {
			start = d.TablePrefix()
		}
		end := catalog.PrefixEnd(start)
		ranges, err := s.ex.admin.Ranges(b.ctx, start, end)
		if err != nil {
			return nil, err
		}
		for _, ri := range ranges {
			if bytes.Compare(ri.StartKey, start) >= 0 && bytes.Compare(ri.StartKey, end) < 0 {
				keys = append(keys, ri.StartKey)
			}
		}
	} else if keys, err = b.indexKeysOf(r, d, idx, st.Rows, "UNSPLIT AT"); err != nil {
		return nil, err
	}
	res := &result{tag: "UNSPLIT", cols: unsplitCols}
	tables := map[uint32]*catalog.TableDescriptor{d.ID: d}
	for _, key := range keys {
		if err := s.ex.admin.Unsplit(b.ctx, key); err != nil {
			return nil, err
		}
		res.rows = append(res.rows, tree.Datums{tree.NewDBytes(tree.DBytes(key)), tree.NewDString(prettyKey(key, tables))})
	}
	return res, nil
}

// relocateRange is ALTER RANGE <ids> RELOCATE [LEASE | VOTERS] [FROM n]
// TO n. Store IDs are node IDs.
func (s *session) relocateRange(b *builder, r *runner, st *tree.RelocateRange) (*result, error) {
	if st.SubjectReplicas == tree.RelocateNonVoters {
		return nil, pgerror.Unsupported("non-voting replicas do not exist yet")
	}
	ids, err := b.rowsOf(r, st.Rows)
	if err != nil {
		return nil, err
	}
	storeID := func(e tree.Expr, what string) (int32, error) {
		if e == nil || e == tree.DNull {
			return 0, nil // not given
		}
		v, err := b.constInt(r, e)
		if err != nil {
			return 0, pgerror.Newf("22023", "RELOCATE %s: %v", what, err)
		}
		return int32(v), nil
	}
	to, err := storeID(st.ToStoreID, "TO")
	if err != nil {
		return nil, err
	}
	from, err := storeID(st.FromStoreID, "FROM")
	if err != nil {
		return nil, err
	}
	if st.SubjectReplicas != tree.RelocateLease && from == 0 {
		return nil, pgerror.New("42601", "RELOCATE VOTERS needs FROM: the store whose replica moves")
	}
	res := &result{tag: "RELOCATE RANGE", cols: relocateCols}
	all, err := s.ex.admin.Ranges(b.ctx, nil, nil)
	if err != nil {
		return nil, err
	}
	tables, err := catalog.ListAllTables(b.ctx, b.txn)
	if err != nil {
		return nil, err
	}
	byID := map[uint32]*catalog.TableDescriptor{}
	for _, t := range tables {
		byID[t.ID] = t
	}
	for _, row := range ids {
		if len(row) != 1 || row[0].ResolvedType().Family() != types.IntFamily {
			return nil, pgerror.New("42804", "RELOCATE takes range IDs (integers)")
		}
		id := int64(tree.MustBeDInt(row[0]))
		var ri *RangeInfo
		for i := range all {
			if all[i].RangeID == id {
				ri = &all[i]
			}
		}
		if ri == nil {
			res.rows = append(res.rows, tree.Datums{row[0], tree.DNull, tree.NewDString(fmt.Sprintf("range %d does not exist", id))})
			continue
		}
		if st.SubjectReplicas == tree.RelocateLease {
			err = s.ex.admin.TransferLease(b.ctx, id, to)
		} else {
			err = s.ex.admin.RelocateVoter(b.ctx, id, from, to)
		}
		outcome := "ok"
		if err != nil {
			outcome = err.Error()
		}
		res.rows = append(res.rows, tree.Datums{row[0], tree.NewDString(prettyKey(ri.StartKey, byID)), tree.NewDString(outcome)})
	}
	return res, nil
}

// rowsOf runs a SELECT (VALUES ...) for its rows.
func (b *builder) rowsOf(r *runner, sel *tree.Select) ([]tree.Datums, error) {
	plan, _, err := b.buildPlan(sel)
	if err == nil {
		err = b.priv.checkReqs()
	}
	if err != nil {
		return nil, err
	}
	return drain(r, plan, len(visibleCols(plan)))
}

// constInt evaluates a constant integer expression.
func (b *builder) constInt(r *runner, e tree.Expr) (int64, error) {
	te, err := b.typeCheck(e, &scope{}, types.Int)
	if err != nil {
		return 0, err
	}
	v, err := r.evalIn(te, nil)
	if err != nil {
		return 0, err
	}
	i, ok := v.(*tree.DInt)
	if !ok {
		return 0, pgerror.Newf("42804", "expected an integer, got %s", v.ResolvedType().SQLString())
	}
	return int64(*i), nil
}

// splitExpiration evaluates SPLIT AT's WITH EXPIRATION, as CockroachDB
// takes it: a timestamp (with or without time zone), or an interval from
// now. It returns the time and the split_enforced_until value to show.
func splitExpiration(b *builder, r *runner, e tree.Expr) (hlc.Timestamp, tree.Datum, error) {
	te, err := b.typeCheck(e, &scope{}, types.AnyElement)
	if err != nil {
		return hlc.Timestamp{}, nil, err
	}
	d, err := r.evalIn(te, nil)
	if err != nil {
		return hlc.Timestamp{}, nil, err
	}
	var at time.Time
	switch v := d.(type) {
	case *tree.DTimestamp:
		at = v.Time
	case *tree.DTimestampTZ:
		at = v.Time
	case *tree.DString:
		// A timestamp, or an interval from now ('1h').
		if ts, _, err := tree.ParseDTimestamp(nil, string(*v), time.Microsecond); err == nil {
			at = ts.Time
		} else if iv, ierr := tree.ParseDInterval(duration.IntervalStyle_POSTGRES, string(*v)); ierr == nil {
			at = duration.Add(r.eval.StmtTime, iv.Duration)
		} else {
			return hlc.Timestamp{}, nil, pgerror.Newf(pgerror.CodeInvalidParameterValue,
				"SPLIT AT ... WITH EXPIRATION %q is neither a timestamp nor an interval", string(*v))
		}
	case *tree.DInterval:
		at = duration.Add(r.eval.StmtTime, v.Duration)
	default:
		return hlc.Timestamp{}, nil, pgerror.Newf("42804",
			"SPLIT AT ... WITH EXPIRATION takes a timestamp or an interval, not %s", d.ResolvedType())
	}
	shown, err := tree.MakeDTimestamp(at, time.Microsecond)
	if err != nil {
		return hlc.Timestamp{}, nil, err
	}
	return hlc.Timestamp{WallTime: at.UnixNano()}, shown, nil
}

// rangeRows are the cluster's ranges for crdb_internal.ranges, their keys
// pretty-printed by the tables in txn.
func (ex *Executor) rangeRows(ctx context.Context, txn kvapi.Txn) ([]vtable.RangeRow, error) {
	ranges, err := ex.admin.Ranges(ctx, nil, nil)
	if err != nil {
		return nil, err
	}
	tables, err := catalog.ListAllTables(ctx, txn)
	if err != nil {
		return nil, err
	}
	byID := map[uint32]*catalog.TableDescriptor{}
	for _, t := range tables {
		byID[t.ID] = t
	}
	out := make([]vtable.RangeRow, 0, len(ranges))
	for _, ri := range ranges {
		row := vtable.RangeRow{ID: ri.RangeID, StartKey: ri.StartKey, EndKey: ri.EndKey,
			StartPretty: prettyKey(ri.StartKey, byID), EndPretty: prettyKey(ri.EndKey, byID),
			Replicas: ri.Replicas, Voters: ri.Voters, Leaseholder: ri.Leaseholder}
		for _, n := range ri.Replicas {
			row.Localities = append(row.Localities, ri.Localities[n])
		}
		out = append(out, row)
	}
	return out, nil
}

// rangesOfDatabase keeps the ranges that hold keys of db's tables.
func rangesOfDatabase(b *builder, db *catalog.Namespace, ranges []RangeInfo) ([]RangeInfo, error) {
	tables, err := catalog.ListTables(b.ctx, b.txn, db.ID)
	if err != nil {
		return nil, err
	}
	var out []RangeInfo
	for _, ri := range ranges {
		for _, d := range tables {
			lo, hi := d.TablePrefix(), catalog.PrefixEnd(d.TablePrefix())
			// [ri.StartKey, ri.EndKey) meets [lo, hi)? An empty end is
			// the end of the keyspace.
			if bytes.Compare(ri.StartKey, hi) < 0 && (len(ri.EndKey) == 0 || bytes.Compare(lo, ri.EndKey) < 0) {
				out = append(out, ri)
				break
			}
		}
	}
	return out, nil
}

// scatter is ALTER TABLE|INDEX ... SCATTER, CockroachDB's way to spread a
// table's ranges after splitting it: each range's lease goes to a voter
// picked at random, and, where live nodes hold no replica of it, one of
// its voters picked at random moves to one of those (added before the old
// one goes, as RELOCATE). Best effort, as CockroachDB's: a range that
// cannot move keeps its place. It answers the ranges it looked at.
//
// FROM (values) TO (values) scatters only the ranges that hold keys of the
// index between the two (prefixes of its key columns, TO included).
func (s *session) scatter(b *builder, r *runner, st *tree.Scatter) (*result, error) {
	d, idx, err := b.tableIndex(st.TableOrIndex)
	if err != nil {
		return nil, err
	}
	start := d.TablePrefix()
	if st.TableOrIndex.Index != "" {
		start = d.IndexPrefixOf(indexID(idx))
	}
	end := catalog.PrefixEnd(start)
	if len(st.From) > 0 || len(st.To) > 0 {
		if len(st.From) == 0 || len(st.To) == 0 {
			return nil, pgerror.New("42601", "SCATTER needs both FROM and TO")
		}
		keys, err := b.indexKeysOf(r, d, idx, &tree.Select{Select: &tree.ValuesClause{Rows: []tree.Exprs{st.From, st.To}}}, "SCATTER")
		if err != nil {
			return nil, err
		}
		start, end = keys[0], catalog.PrefixEnd(keys[1])
		if bytes.Compare(start, end) >= 0 {
			return nil, pgerror.New("22023", "SCATTER FROM must come before TO")
		}
	}
	ranges, err := s.ex.admin.Ranges(b.ctx, start, end)
	if err != nil {
		return nil, err
	}
	nodes, err := s.ex.admin.Nodes(b.ctx)
	if err != nil {
		return nil, err
	}
	var live []int32
	for _, n := range nodes {
		if n.Live && !n.Draining && !n.Decommissioned {
			live = append(live, n.ID)
		}
	}
	tables := map[uint32]*catalog.TableDescriptor{d.ID: d}
	res := &result{tag: "SCATTER", cols: scatterCols}
	for _, ri := range ranges {
		voters := append([]int32(nil), ri.Voters...)
		var free []int32
		for _, n := range live {
			if !slices.Contains(ri.Replicas, n) {
				free = append(free, n)
			}
		}
		if len(free) > 0 && len(voters) > 0 {
			i, to := rand.IntN(len(voters)), free[rand.IntN(len(free))]
			if err := s.ex.admin.RelocateVoter(b.ctx, ri.RangeID, voters[i], to); err == nil {
				voters[i] = to
			}
		}
		if len(voters) > 0 {
			if to := voters[rand.IntN(len(voters))]; to != ri.Leaseholder {
				_ = s.ex.admin.TransferLease(b.ctx, ri.RangeID, to) // best effort
			}
		}
		res.rows = append(res.rows, tree.Datums{tree.NewDBytes(tree.DBytes(ri.StartKey)), tree.NewDString(prettyKey(ri.StartKey, tables))})
	}
	return res, nil
}

// scatterCols are SCATTER's result columns (CockroachDB's names).
var scatterCols = []resultColumn{{name: "key", typ: types.Bytes}, {name: "pretty", typ: types.String}}
