package sql

import (
	_ "embed"
	"github.com/cockroachdb/errors"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/sem"
	"github.com/meridiandb/meridian/sql/vtable"
)

// PostgreSQL's object identifier types: regclass, regtype, regnamespace,
// regrole, regproc and regprocedure are OIDs that are read as an object's
// name (or a number) and print as its name, quoted and qualified as
// needed ('s.t'::regclass is s.t when s is not on the search path); an
// OID that names no object prints as its number, 0 as "-". A cast looks
// the name up, failing as PostgreSQL's input functions do; the to_reg*
// functions do the same lookups but answer NULL for a name that is not
// found (still failing on one that cannot be read).

// Reg implements sem.Catalog.
func (c *stmtCatalog) Reg(e *sem.EvalCtx, d tree.Datum, t *types.T) (tree.Datum, error) {
	return castReg(e, d, t, false)
}

// castReg is d cast to the object identifier type t. With toReg (the
// to_reg* functions) d is always read as a name, and one that names
// nothing is NULL rather than an error.
func castReg(e *sem.EvalCtx, d tree.Datum, t *types.T, toReg bool) (tree.Datum, error) {
	var o oid.Oid
	switch x := d.(type) {
	case *tree.DString:
		s := string(*x)
		if !toReg {
			// As the input functions: "-" is 0, a string of digits an OID.
			if s == "-" {
				return tree.NewDOidWithType(0, t), nil
			}
			if s != "" && strings.Trim(s, "0123456789") == "" {
				n, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					return nil, pgerror.Newf(pgerror.CodeNumericValueOutOfRange, "value %q is out of range for type oid", s)
				}
				return regOfOID(e, oid.Oid(n), t)
			}
		}
		o, err := regLookup(e, s, t)
		if err != nil {
			if toReg && regNotFound(err) {
				return tree.DNull, nil
			}
			return nil, err
		}
		return regOfOID(e, o, t)
	case *tree.DOid:
		o = x.Oid
	case *tree.DInt:
		// As int to oid: an int4's bits (a negative one wraps), an int8
		// that fits in 32 bits.
		if int64(*x) < -(1<<31) || int64(*x) > 1<<32-1 {
			return nil, pgerror.New(pgerror.CodeNumericValueOutOfRange, "OID out of range")
		}
		o = oid.Oid(uint32(*x))
	default:
		return nil, pgerror.Newf("42846", "cannot cast type %s to %s",
			sem.FormatTypeOf(d.ResolvedType(), -1), sem.FormatTypeOf(t, -1))
	}
	return regOfOID(e, o, t)
}

// regNotFound reports whether err is a lookup's "does not exist" (of the
// object or of the schema that qualifies it), which to_reg* answers with
// NULL.
func regNotFound(err error) bool {
	if errors.HasType(err, (*argTypeError)(nil)) {
		return false
	}
	switch pgerror.CodeOf(err) {
	case "42704", "3F000", pgerror.CodeUndefinedTable, "42883":
		return true
	case "42725":
		// to_regproc of an ambiguous name: no one function.
		return true
	}
	return false
}

// argTypeError is the failed lookup of an argument type of a
// regprocedure: to_regprocedure fails with it as the cast does
// (PostgreSQL's looks the types up before the function).
type argTypeError struct{ err error }

func (e *argTypeError) Error() string { return e.err.Error() }
func (e *argTypeError) Unwrap() error { return e.err }

// regOfOID is the value of type t for OID o: carrying the object's name
// when there is such an object, else only the number.
func regOfOID(e *sem.EvalCtx, o oid.Oid, t *types.T) (tree.Datum, error) {
	if o == 0 {
		return tree.NewDOidWithType(0, t), nil
	}
	name, ok, err := regName(e, o, t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return tree.NewDOidWithType(o, t), nil
	}
	return tree.NewDOidWithTypeAndName(o, t, name), nil
}

