#!/bin/bash
# bench-pg.sh: Meridian against PostgreSQL on the same machine, same clients, one sitting.
#
# Starts a throwaway PostgreSQL (Debian's server, its defaults: fsync on) and a fresh
# `meridian start-single-node`, runs the same clients against both (pgbench select-only and
# TPC-B with 1 and 4 clients, one-row INSERT latency, `meridian workload tpcc` with 1
# warehouse and 4 workers without wait times, whose consistency check must pass), and prints
# a markdown table of the figures and their ratios (Meridian / PostgreSQL; for latency,
# lower is better). Targets are in issue 13; the README shows the latest table.
#
# usage: scripts/bench-pg.sh [pgbench] [insert] [tpcc]     (default: all)
#   BIN=./bin/meridian  PERF_T=15 (seconds per pgbench run)  PERF_TPCC_T=60s
#   MERIDIAN_URL=...    measure a running Meridian (a 3-node cluster) instead of a fresh node
# Needs root, postgresql (server) and postgresql-client; `make bench-pg` builds first.
set -euo pipefail
BIN=${BIN:-./bin/meridian}
WHAT=${*:-pgbench insert tpcc}
T=${PERF_T:-15}
TT=${PERF_TPCC_T:-60s}
OUT=$(mktemp -d /tmp/bench-pg.XXXX)
chmod 755 "$OUT" # the postgres user runs the server under it
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$PGBIN" ] && [ "$(id -u)" = 0 ] || { echo "bench-pg: needs root and Debian's postgresql server (apt-get install postgresql)" >&2; exit 2; }

PGPORT=54361
PGD=$OUT/pg
mkdir -p "$PGD" && chown postgres:postgres "$PGD"
su postgres -c "$PGBIN/initdb -D $PGD/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $PGD/data -l $PGD/server.log -o '-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=$PGD -c max_connections=300' -w start" >/dev/null
PG="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"

NPID=
cleanup() {
	su postgres -c "$PGBIN/pg_ctl -D $PGD/data -m fast stop" >/dev/null 2>&1 || true
	if [ -n "$NPID" ]; then kill -INT "$NPID" 2>/dev/null || true; wait "$NPID" 2>/dev/null || true; fi
	rm -rf "$OUT/store" "$PGD"
}
trap cleanup EXIT
if [ -z "${MERIDIAN_URL:-}" ]; then
	"$BIN" start-single-node --insecure --store "$OUT/store" --listen-addr 127.0.0.1:26470 \
		--sql-addr 127.0.0.1:26471 --http-addr 127.0.0.1:26472 >"$OUT/node.log" 2>&1 &
	NPID=$!
	MU="postgresql://root@127.0.0.1:26471/defaultdb?sslmode=disable"
	for _ in $(seq 120); do psql -q "$MU" -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done
else
	MU=$MERIDIAN_URL
fi

echo "| figure | PostgreSQL | Meridian | ratio |"
echo "|---|---|---|---|"
row() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { r = (a > 0) ? b / a : 0; printf "| %s | %s | %s | %.3f |\n", n, a, b, r }'; }
tps() { grep -oE 'tps = [0-9.]+' "$1" | tail -1 | grep -oE '[0-9.]+' || echo 0; }
lat() { grep -oE 'latency average = [0-9.]+' "$1" | grep -oE '[0-9.]+$' || echo 0; }
tpmc() { grep -oE '^tpmC [0-9.]+' "$1" | grep -oE '[0-9.]+' || echo 0; }
for w in $WHAT; do
	case $w in
	pgbench)
		for u in PG MU; do pgbench -q -i -s 1 "${!u}" >"$OUT/init-$u.log" 2>&1 || { echo "pgbench -i failed on $u: $OUT/init-$u.log" >&2; exit 1; }; done
		for c in 1 4; do
			for u in PG MU; do pgbench -n -S -T "$T" -c $c -j $c "${!u}" >"$OUT/S$c-$u.log" 2>&1 || true; done
			row "pgbench -S, $c client(s), tps" "$(tps "$OUT/S$c-PG.log")" "$(tps "$OUT/S$c-MU.log")"
		done
		for c in 1 4; do
			for u in PG MU; do pgbench -n -T "$T" -c $c -j $c --max-tries=50 "${!u}" >"$OUT/B$c-$u.log" 2>&1 || true; done
			row "pgbench TPC-B, $c client(s), tps" "$(tps "$OUT/B$c-PG.log")" "$(tps "$OUT/B$c-MU.log")"
		done
		;;
	insert)
		printf '\\set k random(1, 1000000000)\nINSERT INTO bench_ins VALUES (:k, :k) ON CONFLICT DO NOTHING;\n' >"$OUT/ins.sql"
		for u in PG MU; do
			psql -q "${!u}" -c 'DROP TABLE IF EXISTS bench_ins' -c 'CREATE TABLE bench_ins (k BIGINT PRIMARY KEY, v BIGINT)' >/dev/null
			pgbench -n -f "$OUT/ins.sql" -T "$T" -c 1 "${!u}" >"$OUT/ins-$u.log" 2>&1 || true
		done
		row "one-row INSERT, 1 client, mean latency ms (lower is better)" "$(lat "$OUT/ins-PG.log")" "$(lat "$OUT/ins-MU.log")"
		;;
	tpcc)
		for u in PG MU; do
			drop=
			[ $u = PG ] && drop=--drop # Meridian's is a fresh store (DROP ... CASCADE is not built yet)
			"$BIN" workload init tpcc --warehouses 1 $drop "${!u}" >"$OUT/tpcc-init-$u.log" 2>&1
			"$BIN" workload run tpcc --warehouses 1 --workers 4 --wait=false --duration "$TT" "${!u}" >"$OUT/tpcc-$u.log" 2>&1 || true
			"$BIN" workload check tpcc "${!u}" >"$OUT/tpcc-check-$u.log" 2>&1 || echo "TPC-C consistency check FAILED on $u: $OUT/tpcc-check-$u.log" >&2
		done
		row "TPC-C 1 warehouse, 4 workers, no wait, tpmC" "$(tpmc "$OUT/tpcc-PG.log")" "$(tpmc "$OUT/tpcc-MU.log")"
		;;
	*) echo "bench-pg: unknown figure $w (pgbench, insert, tpcc)" >&2; exit 2 ;;
	esac
done
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r); logs in $OUT"
