package clients

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/lib/pq"
)

// TestLibPq: lib/pq through database/sql — prepared statements with
// parameters, a transaction, COPY through pq.CopyIn, and an error's
// SQLSTATE.
func TestLibPq(t *testing.T) {
	url := newDatabase(t, "libpq_smoke")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE accounts (id SERIAL PRIMARY KEY, owner VARCHAR(40) NOT NULL UNIQUE,
		balance NUMERIC(12,2) NOT NULL DEFAULT 0, opened DATE, note TEXT, active BOOLEAN DEFAULT true)`); err != nil {
		t.Fatal(err)
	}
	var id int
	if err := db.QueryRowContext(ctx, `INSERT INTO accounts (owner, balance, opened, note) VALUES ($1, $2, $3, $4) RETURNING id`,
		"alice", "100.50", "2023-03-04", nil).Scan(&id); err != nil || id != 1 {
		t.Fatalf("INSERT RETURNING: id %d, %v", id, err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("accounts", "owner", "balance"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]string{{"bob", "7.25"}, {"carol", "0.25"}, {"dave\twith a tab", "1"}} {
		if _, err := stmt.ExecContext(ctx, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := stmt.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = balance - 0.50 WHERE owner = $1`, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	// A rolled-back transaction leaves nothing behind.
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM accounts`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	var (
		owner   string
		balance string
		opened  time.Time
		note    sql.NullString
		active  bool
	)
	if err := db.QueryRowContext(ctx, `SELECT owner, balance, opened, note, active FROM accounts WHERE id = $1`, 1).
		Scan(&owner, &balance, &opened, &note, &active); err != nil {
		t.Fatal(err)
	}
	if owner != "alice" || balance != "100.00" || !opened.Equal(time.Date(2023, 3, 4, 0, 0, 0, 0, time.UTC)) || note.Valid || !active {
		t.Fatalf("read back %q %q %v %v %v", owner, balance, opened, note, active)
	}
	var n int
	var total string
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(balance) FROM accounts`).Scan(&n, &total); err != nil || n != 4 || total != "108.50" {
		t.Fatalf("count %d sum %s, %v", n, total, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT owner FROM accounts WHERE balance = 1`).Scan(&owner); err != nil || owner != "dave\twith a tab" {
		t.Fatalf("copied owner %q, %v", owner, err)
	}

	// Deliberate errors: a NOT NULL violation and an unknown table.
	var pqErr *pq.Error
	_, err = db.ExecContext(ctx, `INSERT INTO accounts (owner) VALUES ($1)`, nil)
	if !errors.As(err, &pqErr) || pqErr.Code != "23502" {
		t.Fatalf("NULL owner: %v, want SQLSTATE 23502", err)
	}
	_, err = db.ExecContext(ctx, `SELECT * FROM no_such_table`)
	if !errors.As(err, &pqErr) || pqErr.Code != "42P01" || pqErr.Message != `relation "no_such_table" does not exist` {
		t.Fatalf("unknown table: %v, want SQLSTATE 42P01", err)
	}
}
