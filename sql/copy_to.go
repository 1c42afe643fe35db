package sql

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// copyTo runs COPY table [(cols)] | (query) TO STDOUT in PostgreSQL's
// text, CSV or binary format: the rows are those of the query (or of
// SELECT cols FROM table), sent as CopyData messages, one per row, as
// PostgreSQL sends them. With file, they are written to the server file
// instead.
func (s *session) copyTo(ctx context.Context, st *tree.CopyTo, w pgwire.ResultWriter, file *copyFileStmt) (*result, error) {
	if st.Options.Destination != nil {
		// The grammar's own option (CockroachDB's), not PostgreSQL's.
		return nil, pgerror.New(pgerror.CodeSyntaxError, `option "destination" not recognized`)
	}
	if file != nil {
		// A superuser only, checked first as PostgreSQL's DoCopy does.
		if err := s.withTxn(ctx, false, func(txn kvapi.Txn) error {
			return copyFileAllowed(s.newPrivChecker(ctx, txn), false, file.program)
		}); err != nil {
			return nil, err
		}
		if file.program {
			return nil, copyProgramUnsupported(false)
		}
	}
	opts, err := parseCopyOptions(st.Options)
	if err != nil {
		return nil, err
	}
	query := st.Statement
	if query == nil {
		sel := &tree.SelectClause{From: tree.From{Tables: tree.TableExprs{&st.Table}}}
		// Generated columns are left out of COPY, as in PostgreSQL 15.
		gen, others, err := s.generatedColumns(ctx, &st.Table)
		if err != nil {
			return nil, err
		}
		for _, c := range st.Columns {
			if gen[string(c)] {
				return nil, pgerror.WithDetail(pgerror.Newf("42P10", "column %q is a generated column", c),
					"Generated columns cannot be used in COPY.")
			}
		}
		switch {
		case len(st.Columns) == 0 && len(gen) > 0:
			for _, c := range others {
				sel.Exprs = append(sel.Exprs, tree.SelectExpr{Expr: &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{c}}})
			}
		case len(st.Columns) == 0:
			sel.Exprs = tree.SelectExprs{tree.StarSelectExpr()}
		}
		for _, c := range st.Columns {
			sel.Exprs = append(sel.Exprs, tree.SelectExpr{Expr: &tree.UnresolvedName{NumParts: 1, Parts: tree.NameParts{string(c)}}})
		}
		query = &tree.Select{Select: sel}
	}
	res, err := s.execStmt(ctx, query, 0, nil, nil)
	if err != nil {
		return nil, err
	}
	defer res.close()
	if res.cols == nil {
		return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY query must have a RETURNING clause")
	}
	binaryFormat := opts.binary
	var out pgwire.CopyWriter
	if file != nil {
		f, err := createCopyFile(file.file)
		if err != nil {
			return nil, err
		}
		fo := &copyFileWriter{f: f, w: bufio.NewWriterSize(f, 64<<10)}
		// Closed here when an error ends the COPY first (Done closes it).
		defer fo.close()
		out = fo
	} else if out, err = w.CopyOut(len(res.cols), binaryFormat); err != nil {
		return nil, err
	}
	formats := []int16{0}
	if binaryFormat {
		formats[0] = 1
	}
	var buf []byte
	switch {
	case binaryFormat:
		buf = append(buf, "PGCOPY\n\xff\r\n\x00"...)
		buf = binary.BigEndian.AppendUint32(buf, 0) // flags
		buf = binary.BigEndian.AppendUint32(buf, 0) // header extension length
	case opts.header:
		for i, c := range res.cols {
			if i > 0 {
				buf = append(buf, opts.delim)
			}
			buf = opts.appendCopyField(buf, []byte(c.name))
		}
		buf = append(buf, '\n')
	}
	if len(buf) > 0 {
		if err := out.Write(buf); err != nil {
			return nil, err
		}
	}
	for _, row := range res.rows {
		vals, err := encodeRow(row, res.cols, formats, s.outStyle())
		if err != nil {
			return nil, err
		}
		buf = buf[:0]
		switch {
		case binaryFormat:
			buf = binary.BigEndian.AppendUint16(buf, uint16(len(vals)))
			for _, v := range vals {
				if v == nil {
					buf = binary.BigEndian.AppendUint32(buf, 0xffffffff)
					continue
				}
				buf = binary.BigEndian.AppendUint32(buf, uint32(len(v)))
				buf = append(buf, v...)
			}
		default:
			for i, v := range vals {
				if i > 0 {
					buf = append(buf, opts.delim)
				}
				if v == nil {
					buf = append(buf, opts.null...)
					continue
				}
				buf = opts.appendCopyField(buf, v)
			}
			buf = append(buf, '\n')
		}
		if err := out.Write(buf); err != nil {
			return nil, err
		}
	}
	if binaryFormat {
		if err := out.Write([]byte{0xff, 0xff}); err != nil {
			return nil, err
		}
	}
	if err := out.Done(); err != nil {
		return nil, err
	}
	return &result{tag: fmt.Sprintf("COPY %d", len(res.rows)), notices: res.notices}, nil
}

// appendCopyText appends v escaped as COPY's text format has it: a
// backslash before a backslash, and the control characters that would
// end a field or a row as escapes.
func appendCopyText(buf, v []byte) []byte {
	for _, c := range v {
		switch c {
		case '\\':
			buf = append(buf, `\\`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\t':
			buf = append(buf, `\t`...)
		case '\b':
			buf = append(buf, `\b`...)
		case '\f':
			buf = append(buf, `\f`...)
		case '\v':
			buf = append(buf, `\v`...)
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// generatedColumns names the generated columns of the table tn names (none
// if it names none: the query reports that), and its other visible ones.
func (s *session) generatedColumns(ctx context.Context, tn *tree.TableName) (gen map[string]bool, others []string, err error) {
	err = s.withTxn(ctx, false, func(txn kvapi.Txn) error {
		if err := s.refreshNames(ctx, txn); err != nil {
			return err
		}
		d, err := s.names.findLeased(ctx, txn, tn)
		if err != nil || d == nil {
			return err
		}
		gen = map[string]bool{}
		for _, c := range d.Columns {
			switch {
			case c.Generated != "":
				gen[c.Name] = true
			case !c.Hidden:
				others = append(others, c.Name)
			}
		}
		return nil
	})
	return gen, others, err
}
