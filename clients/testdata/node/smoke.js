// node-postgres smoke program: run by TestNodePostgres with the URL as
// argv[2]. Parameterized queries (extended protocol), a multi-statement
// simple query, a transaction, type parsing and an error's SQLSTATE.
'use strict';
const assert = require('assert');
const { Client } = require('pg');

async function main() {
  const client = new Client({ connectionString: process.argv[2] });
  await client.connect();
  await client.query(`CREATE TABLE events (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, n INT4, big INT8,
    amount NUMERIC(10,2), ratio FLOAT8, at TIMESTAMPTZ, day DATE, flag BOOL, payload BYTEA)`);

  const at = new Date(Date.UTC(2024, 6, 1, 10, 20, 30, 456));
  const ins = await client.query(
    'INSERT INTO events (kind, n, big, amount, ratio, at, day, flag, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id',
    ['open', 42, '9007199254740993', '12.34', 0.25, at, '2024-07-01', true, Buffer.from([0, 1, 254, 255])]);
  assert.strictEqual(ins.rowCount, 1);
  assert.strictEqual(ins.rows[0].id, '1'); // int8 arrives as a string

  const r = await client.query('SELECT kind, n, big, amount, ratio, at, day::text AS day, flag, payload FROM events WHERE id = $1', [1]);
  const row = r.rows[0];
  assert.strictEqual(row.kind, 'open');
  assert.strictEqual(row.n, 42);
  assert.strictEqual(row.big, '9007199254740993');
  assert.strictEqual(row.amount, '12.34');
  assert.strictEqual(row.ratio, 0.25);
  assert.strictEqual(row.at.getTime(), at.getTime());
  assert.strictEqual(row.day, '2024-07-01');
  assert.strictEqual(row.flag, true);
  assert.deepStrictEqual([...row.payload], [0, 1, 254, 255]);
  assert.deepStrictEqual(r.fields.map((f) => f.name), ['kind', 'n', 'big', 'amount', 'ratio', 'at', 'day', 'flag', 'payload']);

  // A multi-statement simple query returns one result per statement.
  const multi = await client.query("INSERT INTO events (kind) VALUES ('a'), ('b'); SELECT count(*)::int AS c FROM events");
  assert.strictEqual(multi.length, 2);
  assert.strictEqual(multi[0].rowCount, 2);
  assert.strictEqual(multi[1].rows[0].c, 3);

  // A transaction rolled back leaves nothing; one committed stays.
  await client.query('BEGIN');
  await client.query("DELETE FROM events WHERE kind = 'a'");
  await client.query('ROLLBACK');
  await client.query('BEGIN');
  await client.query("UPDATE events SET n = 7 WHERE kind = 'b'");
  await client.query('COMMIT');
  const c = await client.query("SELECT count(*)::int AS c, sum(n)::int AS s FROM events WHERE kind IN ('a', 'b', 'open')");
  assert.deepStrictEqual(c.rows[0], { c: 3, s: 49 });

  // Deliberate errors: their SQLSTATEs, and the connection goes on.
  await assert.rejects(client.query('INSERT INTO events (id, kind) VALUES ($1, $2)', ['1', 'dup']), (e) => e.code === '23505');
  await assert.rejects(client.query("SELECT 'x'::int"), (e) => e.code === '22P02' && e.message === 'invalid input syntax for type integer: "x"');
  await assert.rejects(client.query('SELECT * FROM nowhere'), (e) => e.code === '42P01');
  const after = await client.query('SELECT 1 AS one');
  assert.strictEqual(after.rows[0].one, 1);
  await client.end();
  console.log('node-postgres smoke ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
