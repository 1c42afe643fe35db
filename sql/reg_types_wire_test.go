package sql_test

import (
	"context"
	"encoding/binary"
	"testing"
)

// TestRegTypesWire: the object identifier types are 4-byte OIDs on the
// wire as in PostgreSQL (typlen 4 in RowDescription, oid_send's four
// bytes in binary, names in text), and a parameter of one is read as
// its input function reads it: a name (looked up when the statement
// runs) or a number in text, the number in binary.
func TestRegTypesWire(t *testing.T) {
	c, _ := startSQL(t)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE rw_t (a int)"); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT 'pg_class'::regclass, 'int4'::regtype, 'pg_catalog'::regnamespace, 'now'::regproc, 'now()'::regprocedure, 1::oid"
	wantOIDs := []uint32{2205, 2206, 4089, 24, 2202, 26}
	wantText := []string{"pg_class", "integer", "pg_catalog", "now", "now()", "1"}
	wantNum := []uint32{1259, 23, 11, 1299, 1299, 1}
	for _, format := range []int16{0, 1} {
		res := c.PgConn().ExecParams(ctx, q, nil, nil, nil, []int16{format}).Read()
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		for i, fd := range res.FieldDescriptions {
			if fd.DataTypeOID != wantOIDs[i] || fd.DataTypeSize != 4 {
				t.Errorf("column %d: type %d size %d, want %d size 4", i, fd.DataTypeOID, fd.DataTypeSize, wantOIDs[i])
			}
			v := res.Rows[0][i]
			if format == 0 && string(v) != wantText[i] {
				t.Errorf("column %d text: %q, want %q", i, v, wantText[i])
			}
			if format == 1 && (len(v) != 4 || binary.BigEndian.Uint32(v) != wantNum[i]) {
				t.Errorf("column %d binary: %x, want %d in 4 bytes", i, v, wantNum[i])
			}
		}
	}
	// A regclass parameter: by name in text, by number in text and in
	// binary.
	var relOID uint32
	if err := c.QueryRow(ctx, "SELECT oid FROM pg_class WHERE relname = 'rw_t'").Scan(&relOID); err != nil {
		t.Fatal(err)
	}
	bin := binary.BigEndian.AppendUint32(nil, relOID)
	for _, p := range []struct {
		val    []byte
		format int16
	}{{[]byte("rw_t"), 0}, {[]byte("public.rw_t"), 0}, {bin, 1}} {
		res := c.PgConn().ExecParams(ctx, "SELECT attname, $1::regclass::text FROM pg_attribute WHERE attrelid = $1::regclass AND attnum = 1",
			[][]byte{p.val}, []uint32{2205}, []int16{p.format}, nil).Read()
		if res.Err != nil {
			t.Fatalf("parameter %q: %v", p.val, res.Err)
		}
		if len(res.Rows) != 1 || string(res.Rows[0][0]) != "a" || string(res.Rows[0][1]) != "rw_t" {
			t.Fatalf("parameter %q: rows %q, want a, rw_t", p.val, res.Rows)
		}
	}
	bad := c.PgConn().ExecParams(ctx, "SELECT $1::regclass", [][]byte{[]byte("nosuch")}, []uint32{2205}, nil, nil).Read()
	if bad.Err == nil || bad.Err.Error() != `ERROR: relation "nosuch" does not exist (SQLSTATE 42P01)` {
		t.Fatalf("unknown relation: %v, want 42P01", bad.Err)
	}
}