// regLookup finds the OID of the object of type t that s names.
func regLookup(e *sem.EvalCtx, s string, t *types.T) (oid.Oid, error) {
	switch t.Oid() {
	case oid.T_regclass:
		return regclassLookup(e, s)
	case oid.T_regtype:
		return regtypeLookup(e, s)
	case oid.T_regnamespace:
		name, err := parseSingleName(s)
		if err != nil {
			return 0, err
		}
		nsps, err := catalogOf(e).namespaces(e)
		if err != nil {
			return 0, err
		}
		for _, r := range nsps {
			if string(tree.MustBeDString(r[1])) == name {
				return tree.MustBeDOid(r[0]).Oid, nil
			}
		}
		return 0, catalog.UndefinedSchema(name)
	case oid.T_regrole:
		name, err := parseSingleName(s)
		if err != nil {
			return 0, err
		}
		roles, err := catalogOf(e).roles(e)
		if err != nil {
			return 0, err
		}
		for _, r := range roles {
			if r.Name == name {
				return oid.Oid(r.ID), nil
			}
		}
		return 0, pgerror.Newf("42704", "role %q does not exist", name)
	case oid.T_regproc:
		return regprocLookup(e, s)
	case oid.T_regprocedure:
		return regprocedureLookup(e, s)
	}
	return 0, pgerror.Unsupported("cast to %s", t.SQLStandardName())
}

// regName is how a value of type t prints the object of OID o, and
// whether there is one.
func regName(e *sem.EvalCtx, o oid.Oid, t *types.T) (string, bool, error) {
	switch t.Oid() {
	case oid.T_regclass:
		return regclassName(e, o)
	case oid.T_regtype:
		if name, ok, err := userTypeName(e, o); err != nil || ok {
			return name, ok, err
		}
		if _, ok := types.OidToType[o]; ok || o == oid.T_json {
			return sem.FormatType(o, -1), true, nil
		}
		return "", false, nil
	case oid.T_regnamespace:
		nsps, err := catalogOf(e).namespaces(e)
		if err != nil {
			return "", false, err
		}
		for _, r := range nsps {
			if tree.MustBeDOid(r[0]).Oid == o {
				return tree.NameString(string(tree.MustBeDString(r[1]))), true, nil
			}
		}
		return "", false, nil
	case oid.T_regrole:
		roles, err := catalogOf(e).roles(e)
		if err != nil {
			return "", false, err
		}
		for _, r := range roles {
			if oid.Oid(r.ID) == o {
				return tree.NameString(r.Name), true, nil
			}
		}
		return "", false, nil
	case oid.T_regproc, oid.T_regprocedure:
		fns, err := regFunctions(e)
		if err != nil {
			return "", false, err
		}
		for _, f := range fns {
			if f.oid != o {
				continue
			}
			name := tree.NameString(f.name)
			qualified := tree.NameString(f.schema) + "." + name
			if t.Oid() == oid.T_regproc {
				// As regprocout: qualified unless regprocin would find
				// this function, and only it, by its name alone.
				_, fns, err := functionCandidates(e, name)
				if err != nil {
					return "", false, err
				}
				if len(fns) != 1 || fns[0].oid != o {
					return qualified, true, nil
				}
				return name, true, nil
			}
			if f.schema != "pg_catalog" {
				if n := namesOf(e); n == nil || !slices.Contains(n.path, f.schema) {
					name = qualified
				}
			}
			args := make([]string, len(f.args))
			for i, a := range f.args {
				if args[i], _, err = regName(e, a, types.RegType); err != nil {
					return "", false, err
				}
				if args[i] == "" {
					args[i] = strconv.Itoa(int(a))
				}
			}
			return name + "(" + strings.Join(args, ",") + ")", true, nil
		}
		return "", false, nil
	}
	return "", false, nil
}

