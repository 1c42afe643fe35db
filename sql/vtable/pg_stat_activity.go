package vtable

import (
	"context"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/lib/pq/oid"
	"github.com/meridiandb/meridian/sql/catalog"
)

// Activity is one SQL session of the cluster as pg_stat_activity shows
// it. Zero times show as NULL.
type Activity struct {
	PID                                          uint32
	User, Database, ApplicationName, ClientAddr  string
	ClientPort                                   int32
	BackendStart, XactStart, QueryStart, Changed time.Time
	// State is PostgreSQL's: active, idle, idle in transaction, idle in
	// transaction (aborted).
	State, Query string
}

// pgStatActivity lists every session of every node (Env.Activity), one
// row each, as PostgreSQL 15 does for its server; client_addr is text
// (inet is not a type here yet), the wait and transaction ID columns
// NULL.
var pgStatActivity = &Table{
	Cols: vcols("datid:oid datname:name pid:int4 leader_pid:int4 usesysid:oid usename:name application_name:text " +
		"client_addr:text client_hostname:text client_port:int4 backend_start:timestamptz xact_start:timestamptz " +
		"query_start:timestamptz state_change:timestamptz wait_event_type:text wait_event:text state:text " +
		"backend_xid:text backend_xmin:text query_id:int8 query:text backend_type:text"),
	Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
		if env.Activity == nil {
			return nil, nil
		}
		sessions, err := env.Activity(ctx)
		if err != nil {
			return nil, err
		}
		dbs, err := catalog.ListDatabases(ctx, env.Txn)
		if err != nil {
			return nil, err
		}
		dbOID := map[string]tree.Datum{}
		for _, db := range dbs {
			dbOID[db.Name] = tree.NewDOid(NamespaceOID(db))
		}
		roles, err := catalog.ListRoles(ctx, env.Txn)
		if err != nil {
			return nil, err
		}
		roleOID := map[string]tree.Datum{}
		for _, r := range roles {
			roleOID[r.Name] = tree.NewDOid(oid.Oid(r.ID))
		}
		out := make([]tree.Datums, 0, len(sessions))
		for _, a := range sessions {
			out = append(out, tree.Datums{
				orNull(dbOID[a.Database]), nameOrNull(a.Database), tree.NewDInt(tree.DInt(a.PID)), tree.DNull,
				orNull(roleOID[a.User]), nameOrNull(a.User), tree.NewDString(a.ApplicationName),
				textOrNull(a.ClientAddr), tree.DNull, clientPort(a), timeOrNull(a.BackendStart), timeOrNull(a.XactStart),
				timeOrNull(a.QueryStart), timeOrNull(a.Changed), tree.DNull, tree.DNull, textOrNull(a.State),
				tree.DNull, tree.DNull, tree.DNull, tree.NewDString(a.Query), tree.NewDString("client backend"),
			})
		}
		return out, nil
	},
}

func orNull(d tree.Datum) tree.Datum {
	if d == nil {
		return tree.DNull
	}
	return d
}

func nameOrNull(s string) tree.Datum {
	if s == "" {
		return tree.DNull
	}
	return tree.NewDName(s)
}

func textOrNull(s string) tree.Datum {
	if s == "" {
		return tree.DNull
	}
	return tree.NewDString(s)
}

func clientPort(a Activity) tree.Datum {
	if a.ClientAddr == "" {
		return tree.DNull
	}
	return tree.NewDInt(tree.DInt(a.ClientPort))
}

func timeOrNull(t time.Time) tree.Datum {
	if t.IsZero() {
		return tree.DNull
	}
	d, err := tree.MakeDTimestampTZ(t, time.Microsecond)
	if err != nil {
		return tree.DNull
	}
	return d
}
