-- psql's describe commands, \x and \copy on a small schema, run by the
-- superuser root in its database psql_smoke (see TestPsql).
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE SCHEMA inventory;
CREATE TABLE inventory.parts (id INT PRIMARY KEY, name TEXT NOT NULL, weight NUMERIC(8,3), added DATE DEFAULT '2024-01-01');
CREATE INDEX parts_name ON inventory.parts (name);
CREATE TABLE orders (id BIGINT PRIMARY KEY, part_id INT REFERENCES inventory.parts (id), qty SMALLINT NOT NULL CHECK (qty > 0), note VARCHAR(30));
CREATE UNIQUE INDEX orders_note ON orders (note);
\l psql_smoke
\dn inventory
\dt
\dt inventory.*
\d inventory.parts
\d orders
\di
\di inventory.*
\du clients_smoke
\copy inventory.parts FROM 'parts.tsv'
\copy orders (id, part_id, qty, note) FROM 'orders.csv' WITH (FORMAT csv, HEADER true)
SELECT p.id, p.name, p.weight, p.added, count(o.id) AS orders, sum(o.qty) AS qty
  FROM inventory.parts p LEFT JOIN orders o ON o.part_id = p.id GROUP BY p.id, p.name, p.weight, p.added ORDER BY p.id;
\x
SELECT * FROM orders ORDER BY id;
\x
INSERT INTO orders VALUES (10, 99, 1, 'no such part');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO orders VALUES (11, 1, 0, 'zero');
\echo :LAST_ERROR_SQLSTATE
SELECT 1 / 0;
\echo :LAST_ERROR_SQLSTATE
