package sql

import (
	"regexp"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// roleStmt is CREATE ROLE|USER or ALTER ROLE|USER with PostgreSQL's
// options. The grammar knows only some of them (not SUPERUSER, INHERIT,
// IN ROLE, ROLE, ADMIN, CONNECTION LIMIT, RENAME TO), so these statements
// are parsed here, from the grammar's tokens. DROP ROLE and GRANT/REVOKE
// of roles come from the grammar.
type roleStmt struct {
	alter bool
	// user is CREATE USER, which implies LOGIN.
	user bool
	name tree.RoleSpec
	// rename is ALTER ROLE ... RENAME TO's new name.
	rename string
	opts   roleOptions
}

// roleOptions are the options a statement gave; nil: not given.
type roleOptions struct {
	login, superuser, createDB, createRole, inherit *bool
	// password is set by PASSWORD; a nil *string in it is PASSWORD NULL.
	password **string
	// inRole are IN ROLE's roles (the new role joins them); roles and
	// admins are ROLE's and ADMIN's (they join the new role, ADMIN's
	// with the admin option).
	inRole, roles, admins []string
	// unsupported names the first option given that Meridian does not
	// have, for a 0A000.
	unsupported string
}

var _ tree.Statement = (*roleStmt)(nil)

func (s *roleStmt) String() string { return tree.AsString(s) }
func (s *roleStmt) Format(ctx *tree.FmtCtx) {
	verb := "CREATE"
	if s.alter {
		verb = "ALTER"
	}
	ctx.WriteString(verb + " ROLE ")
	ctx.FormatNode(&s.name)
}
func (s *roleStmt) StatementReturnType() tree.StatementReturnType { return tree.Ack }
func (s *roleStmt) StatementType() tree.StatementType             { return tree.TypeDCL }
func (s *roleStmt) StatementTag() string {
	if s.alter {
		return "ALTER ROLE"
	}
	return "CREATE ROLE"
}

// mayBeRoleStmt is a quick test before parseWithRoles splits a query;
// loose (comments may sit between the words), as a CREATE ROLE it missed
// would reach the grammar's parse, which lacks options.
var mayBeRoleStmt = regexp.MustCompile(`(?is)\b(create|alter)\b.*\b(role|user)\b|\b(grant|revoke)\b.*\bon\b`)

// parseWithRoles parses query, taking its CREATE/ALTER ROLE statements
// and its GRANT/REVOKE of privileges (privilege_parse.go)
// itself and the others to the grammar.
func parseWithRoles(query string) (statements.Statements, error) {
	var out statements.Statements
	for _, piece := range splitStatements(query) {
		toks, ok := parser.Tokens(piece)
		if ok && isPrivStmt(toks) {
			st, err := parsePrivStmt(toks)
			if err != nil {
				return nil, err
			}
			out = append(out, statements.Statement[tree.Statement]{AST: st, SQL: strings.TrimSpace(piece)})
			continue
		}
		if ok && isRoleStmt(toks) {
			st, err := parseRoleStmt(toks)
			if err != nil {
				return nil, err
			}
			out = append(out, statements.Statement[tree.Statement]{AST: st, SQL: strings.TrimSpace(piece)})
			continue
		}
		stmts, err := parser.ParseWithInt(piece, types.Int4)
		if err != nil {
			return nil, err
		}
		out = append(out, stmts...)
	}
	return out, nil
}

// splitStatements cuts a query string into its statements' texts (each
// with its semicolon), as the grammar's scanner sees them, for the
// parsers that take some statements themselves and give the others to
// the grammar.
func splitStatements(query string) []string {
	var out []string
	for rest := query; strings.TrimSpace(rest) != ""; {
		n, ok := parser.SplitFirstStatement(rest)
		if !ok {
			n = len(rest)
		}
		out, rest = append(out, rest[:n]), rest[n:]
	}
	return out
}

// isRoleStmt reports whether toks are a CREATE ROLE|USER, or an ALTER
// ROLE|USER that is not ALTER ... SET|RESET (a setting's default, which
// the grammar parses).
func isRoleStmt(toks []parser.TokenString) bool {
	if len(toks) < 3 || (toks[1].TokenID != parser.ROLE && toks[1].TokenID != parser.USER) {
		return false
	}
	switch toks[0].TokenID {
	case parser.CREATE:
		return true
	case parser.ALTER:
		for _, t := range toks[2:] {
			if t.TokenID == parser.SET || t.TokenID == parser.RESET {
				return false
			}
		}
		return true
	}
	return false
}

// roleTokens walks a statement's tokens.
type roleTokens struct {
	toks []parser.TokenString
	i    int
}

func (p *roleTokens) done() bool { return p.i >= len(p.toks) || p.toks[p.i].TokenID == ';' }

func (p *roleTokens) peek() string {
	if p.done() {
		return ""
	}
	return strings.ToLower(p.toks[p.i].Str)
}

// word is the next token as an option word: a keyword or an unquoted
// identifier, lower-cased ("" for anything else).
func (p *roleTokens) word() string {
	if p.done() || p.toks[p.i].TokenID == parser.SCONST || p.toks[p.i].TokenID == parser.ICONST {
		return ""
	}
	return p.peek()
}

func (p *roleTokens) syntaxError() error {
	if p.done() {
		return pgerror.New(pgerror.CodeSyntaxError, "syntax error at end of input")
	}
	return pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near %q", p.toks[p.i].Str)
}

// name reads a role name: an identifier or a keyword the grammar does
// not reserve for a role name. CURRENT_USER, SESSION_USER and
// CURRENT_ROLE are role specifications, which only ALTER takes.
func (p *roleTokens) name(spec bool) (tree.RoleSpec, error) {
	if p.done() {
		return tree.RoleSpec{}, p.syntaxError()
	}
	t := p.toks[p.i]
	switch t.TokenID {
	case parser.CURRENT_USER, parser.CURRENT_ROLE, parser.SESSION_USER:
		if !spec {
			return tree.RoleSpec{}, pgerror.Newf(codeReservedName, "%s cannot be used as a role name here", strings.ToUpper(t.Str))
		}
		p.i++
		if t.TokenID == parser.SESSION_USER {
			return tree.RoleSpec{RoleSpecType: tree.SessionUser}, nil
		}
		return tree.RoleSpec{RoleSpecType: tree.CurrentUser}, nil
	case parser.SCONST, parser.ICONST, parser.NULL, parser.WITH, ';', ',':
		return tree.RoleSpec{}, p.syntaxError()
	}
	if t.TokenID != parser.IDENT && !isWordToken(t) {
		return tree.RoleSpec{}, p.syntaxError()
	}
	p.i++
	return tree.MakeRoleSpecWithRoleName(t.Str), nil
}

// isWordToken reports whether t is a keyword (its text is letters).
func isWordToken(t parser.TokenString) bool {
	if t.Str == "" {
		return false
	}
	for _, r := range t.Str {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (p *roleTokens) names() ([]string, error) {
	var out []string
	for {
		n, err := p.name(false)
		if err != nil {
			return nil, err
		}
		out = append(out, n.Name)
		if p.done() || p.toks[p.i].TokenID != ',' {
			return out, nil
		}
		p.i++
	}
}

// parseRoleStmt parses CREATE ROLE|USER name [WITH] option... and ALTER
// ROLE|USER name [WITH] option... | RENAME TO name, as PostgreSQL 15.
func parseRoleStmt(toks []parser.TokenString) (*roleStmt, error) {
	p := &roleTokens{toks: toks, i: 2}
	st := &roleStmt{alter: toks[0].TokenID == parser.ALTER, user: toks[1].TokenID == parser.USER}
	var err error
	if st.name, err = p.name(st.alter); err != nil {
		return nil, err
	}
	if st.alter && p.peek() == "rename" && p.toks[p.i].TokenID == parser.RENAME {
		p.i++
		if p.peek() != "to" {
			return nil, p.syntaxError()
		}
		p.i++
		n, err := p.name(false)
		if err != nil {
			return nil, err
		}
		st.rename = n.Name
		if !p.done() {
			return nil, p.syntaxError()
		}
		return st, nil
	}
	if p.word() == "with" {
		p.i++
	}
	o := &st.opts
	conflict := pgerror.New(pgerror.CodeSyntaxError, "conflicting or redundant options")
	flag := func(dst **bool, v bool) error {
		if *dst != nil {
			return conflict
		}
		*dst = &v
		p.i++
		return nil
	}
	other := func(feature string) {
		if o.unsupported == "" {
			o.unsupported = feature
		}
	}
	for !p.done() {
		w := p.word()
		switch w {
		case "login", "nologin":
			err = flag(&o.login, w == "login")
		case "superuser", "nosuperuser":
			err = flag(&o.superuser, w == "superuser")
		case "createdb", "nocreatedb":
			err = flag(&o.createDB, w == "createdb")
		case "createrole", "nocreaterole":
			err = flag(&o.createRole, w == "createrole")
		case "inherit", "noinherit":
			err = flag(&o.inherit, w == "inherit")
		case "noreplication", "nobypassrls":
			p.i++ // what every role is here
		case "replication":
			p.i++
			other("REPLICATION (replication connections)")
		case "bypassrls":
			p.i++
			other("BYPASSRLS (row-level security)")
		case "encrypted", "unencrypted", "password":
			p.i++
			if w != "password" {
				if p.word() != "password" {
					return nil, p.syntaxError()
				}
				p.i++
			}
			if o.password != nil {
				return nil, conflict
			}
			var pw *string
			switch {
			case !p.done() && p.toks[p.i].TokenID == parser.SCONST:
				s := p.toks[p.i].Str
				pw = &s
			case !p.done() && p.toks[p.i].TokenID == parser.NULL && w == "password":
			default:
				return nil, p.syntaxError()
			}
			p.i++
			if w == "unencrypted" {
				return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "UNENCRYPTED PASSWORD is no longer supported")
			}
			o.password = &pw
		case "valid":
			p.i++
			if p.word() != "until" {
				return nil, p.syntaxError()
			}
			p.i++
			if p.done() || p.toks[p.i].TokenID != parser.SCONST {
				return nil, p.syntaxError()
			}
			p.i++
			other("VALID UNTIL (password expiry)")
		case "connection":
			p.i++
			if p.word() != "limit" {
				return nil, p.syntaxError()
			}
			p.i++
			if p.peek() == "-" {
				p.i++
			}
			if p.done() || p.toks[p.i].TokenID != parser.ICONST {
				return nil, p.syntaxError()
			}
			p.i++
			other("CONNECTION LIMIT")
		case "sysid":
			if st.alter {
				return nil, p.syntaxError()
			}
			p.i++
			if p.done() || p.toks[p.i].TokenID != parser.ICONST {
				return nil, p.syntaxError()
			}
			p.i++
			other("SYSID")
		case "in":
			if st.alter {
				return nil, p.syntaxError()
			}
			p.i++
			if w := p.word(); w != "role" && w != "group" {
				return nil, p.syntaxError()
			}
			p.i++
			if o.inRole != nil {
				return nil, conflict
			}
			o.inRole, err = p.names()
		case "role", "user", "admin":
			if st.alter {
				return nil, p.syntaxError()
			}
			p.i++
			dst := &o.roles
			if w == "admin" {
				dst = &o.admins
			}
			if *dst != nil {
				return nil, conflict
			}
			*dst, err = p.names()
		default:
			return nil, p.syntaxError()
		}
		if err != nil {
			return nil, err
		}
	}
	return st, nil
}
