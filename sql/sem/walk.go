package sem

import "github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"

// ExprVisitor adapts a function to tree.Visitor, visiting every node.
type ExprVisitor func(tree.Expr)

func (f ExprVisitor) VisitPre(e tree.Expr) (bool, tree.Expr) { f(e); return true, e }
func (f ExprVisitor) VisitPost(e tree.Expr) tree.Expr        { return e }

// ExprColumns lists the column names an expression refers to, in order of
// first appearance.
func ExprColumns(expr tree.Expr) []string {
	var out []string
	seen := map[string]bool{}
	tree.WalkExprConst(ExprVisitor(func(e tree.Expr) {
		if n, ok := e.(*tree.UnresolvedName); ok && !n.Star {
			c := n.Parts[0]
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}), expr)
	return out
}