// regclassLookup is regclassin's lookup: a relation of the session's
// database through the search path, or one of pg_catalog's.
func regclassLookup(e *sem.EvalCtx, s string) (oid.Oid, error) {
	tn, err := parseRelationName(s)
	if err != nil {
		return 0, err
	}
	if n := namesOf(e); n != nil {
		if err := n.checkCatalog(tn); err != nil {
			return 0, err
		}
		if tn.ExplicitSchema && tn.SchemaName == "pg_catalog" {
			// pg_catalog's relations are the virtual ones, below.
		} else if d, err := n.findLeased(e.Ctx, e.Txn, tn); err != nil {
			return 0, err
		} else if d != nil {
			return vtable.RelOID(d), nil
		}
	}
	if !tn.ExplicitSchema || tn.SchemaName == "pg_catalog" {
		rels, err := catalogOf(e).relations(e)
		if err != nil {
			return 0, err
		}
		for _, r := range rels {
			if tree.MustBeDOid(r[2]).Oid == vtable.PgCatalogOID && string(tree.MustBeDString(r[1])) == string(tn.ObjectName) {
				return tree.MustBeDOid(r[0]).Oid, nil
			}
		}
	}
	return 0, undefinedRelation(tn)
}

// regclassName is regclassout's name of relation o: quoted, and qualified
// by its schema when the search path does not find it by its name alone.
func regclassName(e *sem.EvalCtx, o oid.Oid) (string, bool, error) {
	rels, err := catalogOf(e).relations(e)
	if err != nil {
		return "", false, err
	}
	for _, r := range rels {
		if tree.MustBeDOid(r[0]).Oid != o {
			continue
		}
		name := tree.NameString(string(tree.MustBeDString(r[1])))
		if ns := tree.MustBeDOid(r[2]).Oid; ns != vtable.PgCatalogOID && namesOf(e) != nil {
			visible, err := tableVisible(e, o)
			if err != nil {
				return "", false, err
			}
			if visible != tree.DBoolTrue {
				schema, _, err := regName(e, ns, types.RegNamespace)
				if err != nil {
					return "", false, err
				}
				name = schema + "." + name
			}
		}
		return name, true, nil
	}
	return "", false, nil
}

// parseTypeString reads s as a type name the way PostgreSQL's
// parseTypeString does: as the type of a cast in SELECT NULL::s, so that
// whatever the grammar takes as a type is one (double precision,
// varchar(10), int[], a qualified name), INT meaning int4. The type
// modifier is dropped: regtype names the type only.
func parseTypeString(s string) (tree.ResolvableTypeReference, error) {
	bad := pgerror.Newf(pgerror.CodeSyntaxError, "invalid type name %q", s)
	stmts, err := parseSQL("SELECT NULL::" + s)
	if err != nil {
		if pgerror.CodeOf(err) != pgerror.CodeSyntaxError {
			return nil, bad
		}
		// The grammar's message, without its place in a text the client
		// did not write.
		return nil, pgerror.New(pgerror.CodeSyntaxError, err.Error())
	}
	if len(stmts) != 1 {
		return nil, bad
	}
	sel, ok := stmts[0].AST.(*tree.Select)
	if !ok || sel.With != nil || sel.OrderBy != nil || sel.Limit != nil || sel.Locking != nil {
		return nil, bad
	}
	sc, ok := sel.Select.(*tree.SelectClause)
	if !ok || len(sc.Exprs) != 1 || len(sc.From.Tables) > 0 || sc.Where != nil || sc.GroupBy != nil ||
		sc.Having != nil || sc.Window != nil || sc.Distinct {
		return nil, bad
	}
	if sc.Exprs[0].As != "" {
		// 'int int': a word after the type, which PostgreSQL's type
		// grammar (it takes no alias) stops at.
		return nil, pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near \"%s\"", string(sc.Exprs[0].As))
	}
	if c, ok := sc.Exprs[0].Expr.(*tree.CastExpr); ok && c.Expr == tree.DNull {
		return c.Type, nil
	}
	return nil, bad
}

