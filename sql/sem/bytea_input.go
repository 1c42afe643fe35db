package sem

import (
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree/treecmp"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/pgformat"
)

// bytea literals and bytea LIKE, as PostgreSQL reads them. The parser's
// type checker reads a literal typed bytea with its own reader, which
// takes neither whitespace between hex digits ('\x De Ad') nor gives
// PostgreSQL's errors; and its LIKE takes strings only. So, before the
// type check, the implicit-cast pass (typeres.go) reads such literals
// with byteain's rules (pgformat.ParseBytea) and turns a LIKE on bytea
// into PostgreSQL's own functions for it, bytealike and byteanlike.

// isBytesLiteral: sv was written b'...' or x'...', bytes already.
func isBytesLiteral(sv *tree.StrVal) bool {
	t := sv.AvailableTypes()
	return len(t) > 0 && t[0].Family() == types.BytesFamily
}

// byteaLiteral reads *p as a bytea if it is a string literal, in place;
// a literal byteain refuses is the pass's error.
func (c *implicitCaster) byteaLiteral(p *tree.Expr) {
	sv, ok := (*p).(*tree.StrVal)
	if !ok || isBytesLiteral(sv) {
		return
	}
	b, err := pgformat.ParseBytea(sv.RawString())
	if err != nil {
		if c.err == nil {
			// The message does not show the literal; its position is
			// found by it.
			c.err = pgerror.WithLiteral(err, sv.RawString())
		}
		return
	}
	*p = tree.NewDBytes(tree.DBytes(b))
}

// isBytea: t is bytea.
func isBytea(t *types.T) bool { return t != nil && t.Family() == types.BytesFamily }

// byteaCast reads the literal of a cast to bytea.
func (c *implicitCaster) byteaCast(x *tree.CastExpr) tree.Expr {
	if t, ok := x.Type.(*types.T); ok && isBytea(t) {
		c.byteaLiteral(&x.Expr)
	}
	return x
}

// byteaComparison reads a literal compared with a bytea as a bytea, and
// makes bytea [NOT] LIKE bytea the call PostgreSQL's operator is: the
// result, the bytea LIKE, is matched byte by byte. A LIKE whose other
// operand is of another type is left to fail in the type check, as in
// PostgreSQL (bytea ~~ text does not exist). done: x was rewritten.
func (c *implicitCaster) byteaComparison(x *tree.ComparisonExpr) (tree.Expr, bool) {
	switch x.Operator.Symbol {
	case treecmp.EQ, treecmp.NE, treecmp.LT, treecmp.LE, treecmp.GT, treecmp.GE,
		treecmp.IsDistinctFrom, treecmp.IsNotDistinctFrom,
		treecmp.Like, treecmp.NotLike, treecmp.ILike, treecmp.NotILike:
	default:
		// IN and ANY have lists and arrays their own pass unifies.
		return x, false
	}
	lt, rt := c.typeOf(&x.Left), c.typeOf(&x.Right)
	switch {
	case isBytea(lt) && rt == nil:
		c.byteaLiteral(&x.Right)
		rt = c.typeOf(&x.Right)
	case isBytea(rt) && lt == nil:
		c.byteaLiteral(&x.Left)
		lt = c.typeOf(&x.Left)
	}
	if !isBytea(lt) || !isBytea(rt) {
		return x, false
	}
	var fn string
	switch x.Operator.Symbol {
	case treecmp.Like:
		fn = "bytealike"
	case treecmp.NotLike:
		fn = "byteanlike"
	default:
		return x, false
	}
	return &tree.FuncExpr{Func: tree.WrapFunction(fn), Exprs: tree.Exprs{x.Left, x.Right}}, true
}

// ByteaLiteral reads expr as a bytea if it is a string literal that its
// context (an INSERT's column, a parameter's type) makes a bytea.
func ByteaLiteral(expr tree.Expr, desired *types.T) (tree.Expr, error) {
	if !isBytea(desired) {
		return expr, nil
	}
	var c implicitCaster
	c.byteaLiteral(&expr)
	return expr, c.err
}

// byteaConcatText makes bytea || text (either way round) PostgreSQL's
// anynonarray || text: the bytea's text output, concatenated. (With a
// literal, bytea || 'x', the literal is a bytea, as the type check
// reads it.)
func (c *implicitCaster) byteaConcatText(x *tree.BinaryExpr) {
	lt, rt := c.typeOf(&x.Left), c.typeOf(&x.Right)
	isText := func(t *types.T) bool { return t != nil && t.Family() == types.StringFamily }
	switch {
	case isBytea(lt) && isText(rt):
		x.Left = castTo(x.Left, types.String)
	case isText(lt) && isBytea(rt):
		x.Right = castTo(x.Right, types.String)
	}
}

// placeholdersAsText types a placeholder argument of no known type as
// text where the call's overloads of its arity take text or bytea there
// (length, octet_length, substr, ...): PostgreSQL resolves the unknown to
// its string category's preferred type, text, where the parser's type
// checker finds the call ambiguous.
func (c *implicitCaster) placeholdersAsText(overloads []tree.Overload, args tree.Exprs) {
	for j, a := range args {
		if c.sema == nil || !c.sema.Placeholders.IsUnresolvedPlaceholder(a) {
			continue
		}
		var text, bytea bool
		for i := range overloads {
			params, ok := overloads[i].Types.(tree.ParamTypes)
			if !ok || len(params) != len(args) {
				continue
			}
			switch params[j].Typ.Family() {
			case types.StringFamily:
				text = true
			case types.BytesFamily:
				bytea = true
			}
		}
		if text && bytea {
			args[j] = castTo(a, types.String)
		}
	}
}
