package sql_test

import (
	"testing"
)

// TestPsqlDescribesTableFeatures: psql's \d shows a generated column's
// expression and partial, expression and INCLUDE indexes, and \dp a
// table's privileges, as PostgreSQL 15 prints them (the expected output
// is psql's against PostgreSQL after the same statements, the owner's
// name aside: meridian there, root here).
func TestPsqlDescribesTableFeatures(t *testing.T) {
	out := psqlAfter(t, []string{
		"CREATE TABLE gp (id INT PRIMARY KEY, name TEXT, total INT GENERATED ALWAYS AS (id * 2) STORED, active BOOL)",
		"CREATE INDEX gp_lower ON gp (lower(name))",
		"CREATE INDEX gp_act ON gp (id) INCLUDE (name) WHERE active",
		"CREATE ROLE gp_reader",
		"GRANT SELECT, UPDATE ON gp TO gp_reader",
	}, `\d gp`, `\dp gp`)
	want := `                               Table "public.gp"
 Column |  Type   | Collation | Nullable |               Default               
--------+---------+-----------+----------+-------------------------------------
 id     | integer |           | not null | 
 name   | text    |           |          | 
 total  | integer |           |          | generated always as (id * 2) stored
 active | boolean |           |          | 
Indexes:
    "gp_pkey" PRIMARY KEY, btree (id)
    "gp_act" btree (id) INCLUDE (name) WHERE active
    "gp_lower" btree (lower(name))

                            Access privileges
 Schema | Name | Type  | Access privileges | Column privileges | Policies 
--------+------+-------+-------------------+-------------------+----------
 public | gp   | table | root=arwdDxt/root+|                   | 
        |      |       | gp_reader=rw/root |                   | 
(1 row)

`
	if out != want {
		t.Fatalf("psql printed:\n%s\nwant:\n%s", out, want)
	}
}
