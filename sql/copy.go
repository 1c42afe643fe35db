package sql

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
)

// copyFrom runs COPY t [(cols)] FROM STDIN in PostgreSQL's text format
// (tab-separated, \N for NULL, backslash escapes), CSV or binary, in one
// transaction: the rows, with their defaults, go in as an INSERT's would.
// With file, the data is the server file's instead of the client's.
func (s *session) copyFrom(ctx context.Context, st *tree.CopyFrom, w pgwire.ResultWriter, file *copyFileStmt) (*result, error) {
	if st.Options.Destination != nil {
		// The grammar's own option (CockroachDB's), not PostgreSQL's.
		return nil, pgerror.New(pgerror.CodeSyntaxError, `option "destination" not recognized`)
	}
	opts, err := parseCopyOptions(st.Options)
	if err != nil {
		return nil, err
	}
	binaryFormat := opts.binary
	var res *result
	err = s.withTxn(ctx, false, func(txn kvapi.Txn) error {
		if err := s.refreshNames(ctx, txn); err != nil {
			return err
		}
		b := newBuilder(ctx, txn, s.names, 0, nil)
		b.priv = s.newPrivChecker(ctx, txn)
		// A server file or program needs a superuser, checked first as
		// PostgreSQL's DoCopy does.
		if file != nil {
			if err := copyFileAllowed(b.priv, true, file.program); err != nil {
				return err
			}
			if file.program {
				return copyProgramUnsupported(true)
			}
		}
		// The session and transaction, as a statement's: a column default
		// such as SERIAL's nextval finds its sequence by the session's
		// names and reserves values in the session.
		ev := stmtEvalCtx(ctx, txn, s, nil)
		// A COPY that commits right after leaves its primary key checks
		// to the writes (insert_deferred.go): a bulk load reads nothing
		// before it writes, and a chunk that fits the transaction's held
		// writes commits in one Raft command.
		r := &runner{ctx: ctx, txn: txn, eval: ev, autocommit: s.commitsAfter != nil && s.commitsAfter == txn}
		s.commitsAfter = nil
		// From the node's descriptor leases, as an INSERT's table: no
		// read of the catalog per COPY (a bulk load sends one per chunk).
		tn := st.Table
		desc, err := s.names.mustFindLeased(ctx, txn, &tn)
		if err != nil {
			return err
		}
		if !desc.IsTable() {
			return pgerror.Newf("42809", "cannot copy to %s %q", relKind(desc), desc.Name)
		}
		if err := b.priv.checkTable(desc, catalog.PrivInsert); err != nil {
			return err
		}
		var targets []int
		if len(st.Columns) > 0 {
			for _, c := range st.Columns {
				i := desc.ColumnIndex(string(c))
				if i < 0 {
					return pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", c, desc.Name)
				}
				if desc.Columns[i].Generated != "" {
					return pgerror.WithDetail(pgerror.Newf("42P10", "column %q is a generated column", c),
						"Generated columns cannot be used in COPY.")
				}
				targets = append(targets, i)
			}
		} else {
			// Every column but generated ones, as in PostgreSQL.
			for i, c := range desc.Columns {
				if !c.Hidden && c.Generated == "" {
					targets = append(targets, i)
				}
			}
		}
		defaults, err := b.defaultExprs(desc)
		if err != nil {
			return err
		}
		src := &copyRows{targets: len(targets), opts: opts}
		var in io.Reader
		if file != nil {
			f, err := openCopyFile(file.file)
			if err != nil {
				return err
			}
			defer func() { _ = f.Close() }()
			in = f
		} else if in, err = w.CopyIn(len(targets), binaryFormat); err != nil {
			return err
		}
		if binaryFormat {
			src.binary = bufio.NewReaderSize(in, 64<<10)
			for _, t := range targets {
				src.types = append(src.types, desc.Columns[t].Type())
			}
			src.eval = ev
		} else {
			src.text = bufio.NewReaderSize(in, 64<<10)
			src.header = opts.header
		}
		fr := &fullRowNode{desc: desc, src: src, srcIdx: make([]int, len(desc.Columns)), defaults: defaults}
		for i := range fr.srcIdx {
			fr.srcIdx[i] = -1
		}
		for j, t := range targets {
			fr.srcIdx[t] = j
		}
		// fullRowNode casts each value to its column's type: text parses.
		ins := &insertNode{desc: desc, src: fr}
		for {
			row, err := ins.next(r)
			if err != nil {
				if taken := r.deferred.keyTaken(err, nil); taken != err {
					// A key checked where it was written: the line that
					// took it again is not known.
					return taken
				}
				return withCopyLine(err, src.line)
			}
			if row == nil {
				break
			}
		}
		s.ex.autoStats.noteWrites(r.written)
		res = &result{tag: fmt.Sprintf("COPY %d", r.rowsAffected)}
		if d := r.deferred; d != nil {
			s.onCommitErr = func(err error) error { return d.keyTaken(err, nil) }
		}
		return nil
	})
	return res, err
}

