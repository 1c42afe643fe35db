package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestSQLRangeAdmin: on a three-node cluster, ALTER TABLE ... SPLIT AT puts
// range boundaries at the rows' keys, SHOW RANGES FROM TABLE shows them
// (keys pretty-printed relative to the table, replicas, leaseholder),
// ALTER RANGE ... RELOCATE LEASE moves a lease, and the data reads the
// same throughout; the statements with no machinery yet say so (0A000).
func TestSQLRangeAdmin(t *testing.T) {
	nodes := sqlCluster(t)
	c := sqlConnect(t, nodes[0])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)")
	exec("INSERT INTO kv SELECT i, 'v' || i::text FROM generate_series(1, 100) AS g(i)")

	rows, err := c.Query(ctx, "ALTER TABLE kv SPLIT AT VALUES (25), (50), (75)")
	if err != nil {
		t.Fatal(err)
	}
	var pretty []string
	for rows.Next() {
		var key []byte
		var p string
		var until any
		if err := rows.Scan(&key, &p, &until); err != nil {
			t.Fatal(err)
		}
		pretty = append(pretty, p)
	}
	if rows.Err() != nil || len(pretty) != 3 || !strings.HasSuffix(pretty[0], "/1/25") {
		t.Fatalf("SPLIT AT answered %v, %v", pretty, rows.Err())
	}
	// Again: nothing to do, no error.
	exec("ALTER TABLE kv SPLIT AT VALUES (50)")

	type rng struct {
		start, end  string
		id          int64
		replicas    []int64
		leaseholder *int64
	}
	showRanges := func() []rng {
		t.Helper()
		rows, err := c.Query(ctx, "SHOW RANGES FROM TABLE kv")
		if err != nil {
			t.Fatal(err)
		}
		var out []rng
		for rows.Next() {
			var r rng
			var locs []string
			var voters []int64
			var lhLoc *string
			if err := rows.Scan(&r.start, &r.end, &r.id, &r.replicas, &locs, &voters, &r.leaseholder, &lhLoc); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		return out
	}
	got := showRanges()
	var bounds []string
	for _, r := range got {
		bounds = append(bounds, r.start)
	}
	if len(got) != 4 || got[1].start != "…/1/25" || got[2].start != "…/1/50" || got[3].start != "…/1/75" ||
		!strings.HasPrefix(got[3].end, "<after:") {
		t.Fatalf("SHOW RANGES FROM TABLE kv: starts %v (last ends %q); want 4 ranges split at 25, 50, 75", bounds, got[len(got)-1].end)
	}
	for _, r := range got {
		if len(r.replicas) == 0 || r.leaseholder == nil {
			t.Fatalf("range %d: replicas %v, leaseholder %v", r.id, r.replicas, r.leaseholder)
		}
	}

	// Move the lease of the range starting at 50 to another replica.
	target := got[2]
	to := target.replicas[0]
	if to == *target.leaseholder {
		to = target.replicas[len(target.replicas)-1]
	}
	if to != *target.leaseholder {
		var res string
		if err := c.QueryRow(ctx, fmt.Sprintf("ALTER RANGE %d RELOCATE LEASE TO %d", target.id, to)).Scan(new(int64), new(string), &res); err != nil || res != "ok" {
			t.Fatalf("RELOCATE LEASE: %q, %v", res, err)
		}
		waitFor(t, 30*time.Second, func() error {
			for _, r := range showRanges() {
				if r.id == target.id && (r.leaseholder == nil || *r.leaseholder != to) {
					return errors.Newf("range %d: leaseholder %v, want %d", r.id, r.leaseholder, to)
				}
			}
			return nil
		})
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM kv WHERE v = 'v' || k::text").Scan(&n); err != nil || n != 100 {
		t.Fatalf("after splits and a lease move: %d rows, %v", n, err)
	}

	// UNSPLIT AT merges the range starting at 50 into the one before it;
	// UNSPLIT ALL merges the rest of the table's ranges.
	var unsplit []string
	rows, err = c.Query(ctx, "ALTER TABLE kv UNSPLIT AT VALUES (50)")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key []byte
		var p string
		if err := rows.Scan(&key, &p); err != nil {
			t.Fatal(err)
		}
		unsplit = append(unsplit, p)
	}
	if rows.Err() != nil || len(unsplit) != 1 || !strings.HasSuffix(unsplit[0], "/1/50") {
		t.Fatalf("UNSPLIT AT answered %v, %v", unsplit, rows.Err())
	}
	got = showRanges()
	if len(got) != 3 || got[1].start != "…/1/25" || got[2].start != "…/1/75" {
		t.Fatalf("SHOW RANGES after UNSPLIT AT (50): %v", got)
	}
	exec("ALTER TABLE kv UNSPLIT AT VALUES (60)") // no range starts there: nothing to do
	exec("ALTER TABLE kv UNSPLIT ALL")
	if got = showRanges(); len(got) != 1 {
		t.Fatalf("SHOW RANGES after UNSPLIT ALL: %v", got)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM kv WHERE v = 'v' || k::text").Scan(&n); err != nil || n != 100 {
		t.Fatalf("after UNSPLIT: %d rows, %v", n, err)
	}

	// Zone configurations, stored in the cluster and read back through
	// another node.
	exec("ALTER TABLE kv CONFIGURE ZONE USING num_replicas = 3, range_max_bytes = 1073741824")
	var zoneTarget, config string
	if err := sqlConnect(t, nodes[1]).QueryRow(ctx, "SHOW ZONE CONFIGURATION FROM TABLE kv").Scan(&zoneTarget, &config); err != nil ||
		zoneTarget != "TABLE kv" || !strings.Contains(config, "range_max_bytes = 1073741824,") || !strings.HasPrefix(config, "ALTER TABLE kv CONFIGURE ZONE USING\n") {
		t.Fatalf("SHOW ZONE CONFIGURATION FROM TABLE kv: %q %q %v", zoneTarget, config, err)
	}
	exec("ALTER TABLE kv CONFIGURE ZONE DISCARD")
	if err := c.QueryRow(ctx, "SHOW ZONE CONFIGURATION FROM TABLE kv").Scan(&zoneTarget, &config); err != nil || zoneTarget != "RANGE default" {
		t.Fatalf("after DISCARD: %q %v", zoneTarget, err)
	}

	for _, q := range []string{"ALTER PARTITION p OF TABLE kv CONFIGURE ZONE USING num_replicas = 5"} {
		_, err := c.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "0A000" {
			t.Errorf("%s: %v, want 0A000", q, err)
		}
	}
	_, err = c.Exec(ctx, "ALTER TABLE kv SPLIT AT VALUES ('x')")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42804" {
		t.Errorf("SPLIT AT with a text value for an int key: %v, want 42804", err)
	}
	_ = pgx.ErrNoRows
}

