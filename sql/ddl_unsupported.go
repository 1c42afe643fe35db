package sql

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/idxtype"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/meridiandb/meridian/sql/pgerror"
)

// refuseIgnoredClauses fails a statement with a clause the grammar gives
// us but Meridian does not carry out (SQLSTATE 0A000, naming it), so that
// nothing the client asked for is accepted and dropped. The schema
// changer reads only the clauses it implements; every other one is
// checked here, before the statement runs.
func refuseIgnoredClauses(stmt tree.Statement) error {
	switch st := stmt.(type) {
	case *tree.CreateTable:
		return refuseCreateTable(st)
	case *tree.CreateIndex:
		return refuseCreateIndex(st)
	case *refusedStmt:
		return st.err
	case *tree.AlterTable:
		for _, cmd := range st.Cmds {
			if add, ok := cmd.(*tree.AlterTableAddColumn); ok {
				if err := refuseColumnDef(add.ColumnDef); err != nil {
					return err
				}
			}
		}
	case *tree.CreateSequence:
		if err := refusePersistence(st.Persistence, "sequences"); err != nil {
			return err
		}
	case *tree.AlterTableLocality:
		return pgerror.Unsupported("ALTER TABLE ... SET LOCALITY is not supported: tables are not placed by region (multi-region SQL is not implemented)")
	case *tree.CreateDatabase:
		if st.PrimaryRegion != "" || len(st.Regions) > 0 || st.SurvivalGoal != tree.SurvivalGoalDefault ||
			st.Placement != tree.DataPlacementUnspecified || st.SecondaryRegion != "" || st.SuperRegion.Name != "" {
			return pgerror.Unsupported("CREATE DATABASE ... PRIMARY REGION / REGIONS / SURVIVE / PLACEMENT is not supported: multi-region SQL is not implemented")
		}
	case *tree.AlterDatabasePrimaryRegion, *tree.AlterDatabaseAddRegion, *tree.AlterDatabaseDropRegion,
		*tree.AlterDatabaseSurvivalGoal, *tree.AlterDatabasePlacement, *tree.AlterDatabaseSecondaryRegion,
		*tree.AlterDatabaseDropSecondaryRegion, *tree.AlterDatabaseAddSuperRegion, *tree.AlterDatabaseDropSuperRegion,
		*tree.AlterDatabaseAlterSuperRegion:
		return pgerror.Unsupported("%s (regions, survival goals, placement) is not supported: multi-region SQL is not implemented", stmt.StatementTag())
	}
	return nil
}

func refuseCreateTable(ct *tree.CreateTable) error {
	if ct.Locality != nil {
		return pgerror.Unsupported("CREATE TABLE ... %s is not supported: tables are not placed by region (multi-region SQL is not implemented)",
			tree.AsString(ct.Locality))
	}
	if ct.PartitionByTable != nil {
		return pgerror.Unsupported("PARTITION BY is not supported yet: tables are not partitioned")
	}
	if err := refusePersistence(ct.Persistence, "tables"); err != nil {
		return err
	}
	if ct.OnCommit != tree.CreateTableOnCommitUnset && ct.OnCommit != tree.CreateTableOnCommitPreserveRows {
		return pgerror.Unsupported("ON COMMIT DROP and ON COMMIT DELETE ROWS are not supported yet (temporary tables keep their rows until the session ends)")
	}
	if err := refuseStorageParams(ct.StorageParams, "table"); err != nil {
		return err
	}
	for _, def := range ct.Defs {
		switch def := def.(type) {
		case *tree.ColumnTableDef:
			if err := refuseColumnDef(def); err != nil {
				return err
			}
		case *tree.IndexTableDef:
			if err := refuseIndexDef(def); err != nil {
				return err
			}
		case *tree.UniqueConstraintTableDef:
			if def.WithoutIndex {
				return pgerror.Unsupported("UNIQUE WITHOUT INDEX is not supported: unique constraints are enforced by an index")
			}
			if err := refuseIndexDef(&def.IndexTableDef); err != nil {
				return err
			}
		}
	}
	return nil
}

func refusePersistence(p tree.Persistence, what string) error {
	switch p {
	case tree.PersistenceUnlogged:
		return pgerror.Unsupported("unlogged %s are not supported: every write is replicated and durable", what)
	}
	return nil
}

