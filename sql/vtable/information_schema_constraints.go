package vtable

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sem"
)

// information_schema's constraint tables, which ORMs read to compare a
// model with the database (GORM's AutoMigrate at every start), and
// pg_catalog's pg_indexes view.

// tableConstraint is one constraint of a table, as pg_constraint and
// information_schema show it: its OID and pg_constraint's one-letter
// contype, its columns, the index that enforces it (a primary key's or
// unique constraint's), and for a foreign key the referenced table and
// columns (ref nil if that table is not found).
type tableConstraint struct {
	name, kind string
	contype    string
	oid        oid.Oid
	index      oid.Oid
	cols       []string
	ref        *catalog.TableDescriptor
	refCols    []string
}

// constraintsOf lists d's primary key, unique constraints, checks and
// foreign keys, in that order (byID finds referenced tables).
func constraintsOf(d *catalog.TableDescriptor, byID map[uint32]*catalog.TableDescriptor) ([]tableConstraint, error) {
	var out []tableConstraint
	if idxs := TableIndexes(d); len(idxs) > 0 && idxs[0].ID == catalog.PrimaryIndexID {
		out = append(out, tableConstraint{name: idxs[0].Name, kind: "PRIMARY KEY", contype: "p", oid: ConstraintOID(d, catalog.PrimaryIndexID),
			index: IndexOID(d, catalog.PrimaryIndexID), cols: pkNames(d)})
	}
	for _, idx := range d.Indexes {
		if !idx.Constraint {
			continue
		}
		names := make([]string, len(idx.Columns))
		for i, o := range idx.Columns {
			names[i] = d.Columns[o].Name
		}
		out = append(out, tableConstraint{name: idx.Name, kind: "UNIQUE", contype: "u", oid: ConstraintOID(d, idx.ID), index: IndexOID(d, idx.ID), cols: names})
	}
	for k, ck := range d.Checks {
		e, err := sem.ParseExpr(ck.Expr)
		if err != nil {
			return nil, err
		}
		out = append(out, tableConstraint{name: ck.Name, kind: "CHECK", contype: "c", oid: CheckOID(d, k), cols: sem.ExprColumns(e)})
	}
	for k, fk := range d.ForeignKeys {
		c := tableConstraint{name: fk.Name, kind: "FOREIGN KEY", contype: "f", oid: FKOID(d, k), cols: fk.Columns, ref: byID[fk.RefTable], refCols: fk.RefColumns}
		if parent := c.ref; parent != nil {
			// The referenced key's index.
			c.index = IndexOID(parent, catalog.PrimaryIndexID)
			if uk := parent.UniqueKeyOn(fk.RefColumns); uk != nil && uk.Index != nil {
				c.index = IndexOID(parent, uk.Index.ID)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// eachConstraint calls fn for every constraint of every table of env's
// database.
func eachConstraint(ctx context.Context, env *Env, fn func(d *catalog.TableDescriptor, c tableConstraint)) error {
	tables, err := env.Tables(ctx)
	if err != nil {
		return err
	}
	byID := map[uint32]*catalog.TableDescriptor{}
	for _, d := range tables {
		byID[d.ID] = d
	}
	for _, d := range tables {
		if !d.IsTable() {
			continue
		}
		cs, err := constraintsOf(d, byID)
		if err != nil {
			return err
		}
		for _, c := range cs {
			fn(d, c)
		}
	}
	return nil
}

func init() {
	informationSchema["table_constraints"] = &Table{
		Cols: vcols("constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name table_name:name " +
			"constraint_type:text is_deferrable:text initially_deferred:text enforced:text nulls_distinct:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			var out []tree.Datums
			err := eachConstraint(ctx, env, func(d *catalog.TableDescriptor, c tableConstraint) {
				var nullsDistinct tree.Datum = tree.DNull
				if c.kind == "UNIQUE" || c.kind == "PRIMARY KEY" {
					nullsDistinct = tree.NewDString("YES")
				}
				out = append(out, tree.Datums{tree.NewDName(env.DB.Name), tree.NewDName(d.Schema), tree.NewDName(c.name),
					tree.NewDName(env.DB.Name), tree.NewDName(d.Schema), tree.NewDName(d.Name), tree.NewDString(c.kind),
					tree.NewDString("NO"), tree.NewDString("NO"), tree.NewDString("YES"), nullsDistinct})
			})
			return out, err
		},
	}
	// constraint_column_usage: the columns a constraint uses, a foreign
	// key's being those it references (as PostgreSQL's view has them).
	informationSchema["constraint_column_usage"] = &Table{
		Cols: vcols("table_catalog:name table_schema:name table_name:name column_name:name constraint_catalog:name constraint_schema:name constraint_name:name"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			var out []tree.Datums
			err := eachConstraint(ctx, env, func(d *catalog.TableDescriptor, c tableConstraint) {
				t, cols := d, c.cols
				if c.kind == "FOREIGN KEY" {
					if c.ref == nil {
						return
					}
					t, cols = c.ref, c.refCols
				}
				for _, col := range cols {
					out = append(out, tree.Datums{tree.NewDName(env.DB.Name), tree.NewDName(t.Schema), tree.NewDName(t.Name), tree.NewDName(col),
						tree.NewDName(env.DB.Name), tree.NewDName(d.Schema), tree.NewDName(c.name)})
				}
			})
			return out, err
		},
	}
	// key_column_usage: a key's own columns, in key order.
	informationSchema["key_column_usage"] = &Table{
		Cols: vcols("constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name table_name:name " +
			"column_name:name ordinal_position:int4 position_in_unique_constraint:int4"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			var out []tree.Datums
			err := eachConstraint(ctx, env, func(d *catalog.TableDescriptor, c tableConstraint) {
				if c.kind == "CHECK" {
					return
				}
				for i, col := range c.cols {
					var pos tree.Datum = tree.DNull
					if c.kind == "FOREIGN KEY" {
						pos = tree.NewDInt(tree.DInt(i + 1))
					}
					out = append(out, tree.Datums{tree.NewDName(env.DB.Name), tree.NewDName(d.Schema), tree.NewDName(c.name),
						tree.NewDName(env.DB.Name), tree.NewDName(d.Schema), tree.NewDName(d.Name), tree.NewDName(col),
						tree.NewDInt(tree.DInt(i + 1)), pos})
				}
			})
			return out, err
		},
	}
	pgCatalog["pg_indexes"] = &Table{
		Cols: vcols("schemaname:name tablename:name indexname:name tablespace:name indexdef:text"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			return indexRows(ctx, env, func(d *catalog.TableDescriptor, idx catalog.IndexDescriptor) tree.Datums {
				var def tree.Datum = tree.DNull
				if IndexDef != nil {
					def = tree.NewDString(IndexDef(d, idx))
				}
				return tree.Datums{tree.NewDName(d.Schema), tree.NewDName(d.Name), tree.NewDName(idx.Name), tree.DNull, def}
			})
		},
	}
}

// IndexDef renders an index as pg_get_indexdef does; package sql sets it
// (the rendering needs its expression printing).
var IndexDef func(d *catalog.TableDescriptor, idx catalog.IndexDescriptor) string

// Column facts information_schema.columns reports for a type: the
// declared length of a character type, the precision, radix and scale of
// a numeric one, the fractional-second precision of a time one (NULL
// where they do not apply), as PostgreSQL's view computes them.
func charMaxLength(t *types.T) tree.Datum {
	if t.Family() == types.StringFamily && t.Width() > 0 && t.Oid() != 25 {
		return tree.NewDInt(tree.DInt(t.Width()))
	}
	return tree.DNull
}

func numericFacts(t *types.T) (precision, radix, scale tree.Datum) {
	n := func(i int) tree.Datum { return tree.NewDInt(tree.DInt(i)) }
	switch t.Family() {
	case types.IntFamily:
		return n(int(t.Width())), n(2), n(0)
	case types.FloatFamily:
		if t.Width() == 32 {
			return n(24), n(2), tree.DNull
		}
		return n(53), n(2), tree.DNull
	case types.DecimalFamily:
		if t.Precision() > 0 {
			return n(int(t.Precision())), n(10), n(int(t.Scale()))
		}
		return tree.DNull, n(10), tree.DNull
	}
	return tree.DNull, tree.DNull, tree.DNull
}

func datetimePrecision(t *types.T) tree.Datum {
	switch t.Family() {
	case types.DateFamily:
		return tree.NewDInt(0)
	case types.TimestampFamily, types.TimestampTZFamily, types.TimeFamily, types.TimeTZFamily, types.IntervalFamily:
		if t.InternalType.TimePrecisionIsSet {
			return tree.NewDInt(tree.DInt(t.Precision()))
		}
		return tree.NewDInt(6)
	}
	return tree.DNull
}
