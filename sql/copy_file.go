package sql

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/lexbase"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/scanner"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/pgwire"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// COPY ... FROM 'file' | PROGRAM 'command' and COPY ... TO 'file' |
// PROGRAM 'command', which the grammar does not take (it reads only
// STDIN and STDOUT): the file name is cut out of the text here, the rest
// parsed as the STDIN/STDOUT form, and the two carried by a copyFileStmt.
// The server reads or writes the file on the machine of the node the
// client is connected to, as PostgreSQL's server does on its own.

// copyFileStmt is a COPY to or from a server file or program.
type copyFileStmt struct {
	// copy is the statement as its STDIN/STDOUT form: *tree.CopyFrom or
	// *tree.CopyTo.
	copy    tree.Statement
	file    string
	program bool
}

var _ tree.Statement = (*copyFileStmt)(nil)

func (s *copyFileStmt) String() string { return tree.AsString(s) }
func (s *copyFileStmt) Format(ctx *tree.FmtCtx) {
	// The STDIN/STDOUT form with the file put back in its place.
	text := tree.AsString(s.copy)
	where := "'" + strings.ReplaceAll(s.file, "'", "''") + "'"
	if s.program {
		where = "PROGRAM " + where
	}
	for _, std := range []string{" FROM STDIN", " TO STDOUT"} {
		if i := strings.Index(text, std); i >= 0 {
			text = text[:i] + std[:strings.IndexByte(std[1:], ' ')+2] + where + text[i+len(std):]
			break
		}
	}
	ctx.WriteString(text)
}
func (s *copyFileStmt) StatementReturnType() tree.StatementReturnType { return tree.RowsAffected }
func (s *copyFileStmt) StatementType() tree.StatementType             { return s.copy.StatementType() }
func (s *copyFileStmt) StatementTag() string                          { return "COPY" }

// copyStmtStart finds a statement that begins with COPY (after comments),
// before parseCopyFile cuts the query into its statements: a query that
// only names a table copy_x is spared the walk.
var copyStmtStart = regexp.MustCompile(`(?is)(?:^|;)\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*copy\b`)

// parseCopyFile parses a query string holding a COPY to or from a file
// or program, and its other statements with grammar; false if it holds
// no such COPY.
func parseCopyFile(query string, grammar func(string) (statements.Statements, error)) (statements.Statements, bool, error) {
	pieces := splitStatements(query)
	found := false
	for _, p := range pieces {
		if _, _, _, ok := cutCopyFile(p); ok {
			found = true
			break
		}
	}
	if !found {
		return nil, false, nil
	}
	var out statements.Statements
	for _, p := range pieces {
		text, file, program, ok := cutCopyFile(p)
		if !ok {
			stmts, err := grammar(p)
			if err != nil {
				return nil, true, pgSyntaxError(p, p, err)
			}
			out = append(out, stmts...)
			continue
		}
		stmts, err := grammar(text)
		if err != nil {
			// Positions in text past the file name are not the client's.
			return nil, true, pgSyntaxError(p, text, err)
		}
		if len(stmts) != 1 {
			return nil, true, pgerror.New(pgerror.CodeSyntaxError, "syntax error in COPY")
		}
		st := stmts[0]
		switch st.AST.(type) {
		case *tree.CopyFrom, *tree.CopyTo:
		default:
			return nil, true, pgerror.New(pgerror.CodeSyntaxError, "syntax error in COPY")
		}
		st.AST = &copyFileStmt{copy: st.AST, file: file, program: program}
		st.SQL = strings.TrimSpace(p)
		out = append(out, st)
	}
	return out, true, nil
}

// cutCopyFile finds in the text of one statement COPY ... FROM|TO
// 'file' or FROM|TO PROGRAM 'command' and returns the text with STDIN or
// STDOUT in their place; false if the statement is no such COPY. The FROM
// or TO is the first one outside parentheses (a COPY (query) TO has its
// query's FROM inside them).
func cutCopyFile(stmt string) (text, file string, program, ok bool) {
	toks := scanner.Inspect(stmt)
	if len(toks) < 4 || toks[0].ID != lexbase.COPY {
		return "", "", false, false
	}
	depth := 0
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.ID == 0 || t.ID == lexbase.ERROR || t.ID == ';':
			return "", "", false, false
		case t.ID == '(':
			depth++
			continue
		case t.ID == ')':
			depth--
			continue
		case depth != 0 || (t.ID != lexbase.FROM && t.ID != lexbase.TO):
			continue
		}
		std := "STDIN"
		if t.ID == lexbase.TO {
			std = "STDOUT"
		}
		j := i + 1
		if j < len(toks) && toks[j].ID == lexbase.IDENT && !toks[j].Quoted && toks[j].Str == "program" {
			program = true
			j++
		}
		if j >= len(toks) || toks[j].ID != lexbase.SCONST {
			return "", "", false, false
		}
		return stmt[:toks[i+1].Start] + " " + std + " " + stmt[toks[j].End:], toks[j].Str, program, true
	}
	return "", "", false, false
}

