package opt

import (
	"bytes"
	"math/rand/v2"
	"slices"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowenc"
)

const (
	// SampleRows is how many rows the histograms are built from
	// (CockroachDB samples 10,000 too).
	SampleRows = 10000
	// HistogramBuckets is how many equi-depth buckets a column's
	// histogram has at most.
	HistogramBuckets = 64
)

// Collector computes a table's statistics from its rows, in one pass.
type Collector struct {
	desc   *catalog.TableDescriptor
	rows   int64
	cols   []columnAcc
	rng    *rand.Rand
	sample int // rows in the sample so far (≤ SampleRows)
}

type columnAcc struct {
	distinct hll
	nulls    int64
	width    int64
	// keyed: the column's type has a key encoding, so values go into
	// the sample (by the sample row they were taken from).
	keyed  bool
	sample [][]byte
}

// NewCollector starts collecting statistics of desc's rows (its columns
// in order, as rowenc.DecodeRow returns them). The sample is chosen with
// a generator seeded by the table, so two collections of the same rows
// agree.
func NewCollector(desc *catalog.TableDescriptor) *Collector {
	c := &Collector{desc: desc, cols: make([]columnAcc, len(desc.Columns)),
		rng: rand.New(rand.NewPCG(uint64(desc.ID), 0x5ee1))}
	for i, col := range desc.Columns {
		c.cols[i].keyed = rowenc.KeyEncodable(col.Type())
	}
	return c
}

// MemoryPerColumn is what a Collector holds per column besides its
// sample: the budget charges it up front.
const MemoryPerColumn = int64(1<<hllPrecision) + 64

// Add takes one row; it returns the bytes the sample grew by, for the
// caller's memory budget.
func (c *Collector) Add(row tree.Datums) (grew int64, err error) {
	c.rows++
	slot := -1
	if c.sample < SampleRows {
		slot = c.sample
		c.sample++
	} else if j := c.rng.Int64N(c.rows); j < SampleRows {
		slot = int(j)
	}
	var buf []byte
	for i := range c.cols {
		acc := &c.cols[i]
		d := row[i]
		if d == tree.DNull {
			acc.nulls++
			if acc.keyed && slot >= 0 {
				grew -= int64(len(acc.setSample(slot, nil)))
			}
			continue
		}
		if acc.keyed {
			if buf, err = rowenc.EncodeDatum(buf[:0], d); err != nil {
				return 0, err
			}
		} else {
			// No key encoding (arrays, ...): the text tells values
			// apart as well.
			buf = append(buf[:0], d.String()...)
		}
		acc.distinct.add(hash64(buf))
		acc.width += int64(len(buf))
		if acc.keyed && slot >= 0 {
			v := bytes.Clone(buf)
			grew += int64(len(v) - len(acc.setSample(slot, v)))
		}
	}
	return grew, nil
}

// setSample puts v at the sample's slot and returns what was there.
func (a *columnAcc) setSample(slot int, v []byte) []byte {
	if slot == len(a.sample) {
		a.sample = append(a.sample, v)
		return nil
	}
	old := a.sample[slot]
	a.sample[slot] = v
	return old
}

// Finish returns the statistics of the rows added, stamped createdNanos.
func (c *Collector) Finish(createdNanos int64) *catalog.TableStatistics {
	s := &catalog.TableStatistics{CreatedNanos: createdNanos, RowCount: c.rows}
	for i, col := range c.desc.Columns {
		acc := &c.cols[i]
		cs := catalog.ColumnStatistics{ColumnID: col.ID, Nulls: acc.nulls}
		if nonNull := c.rows - acc.nulls; nonNull > 0 {
			cs.Distinct = min(max(acc.distinct.estimate(), 1), nonNull)
			cs.AvgWidth = acc.width / nonNull
		}
		cs.Histogram = histogram(acc.sample)
		s.Columns = append(s.Columns, cs)
	}
	return s
}

// histogram returns the upper bounds of up to HistogramBuckets
// equi-depth buckets over the sample's non-NULL values.
func histogram(sample [][]byte) [][]byte {
	vals := make([][]byte, 0, len(sample))
	for _, v := range sample {
		if v != nil {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	slices.SortFunc(vals, bytes.Compare)
	b := min(HistogramBuckets, len(vals))
	out := make([][]byte, b)
	for i := range b {
		out[i] = vals[(i+1)*len(vals)/b-1]
	}
	return out
}
