package sql

import (
	"github.com/lib/pq/oid"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser/statements"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/idxtype"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/kvapi"
	"github.com/meridiandb/meridian/sql/pgerror"
	"github.com/meridiandb/meridian/sql/rowenc"
)

// GIN indexes, CREATE INDEX ... USING gin (col), built as CockroachDB
// builds inverted indexes: a row has an entry for each part of its value
// (rowenc/inverted.go), so that j @> '{"a": 1}' reads the entries of the
// path a/1 and then the rows they name (scan_inverted.go). jsonb columns
// take the operator classes jsonb_ops (the default: @>, ?, ?| and ?&) and
// jsonb_path_ops (@> alone); both keep the same entries, the class only
// says which operators may use them. Arrays take array_ops (@> and &&).

// refusedStmt is a statement that parsed but must fail when it runs (not
// when its query string is parsed, so that the statements before it in
// the string run first, as in PostgreSQL).
type refusedStmt struct {
	tree.Statement
	err error
}

// markIndexMethods replaces each CREATE INDEX that the grammar read as
// an inverted index by a refusedStmt unless its access method is gin:
// the grammar reads USING gist as it reads USING gin, and USING hnsw
// (not PostgreSQL's) as a vector index, so the method is read again from
// the statement's tokens.
func markIndexMethods(stmts statements.Statements) statements.Statements {
	for i := range stmts {
		ci, ok := stmts[i].AST.(*tree.CreateIndex)
		if !ok || ci.Type == idxtype.FORWARD {
			continue
		}
		method := indexMethodToken(stmts[i].SQL)
		var err error
		switch {
		case method == "gin" && ci.Type == idxtype.INVERTED:
			continue
		case method == "":
			err = pgerror.Unsupported("CREATE INVERTED INDEX is not supported: use CREATE INDEX ... USING gin")
		case method == "gist":
			err = pgerror.Unsupported("gist indexes are not supported: the index access methods are btree and gin")
		default:
			err = pgerror.Newf("42704", "access method %q does not exist", method)
		}
		stmts[i].AST = &refusedStmt{Statement: ci, err: err}
	}
	return stmts
}

// indexMethodToken is the word after USING between CREATE INDEX's ON and
// its column list, "" if there is none.
func indexMethodToken(sql string) string {
	toks, ok := parser.Tokens(sql)
	if !ok {
		return ""
	}
	on := -1
	for i, t := range toks {
		switch {
		case on < 0 && t.TokenID == parser.ON:
			on = i
		case on >= 0 && t.Str == "(":
			return ""
		case on >= 0 && t.TokenID == parser.USING && i+1 < len(toks):
			return strings.ToLower(toks[i+1].Str)
		}
	}
	return ""
}

// unknownIndexMethod is the name in the grammar's error for CREATE INDEX
// ... USING an access method it does not know, "" for another error:
// PostgreSQL's error is that the method does not exist, not a syntax
// error.
func unknownIndexMethod(err error) string {
	const prefix = "unrecognized access method: "
	msg := err.Error()
	i := strings.Index(msg, prefix)
	if i < 0 {
		return ""
	}
	name := msg[i+len(prefix):]
	if j := strings.IndexAny(name, " \n"); j >= 0 {
		name = name[:j]
	}
	return name
}

// refuseGinIndex checks the clauses of CREATE INDEX ... USING gin that
// the access method cannot have, with PostgreSQL's errors.
func refuseGinIndex(unique bool, cols tree.IndexElemList, include tree.NameList) error {
	switch {
	case unique:
		return pgerror.Unsupported(`access method "gin" does not support unique indexes`)
	case len(include) > 0:
		return pgerror.Unsupported(`access method "gin" does not support included columns`)
	case len(cols) > 1:
		return pgerror.Unsupported("GIN indexes on more than one column are not supported yet")
	}
	for _, c := range cols {
		switch {
		case c.Direction != tree.DefaultDirection:
			return pgerror.Unsupported(`access method "gin" does not support ASC/DESC options`)
		case c.NullsOrder != tree.DefaultNullsOrder:
			return pgerror.Unsupported(`access method "gin" does not support NULLS FIRST/LAST options`)
		}
	}
	return nil
}

// ginOpClass resolves the operator class of a GIN index on a column of
// type t, as PostgreSQL's ResolveOpClass: the type's default when none
// is named. It returns what IndexDescriptor.OpClass records ("" for the
// default class).
func ginOpClass(t *types.T, opclass string) (string, error) {
	var def string
	switch t.Family() {
	case types.JsonFamily:
		if t.Oid() == oid.T_jsonb {
			def = "jsonb_ops" // json has none: its text is not parsed to index
		}
	case types.ArrayFamily:
		def = "array_ops"
		if !rowenc.KeyEncodable(t.ArrayContents()) {
			return "", pgerror.Unsupported("GIN indexes on arrays of %s are not supported yet", t.ArrayContents().SQLStandardName())
		}
	}
	switch opclass {
	case "":
		if def == "" {
			return "", pgerror.WithHint(pgerror.Newf("42704",
				"data type %s has no default operator class for access method %q", t.SQLStandardName(), "gin"),
				"You must specify an operator class for the index or define a default operator class for the data type.")
		}
		return "", nil
	case "jsonb_ops", catalog.OpClassJSONBPathOps, "array_ops":
		if (opclass == "array_ops") != (t.Family() == types.ArrayFamily) || def == "" {
			return "", pgerror.Newf("42804", "operator class %q does not accept data type %s", opclass, t.SQLStandardName())
		}
		if opclass == def {
			return "", nil
		}
		return opclass, nil
	}
	return "", pgerror.Newf("42704", "operator class %q does not exist for access method %q", opclass, "gin")
}

// indexEntries are row's entry keys in idx: none if the row is not in a
// partial index, one in a btree index, one per part of the value in an
// inverted one.
func indexEntries(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, r *runner, row tree.Datums) ([][]byte, error) {
	if !idx.Inverted() {
		k, err := indexEntry(d, idx, r, row)
		if err != nil || k == nil {
			return nil, err
		}
		return [][]byte{k}, nil
	}
	if ok, err := inIndex(d, idx, r, row); err != nil || !ok {
		return nil, err
	}
	return rowenc.InvertedEntries(d, idx, row)
}

// updateInvertedIndex replaces a row's entries in inverted index idx:
// oldRow's (nil for an insert) by newRow's (nil for a delete), writing
// only the entries that change.
func updateInvertedIndex(d *catalog.TableDescriptor, idx *catalog.IndexDescriptor, r *runner, oldRow, newRow tree.Datums) error {
	var olds, news [][]byte
	var err error
	if oldRow != nil {
		if olds, err = indexEntries(d, idx, r, oldRow); err != nil {
			return err
		}
	}
	if newRow != nil {
		if news, err = indexEntries(d, idx, r, newRow); err != nil {
			return err
		}
	}
	keep := make(map[string]bool, len(news))
	for _, k := range news {
		keep[string(k)] = true
	}
	var dels [][]byte
	for _, k := range olds {
		if keep[string(k)] {
			delete(keep, string(k)) // there already
		} else {
			dels = append(dels, k)
		}
	}
	if len(dels) > 0 {
		if err := r.txn.DelMany(r.ctx, dels); err != nil {
			return err
		}
	}
	var puts []kvapi.KeyValue
	for _, k := range news {
		if keep[string(k)] {
			puts = append(puts, kvapi.KeyValue{Key: k, Value: []byte{0}})
		}
	}
	if len(puts) == 0 {
		return nil
	}
	return r.txn.PutMany(r.ctx, puts)
}