func refuseColumnDef(def *tree.ColumnTableDef) error {
	name := string(def.Name)
	switch {
	case def.Hidden:
		return pgerror.Unsupported("column %q: NOT VISIBLE is not supported", name)
	case def.PrimaryKey.Sharded:
		return pgerror.Unsupported("column %q: hash-sharded primary keys (USING HASH) are not supported", name)
	case len(def.PrimaryKey.StorageParams) > 0:
		return pgerror.Unsupported("column %q: storage parameters on a primary key are not supported", name)
	case def.Unique.WithoutIndex:
		return pgerror.Unsupported("column %q: UNIQUE WITHOUT INDEX is not supported: unique constraints are enforced by an index", name)
	case def.OnUpdateExpr.Expr != nil:
		return pgerror.Unsupported("column %q: ON UPDATE expressions are not supported", name)
	case def.Family.Name != "" || def.Family.Create:
		return pgerror.Unsupported("column %q: column families (FAMILY) are not supported", name)
	}
	return nil
}

func refuseIndexDef(def *tree.IndexTableDef) error {
	return refuseIndex(def.Type, def.Columns, def.Sharded, def.Storing, def.PartitionByIndex, def.StorageParams, def.Invisibility)
}

func refuseCreateIndex(ci *tree.CreateIndex) error {
	if ci.Concurrently {
		return pgerror.Unsupported("CREATE INDEX CONCURRENTLY is not supported: create the index without CONCURRENTLY")
	}
	if ci.Type == idxtype.INVERTED {
		// USING gin (markIndexMethods refused the other methods the
		// grammar reads as inverted).
		if err := refuseGinIndex(ci.Unique, ci.Columns, ci.Storing); err != nil {
			return err
		}
		if ci.Sharded != nil {
			return pgerror.Unsupported("hash-sharded indexes (USING HASH) are not supported")
		}
		if ci.PartitionByIndex != nil && ci.PartitionByIndex.PartitionBy != nil {
			return pgerror.Unsupported("PARTITION BY on an index is not supported")
		}
		if ci.Invisibility.Value != 0 {
			return pgerror.Unsupported("NOT VISIBLE indexes are not supported")
		}
		return refuseStorageParams(ci.StorageParams, "index")
	}
	return refuseIndex(ci.Type, ci.Columns, ci.Sharded, ci.Storing, ci.PartitionByIndex, ci.StorageParams, ci.Invisibility)
}

func refuseIndex(typ idxtype.T, cols tree.IndexElemList, sharded *tree.ShardedIndexDef, storing tree.NameList,
	part *tree.PartitionByIndex, params tree.StorageParams, inv tree.IndexInvisibility) error {
	switch {
	case typ == idxtype.INVERTED:
		return pgerror.Unsupported("inverted indexes in CREATE TABLE are not supported: use CREATE INDEX ... USING gin")
	case typ != idxtype.FORWARD:
		return pgerror.Unsupported("%s indexes are not supported: the index access methods are btree and gin", strings.ToLower(typ.String()))
	case sharded != nil:
		return pgerror.Unsupported("hash-sharded indexes (USING HASH) are not supported")
	case part != nil && part.PartitionBy != nil:
		return pgerror.Unsupported("PARTITION BY on an index is not supported")
	case inv.Value != 0:
		return pgerror.Unsupported("NOT VISIBLE indexes are not supported")
	}
	for _, c := range cols {
		switch {
		case c.Direction == tree.Descending:
			return pgerror.Unsupported("descending index columns (DESC) are not supported yet: indexes are ascending")
		case c.NullsOrder != tree.DefaultNullsOrder:
			return pgerror.Unsupported("NULLS FIRST / NULLS LAST in an index is not supported yet")
		case c.OpClass != "":
			return pgerror.Unsupported("operator classes in an index (%s) are not supported", c.OpClass)
		}
	}
	return refuseStorageParams(params, "index")
}

// refuseStorageParams takes fillfactor alone: PostgreSQL's space left free
// in heap and btree pages has no counterpart in an LSM store (and pgbench
// -i asks for it), so any valid value changes nothing. Every other
// storage parameter asks for behaviour Meridian does not have.
func refuseStorageParams(params tree.StorageParams, what string) error {
	for _, p := range params {
		if p.Key != "fillfactor" {
			return pgerror.Unsupported("%s storage parameter %q is not supported", what, p.Key)
		}
		v := tree.AsStringWithFlags(p.Value, tree.FmtBareStrings)
		n, err := strconv.Atoi(v)
		if err != nil {
			return pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for integer option \"fillfactor\": %s", v)
		}
		if n < 10 || n > 100 {
			return pgerror.WithDetail(pgerror.Newf(pgerror.CodeInvalidParameterValue, "value %d out of bounds for option \"fillfactor\"", n),
				`Valid values are between "10" and "100".`)
		}
	}
	return nil
}
