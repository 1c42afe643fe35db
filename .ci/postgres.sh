# Sourced by .ci/run (and usable by hand): starts a throwaway PostgreSQL
# server on 127.0.0.1:${PGTEST_PORT:-5433} (or the next free port) with user meridian / password
# meridian, and exports MERIDIAN_TEST_PG_URL for the tests that need one.

start_postgres() {
	local bindir
	bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	local data=${PGTEST_DATA:-/tmp/meridian-ci-pg}
	local port
	# pg_ctl refuses to run as root: ask as the postgres user.
	if su postgres -c "$bindir/pg_ctl -D $data status" >/dev/null 2>&1; then
		# Already running (an earlier make test): reuse it, on its port.
		port=$(sed -n 4p "$data/postmaster.pid")
	else
		port=${PGTEST_PORT:-5433}
		# Skip ports something else already listens on.
		while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
			port=$((port + 1))
		done
		rm -rf "$data"
		mkdir -p "$data"
		chown postgres:postgres "$data"
		local pw
		pw=$(mktemp)
		echo meridian >"$pw"
		chown postgres "$pw"
		su postgres -c "$bindir/initdb -D $data -U meridian --pwfile=$pw --auth=scram-sha-256 -E UTF8 >/dev/null"
		rm -f "$pw"
		su postgres -c "$bindir/pg_ctl -D $data -l $data/log -w -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off' start >/dev/null"
	fi
	export MERIDIAN_TEST_PG_URL="postgres://meridian:meridian@127.0.0.1:$port/postgres?sslmode=disable"
	echo "PostgreSQL running: $MERIDIAN_TEST_PG_URL"
}

# maybe_start_postgres starts the server when it is installed and we may run
# it (root), and otherwise says why the PostgreSQL-backed tests will skip.
maybe_start_postgres() {
	if [ -n "${MERIDIAN_TEST_PG_URL:-}" ]; then return 0; fi
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
		echo "note: PostgreSQL server not installed (or not root): tests against PostgreSQL will skip; .ci/run installs it"
		return 0
	fi
	start_postgres
}
