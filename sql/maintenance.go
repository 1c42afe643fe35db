package sql

import (
	"regexp"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
)

// vacuumStmt is VACUUM or ANALYZE, which the grammar does not take
// (VACUUM) or which PostgreSQL tools send as routine (pgbench vacuums
// before every run). Neither has work to do here: MVCC garbage is
// collected by the storage layer and there are no planner statistics
// yet. They check that the tables they name exist, as PostgreSQL does.
type vacuumStmt struct {
	tag    string // VACUUM or ANALYZE
	tables []string
}

var _ tree.Statement = (*vacuumStmt)(nil)

func (s *vacuumStmt) String() string { return tree.AsString(s) }
func (s *vacuumStmt) Format(ctx *tree.FmtCtx) {
	ctx.WriteString(s.tag + " " + strings.Join(s.tables, ", "))
}
func (s *vacuumStmt) StatementReturnType() tree.StatementReturnType { return tree.Ack }
func (s *vacuumStmt) StatementType() tree.StatementType             { return tree.TypeDML }
func (s *vacuumStmt) StatementTag() string                          { return s.tag }

var (
	// VACUUM [FULL] [FREEZE] [VERBOSE] [ANALYZE] [(options)] [tables], and
	// ANALYZE [VERBOSE] [(options)] [tables].
	vacuumRE  = regexp.MustCompile(`(?is)^\s*(vacuum|analyze|analyse)\b((?:\s+(?:full|freeze|verbose|analyze|analyse)\b)*)\s*(\([^)]*\))?([^;]*?)\s*;?\s*$`)
	tableList = regexp.MustCompile(`(?s)\([^)]*\)`) // a table's column list
)

// parseMaintenance recognises a lone VACUUM or ANALYZE statement.
func parseMaintenance(query string) (statements.Statements, bool) {
	m := vacuumRE.FindStringSubmatch(query)
	if m == nil {
		return nil, false
	}
	tag := "VACUUM"
	if strings.ToLower(m[1]) != "vacuum" {
		tag = "ANALYZE"
	}
	st := &vacuumStmt{tag: tag}
	for _, t := range strings.Split(tableList.ReplaceAllString(m[4], ""), ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		st.tables = append(st.tables, t)
	}
	return statements.Statements{{AST: st, SQL: query}}, true
}

// vacuum checks the named tables exist; there is nothing else to do.
func (b schemaChanger) vacuum(st *vacuumStmt) error {
	for _, t := range st.tables {
		tn, err := parseRelationName(t)
		if err != nil {
			return err
		}
		if _, err := b.names.mustFind(b.ctx, b.txn, tn); err != nil {
			return err
		}
	}
	return nil
}