// regtypeLookup is regtypein's lookup: a built-in type, or a
// user-defined one through the search path.
func regtypeLookup(e *sem.EvalCtx, s string) (oid.Oid, error) {
	ref, err := parseTypeString(s)
	if err != nil {
		return 0, err
	}
	var b *builder
	if n := namesOf(e); n != nil && e.Txn != nil {
		b = &builder{ctx: e.Ctx, txn: e.Txn, names: n}
	}
	t, err := tree.ResolveType(e.Ctx, ref, typeResolver{b})
	if err != nil {
		return 0, err
	}
	return t.Oid(), nil
}

// parseSingleName reads s as one identifier (regnamespace's and
// regrole's input): folded to lower case unless double-quoted.
func parseSingleName(s string) (string, error) {
	tn, err := parseRelationName(s)
	if err != nil {
		return "", err
	}
	if tn.ExplicitSchema {
		return "", pgerror.New("42602", "invalid name syntax")
	}
	return string(tn.ObjectName), nil
}

// regFunction is a function as regproc and regprocedure see it: a built-in
// (in pg_catalog, with PostgreSQL's pg_proc OID) or a user's (CREATE
// FUNCTION).
type regFunction struct {
	oid    oid.Oid
	schema string
	name   string
	args   []oid.Oid
}

//go:embed pg_proc_oids.txt
var pgProcOIDs string

var (
	builtinProcsOnce sync.Once
	builtinProcs     []regFunction
)

// builtinFunctions are PostgreSQL's built-in functions that Meridian has
// (by name), with PostgreSQL's OIDs; read once, after every package has
// registered its builtins.
func builtinFunctions() []regFunction {
	builtinProcsOnce.Do(func() {
		for _, line := range strings.Split(pgProcOIDs, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || strings.HasPrefix(f[0], "#") || sem.Overloads(f[1]) == nil {
				continue
			}
			n, err := strconv.ParseUint(f[0], 10, 32)
			if err != nil {
				continue
			}
			fn := regFunction{oid: oid.Oid(n), schema: "pg_catalog", name: f[1]}
			for _, a := range f[2:] {
				if x, err := strconv.ParseUint(a, 10, 32); err == nil {
					fn.args = append(fn.args, oid.Oid(x))
				}
			}
			builtinProcs = append(builtinProcs, fn)
		}
	})
	return builtinProcs
}

// regFunctions are the functions regproc and regprocedure know: the
// built-ins, then the user-defined functions of the session's database,
// their parameter types resolved by name.
func regFunctions(e *sem.EvalCtx) ([]regFunction, error) {
	c := catalogOf(e)
	if c != nil && c.funcs != nil {
		return c.funcs, nil
	}
	out := append([]regFunction{}, builtinFunctions()...)
	if n := namesOf(e); n != nil && e.Txn != nil {
		fns, err := catalog.ListFunctions(e.Ctx, e.Txn, n.db.ID)
		if err != nil {
			return nil, err
		}
		for _, d := range fns {
			for i := range d.Overloads {
				ov := &d.Overloads[i]
				f := regFunction{oid: ov.OID(), schema: d.Schema, name: d.Name}
				for _, p := range ov.Params {
					o, err := regtypeLookup(e, p.Type)
					if err != nil {
						o = 0 // a type dropped since: matches nothing
					}
					f.args = append(f.args, o)
				}
				out = append(out, f)
			}
		}
	}
	if c != nil {
		c.funcs = out
	}
	return out, nil
}

