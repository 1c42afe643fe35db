package vtable

import (
	"context"
	"time"

	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/sem/tree"
	"github.com/cockroachdb/cockroachdb-parser/pkg/sql/types"
)

// RangeRow is one range as crdb_internal.ranges shows it.
type RangeRow struct {
	ID                     int64
	StartKey, EndKey       []byte
	StartPretty, EndPretty string
	// Replicas and Voters are node IDs (one store per node);
	// Localities[i] is Replicas[i]'s node's locality; Leaseholder is 0
	// when unknown.
	Replicas, Voters []int32
	Localities       []string
	Leaseholder      int32
}

// NodeRow is one node as crdb_internal.gossip_nodes shows it.
type NodeRow struct {
	ID                             int32
	Address, SQLAddress, Locality  string
	ServerVersion                  string
	StartedAt                      time.Time
	Live, Draining, Decommissioned bool
	Ranges, Leases                 int32
}

// crdbInternal holds CockroachDB's crdb_internal tables that its users'
// tools read, under its names: ranges (every range of the cluster) and
// gossip_nodes (every node).
var crdbInternal = map[string]*Table{
	"gossip_nodes": {
		Cols: vcols("node_id:int8 network:text address:text advertise_address:text sql_network:text sql_address:text " +
			"advertise_sql_address:text locality:text server_version:text started_at:timestamptz is_live:bool " +
			"ranges:int8 leases:int8"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			if env.Nodes == nil {
				return nil, nil
			}
			nodes, err := env.Nodes(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]tree.Datums, 0, len(nodes))
			for _, n := range nodes {
				out = append(out, tree.Datums{
					tree.NewDInt(tree.DInt(n.ID)), tree.NewDString("tcp"), tree.NewDString(n.Address), tree.NewDString(n.Address),
					tree.NewDString("tcp"), tree.NewDString(n.SQLAddress), tree.NewDString(n.SQLAddress), tree.NewDString(n.Locality),
					tree.NewDString(n.ServerVersion), timeOrNull(n.StartedAt), tree.MakeDBool(tree.DBool(n.Live)),
					tree.NewDInt(tree.DInt(n.Ranges)), tree.NewDInt(tree.DInt(n.Leases)),
				})
			}
			return out, nil
		},
	},
	"ranges": {
		Cols: vcols("range_id:int8 start_key:bytes start_pretty:text end_key:bytes end_pretty:text replicas:int8[] " +
			"replica_localities:text[] voting_replicas:int8[] lease_holder:int8"),
		Rows: func(ctx context.Context, env *Env) ([]tree.Datums, error) {
			if env.Ranges == nil {
				return nil, nil
			}
			ranges, err := env.Ranges(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]tree.Datums, 0, len(ranges))
			for _, r := range ranges {
				locs := tree.NewDArray(types.String)
				for _, l := range r.Localities {
					if err := locs.Append(tree.NewDString(l)); err != nil {
						return nil, err
					}
				}
				lh := tree.Datum(tree.DNull)
				if r.Leaseholder != 0 {
					lh = tree.NewDInt(tree.DInt(r.Leaseholder))
				}
				out = append(out, tree.Datums{
					tree.NewDInt(tree.DInt(r.ID)), tree.NewDBytes(tree.DBytes(r.StartKey)), tree.NewDString(r.StartPretty),
					tree.NewDBytes(tree.DBytes(r.EndKey)), tree.NewDString(r.EndPretty), int8Array(r.Replicas), locs,
					int8Array(r.Voters), lh,
				})
			}
			return out, nil
		},
	},
}

func int8Array(xs []int32) tree.Datum {
	a := tree.NewDArray(types.Int)
	for _, x := range xs {
		_ = a.Append(tree.NewDInt(tree.DInt(x)))
	}
	return a
}
