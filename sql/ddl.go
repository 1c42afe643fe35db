package sql

import (
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/parser"
	crdbpgerror "github.com/cockroachdb/cockroachdb-parser/pkg/sql/pgwire/pgerror"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// withParserCode keeps the SQLSTATE the parser's own errors carry (they
// use CockroachDB's pgerror package) when passing them on.
func withParserCode(err error) error {
	if err == nil {
		return nil
	}
	if code := crdbpgerror.GetPGCode(err).String(); code != "" && code != string(pgerror.CodeInternalError) {
		return pgerror.WithCode(err, pgerror.Code(code))
	}
	return pgerror.WithCode(err, pgerror.CodeSyntaxError)
}

func parseExpr(sql string) (tree.Expr, error) {
	e, err := parser.ParseExprWithInt(sql, types.Int4)
	return e, withParserCode(err)
}

// rowIDCounter makes unique_rowid() unique within the process: the
// statement time in microseconds, shifted, plus a counter, never going
// backwards. Ascending IDs write at the end of the table: the hotspot the
// split queue will have to handle (DESIGN.md §6 asks for better later).
var rowIDCounter atomic.Int64

func uniqueRowID(e *evalCtx) int64 {
	candidate := e.stmtTime.UnixMicro() << 10
	for {
		last := rowIDCounter.Load()
		next := max(candidate, last+1)
		if rowIDCounter.CompareAndSwap(last, next) {
			return next
		}
	}
}

func (b *builder) createTable(ct *tree.CreateTable) error {
	if ct.As() {
		return unsupported("CREATE TABLE AS is not supported yet")
	}
	name := string(ct.Table.ObjectName)
	existing, err := getTable(b.ctx, b.txn, name)
	if err != nil {
		return err
	}
	if existing != nil {
		if ct.IfNotExists {
			return nil
		}
		return pgerror.Newf("42P07", "relation %q already exists", name)
	}
	d := &TableDescriptor{Name: name}
	var pk []string
	for _, def := range ct.Defs {
		switch def := def.(type) {
		case *tree.ColumnTableDef:
			t, err := tree.ResolveType(b.ctx, def.Type, nil)
			if err != nil {
				return withParserCode(err)
			}
			if !keyEncodable(t) {
				return unsupported("column %q: type %s is not supported yet", def.Name, t.SQLString())
			}
			if d.columnIndex(string(def.Name)) >= 0 {
				return pgerror.Newf("42701", "column %q specified more than once", def.Name)
			}
			d.NextColumnID++
			c := ColumnDescriptor{ID: d.NextColumnID, Name: string(def.Name), TypeName: t.SQLString(),
				Nullable: def.Nullable.Nullability != tree.NotNull, typ: t}
			if def.IsSerial {
				c.TypeName, c.typ = types.Int.SQLString(), types.Int
				c.Default, c.Nullable = "unique_rowid()", false
			}
			if def.HasDefaultExpr() {
				te, err := b.typeCheck(def.DefaultExpr.Expr, &scope{}, t)
				if err != nil {
					return err
				}
				c.Default = tree.Serialize(te)
			}
			if def.PrimaryKey.IsPrimaryKey {
				if pk != nil {
					return pgerror.Newf("42P16", "multiple primary keys for table %q are not allowed", name)
				}
				pk = []string{c.Name}
			}
			if def.Unique.IsUnique && !def.PrimaryKey.IsPrimaryKey {
				return unsupported("UNIQUE constraints are not supported yet")
			}
			if len(def.CheckExprs) > 0 || def.References.Table != nil || def.Computed.Computed {
				return unsupported("CHECK, REFERENCES and computed columns are not supported yet")
			}
			d.Columns = append(d.Columns, c)
		case *tree.UniqueConstraintTableDef:
			if !def.PrimaryKey {
				return unsupported("UNIQUE constraints are not supported yet")
			}
			if pk != nil {
				return pgerror.Newf("42P16", "multiple primary keys for table %q are not allowed", name)
			}
			for _, col := range def.Columns {
				pk = append(pk, string(col.Column))
			}
		case *tree.IndexTableDef:
			return unsupported("secondary indexes are not supported yet")
		default:
			return unsupported("%T in CREATE TABLE is not supported yet", def)
		}
	}
	if len(d.Columns) == 0 {
		return unsupported("tables without columns are not supported")
	}
	if pk == nil {
		// A table without a primary key gets a hidden one, as in CockroachDB.
		d.NextColumnID++
		d.Columns = append(d.Columns, ColumnDescriptor{ID: d.NextColumnID, Name: "rowid", TypeName: "INT8",
			Default: "unique_rowid()", Hidden: true, typ: types.Int})
		pk = []string{"rowid"}
	}
	for _, col := range pk {
		i := d.columnIndex(col)
		if i < 0 {
			return pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q named in key does not exist", col)
		}
		d.Columns[i].Nullable = false
		d.PrimaryKey = append(d.PrimaryKey, i)
	}
	return createTable(b.ctx, b.txn, d)
}

func (b *builder) dropTable(dt *tree.DropTable) error {
	if dt.DropBehavior == tree.DropCascade {
		return unsupported("DROP ... CASCADE is not supported yet")
	}
	for _, tn := range dt.Names {
		d, err := getTable(b.ctx, b.txn, string(tn.ObjectName))
		if err != nil {
			return err
		}
		if d == nil {
			if dt.IfExists {
				continue
			}
			return pgerror.Newf(pgerror.CodeUndefinedTable, "table %q does not exist", strings.TrimSpace(string(tn.ObjectName)))
		}
		if err := dropTable(b.ctx, b.txn, d); err != nil {
			return err
		}
	}
	return nil
}
