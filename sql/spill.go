package sql

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"sync/atomic"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/sql/mon"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// Spilling. Operators whose rows outgrow the node's SQL memory budget
// (--max-sql-memory) write them to temporary files (runs) and read them
// back: a sort its sorted runs (sort_spill.go), a hash join its
// partitions (join_spill.go). A run is a sequence of rows, each a
// length and the value encoding of its columns. The files live in the
// executor's temporary directory and are removed when the statement
// ends.

// UseTempStorage lets statements spill what outgrows the memory budget
// (sorts) to files in dir, which must exist. Call it before the first
// session.
func (ex *Executor) UseTempStorage(dir string) { ex.tempDir = dir }

// spillFiles are the temporary files of a statement's spilled sorts,
// removed when it ends.
type spillFiles struct {
	dir   string
	files []*os.File
	// runs counts the runs written (Executor.SpilledRuns).
	runs *atomic.Int64
	// closers release what the operators reading the files hold (their
	// memory accounts) if the statement ends before they are done.
	closers []func()
}

// onClose has close call fn.
func (s *spillFiles) onClose(fn func()) { s.closers = append(s.closers, fn) }

func (s *spillFiles) create() (*os.File, error) {
	f, err := os.CreateTemp(s.dir, "run-*")
	if err != nil {
		return nil, errors.Wrap(err, "creating a temporary file for rows past the memory budget")
	}
	s.files = append(s.files, f)
	return f, nil
}

// close removes the statement's files.
func (s *spillFiles) close() {
	if s == nil {
		return
	}
	for _, fn := range s.closers {
		fn()
	}
	s.closers = nil
	for _, f := range s.files {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	s.files = nil
}

// canSpill reports whether err is the memory budget's refusal and the
// statement has somewhere to spill to.
func (r *runner) canSpill(err error) bool { return r.spill != nil && mon.IsBudgetExceeded(err) }

// operatorShare is the share of the memory budget one spilling operator
// (a sort, an aggregation) holds before it spills on its own, as
// PostgreSQL's work_mem bounds each operator: operators stacked in one
// plan (an aggregation under a sort) each find room, where the first to
// hold the whole budget would starve the others.
const operatorShare = 4

// spillPast is how many bytes a spilling operator may hold before it
// spills on its own (0: only when the budget refuses).
func (r *runner) spillPast() int64 {
	if r.spill == nil {
		return 0
	}
	if m := r.mem.Monitor(); m != nil && m.Limit() > 0 {
		return m.Limit() / operatorShare
	}
	return 0
}

// runWriter writes a run of rows of the given columns.
type runWriter struct {
	f     *os.File
	w     *bufio.Writer
	types []*types.T
	buf   []byte
}

// newRun starts a run in a new file.
func (s *spillFiles) newRun(cols []resultColumn) (*runWriter, error) {
	f, err := s.create()
	if err != nil {
		return nil, err
	}
	s.runs.Add(1)
	return &runWriter{f: f, w: bufio.NewWriterSize(f, 64<<10), types: columnTypes(cols)}, nil
}

func (w *runWriter) write(row tree.Datums) error {
	if len(row) != len(w.types) {
		return errors.AssertionFailedf("a row of %d columns in a run of %d", len(row), len(w.types))
	}
	buf := w.buf[:0]
	for i, d := range row {
		if d != tree.DNull && !d.ResolvedType().Equivalent(w.types[i]) {
			return errors.Newf("cannot write a value of type %s in a column of type %s to a temporary file", d.ResolvedType(), w.types[i])
		}
		var err error
		if buf, err = rowenc.EncodeValueDatum(buf, d); err != nil {
			return err
		}
	}
	w.buf = buf
	var hdr [binary.MaxVarintLen64]byte
	if _, err := w.w.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(buf)))]); err != nil {
		return errors.Wrap(err, "writing a temporary file")
	}
	if _, err := w.w.Write(buf); err != nil {
		return errors.Wrap(err, "writing a temporary file")
	}
	return nil
}

// finish ends the run and returns a reader of it from its start.
func (w *runWriter) finish() (*runReader, error) {
	if err := w.w.Flush(); err != nil {
		return nil, errors.Wrap(err, "writing a temporary file")
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return nil, errors.Wrap(err, "rewinding a temporary file")
	}
	return &runReader{r: bufio.NewReaderSize(w.f, 64<<10), types: w.types}, nil
}

func columnTypes(cols []resultColumn) []*types.T {
	out := make([]*types.T, len(cols))
	for i, c := range cols {
		out[i] = c.typ
	}
	return out
}

// runReader reads a run back, a row at a time.
type runReader struct {
	r     *bufio.Reader
	types []*types.T
	buf   []byte
}

// next is the run's next row, nil at its end.
func (rr *runReader) next() (tree.Datums, error) {
	n, err := binary.ReadUvarint(rr.r)
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Wrap(err, "reading a temporary file")
	}
	if uint64(cap(rr.buf)) < n {
		rr.buf = make([]byte, n)
	}
	b := rr.buf[:n]
	if _, err := io.ReadFull(rr.r, b); err != nil {
		return nil, errors.Wrap(err, "reading a temporary file")
	}
	row := make(tree.Datums, len(rr.types))
	for i, t := range rr.types {
		if b, row[i], err = rowenc.DecodeValueDatum(b, t); err != nil {
			return nil, errors.Wrap(err, "decoding a temporary file")
		}
	}
	return row, nil
}