func withCopyLine(err error, line int) error {
	if line > 0 {
		return pgerror.WithDetail(err, fmt.Sprintf("COPY, line %d", line))
	}
	return err
}

// copyRows yields the rows of a COPY's data as text values (nil: NULL),
// which the INSERT machinery casts to the columns' types.
type copyRows struct {
	targets int
	text    *bufio.Reader
	// binary is PostgreSQL's binary COPY format (what pgx's CopyFrom
	// sends): a signature header, then per row a field count and, per
	// field, a length (-1: NULL) and the value in the type's binary form.
	binary    *bufio.Reader
	types     []*types.T
	eval      *sem.EvalCtx
	sawHeader bool
	// opts are the text or CSV format's options; header: a header line
	// is still to skip.
	opts   copyOptions
	header bool
	line   int
	done   bool
	// pctx is eval's parse context, made once: every field of a COPY reads
	// in the same statement, zone and DateStyle (making one per field was
	// an eighth of a bulk load's CPU). field is the binary format's
	// buffer for a field's bytes, which decoding copies out of.
	pctx  tree.ParseContext
	field []byte
}

func (n *copyRows) columns() []resultColumn { return nil }

func (n *copyRows) explain() (string, []*planNode) { return "copy from client", nil }

func (n *copyRows) next(r *runner) (tree.Datums, error) {
	if n.done {
		return nil, nil
	}
	if n.binary != nil {
		return n.nextBinary()
	}
	var fields []*string
	for {
		var err error
		if n.opts.csv {
			var done bool
			fields, done, err = n.opts.readCSVRecord(n.text)
			if err != nil {
				return nil, err
			}
			if done {
				n.done = true
				return nil, nil
			}
		} else {
			line, rerr := n.text.ReadString('\n')
			if rerr == io.EOF && line == "" {
				n.done = true
				return nil, nil
			}
			if rerr != nil && rerr != io.EOF {
				return nil, rerr
			}
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			if line == `\.` {
				n.done = true
				return nil, nil
			}
			if fields, err = n.opts.splitCopyText(line); err != nil {
				return nil, err
			}
		}
		n.line++
		if n.header {
			n.header = false
			continue
		}
		break
	}
	if len(fields) != n.targets {
		if len(fields) > n.targets {
			return nil, pgerror.New("22P04", "extra data after last expected column")
		}
		return nil, pgerror.Newf("22P04", "missing data for column %d", len(fields)+1)
	}
	row := make(tree.Datums, len(fields))
	for i, f := range fields {
		if f == nil {
			row[i] = tree.DNull
		} else {
			row[i] = tree.NewDString(*f)
		}
	}
	return row, nil
}

// unescapeCopy decodes the backslash escapes of COPY's text format.
func unescapeCopy(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		default:
			if s[i] >= '0' && s[i] <= '7' {
				v, j := 0, i
				for ; j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7'; j++ {
					v = v*8 + int(s[j]-'0')
				}
				b.WriteByte(byte(v))
				i = j - 1
				continue
			}
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

func (n *copyRows) nextBinary() (tree.Datums, error) {
	bad := func(what string) error {
		return pgerror.Newf("22P04", "invalid COPY binary data: %s", what)
	}
	if !n.sawHeader {
		n.sawHeader = true
		head := make([]byte, len(copySignature)+8)
		if _, err := io.ReadFull(n.binary, head); err != nil {
			return nil, bad("short header")
		}
		if string(head[:len(copySignature)]) != string(copySignature) {
			return nil, bad("wrong signature")
		}
		ext := binary.BigEndian.Uint32(head[len(copySignature)+4:])
		if _, err := io.CopyN(io.Discard, n.binary, int64(ext)); err != nil {
			return nil, bad("short header extension")
		}
	}
	var cnt [2]byte
	if _, err := io.ReadFull(n.binary, cnt[:]); err != nil {
		if err == io.EOF {
			n.done = true
			return nil, nil
		}
		return nil, bad("short row")
	}
	fields := int(int16(binary.BigEndian.Uint16(cnt[:])))
	if fields == -1 {
		n.done = true
		return nil, nil
	}
	n.line++
	if fields != n.targets {
		return nil, pgerror.Newf("22P04", "row field count is %d, expected %d", fields, n.targets)
	}
	row := make(tree.Datums, fields)
	for i := range row {
		var l [4]byte
		if _, err := io.ReadFull(n.binary, l[:]); err != nil {
			return nil, bad("short field")
		}
		size := int32(binary.BigEndian.Uint32(l[:]))
		if size == -1 {
			row[i] = tree.DNull
			continue
		}
		if size < 0 || size > 1<<30 {
			return nil, bad("field length out of range")
		}
		if cap(n.field) < int(size) {
			n.field = make([]byte, size)
		}
		v := n.field[:size]
		if _, err := io.ReadFull(n.binary, v); err != nil {
			return nil, bad("short field")
		}
		if n.pctx == nil {
			n.pctx = n.eval.ParseContext()
		}
		d, err := pgformat.DecodeParam(v, n.types[i], 1, n.pctx)
		if err != nil {
			return nil, err
		}
		row[i] = d
	}
	return row, nil
}