// TestSQLRelocateVoters: on four nodes with three replicas per range,
// ALTER RANGE ... RELOCATE VOTERS FROM <the leaseholder> TO <the node
// without a replica> moves the replica (the lease first), and the range's
// data stays readable.
func TestSQLRelocateVoters(t *testing.T) {
	c := newTestCluster(t, 4, true)
	c.waitReplicated(3)
	conn := sqlConnect(t, c.node(0))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, q := range []string{"CREATE TABLE mv (k INT PRIMARY KEY)", "INSERT INTO mv SELECT i FROM generate_series(1, 50) AS g(i)", "ALTER TABLE mv SPLIT AT VALUES (10)"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	where := func() (id int64, replicas []int64, lh *int64) {
		t.Helper()
		rows, err := conn.Query(ctx, "SHOW RANGES FROM TABLE mv")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var start, end, lhLoc *string
			var locs []string
			var voters []int64
			if err := rows.Scan(&start, &end, &id, &replicas, &locs, &voters, &lh, &lhLoc); err != nil {
				t.Fatal(err)
			}
			if *start == "…/1/10" {
				return id, replicas, lh
			}
		}
		t.Fatalf("no range starts at 10: %v", rows.Err())
		return id, replicas, lh
	}
	id, replicas, lh := where()
	if lh == nil || len(replicas) != 3 {
		t.Fatalf("range %d: replicas %v, leaseholder %v", id, replicas, lh)
	}
	has := map[int64]bool{}
	for _, r := range replicas {
		has[r] = true
	}
	var to int64
	for n := int64(1); n <= 4; n++ {
		if !has[n] {
			to = n
		}
	}
	from := *lh
	var res string
	if err := conn.QueryRow(ctx, fmt.Sprintf("ALTER RANGE %d RELOCATE VOTERS FROM %d TO %d", id, from, to)).Scan(new(int64), new(string), &res); err != nil || res != "ok" {
		t.Fatalf("RELOCATE VOTERS FROM %d TO %d: %q, %v", from, to, res, err)
	}
	waitFor(t, 30*time.Second, func() error {
		_, replicas, _ := where()
		moved := map[int64]bool{}
		for _, r := range replicas {
			moved[r] = true
		}
		if len(replicas) != 3 || moved[from] || !moved[to] {
			return errors.Newf("replicas %v, want 3 with n%d and without n%d", replicas, to, from)
		}
		return nil
	})
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM mv").Scan(&n); err != nil || n != 50 {
		t.Fatalf("after the move: %d rows, %v", n, err)
	}
}

