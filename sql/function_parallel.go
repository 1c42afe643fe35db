package sql

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/lexbase"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/scanner"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// CREATE FUNCTION | PROCEDURE ... PARALLEL SAFE | RESTRICTED | UNSAFE,
// which the grammar does not take. It tells PostgreSQL's planner whether
// a call may run in a parallel worker; Meridian runs a query's
// expressions in one goroutine per node and never asks, so the clause is
// checked as PostgreSQL checks it and then blanked out of the text.

// stripParallel returns query with the PARALLEL clauses of its CREATE
// FUNCTION and CREATE PROCEDURE statements replaced by spaces (so that
// positions in the rest stay the client's).
func stripParallel(query string) (string, error) {
	toks := scanner.Inspect(query)
	out := []byte(nil)
	start := true // at a statement's first token
	routine := false
	seen := false // this statement had a PARALLEL clause
	depth := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.ID == 0 || t.ID == lexbase.ERROR {
			break
		}
		switch {
		case t.ID == ';':
			start, routine, seen, depth = true, false, false, 0
			continue
		case start:
			start = false
			routine = isCreateRoutine(toks[i:])
			continue
		case t.ID == '(':
			depth++
		case t.ID == ')':
			depth--
		}
		if !routine || depth != 0 || t.ID != lexbase.PARALLEL || i+1 >= len(toks) {
			continue
		}
		v := toks[i+1]
		if !isColIDToken(v) {
			continue // the grammar's syntax error
		}
		if seen {
			return "", pgerror.New(pgerror.CodeSyntaxError, "conflicting or redundant options")
		}
		seen = true
		switch v.Str {
		case "safe", "restricted", "unsafe":
		default:
			return "", pgerror.New(pgerror.CodeSyntaxError, `parameter "parallel" must be SAFE, RESTRICTED, or UNSAFE`)
		}
		if out == nil {
			out = []byte(query)
		}
		for j := t.Start; j < v.End; j++ {
			if out[j] != '\n' {
				out[j] = ' '
			}
		}
		i++
	}
	if out == nil {
		return query, nil
	}
	return string(out), nil
}

// isCreateRoutine reports whether the statement of toks is CREATE [OR
// REPLACE] FUNCTION or PROCEDURE.
func isCreateRoutine(toks []scanner.InspectToken) bool {
	if len(toks) < 2 || toks[0].ID != lexbase.CREATE {
		return false
	}
	i := 1
	if len(toks) > 3 && toks[1].ID == lexbase.OR && toks[2].ID == lexbase.REPLACE {
		i = 3
	}
	return toks[i].ID == lexbase.FUNCTION || toks[i].ID == lexbase.PROCEDURE
}

// isColIDToken reports whether t is an identifier or a keyword (PARALLEL
// takes any ColId, its value checked after).
func isColIDToken(t scanner.InspectToken) bool {
	return t.ID == lexbase.IDENT || (t.Str != "" && lexbase.GetKeywordID(t.Str) == t.ID)
}
