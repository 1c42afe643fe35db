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
	// encs is AddStored's scratch.
	encs []rowenc.StoredEncoding
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
	slot := c.nextSlot()
	var buf []byte
	for i := range c.cols {
		if buf, err = statsEncoding(buf[:0], c.cols[i].keyed, row[i]); err != nil {
			return 0, err
		}
		grew += c.cols[i].add(slot, buf, row[i] == tree.DNull)
	}
	return grew, nil
}

// AddStored adds the row stored at key with value (a primary index pair),
// as Add does with its decoded row, but taking each column's key
// encoding from the stored bytes where they hold it already (the key's
// columns, and value columns of types whose value encoding is their key
// encoding): decoding every column into a datum and encoding it again
// was most of ANALYZE's time.
func (c *Collector) AddStored(key, value []byte) (grew int64, err error) {
	slot := c.nextSlot()
	c.encs, err = rowenc.StoredKeyEncodings(c.desc, key, value, c.encs[:0])
	if err != nil {
		return 0, err
	}
	var buf []byte
	for i := range c.cols {
		acc := &c.cols[i]
		e := c.encs[i]
		if e.Datum != nil {
			// Stored otherwise (a decimal's scale, JSON, no key
			// encoding at all): from the datum, as Add does.
			if buf, err = statsEncoding(buf[:0], acc.keyed, e.Datum); err != nil {
				return 0, err
			}
			grew += acc.add(slot, buf, e.Datum == tree.DNull)
			continue
		}
		grew += acc.add(slot, e.Key, e.Key == nil)
	}
	return grew, nil
}

// nextSlot counts a row and returns its slot in the sample (reservoir
// sampling), or -1 if it is not sampled.
func (c *Collector) nextSlot() int {
	c.rows++
	if c.sample < SampleRows {
		c.sample++
		return c.sample - 1
	}
	if j := c.rng.Int64N(c.rows); j < SampleRows {
		return int(j)
	}
	return -1
}

// statsEncoding appends what the statistics know d by: its key encoding,
// or, for a type without one (arrays, ...), its text, which tells values
// apart as well.
func statsEncoding(buf []byte, keyed bool, d tree.Datum) ([]byte, error) {
	if d == tree.DNull {
		return buf, nil
	}
	if keyed {
		return rowenc.EncodeDatum(buf, d)
	}
	return append(buf, d.String()...), nil
}

// add counts one value of the column (enc its statistics encoding, or
// null), sampled at slot unless -1, and returns the bytes the sample grew.
func (a *columnAcc) add(slot int, enc []byte, null bool) (grew int64) {
	if null {
		a.nulls++
		if a.keyed && slot >= 0 {
			grew -= int64(len(a.setSample(slot, nil)))
		}
		return grew
	}
	a.distinct.add(hash64(enc))
	a.width += int64(len(enc))
	if a.keyed && slot >= 0 {
		v := bytes.Clone(enc)
		grew += int64(len(v) - len(a.setSample(slot, v)))
	}
	return grew
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
