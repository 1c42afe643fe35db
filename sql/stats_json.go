package sql

import (
	"encoding/json"
	"math"
	"sort"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/cockroachdb-parser/pkg/util/timeutil/pgdate"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// Statistics as JSON, in CockroachDB's format, so that its habits and
// tools carry over: SHOW STATISTICS USING JSON FOR TABLE t prints a
// table's statistics, and ALTER TABLE t INJECT STATISTICS '<json>' sets
// them without reading a row (to plan against a production table's
// figures, and in the optimizer's tests). An entry per column; entries
// over several columns (CockroachDB's multi-column statistics, which
// Meridian does not keep) are skipped, and of several entries of one
// column the newest counts.

// statsJSON is one column's statistics.
type statsJSON struct {
	Name          string       `json:"name,omitempty"`
	Columns       []string     `json:"columns"`
	CreatedAt     string       `json:"created_at"`
	RowCount      int64        `json:"row_count"`
	DistinctCount int64        `json:"distinct_count"`
	NullCount     int64        `json:"null_count"`
	AvgSize       int64        `json:"avg_size"`
	HistoColType  string       `json:"histo_col_type,omitempty"`
	HistoBuckets  []bucketJSON `json:"histo_buckets,omitempty"`
}

// bucketJSON is a histogram bucket: num_eq rows equal to upper_bound and
// num_range rows (distinct_range values) between it and the bucket
// before.
type bucketJSON struct {
	NumEq         int64   `json:"num_eq"`
	NumRange      int64   `json:"num_range"`
	DistinctRange float64 `json:"distinct_range"`
	UpperBound    string  `json:"upper_bound"`
}

// statsTimeLayout is how created_at prints.
const statsTimeLayout = "2006-01-02 15:04:05.999999"

// statisticsJSON renders d's statistics s.
func statisticsJSON(d *catalog.TableDescriptor, s *catalog.TableStatistics) (string, error) {
	out := []statsJSON{}
	if s != nil {
		created := time.Unix(0, s.CreatedNanos).UTC().Format(statsTimeLayout)
		for _, c := range d.Columns {
			cs := s.Column(c.ID)
			if cs == nil || c.Hidden {
				continue
			}
			e := statsJSON{Name: s.Name, Columns: []string{c.Name}, CreatedAt: created, RowCount: s.RowCount,
				DistinctCount: cs.Distinct, NullCount: cs.Nulls, AvgSize: cs.AvgWidth}
			if n := int64(len(cs.Histogram)); n > 0 {
				e.HistoColType = c.Type().SQLString()
				// Equi-depth: each bucket holds an equal share of the
				// non-NULL rows and of their distinct values; of its
				// rows, about one distinct value's worth equal its bound
				// (at least one: the bound is a value of the sample).
				rows, distinct := s.RowCount-cs.Nulls, float64(cs.Distinct)/float64(n)
				for i, bound := range cs.Histogram {
					_, v, err := rowenc.DecodeDatum(bound, c.Type())
					if err != nil {
						return "", err
					}
					// Rounded up, so that the k-th share ends at
					// the k-th bound when injected again.
					share := ceilDiv(rows*int64(i+1), n) - ceilDiv(rows*int64(i), n)
					eq := min(share, max(1, int64(math.Round(float64(share)/math.Max(distinct, 1)))))
					e.HistoBuckets = append(e.HistoBuckets, bucketJSON{NumEq: eq, NumRange: share - eq,
						DistinctRange: math.Max(distinct-1, 0), UpperBound: string(pgformat.EncodeText(v))})
				}
			}
			out = append(out, e)
		}
	}
	raw, err := json.MarshalIndent(out, "", "    ")
	return string(raw), err
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// injectStatistics is ALTER TABLE d INJECT STATISTICS: d's statistics
// become those of the JSON its expression gives.
func (b schemaChanger) injectStatistics(d *catalog.TableDescriptor, c *tree.AlterTableInjectStats, r *runner) error {
	te, err := b.typeCheckResolved(c.Stats, nil, types.Jsonb)
	if err != nil {
		return err
	}
	v, err := r.eval.Eval(te)
	if err != nil {
		return err
	}
	var raw string
	switch v := v.(type) {
	case *tree.DJSON:
		raw = v.JSON.String()
	case *tree.DString:
		raw = string(*v)
	default:
		return pgerror.Newf(pgerror.CodeInvalidParameterValue, "statistics must be JSON, not %s", v.ResolvedType())
	}
	s, err := parseStatisticsJSON(d, raw, r)
	if err != nil {
		return err
	}
	if err := catalog.PutStatistics(b.ctx, b.txn, d.ID, s); err != nil {
		return err
	}
	if b.stats != nil {
		b.stats.forget(d.ID)
	}
	return nil
}

// parseStatisticsJSON reads CockroachDB's statistics JSON for table d.
func parseStatisticsJSON(d *catalog.TableDescriptor, raw string, r *runner) (*catalog.TableStatistics, error) {
	var entries []statsJSON
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid statistics JSON: %v", err)
	}
	// The newest entry of each column, newest last.
	type dated struct {
		e       statsJSON
		created time.Time
	}
	var single []dated
	for _, e := range entries {
		if len(e.Columns) != 1 {
			continue
		}
		created, err := parseStatsTime(e.CreatedAt)
		if err != nil {
			return nil, err
		}
		single = append(single, dated{e, created})
	}
	sort.SliceStable(single, func(i, j int) bool { return single[i].created.Before(single[j].created) })
	s := &catalog.TableStatistics{}
	newest := map[uint32]int{}
	for _, x := range single {
		i := d.ColumnIndex(x.e.Columns[0])
		if i < 0 || d.Columns[i].Hidden {
			return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q does not exist", x.e.Columns[0])
		}
		col := d.Columns[i]
		hist, err := equiDepth(col.Type(), x.e, r)
		if err != nil {
			return nil, err
		}
		cs := catalog.ColumnStatistics{ColumnID: col.ID, Distinct: x.e.DistinctCount, Nulls: x.e.NullCount,
			AvgWidth: x.e.AvgSize, Histogram: hist}
		if at, ok := newest[col.ID]; ok {
			s.Columns[at] = cs
		} else {
			newest[col.ID] = len(s.Columns)
			s.Columns = append(s.Columns, cs)
		}
		s.Name, s.RowCount, s.CreatedNanos = x.e.Name, x.e.RowCount, x.created.UnixNano()
	}
	return s, nil
}

// parseStatsTime reads created_at: CockroachDB's layout, with or without
// a zone; empty is the Unix epoch.
func parseStatsTime(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	for _, layout := range []string{statsTimeLayout, "2006-01-02 15:04:05.999999-07:00", "2006-01-02 15:04:05.999999-07", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid created_at in statistics JSON: %q", s)
}

// histogramBounds is how many bounds an injected histogram keeps at
// most, as many as ANALYZE's (opt.Collector).
const histogramBounds = 64

// equiDepth turns the entry's buckets, of any depths, into the
// equi-depth bounds Meridian keeps: the k-th of histogramBounds bounds is
// the value below which the k-th share of the rows lies (fewer bounds
// than rows, for a small table). A share that
// ends among a bucket's rows equal to its upper bound is that bound (so a
// frequent value bounds many buckets, as in ANALYZE's); one that ends
// among the rows between two bounds is interpolated between them for
// integers, floats and dates, and is the upper bound for other types.
func equiDepth(typ *types.T, e statsJSON, r *runner) ([][]byte, error) {
	var total float64
	for _, bk := range e.HistoBuckets {
		total += float64(bk.NumEq + bk.NumRange)
	}
	if total == 0 {
		return nil, nil
	}
	n := max(1, min(histogramBounds, int(total)))
	var out [][]byte
	var cum float64
	var prev tree.Datum
	k := 1
	for _, bk := range e.HistoBuckets {
		ub, _, err := tree.ParseAndRequireString(typ, bk.UpperBound, tree.NewParseContext(r.eval.GetRelativeParseTime()))
		if err != nil {
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid histogram bound %q for column %q of type %s: %v",
				bk.UpperBound, e.Columns[0], typ.SQLString(), err)
		}
		rangeEnd := cum + float64(bk.NumRange)
		for ; k <= n; k++ {
			target := total * float64(k) / float64(n)
			if target > rangeEnd+float64(bk.NumEq)+1e-9 {
				break
			}
			v := ub
			if target < rangeEnd-1e-9 && prev != nil {
				v = interpolate(prev, ub, (target-cum)/float64(bk.NumRange))
			}
			key, err := rowenc.EncodeDatum(nil, v)
			if err != nil {
				return nil, err
			}
			out = append(out, key)
		}
		cum, prev = rangeEnd+float64(bk.NumEq), ub
	}
	return out, nil
}

// interpolate is the value at fraction f of the way from lo to hi, for
// integers, floats and dates; hi for other types.
func interpolate(lo, hi tree.Datum, f float64) tree.Datum {
	switch lo := lo.(type) {
	case *tree.DInt:
		h := float64(*hi.(*tree.DInt))
		return tree.NewDInt(tree.DInt(math.Round(float64(*lo) + f*(h-float64(*lo)))))
	case *tree.DFloat:
		h := float64(*hi.(*tree.DFloat))
		return tree.NewDFloat(tree.DFloat(float64(*lo) + f*(h-float64(*lo))))
	case *tree.DDate:
		a, b := lo.PGEpochDays(), hi.(*tree.DDate).PGEpochDays()
		if d, err := pgdate.MakeDateFromPGEpoch(a + int32(math.Round(f*float64(b-a)))); err == nil {
			return tree.NewDDate(d)
		}
	}
	return hi
}
