package sql

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// privStmt is GRANT or REVOKE of privileges on objects, as PostgreSQL 15
// writes them. The grammar lacks TRUNCATE, REFERENCES, TRIGGER and
// TEMPORARY, column lists and REVOKE's CASCADE, so these statements are
// parsed here from the grammar's tokens (as roleStmt is).
type privStmt struct {
	revoke bool
	// option is WITH GRANT OPTION, or REVOKE GRANT OPTION FOR.
	option bool
	privs  catalog.Privilege
	all    bool // ALL [PRIVILEGES]
	kind   catalog.ObjectKind
	// kindWord is the object kind as written ("" for a bare table name).
	kindWord string
	// inSchema is ALL TABLES|SEQUENCES IN SCHEMA: names are schemas.
	inSchema bool
	tables   []*tree.TableName
	names    []string
	grantees []tree.RoleSpec
	// cascade is REVOKE's CASCADE: the grants made on the strength of
	// a revoked grant option go too.
	cascade bool
	// unsupported names the first thing given that Meridian lacks.
	unsupported string
}

var _ tree.Statement = (*privStmt)(nil)

func (s *privStmt) String() string { return tree.AsString(s) }
func (s *privStmt) Format(ctx *tree.FmtCtx) {
	ctx.WriteString(s.StatementTag())
}
func (s *privStmt) StatementReturnType() tree.StatementReturnType { return tree.Ack }
func (s *privStmt) StatementType() tree.StatementType             { return tree.TypeDCL }
func (s *privStmt) StatementTag() string {
	if s.revoke {
		return "REVOKE"
	}
	return "GRANT"
}

// isPrivStmt reports whether toks are a GRANT or REVOKE with an ON: of
// privileges on objects, not of roles.
func isPrivStmt(toks []parser.TokenString) bool {
	if len(toks) < 4 || (toks[0].TokenID != parser.GRANT && toks[0].TokenID != parser.REVOKE) {
		return false
	}
	for _, t := range toks[1:] {
		if t.TokenID == parser.ON {
			return true
		}
	}
	return false
}

