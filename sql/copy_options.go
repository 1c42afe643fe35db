package sql

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// copyOptions are the options of a COPY's text or CSV format, PostgreSQL's
// defaults filled in and checked as PostgreSQL checks them
// (ProcessCopyOptions): the field delimiter, the NULL string and, for
// CSV, the quote and escape characters.
type copyOptions struct {
	csv, binary bool
	header      bool
	delim       byte
	null        string
	quote       byte
	escape      byte
}

// parseCopyOptions reads a COPY statement's options.
func parseCopyOptions(o tree.CopyOptions) (copyOptions, error) {
	c := copyOptions{csv: o.CopyFormat == tree.CopyFormatCSV, binary: o.CopyFormat == tree.CopyFormatBinary, header: o.Header}
	if c.binary {
		switch {
		case c.header:
			return c, pgerror.New(pgerror.CodeFeatureNotSupported, "cannot specify HEADER in BINARY mode")
		case o.Delimiter != nil:
			return c, pgerror.New("42601", "cannot specify DELIMITER in BINARY mode")
		case o.Null != nil:
			return c, pgerror.New("42601", "cannot specify NULL in BINARY mode")
		}
	}
	c.delim, c.null, c.quote = '\t', `\N`, '"'
	if c.csv {
		c.delim, c.null = ',', ""
	}
	if o.Delimiter != nil {
		s, err := copyOptionString(o.Delimiter, "DELIMITER")
		if err != nil {
			return c, err
		}
		if len(s) != 1 {
			return c, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY delimiter must be a single one-byte character")
		}
		c.delim = s[0]
	}
	if o.Null != nil {
		s, err := copyOptionString(o.Null, "NULL")
		if err != nil {
			return c, err
		}
		c.null = s
	}
	if o.Quote != nil {
		if !c.csv {
			return c, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY quote available only in CSV mode")
		}
		if s := o.Quote.RawString(); len(s) != 1 {
			return c, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY quote must be a single one-byte character")
		} else {
			c.quote = s[0]
		}
	}
	c.escape = c.quote
	if o.Escape != nil {
		if !c.csv {
			return c, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY escape available only in CSV mode")
		}
		if s := o.Escape.RawString(); len(s) != 1 {
			return c, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY escape must be a single one-byte character")
		} else {
			c.escape = s[0]
		}
	}
	if o.Encoding != nil {
		if e := strings.ToUpper(strings.ReplaceAll(o.Encoding.RawString(), "-", "")); e != "UTF8" && e != "UNICODE" {
			return c, pgerror.Newf(pgerror.CodeFeatureNotSupported, "COPY ENCODING %q is not supported: the data must be UTF8", o.Encoding.RawString())
		}
	}
	const invalid = "22023"
	switch {
	case c.delim == '\n' || c.delim == '\r':
		return c, pgerror.New(invalid, "COPY delimiter cannot be newline or carriage return")
	case strings.ContainsAny(c.null, "\r\n"):
		return c, pgerror.New(invalid, "COPY null representation cannot use newline or carriage return")
	case !c.csv && !c.binary && strings.IndexByte(`\.abcdefghijklmnopqrstuvwxyz0123456789`, c.delim) >= 0:
		return c, pgerror.Newf(invalid, "COPY delimiter cannot be %q", string(c.delim))
	case c.csv && c.delim == c.quote:
		return c, pgerror.New(invalid, "COPY delimiter and quote must be different")
	case !c.binary && strings.IndexByte(c.null, c.delim) >= 0:
		return c, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY delimiter must not appear in the NULL specification")
	case c.csv && strings.IndexByte(c.null, c.quote) >= 0:
		return c, pgerror.New(invalid, "CSV quote character must not appear in the NULL specification")
	}
	return c, nil
}

// copyOptionString is a string option's value: a string constant.
func copyOptionString(e tree.Expr, name string) (string, error) {
	if s, ok := e.(*tree.StrVal); ok {
		return s.RawString(), nil
	}
	return "", pgerror.Newf("42601", "COPY %s must be a string constant", name)
}

