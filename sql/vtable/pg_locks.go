package vtable

import (
	"context"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/advisory"
	"github.com/meridiandb/meridian/sql/catalog"
)

// pgLocks shows the cluster's advisory locks, held and waited for, as
// PostgreSQL's pg_locks does (locktype advisory; a bigint key as classid
// and objid, its high and low halves, objsubid 1; two ints as classid and
// objid, objsubid 2): job queues and tools look for them there. Row and
// table locks, which live in the ranges' lock tables, are not shown.
var pgLocks = &Table{
	Cols: vcols("locktype:text database:oid relation:oid page:int4 tuple:int2 virtualxid:text transactionid:text " +
		"classid:oid objid:oid objsubid:int2 virtualtransaction:text pid:int4 mode:text granted:bool fastpath:bool waitstart:timestamptz"),
	Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
		held, err := advisory.List(ctx, env.Txn)
		if err != nil {
			return nil, err
		}
		dbs, err := catalog.ListDatabases(ctx, env.Txn)
		if err != nil {
			return nil, err
		}
		dbOID := map[uint32]tree.Datum{}
		for _, db := range dbs {
			dbOID[db.ID] = tree.NewDOid(NamespaceOID(db))
		}
		out := make([]tree.Datums, 0, len(held))
		for _, h := range held {
			classid, objid := uint32(uint64(h.Lock.Key)>>32), uint32(uint64(h.Lock.Key))
			out = append(out, tree.Datums{
				tree.NewDString("advisory"), orNull(dbOID[h.Lock.DB]), tree.DNull, tree.DNull, tree.DNull, tree.DNull, tree.DNull,
				tree.NewDOid(oid.Oid(classid)), tree.NewDOid(oid.Oid(objid)), tree.NewDInt(tree.DInt(h.Lock.Space)), tree.DNull,
				tree.NewDInt(tree.DInt(h.PID)), tree.NewDString(h.Mode.String()), tree.MakeDBool(tree.DBool(h.Granted)),
				tree.DBoolFalse, tree.DNull,
			})
		}
		return out, nil
	},
}