// copyFileAllowed refuses a COPY to or from a server file or program to
// a role that is not a superuser, with PostgreSQL's messages (Meridian
// has no pg_read_server_files, pg_write_server_files or
// pg_execute_server_program roles: only a superuser has their rights).
func copyFileAllowed(priv *privChecker, from, program bool) error {
	if ok, err := priv.bypass(); err != nil || ok {
		return err
	}
	var msg string
	switch {
	case program:
		msg = "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program"
	case from:
		msg = "must be superuser or have privileges of the pg_read_server_files role to COPY from a file"
	default:
		msg = "must be superuser or have privileges of the pg_write_server_files role to COPY to a file"
	}
	return pgerror.WithHint(insufficient("%s", msg),
		"Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.")
}

// copyProgramUnsupported: running a shell command on a node from SQL is
// not something Meridian does.
func copyProgramUnsupported(from bool) error {
	if from {
		return pgerror.Unsupported("COPY FROM PROGRAM is not supported")
	}
	return pgerror.Unsupported("COPY TO PROGRAM is not supported")
}

// openCopyFile opens the file of a COPY FROM for reading, with
// PostgreSQL's errors. A relative path would be read against
// PostgreSQL's data directory there; a node has none that a client could
// know of, so it is refused.
func openCopyFile(name string) (*os.File, error) {
	if !filepath.IsAbs(name) {
		return nil, pgerror.WithHint(pgerror.Unsupported("COPY FROM a relative path is not supported: a node has no data directory to read it in"),
			"Give the file's absolute path.")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fileAccessError(err, fmt.Sprintf("could not open file \"%s\" for reading", name),
			"COPY FROM instructs the PostgreSQL server process to read a file. You may want a client-side facility such as psql's \\copy.")
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fileAccessError(err, fmt.Sprintf("could not stat file \"%s\"", name), "")
	}
	if st.IsDir() {
		_ = f.Close()
		return nil, pgerror.Newf("42809", "\"%s\" is a directory", name)
	}
	return f, nil
}

// createCopyFile creates (or truncates) the file of a COPY TO, readable
// by all and writable by its owner as PostgreSQL's umask leaves it.
func createCopyFile(name string) (*os.File, error) {
	if !filepath.IsAbs(name) {
		return nil, pgerror.New("42602", "relative path not allowed for COPY to file")
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fileAccessError(err, fmt.Sprintf("could not open file \"%s\" for writing", name),
			"COPY TO instructs the PostgreSQL server process to write a file. You may want a client-side facility such as psql's \\copy.")
	}
	return f, nil
}

// fileAccessError is PostgreSQL's error for a failed file operation
// (errcode_for_file_access): the SQLSTATE of the errno, msg followed by
// the C library's text for it. The hint is given, as there, only when
// the file is missing or not permitted.
func fileAccessError(err error, msg, hint string) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return pgerror.Newf(pgerror.CodeInternalError, "%s: %v", msg, err)
	}
	var code pgerror.Code = pgerror.CodeInternalError
	switch errno {
	case syscall.EPERM, syscall.EACCES, syscall.EROFS:
		code = codeInsufficientPrivilege
	case syscall.ENOENT:
		code = "58P01"
	case syscall.EEXIST:
		code = "58P02"
	case syscall.ENOTDIR, syscall.EISDIR, syscall.ENAMETOOLONG:
		code = "42809"
	case syscall.ENOSPC:
		code = "53100"
	case syscall.ENFILE, syscall.EMFILE:
		code = "53000"
	case syscall.EIO:
		code = "58030"
	}
	// Go's texts are the C library's with a lower-case first letter.
	text := errno.Error()
	if text != "" {
		text = strings.ToUpper(text[:1]) + text[1:]
	}
	e := pgerror.Newf(code, "%s: %s", msg, text)
	if hint != "" && (errors.Is(err, fs.ErrNotExist) || errno == syscall.EACCES) {
		e = pgerror.WithHint(e, hint)
	}
	return e
}

// copyFileWriter writes a COPY TO's data to its server file.
type copyFileWriter struct {
	f      *os.File
	w      *bufio.Writer
	closed bool
}

func (c *copyFileWriter) Write(data []byte) error {
	if _, err := c.w.Write(data); err != nil {
		return fileAccessError(err, "could not write to COPY file", "")
	}
	return nil
}

// Done writes out what is buffered and closes the file.
func (c *copyFileWriter) Done() error {
	if err := c.w.Flush(); err != nil {
		c.close()
		return fileAccessError(err, "could not write to COPY file", "")
	}
	c.closed = true
	if err := c.f.Close(); err != nil {
		return fileAccessError(err, "could not close file", "")
	}
	return nil
}

func (c *copyFileWriter) close() {
	if !c.closed {
		c.closed = true
		_ = c.f.Close()
	}
}

// copyFile runs a COPY to or from a server file or program.
func (s *session) copyFile(ctx context.Context, st *copyFileStmt, w pgwire.ResultWriter) (*result, error) {
	if s.status == pgwire.TxnFailed {
		return nil, pgerror.New(pgerror.CodeInFailedSQLTransaction,
			"current transaction is aborted, commands ignored until end of transaction block")
	}
	switch c := st.copy.(type) {
	case *tree.CopyFrom:
		if err := s.checkReadOnly(c); err != nil {
			return nil, err
		}
		cctx, done := s.statementContext(ctx)
		res, err := s.copyFrom(cctx, c, w, st)
		return res, done(err)
	case *tree.CopyTo:
		return s.copyTo(ctx, c, w, st)
	}
	return nil, pgerror.Newf(pgerror.CodeInternalError, "unexpected COPY statement %T", st.copy)
}