// splitCopyText cuts a line of COPY's text format at its delimiters (a
// backslash escapes the character after it, the delimiter included) and
// decodes each field; a field that is the NULL string, before decoding,
// is NULL (nil).
func (c *copyOptions) splitCopyText(line string) ([]*string, error) {
	var fields []*string
	field := func(raw string) error {
		if raw == c.null {
			fields = append(fields, nil)
			return nil
		}
		v, err := unescapeCopy(raw)
		if err != nil {
			return err
		}
		fields = append(fields, &v)
		return nil
	}
	start := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case c.delim:
			if err := field(line[start:i]); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if err := field(line[start:]); err != nil {
		return nil, err
	}
	return fields, nil
}

// readCSVRecord reads one record of COPY's CSV format: fields cut at the
// delimiter outside quotes; inside quotes the escape character takes the
// quote or escape character after it literally, and a line break belongs
// to the field. An unquoted field that is the NULL string is NULL (nil);
// a quoted one never is. done: the data ended (at its end or at a line
// holding only \.).
func (c *copyOptions) readCSVRecord(in *bufio.Reader) (fields []*string, done bool, err error) {
	var cur bytes.Buffer
	quoted, inQuotes, any := false, false, false
	emit := func() {
		v := cur.String()
		if !quoted && v == c.null {
			fields = append(fields, nil)
		} else {
			fields = append(fields, &v)
		}
		cur.Reset()
		quoted = false
	}
	first := true
	for {
		b, err := in.ReadByte()
		if err != nil {
			if inQuotes {
				return nil, false, pgerror.New("22P04", "unterminated CSV quoted field")
			}
			if !any {
				return nil, true, nil
			}
			emit()
			return fields, false, nil
		}
		any = true
		if first && b == '\\' && !inQuotes {
			// The end-of-data marker: a line holding only \.
			if rest, _ := in.Peek(1); len(rest) == 1 && rest[0] == '.' {
				if after, _ := in.Peek(2); len(after) < 2 || after[1] == '\n' || after[1] == '\r' {
					return nil, true, nil
				}
			}
		}
		first = false
		switch {
		case inQuotes && b == c.escape:
			if next, _ := in.Peek(1); len(next) == 1 && (next[0] == c.quote || next[0] == c.escape) {
				nb, _ := in.ReadByte()
				cur.WriteByte(nb)
				continue
			}
			if b == c.quote {
				inQuotes = false
				continue
			}
			cur.WriteByte(b)
		case inQuotes && b == c.quote:
			inQuotes = false
		case inQuotes:
			cur.WriteByte(b)
		case b == c.quote:
			inQuotes, quoted = true, true
		case b == c.delim:
			emit()
		case b == '\n':
			emit()
			return fields, false, nil
		case b == '\r':
			if next, _ := in.Peek(1); len(next) == 1 && next[0] == '\n' {
				_, _ = in.ReadByte()
			}
			emit()
			return fields, false, nil
		default:
			cur.WriteByte(b)
		}
	}
}

// appendCopyField appends a value to a line of COPY TO output in the
// format's way: text escapes the delimiter too; CSV quotes a value that
// holds the delimiter, the quote character, a line break, is the NULL
// string or the end-of-data marker, escaping quote and escape characters
// inside the quotes.
func (c *copyOptions) appendCopyField(buf, v []byte) []byte {
	if !c.csv {
		if c.delim == '\t' || bytes.IndexByte(v, c.delim) < 0 {
			return appendCopyText(buf, v)
		}
		for i, part := range bytes.Split(v, []byte{c.delim}) {
			if i > 0 {
				buf = append(buf, '\\', c.delim)
			}
			buf = appendCopyText(buf, part)
		}
		return buf
	}
	if string(v) != c.null && !bytes.ContainsAny(v, string([]byte{c.delim, c.quote, '\r', '\n'})) && string(v) != `\.` {
		return append(buf, v...)
	}
	buf = append(buf, c.quote)
	for _, b := range v {
		if b == c.quote || b == c.escape {
			buf = append(buf, c.escape)
		}
		buf = append(buf, b)
	}
	return append(buf, c.quote)
}
