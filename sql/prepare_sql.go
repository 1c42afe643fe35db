package sql

import (
	"context"
	"fmt"

	"github.com/meridiandb/meridian/sql/sem"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// SQL-level PREPARE name [(types)] AS statement, EXECUTE name [(args)]
// and DEALLOCATE [PREPARE] name | ALL, as PostgreSQL has them: the
// session keeps the statement, its parameter types inferred (or given)
// when it is prepared, and runs it with the arguments at each EXECUTE.

// execSQLPrepare runs PREPARE, EXECUTE and DEALLOCATE; ok is false for
// any other statement.
func (s *session) execSQLPrepare(ctx context.Context, st statements.Statement[tree.Statement]) (*result, bool, error) {
	switch x := st.AST.(type) {
	case *tree.Prepare:
		return &result{tag: "PREPARE"}, true, s.sqlPrepare(ctx, x, st.NumPlaceholders)
	case *tree.Execute:
		res, err := s.sqlExecute(ctx, x)
		return res, true, err
	case *tree.Deallocate:
		// The protocol-level prepared statements (a driver's Parse) go
		// too, as in PostgreSQL.
		if x.Name == "" {
			s.sqlPrepared = nil
			s.deallocateProtocol("")
			return &result{tag: "DEALLOCATE ALL"}, true, nil
		}
		if s.sqlPrepared[string(x.Name)] == nil && !s.deallocateProtocol(string(x.Name)) {
			return nil, true, pgerror.Newf(pgerror.CodeInvalidSQLStatementName, "prepared statement %q does not exist", string(x.Name))
		}
		delete(s.sqlPrepared, string(x.Name))
		return &result{tag: "DEALLOCATE"}, true, nil
	}
	return nil, false, nil
}

func (s *session) sqlPrepare(ctx context.Context, x *tree.Prepare, nParams int) error {
	name := string(x.Name)
	if s.sqlPrepared[name] != nil {
		return pgerror.Newf(pgerror.CodeDuplicatePreparedStatement, "prepared statement %q already exists", name)
	}
	ps := &prepared{s: s, ast: x.Statement, nParams: max(nParams, len(x.Types))}
	ps.hints = make([]*types.T, ps.nParams)
	for i, ref := range x.Types {
		t, err := tree.ResolveType(ctx, ref, typeResolver{})
		if err != nil {
			return err
		}
		ps.hints[i] = t
	}
	if err := ps.describe(ctx); err != nil {
		return err
	}
	if s.sqlPrepared == nil {
		s.sqlPrepared = map[string]*prepared{}
	}
	s.sqlPrepared[name] = ps
	return nil
}

func (s *session) sqlExecute(ctx context.Context, x *tree.Execute) (*result, error) {
	name := string(x.Name)
	ps := s.sqlPrepared[name]
	if ps == nil {
		return nil, pgerror.Newf(pgerror.CodeInvalidSQLStatementName, "prepared statement %q does not exist", name)
	}
	if len(x.Params) != ps.nParams {
		return nil, pgerror.WithDetail(pgerror.Newf(pgerror.CodeSyntaxError, "wrong number of parameters for prepared statement %q", name),
			fmt.Sprintf("Expected %d parameters but got %d.", ps.nParams, len(x.Params)))
	}
	b := newBuilder(ctx, nil, s.names, 0, nil)
	ev := stmtEvalCtx(ctx, nil, s, nil)
	params := make(tree.Datums, len(x.Params))
	for i, p := range x.Params {
		te, err := b.typeCheck(p, &scope{}, ps.params[i])
		if err != nil {
			return nil, err
		}
		d, err := ev.Eval(te)
		if err != nil {
			return nil, err
		}
		if d != tree.DNull && !d.ResolvedType().Equivalent(ps.params[i]) {
			if d, err = sem.CastDatum(ev, d, ps.params[i]); err != nil {
				return nil, err
			}
		}
		params[i] = d
	}
	prev := s.executing
	s.executing = ps
	defer func() { s.executing = prev }()
	return s.execStmt(ctx, ps.ast, ps.nParams, params, ps.params)
}

// deallocateProtocol closes the connection's protocol-level prepared
// statement name (all of them, for ""); false if there is none.
func (s *session) deallocateProtocol(name string) bool {
	if s.deallocate == nil {
		return false
	}
	return s.deallocate(name)
}