// TestSQLSplitWithExpiration: SPLIT AT ... WITH EXPIRATION keeps the
// boundary from the merge queue until then (and says until when), after
// which the queue merges the range back; a split without one stays.
func TestSQLSplitWithExpiration(t *testing.T) {
	nodes := sqlCluster(t)
	c := sqlConnect(t, nodes[0])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE ex (k INT PRIMARY KEY)")
	exec("INSERT INTO ex SELECT generate_series(1, 30)")
	exec("ALTER TABLE ex SPLIT AT VALUES (10)")
	var key []byte
	var pretty string
	var until *time.Time
	if err := c.QueryRow(ctx, "ALTER TABLE ex SPLIT AT VALUES (20) WITH EXPIRATION now() + INTERVAL '2 seconds'").Scan(&key, &pretty, &until); err != nil {
		t.Fatal(err)
	}
	if until == nil || !strings.HasSuffix(pretty, "/20") {
		t.Fatalf("SPLIT AT ... WITH EXPIRATION answered %q until %v", pretty, until)
	}
	if _, err := c.Exec(ctx, "ALTER TABLE ex SPLIT AT VALUES (25) WITH EXPIRATION 42"); sqlCode(err) != "42804" {
		t.Fatalf("an expiration that is no time: %v", err)
	}
	if _, err := c.Exec(ctx, "ALTER TABLE ex SPLIT AT VALUES (25) WITH EXPIRATION 'soon'"); sqlCode(err) != "22023" {
		t.Fatalf("an expiration that is neither a timestamp nor an interval: %v", err)
	}
	// An interval from now, as CockroachDB takes it: still enforced at
	// the end of the test.
	exec("ALTER TABLE ex SPLIT AT VALUES (28) WITH EXPIRATION '1h'")
	starts := func() map[string]bool {
		t.Helper()
		rows, err := c.Query(ctx, "SHOW RANGES FROM TABLE ex")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			s, _ := vals[0].(string)
			out[s[strings.LastIndex(s, "/")+1:]] = true
		}
		return out
	}
	if s := starts(); !s["10"] || !s["20"] {
		t.Fatalf("ranges start at %v, want 10 and 20 among them", s)
	}
	// SHOW RANGES FROM DATABASE: the ranges of its tables.
	rows, err := c.Query(ctx, "SHOW RANGES FROM DATABASE defaultdb")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := vals[0].(string); strings.HasSuffix(s, "/10") || strings.HasSuffix(s, "/20") {
			found++
		}
	}
	if rows.Err() != nil || found != 2 {
		t.Fatalf("SHOW RANGES FROM DATABASE defaultdb: %d of the two split ranges (%v)", found, rows.Err())
	}
	if _, err := c.Exec(ctx, "SHOW RANGES FROM DATABASE nosuch"); sqlCode(err) != "3D000" {
		t.Fatalf("SHOW RANGES FROM DATABASE nosuch: %v, want 3D000", err)
	}
	// SCATTER answers each range of the table; every range keeps a
	// leaseholder among its voters, and every row is still there.
	rows, err = c.Query(ctx, "ALTER TABLE ex SCATTER")
	if err != nil {
		t.Fatal(err)
	}
	scattered := 0
	for rows.Next() {
		scattered++
	}
	if rows.Err() != nil || scattered < 3 {
		t.Fatalf("SCATTER answered %d ranges (%v), want the table's 3 or more", scattered, rows.Err())
	}
	waitFor(t, time.Minute, func() error {
		var bad int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM crdb_internal.ranges
			WHERE (start_pretty LIKE '%/10' OR start_pretty LIKE '%/20') AND (lease_holder IS NULL OR NOT lease_holder = ANY(voting_replicas))`).Scan(&bad); err != nil {
			return err
		}
		if bad != 0 {
			return errors.Newf("%d ranges without a leaseholder among their voters", bad)
		}
		return nil
	})
	var count int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM ex").Scan(&count); err != nil || count != 30 {
		t.Fatalf("after SCATTER: %d rows (%v), want 30", count, err)
	}
	// crdb_internal.gossip_nodes shows the three nodes, live.
	var nodesN, minID, maxID int
	var allLive bool
	if err := c.QueryRow(ctx, "SELECT count(*), bool_and(is_live), min(node_id), max(node_id) FROM crdb_internal.gossip_nodes").
		Scan(&nodesN, &allLive, &minID, &maxID); err != nil || nodesN != 3 || !allLive || minID != 1 || maxID != 3 {
		t.Fatalf("crdb_internal.gossip_nodes: %d nodes, all live %v, ids %d..%d (%v)", nodesN, allLive, minID, maxID, err)
	}
	// crdb_internal.ranges shows them too, with their leaseholders.
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM crdb_internal.ranges
		WHERE (start_pretty LIKE '%/10' OR start_pretty LIKE '%/20') AND lease_holder IS NOT NULL AND cardinality(voting_replicas) = 3`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("crdb_internal.ranges: %d of the two split ranges (%v)", n, err)
	}
	exec("SET CLUSTER SETTING kv.range_merge.queue.enabled = true")
	defer exec("SET CLUSTER SETTING kv.range_merge.queue.enabled = DEFAULT")
	waitFor(t, time.Minute, func() error {
		if s := starts(); s["20"] || !s["10"] || !s["28"] {
			return errors.Newf("ranges start at %v: want 20 merged away once expired, 10 and 28 kept", s)
		}
		return nil
	})
}