// parsePrivStmt parses
//
//	GRANT privs ON target TO grantee, ... [WITH GRANT OPTION] [GRANTED BY role]
//	REVOKE [GRANT OPTION FOR] privs ON target FROM grantee, ... [GRANTED BY role] [CASCADE | RESTRICT]
func parsePrivStmt(toks []parser.TokenString) (*privStmt, error) {
	p := &roleTokens{toks: toks, i: 1}
	st := &privStmt{revoke: toks[0].TokenID == parser.REVOKE}
	other := func(feature string) {
		if st.unsupported == "" {
			st.unsupported = feature
		}
	}
	if st.revoke && p.word() == "grant" {
		p.i++
		if p.word() != "option" {
			return nil, p.syntaxError()
		}
		p.i++
		if p.word() != "for" {
			return nil, p.syntaxError()
		}
		p.i++
		st.option = true
	}
	// The privileges.
	if p.word() == "all" {
		p.i++
		st.all = true
		if p.word() == "privileges" {
			p.i++
		}
		if p.peek() == "(" {
			if err := p.skipParens(); err != nil {
				return nil, err
			}
			other("column privileges")
		}
	} else {
		for {
			w := p.word()
			priv := catalog.ParsePrivilege(w)
			switch {
			case priv != 0:
			case w == "maintain" || w == "set" || w == "alter":
				other(strings.ToUpper(w) + " privilege")
			default:
				return nil, p.syntaxError()
			}
			st.privs |= priv
			p.i++
			if w == "alter" && p.word() == "system" {
				p.i++
			}
			if p.peek() == "(" {
				if err := p.skipParens(); err != nil {
					return nil, err
				}
				other("column privileges")
			}
			if p.peek() != "," {
				break
			}
			p.i++
		}
	}
	if p.word() != "on" {
		return nil, p.syntaxError()
	}
	p.i++
	// The target.
	skipTarget := false
	switch w := p.word(); w {
	case "table", "sequence", "database", "schema":
		p.i++
		st.kindWord = w
	case "all":
		p.i++
		w2 := p.word()
		if w2 != "tables" && w2 != "sequences" && w2 != "functions" && w2 != "procedures" && w2 != "routines" {
			return nil, p.syntaxError()
		}
		p.i++
		if p.word() != "in" {
			return nil, p.syntaxError()
		}
		p.i++
		if p.word() != "schema" {
			return nil, p.syntaxError()
		}
		p.i++
		st.inSchema, st.kindWord = true, strings.TrimSuffix(w2, "s")
		if w2 != "tables" && w2 != "sequences" {
			other("GRANT ON ALL " + strings.ToUpper(w2) + " IN SCHEMA")
		}
	case "function", "procedure", "routine", "type", "domain", "language", "foreign", "large", "tablespace", "parameter":
		p.i++
		other("GRANT and REVOKE ON " + strings.ToUpper(w))
		skipTarget = true
		// Skip to TO/FROM.
		for !p.done() && p.word() != "to" && p.word() != "from" {
			p.i++
		}
	}
	switch st.kindWord {
	case "sequence":
		st.kind = catalog.ObjSequence
	case "database":
		st.kind = catalog.ObjDatabase
	case "schema":
		st.kind = catalog.ObjSchema
	}
	if !skipTarget {
		for {
			if st.kindWord == "database" || st.kindWord == "schema" || st.inSchema {
				n, err := p.name(false)
				if err != nil {
					return nil, err
				}
				st.names = append(st.names, n.Name)
			} else {
				tn, err := p.tableName()
				if err != nil {
					return nil, err
				}
				st.tables = append(st.tables, tn)
			}
			if p.peek() != "," {
				break
			}
			p.i++
		}
	}
	want := "to"
	if st.revoke {
		want = "from"
	}
	if p.word() != want {
		return nil, p.syntaxError()
	}
	p.i++
	for {
		if p.word() == "group" {
			p.i++
		}
		if p.word() == "public" {
			p.i++
			st.grantees = append(st.grantees, tree.RoleSpec{RoleSpecType: tree.RoleName, Name: "public"})
		} else {
			spec, err := p.name(true)
			if err != nil {
				return nil, err
			}
			st.grantees = append(st.grantees, spec)
		}
		if p.peek() != "," {
			break
		}
		p.i++
	}
	for !p.done() {
		switch p.word() {
		case "with":
			p.i++
			if st.revoke || p.word() != "grant" {
				return nil, p.syntaxError()
			}
			p.i++
			if p.word() != "option" {
				return nil, p.syntaxError()
			}
			p.i++
			st.option = true
		case "granted":
			p.i++
			if p.word() != "by" {
				return nil, p.syntaxError()
			}
			p.i++
			if _, err := p.name(true); err != nil {
				return nil, err
			}
			other("GRANTED BY")
		case "restrict":
			if !st.revoke {
				return nil, p.syntaxError()
			}
			p.i++
		case "cascade":
			if !st.revoke {
				return nil, p.syntaxError()
			}
			p.i++
			st.cascade = true
		default:
			return nil, p.syntaxError()
		}
	}
	return st, nil
}

// skipParens steps over a parenthesized list.
func (p *roleTokens) skipParens() error {
	depth := 0
	for !p.done() {
		switch p.peek() {
		case "(":
			depth++
		case ")":
			depth--
		}
		p.i++
		if depth == 0 {
			return nil
		}
	}
	return p.syntaxError()
}

// tableName reads [[db.]schema.]name.
func (p *roleTokens) tableName() (*tree.TableName, error) {
	var parts []string
	for {
		if p.done() {
			return nil, p.syntaxError()
		}
		t := p.toks[p.i]
		if t.TokenID != parser.IDENT && !isWordToken(t) {
			return nil, p.syntaxError()
		}
		parts = append(parts, t.Str)
		p.i++
		if p.peek() != "." {
			break
		}
		p.i++
	}
	switch len(parts) {
	case 1:
		tn := tree.MakeUnqualifiedTableName(tree.Name(parts[0]))
		return &tn, nil
	case 2:
		tn := tree.MakeTableNameFromPrefix(tree.ObjectNamePrefix{SchemaName: tree.Name(parts[0]), ExplicitSchema: true}, tree.Name(parts[1]))
		return &tn, nil
	case 3:
		tn := tree.MakeTableNameWithSchema(tree.Name(parts[0]), tree.Name(parts[1]), tree.Name(parts[2]))
		return &tn, nil
	}
	return nil, pgerror.Newf(pgerror.CodeSyntaxError, "improper qualified name (too many dotted names): %s", strings.Join(parts, "."))
}
