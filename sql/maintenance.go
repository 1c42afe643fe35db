package sql

import (
	"regexp"

	"github.com/meridiandb/meridian/sql/catalog"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
)

// vacuumStmt is VACUUM or ANALYZE, which the grammar does not take
// (VACUUM) or which PostgreSQL tools send as routine (pgbench vacuums
// before every run). VACUUM alone has no work to do here (old MVCC
// versions are the storage layer's) beyond checking that the tables it
// names exist, as PostgreSQL does; ANALYZE and VACUUM ANALYZE collect the
// tables' planner statistics (analyze.go).
type vacuumStmt struct {
	tag     string // VACUUM or ANALYZE
	analyze bool
	tables  []string
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
	st := &vacuumStmt{tag: tag, analyze: tag == "ANALYZE" || containsFold(m[2], "analy") || containsFold(m[3], "analy")}
	for _, t := range strings.Split(tableList.ReplaceAllString(m[4], ""), ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		st.tables = append(st.tables, t)
	}
	return statements.Statements{{AST: st, SQL: query}}, true
}

// vacuum checks the named tables exist and, with ANALYZE, collects
// their statistics (all tables of the current database when it names
// none).
func (b schemaChanger) vacuum(st *vacuumStmt, r *runner) error {
	var tables []*catalog.TableDescriptor
	for _, t := range st.tables {
		tn, err := parseRelationName(t)
		if err != nil {
			return err
		}
		d, err := b.names.mustFind(b.ctx, b.txn, tn)
		if err != nil {
			return err
		}
		tables = append(tables, d)
	}
	if !st.analyze {
		return nil
	}
	if len(st.tables) == 0 {
		var err error
		if tables, err = catalog.ListTables(b.ctx, b.txn, b.names.db.ID); err != nil {
			return err
		}
	}
	for _, d := range tables {
		if !d.HasRows() || d.Unpopulated {
			continue // PostgreSQL skips views, sequences and unpopulated materialized views too
		}
		if err := b.analyzeTable(d, r, analyzeName); err != nil {
			return err
		}
	}
	return nil
}
