package vtable

import (
	"context"

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

// crdbInternal holds CockroachDB's crdb_internal tables that its users'
// tools read, under its names: ranges (every range of the cluster).
var crdbInternal = map[string]*Table{
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
