package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStartSingleNodeRestart: a store bootstrapped by the first start
// keeps its cluster and its data across a restart; a directory holding
// something else is refused.
func TestStartSingleNodeRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, fresh, err := startSingleNode(dir, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil || !fresh {
		t.Fatalf("first start: fresh=%v %v", fresh, err)
	}
	c, err := pgx.Connect(ctx, "postgresql://root@"+n.SQLAddr()+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE kept (k INT PRIMARY KEY, v TEXT)", "INSERT INTO kept VALUES (1, 'one'), (2, 'two')"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Close(ctx)
	id1, _ := os.ReadFile(filepath.Join(dir, clusterIDFile))
	n.Stop()

	n, fresh, err = startSingleNode(dir, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil || fresh {
		t.Fatalf("restart: fresh=%v %v", fresh, err)
	}
	defer n.Stop()
	id2, _ := os.ReadFile(filepath.Join(dir, clusterIDFile))
	if string(id1) != string(id2) || len(id1) == 0 {
		t.Fatalf("cluster ID changed across a restart: %q -> %q", id1, id2)
	}
	c, err = pgx.Connect(ctx, "postgresql://root@"+n.SQLAddr()+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var count int
	var v string
	if err := c.QueryRow(ctx, "SELECT count(*), max(v) FROM kept").Scan(&count, &v); err != nil || count != 2 || v != "two" {
		t.Fatalf("after restart: %d rows, max %q, %v", count, v, err)
	}

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := startSingleNode(other, "127.0.0.1:0", "127.0.0.1:0"); err == nil {
		t.Fatal("bootstrapped over a directory that is not a store")
	}
}