// functionCandidates are the functions a (possibly qualified) name
// finds: in its schema, else in pg_catalog and the search path's schemas,
// a function hidden by one of the same arguments in an earlier schema.
func functionCandidates(e *sem.EvalCtx, s string) (string, []regFunction, error) {
	tn, err := parseRelationName(s)
	if err != nil {
		return "", nil, err
	}
	n := namesOf(e)
	if n != nil {
		if err := n.checkCatalog(tn); err != nil {
			return "", nil, err
		}
	}
	schemas := []string{"pg_catalog"}
	if n != nil {
		schemas = append(schemas, n.path...)
	}
	if tn.ExplicitSchema {
		schemas = []string{string(tn.SchemaName)}
		if schemas[0] != "pg_catalog" && n != nil && e.Txn != nil {
			if sc, err := catalog.GetSchema(e.Ctx, e.Txn, n.db.ID, schemas[0]); err != nil || sc == nil {
				if err == nil {
					err = catalog.UndefinedSchema(schemas[0])
				}
				return "", nil, err
			}
		}
	}
	fns, err := regFunctions(e)
	if err != nil {
		return "", nil, err
	}
	var out []regFunction
	for _, sc := range schemas {
		for _, f := range fns {
			if f.schema != sc || f.name != string(tn.ObjectName) {
				continue
			}
			if !slices.ContainsFunc(out, func(g regFunction) bool { return slices.Equal(g.args, f.args) }) {
				out = append(out, f)
			}
		}
	}
	name := string(tn.ObjectName)
	if tn.ExplicitSchema {
		name = string(tn.SchemaName) + "." + name
	}
	return name, out, nil
}

// regprocLookup is regprocin's lookup: the one function of that name.
func regprocLookup(e *sem.EvalCtx, s string) (oid.Oid, error) {
	name, fns, err := functionCandidates(e, s)
	if err != nil {
		return 0, err
	}
	switch len(fns) {
	case 0:
		return 0, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %q does not exist", name)
	case 1:
		return fns[0].oid, nil
	}
	return 0, pgerror.Newf("42725", "more than one function named %q", name)
}

// regprocedureLookup is regprocedurein's lookup: name(argtype, ...), the
// function of exactly those argument types.
func regprocedureLookup(e *sem.EvalCtx, s string) (oid.Oid, error) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return 0, pgerror.New(pgerror.CodeInvalidTextRepresentation, "expected a left parenthesis")
	}
	rest := strings.TrimRight(s[open+1:], " \t\n\r")
	if !strings.HasSuffix(rest, ")") {
		return 0, pgerror.New(pgerror.CodeInvalidTextRepresentation, "expected a right parenthesis")
	}
	var args []oid.Oid
	if list := strings.TrimSpace(rest[:len(rest)-1]); list != "" {
		for _, a := range splitTypeList(list) {
			o, err := regtypeLookup(e, a)
			if err != nil {
				return 0, &argTypeError{err}
			}
			args = append(args, o)
		}
	}
	_, fns, err := functionCandidates(e, s[:open])
	if err != nil {
		return 0, err
	}
	for _, f := range fns {
		if slices.Equal(f.args, args) {
			return f.oid, nil
		}
	}
	// PostgreSQL's message repeats the input as written.
	return 0, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %q does not exist", s)
}

// splitTypeList splits a list of type names at its top-level commas (not
// those of numeric(10,2) or of a quoted name).
func splitTypeList(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// toRegFn is to_regclass and its kind: the name looked up as a cast to t
// does, NULL when there is no such object.
func toRegFn(t *types.T) []tree.Overload {
	return []tree.Overload{catalogFn(tree.ParamTypes{{Name: "name", Typ: types.String}}, t,
		func(e *sem.EvalCtx, a tree.Datums) (tree.Datum, error) {
			return castReg(e, a[0], t, true)
		})}
}

var _ = sem.RegisterFamily(map[string][]tree.Overload{
	"to_regclass":     toRegFn(types.RegClass),
	"to_regtype":      toRegFn(types.RegType),
	"to_regnamespace": toRegFn(types.RegNamespace),
	"to_regrole":      toRegFn(types.RegRole),
	"to_regproc":      toRegFn(types.RegProc),
	"to_regprocedure": toRegFn(types.RegProcedure),
})