// TestSQLScatterMovesReplicas: on four nodes, where each range of a table
// has three replicas and one node without, SCATTER moves one of each
// range's voters to the node that had none, and loses no row.
func TestSQLScatterMovesReplicas(t *testing.T) {
	c := newTestCluster(t, 4, true)
	conn := sqlConnect(t, c.node(0))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exec := func(q string) {
		t.Helper()
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE sc (k INT PRIMARY KEY)")
	exec("INSERT INTO sc SELECT generate_series(1, 40)")
	exec("ALTER TABLE sc SPLIT AT VALUES (10), (20), (30)")
	// Each range the splits made, by start key: the node without a
	// replica.
	missing := func() map[string]int64 {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT start_pretty, replicas FROM crdb_internal.ranges
			WHERE start_pretty LIKE '%/10' OR start_pretty LIKE '%/20' OR start_pretty LIKE '%/30'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var start string
			var replicas []int64
			if err := rows.Scan(&start, &replicas); err != nil {
				t.Fatal(err)
			}
			if len(replicas) != 3 {
				out[start] = -1 // in the middle of a change
				continue
			}
			for n := int64(1); n <= 4; n++ {
				if !slices.Contains(replicas, n) {
					out[start] = n
				}
			}
		}
		return out
	}
	var before map[string]int64
	waitFor(t, time.Minute, func() error {
		before = missing()
		for k, n := range before {
			if n <= 0 {
				return errors.Newf("range %s is still changing", k)
			}
		}
		if len(before) != 3 {
			return errors.Newf("%d of the 3 split ranges", len(before))
		}
		return nil
	})
	exec("ALTER TABLE sc SCATTER")
	waitFor(t, time.Minute, func() error {
		after := missing()
		for k, n := range before {
			if after[k] == n {
				return errors.Newf("range %s still has no replica on n%d", k, n)
			}
		}
		return nil
	})
	var count int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM sc").Scan(&count); err != nil || count != 40 {
		t.Fatalf("after SCATTER: %d rows (%v), want 40", count, err)
	}
	// FROM ... TO scatters only the ranges holding keys between the two.
	rows, err := conn.Query(ctx, "ALTER TABLE sc SCATTER FROM (15) TO (25)")
	if err != nil {
		t.Fatal(err)
	}
	var scattered []string
	for rows.Next() {
		var key []byte
		var pretty string
		if err := rows.Scan(&key, &pretty); err != nil {
			t.Fatal(err)
		}
		scattered = append(scattered, pretty)
	}
	if rows.Close(); rows.Err() != nil || len(scattered) != 2 || !strings.HasSuffix(scattered[0], "/10") || !strings.HasSuffix(scattered[1], "/20") {
		t.Fatalf("SCATTER FROM (15) TO (25): %q (%v), want the ranges at /10 and /20", scattered, rows.Err())
	}
	for q, code := range map[string]string{
		"ALTER TABLE sc SCATTER FROM (25) TO (15)": "22023",
		// FROM and TO are read as the rows of one VALUES, whose quoted
		// literal takes the type of the column's other value, as in
		// PostgreSQL: 'a' is not an integer.
		"ALTER TABLE sc SCATTER FROM ('a') TO (15)":  "22P02",
		"ALTER TABLE sc SCATTER FROM (true) TO (15)": "42804",
	} {
		_, err := conn.Exec(ctx, q)
		if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("%s: %v, want SQLSTATE %s", q, err, code)
		}
	}
}
