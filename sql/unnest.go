package sql

import (
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
)

// unnestArg is the argument of a select-list item that is unnest(x),
// nil if it is not one.
func unnestArg(e tree.Expr) tree.Expr {
	f, ok := e.(*tree.FuncExpr)
	if !ok || len(f.Exprs) != 1 || f.WindowDef != nil {
		return nil
	}
	if n, ok := f.Func.FunctionReference.(*tree.UnresolvedName); !ok || n.NumParts != 1 || !strings.EqualFold(n.Parts[0], "unnest") {
		return nil
	}
	return f.Exprs[0]
}

// renderUnnest adds unnest(arg) to the select list: the column renders
// the array, which nextUnnested spreads over rows.
func (b *builder) renderUnnest(rn *renderNode, se tree.SelectExpr, arg tree.Expr, sc *scope) error {
	te, err := b.typeCheck(arg, sc, types.AnyArray)
	if err != nil {
		return err
	}
	if te.ResolvedType().Family() != types.ArrayFamily {
		return pgerror.Newf(pgerror.CodeUndefinedFunction, "function unnest(%s) does not exist", sem.FormatType(te.ResolvedType().Oid(), -1))
	}
	rn.unnest = append(rn.unnest, len(rn.exprs))
	rn.exprs = append(rn.exprs, te)
	rn.cols = append(rn.cols, resultColumn{name: columnName(se, sc, te), typ: te.ResolvedType().ArrayContents()})
	return nil
}

// nextUnnested is renderNode.next with unnest columns: a source row
// becomes as many rows as its longest unnested array, the shorter ones
// padded with NULLs, the other columns repeated (PostgreSQL 10 and
// later); a row whose arrays are all empty or NULL gives none.
func (n *renderNode) nextUnnested(r *runner) (tree.Datums, error) {
	for len(n.pending) == 0 {
		row, err := n.src.next(r)
		if err != nil || row == nil {
			return nil, err
		}
		out := make(tree.Datums, len(n.exprs))
		for i, e := range n.exprs {
			if out[i], err = r.evalIn(e, row); err != nil {
				return nil, err
			}
		}
		longest := 0
		for _, i := range n.unnest {
			if a, ok := out[i].(*tree.DArray); ok {
				longest = max(longest, a.Len())
			}
		}
		for k := 0; k < longest; k++ {
			expanded := append(tree.Datums(nil), out...)
			for _, i := range n.unnest {
				expanded[i] = tree.DNull
				if a, ok := out[i].(*tree.DArray); ok && k < a.Len() {
					expanded[i] = a.Array[k]
				}
			}
			if err := r.growRow(expanded); err != nil {
				return nil, err
			}
			n.pending = append(n.pending, expanded)
		}
	}
	row := n.pending[0]
	n.pending = n.pending[1:]
	return row, nil
}

// lateralUnnestError: unnest in FROM sees no other FROM item's columns
// (it would be LATERAL); its argument's unknown column says so, 0A000.
func lateralUnnestError(err error) error {
	if pgerror.CodeOf(err) == pgerror.CodeUndefinedColumn {
		return pgerror.Unsupported("unnest of a column of another FROM item (LATERAL) is not supported yet: unnest it in the select list")
	}
	return err
}
