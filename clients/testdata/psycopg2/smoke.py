"""psycopg2 smoke program: run by TestPsycopg2 with the DSN as argv[1].

Round-trips the common types through server-side parameters (psycopg2
interpolates them client-side), runs a transaction, copy_expert, and
checks the SQLSTATE of deliberate errors. Exits non-zero on any mismatch.
"""
import datetime
import decimal
import io
import sys
import uuid

import psycopg2
import psycopg2.errors


def check(got, want, what):
    if got != want:
        sys.exit("%s: got %r, want %r" % (what, got, want))


conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("""CREATE TABLE readings (id SERIAL PRIMARY KEY, sensor VARCHAR(20) NOT NULL, value DOUBLE PRECISION,
    exact NUMERIC(12,4), at TIMESTAMPTZ, day DATE, raw BYTEA, ok BOOLEAN, u UUID)""")
conn.commit()

at = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
u = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
cur.execute(
    "INSERT INTO readings (sensor, value, exact, at, day, raw, ok, u) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
    ("t1", 21.5, decimal.Decimal("3.1416"), at, datetime.date(2024, 5, 6), psycopg2.Binary(b"\x00\xffab"), True, str(u)))
check(cur.fetchone()[0], 1, "RETURNING id")
conn.commit()

cur.execute("SELECT sensor, value, exact, at, day, raw, ok, u FROM readings WHERE id = %s", (1,))
sensor, value, exact, got_at, day, raw, ok, got_u = cur.fetchone()
check(sensor, "t1", "varchar")
check(value, 21.5, "float8")
check(exact, decimal.Decimal("3.1416"), "numeric")
check(got_at, at, "timestamptz")
check(day, datetime.date(2024, 5, 6), "date")
check(bytes(raw), b"\x00\xffab", "bytea")
check(ok, True, "bool")
check(got_u, str(u), "uuid")
check([d.name for d in cur.description], ["sensor", "value", "exact", "at", "day", "raw", "ok", "u"], "description")

# executemany and a rolled-back transaction.
cur.executemany("INSERT INTO readings (sensor, value) VALUES (%s, %s)", [("t2", 1.0), ("t3", 2.0)])
conn.commit()
cur.execute("DELETE FROM readings")
conn.rollback()
cur.execute("SELECT count(*), sum(value) FROM readings")
check(cur.fetchone(), (3, 24.5), "count and sum")

# COPY FROM STDIN through copy_expert.
cur.copy_expert("COPY readings (sensor, value) FROM STDIN WITH (FORMAT csv)", io.StringIO("c1,1.5\nc2,2.5\n"))
conn.commit()
cur.execute("SELECT string_agg(sensor, ',') FROM (SELECT sensor FROM readings WHERE sensor LIKE 'c%%' ORDER BY sensor) s")
check(cur.fetchone()[0], "c1,c2", "copied rows")

# Deliberate errors: their SQLSTATEs, and the session goes on after a rollback.
try:
    cur.execute("INSERT INTO readings (sensor) VALUES (NULL)")
    sys.exit("NULL sensor accepted")
except psycopg2.errors.NotNullViolation as e:
    check(e.pgcode, "23502", "NOT NULL SQLSTATE")
conn.rollback()
try:
    cur.execute("SELECT no_such_column FROM readings")
    sys.exit("unknown column accepted")
except psycopg2.Error as e:
    check(e.pgcode, "42703", "undefined column SQLSTATE")
    check(e.diag.message_primary, 'column "no_such_column" does not exist', "message")
conn.rollback()

# Autocommit mode and server settings psycopg2 reads.
conn.autocommit = True
cur.execute("SHOW server_version")
if not cur.fetchone()[0].startswith("15"):
    sys.exit("server_version is not 15.x")
check(conn.server_version // 10000, 15, "server_version_num")
cur.execute("SELECT count(*) FROM readings")
check(cur.fetchone()[0], 5, "final count")
conn.close()
print("psycopg2 smoke ok")
