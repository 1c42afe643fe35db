package sql_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/sql/memkv"
)

// TestZoneConfigs: CONFIGURE ZONE stores a zone per object, SHOW ZONE
// CONFIGURATION prints it resolved (inherited fields filled in from the
// database and RANGE default) in CockroachDB's shape, DISCARD and COPY
// FROM PARENT return to inheriting, and bad values are refused.
func TestZoneConfigs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := serve(t, memkv.New(), nil)
	c, err := pgx.Connect(ctx, "postgres://root@"+addr+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	exec := func(q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	show := func(q string) [][2]string {
		t.Helper()
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var out [][2]string
		for rows.Next() {
			var r [2]string
			if err := rows.Scan(&r[0], &r[1]); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		if rows.Err() != nil {
			t.Fatalf("%s: %v", q, rows.Err())
		}
		return out
	}
	wantOne := func(q, target, config string) {
		t.Helper()
		got := show(q)
		if len(got) != 1 || got[0][0] != target || got[0][1] != config {
			t.Fatalf("%s:\n%q\nwant\n%q\n%q", q, got, target, config)
		}
	}
	exec("CREATE TABLE t (k INT PRIMARY KEY, v INT, INDEX t_v (v))")
	defaultSQL := "ALTER RANGE default CONFIGURE ZONE USING\n\trange_min_bytes = 134217728,\n\trange_max_bytes = 536870912,\n\tgc.ttlseconds = 14400,\n\tnum_replicas = 3,\n\tconstraints = '[]',\n\tlease_preferences = '[]'"
	wantOne("SHOW ZONE CONFIGURATION FROM RANGE default", "RANGE default", defaultSQL)
	wantOne("SHOW ZONE CONFIGURATION FROM TABLE t", "RANGE default", defaultSQL)

	exec("ALTER DATABASE defaultdb CONFIGURE ZONE USING range_min_bytes = 1000000")
	exec("ALTER TABLE t CONFIGURE ZONE USING num_replicas = 5, constraints = '[+region=b]', lease_preferences = '[[+region=b, +zone=b2], [+region=b]]'")
	wantOne("SHOW ZONE CONFIGURATION FROM TABLE t", "TABLE t",
		"ALTER TABLE t CONFIGURE ZONE USING\n\trange_min_bytes = 1000000,\n\trange_max_bytes = 536870912,\n\tgc.ttlseconds = 14400,\n\tnum_replicas = 5,\n\tconstraints = '[+region=b]',\n\tlease_preferences = '[[+region=b, +zone=b2], [+region=b]]'")
	// An index inherits from its table.
	wantOne("SHOW ZONE CONFIGURATION FROM INDEX t@t_v", "TABLE t",
		"ALTER TABLE t CONFIGURE ZONE USING\n\trange_min_bytes = 1000000,\n\trange_max_bytes = 536870912,\n\tgc.ttlseconds = 14400,\n\tnum_replicas = 5,\n\tconstraints = '[+region=b]',\n\tlease_preferences = '[[+region=b, +zone=b2], [+region=b]]'")
	exec("ALTER INDEX t@t_v CONFIGURE ZONE USING voter_constraints = '[-zone=b1]', range_max_bytes = 1048576, range_min_bytes = 1024, gc.ttlseconds = 600")
	wantOne("SHOW ZONE CONFIGURATION FROM INDEX t@t_v", "INDEX t@t_v",
		"ALTER INDEX t@t_v CONFIGURE ZONE USING\n\trange_min_bytes = 1024,\n\trange_max_bytes = 1048576,\n\tgc.ttlseconds = 600,\n\tnum_replicas = 5,\n\tconstraints = '[+region=b]',\n\tvoter_constraints = '[-zone=b1]',\n\tlease_preferences = '[[+region=b, +zone=b2], [+region=b]]'")

	all := show("SHOW ZONE CONFIGURATIONS")
	var targets []string
	for _, r := range all {
		targets = append(targets, r[0])
	}
	if len(targets) != 4 || targets[0] != "RANGE default" || targets[1] != "DATABASE defaultdb" || targets[2] != "TABLE t" || targets[3] != "INDEX t@t_v" {
		t.Fatalf("SHOW ZONE CONFIGURATIONS lists %q", targets)
	}

	// COPY FROM PARENT inherits a field again; DISCARD the whole zone.
	exec("ALTER TABLE t CONFIGURE ZONE USING num_replicas = COPY FROM PARENT")
	if got := show("SHOW ZONE CONFIGURATION FROM TABLE t"); len(got) != 1 || !contains(got[0][1], "num_replicas = 3,") {
		t.Fatalf("after COPY FROM PARENT: %q", got)
	}
	exec("ALTER INDEX t@t_v CONFIGURE ZONE DISCARD")
	exec("ALTER TABLE t CONFIGURE ZONE DISCARD")
	exec("ALTER DATABASE defaultdb CONFIGURE ZONE DISCARD")
	wantOne("SHOW ZONE CONFIGURATION FROM TABLE t", "RANGE default", defaultSQL)
	exec("ALTER RANGE default CONFIGURE ZONE USING num_replicas = 5")
	if got := show("SHOW ZONE CONFIGURATION FROM TABLE t"); !contains(got[0][1], "num_replicas = 5,") {
		t.Fatalf("RANGE default's change is not inherited: %q", got)
	}
	exec("ALTER RANGE default CONFIGURE ZONE DISCARD")
	wantOne("SHOW ZONE CONFIGURATION FROM RANGE default", "RANGE default", defaultSQL)

	// A dropped object's zone goes with it.
	exec("CREATE TABLE gone (k INT PRIMARY KEY)")
	exec("ALTER TABLE gone CONFIGURE ZONE USING num_replicas = 5")
	exec("CREATE DATABASE gonedb")
	exec("ALTER DATABASE gonedb CONFIGURE ZONE USING num_replicas = 5")
	if got := show("SHOW ZONE CONFIGURATIONS"); len(got) != 3 {
		t.Fatalf("zones before the drops: %q", got)
	}
	exec("DROP TABLE gone")
	exec("DROP DATABASE gonedb")
	if got := show("SHOW ZONE CONFIGURATIONS"); len(got) != 1 || got[0][0] != "RANGE default" {
		t.Fatalf("zones after the drops: %q", got)
	}

	for q, code := range map[string]string{
		"ALTER TABLE t CONFIGURE ZONE USING num_replicas = 0":                  "22023",
		"ALTER TABLE t CONFIGURE ZONE USING gc.ttlseconds = 0":                 "22023",
		"ALTER TABLE t CONFIGURE ZONE USING range_min_bytes = 1073741824":      "22023",
		"ALTER TABLE t CONFIGURE ZONE USING range_max_bytes = 10":              "22023",
		"ALTER TABLE t CONFIGURE ZONE USING constraints = 'region=b'":          "22023",
		"ALTER TABLE t CONFIGURE ZONE USING constraints = '[region=b]'":        "22023",
		"ALTER TABLE t CONFIGURE ZONE USING constraints = '{\"+region=b\":1}'": "0A000",
		"ALTER TABLE t CONFIGURE ZONE USING lease_preferences = '[+region=b]'": "22023",
		"ALTER TABLE t CONFIGURE ZONE USING num_voters = 3":                    "0A000",
		"ALTER TABLE t CONFIGURE ZONE USING bogus = 3":                         "42601",
		"ALTER TABLE nosuch CONFIGURE ZONE USING num_replicas = 3":             "42P01",
		"ALTER RANGE meta CONFIGURE ZONE USING num_replicas = 3":               "0A000",
		"ALTER PARTITION p OF TABLE t CONFIGURE ZONE USING num_replicas = 3":   "0A000",
	} {
		if _, err := c.Exec(ctx, q); sqlState(err) != code {
			t.Errorf("%s: got %v, want SQLSTATE %s", q, err, code)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestClusterSettings: SET CLUSTER SETTING stores a knob (checked against
// its type), SHOW CLUSTER SETTING reads it back typed, DEFAULT resets it,
// SHOW ALL CLUSTER SETTINGS lists every knob, and unknown names are
// refused.
func TestClusterSettings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := serve(t, memkv.New(), nil)
	c, err := pgx.Connect(ctx, "postgres://root@"+addr+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	exec := func(q string) {
		t.Helper()
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var on bool
	if err := c.QueryRow(ctx, "SHOW CLUSTER SETTING kv.range_split.by_load_enabled").Scan(&on); err != nil || on {
		t.Fatalf("default by_load_enabled: %v, %v", on, err)
	}
	exec("SET CLUSTER SETTING kv.range_split.by_load_enabled = true")
	if err := c.QueryRow(ctx, "SHOW CLUSTER SETTING kv.range_split.by_load_enabled").Scan(&on); err != nil || !on {
		t.Fatalf("after SET: %v, %v", on, err)
	}
	exec("SET CLUSTER SETTING kv.range_split.load_qps_threshold = 100")
	var qps int64
	if err := c.QueryRow(ctx, "SHOW CLUSTER SETTING kv.range_split.load_qps_threshold").Scan(&qps); err != nil || qps != 100 {
		t.Fatalf("load_qps_threshold: %d, %v", qps, err)
	}
	exec("SET CLUSTER SETTING server.time_until_store_dead = '1m30s'")
	var dead time.Duration
	if err := c.QueryRow(ctx, "SHOW CLUSTER SETTING server.time_until_store_dead").Scan(&dead); err != nil || dead != 90*time.Second {
		t.Fatalf("time_until_store_dead: %v, %v", dead, err)
	}
	exec("SET CLUSTER SETTING kv.range_split.by_load_enabled = DEFAULT")
	if err := c.QueryRow(ctx, "SHOW CLUSTER SETTING kv.range_split.by_load_enabled").Scan(&on); err != nil || on {
		t.Fatalf("after DEFAULT: %v, %v", on, err)
	}
	rows, err := c.Query(ctx, "SHOW ALL CLUSTER SETTINGS")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if rows.Err() != nil || n < 5 {
		t.Fatalf("SHOW ALL CLUSTER SETTINGS: %d rows, %v", n, rows.Err())
	}
	for q, code := range map[string]string{
		"SET CLUSTER SETTING no.such.setting = 1":                     "42704",
		"SHOW CLUSTER SETTING no.such.setting":                        "42704",
		"SET CLUSTER SETTING server.time_until_store_dead = 'soon'":   "22007",
		"SET CLUSTER SETTING kv.range_split.load_qps_threshold = 'x'": "22P02",
	} {
		if _, err := c.Exec(ctx, q); sqlState(err) != code {
			t.Errorf("%s: got %v, want SQLSTATE %s", q, err, code)
		}
	}
}
