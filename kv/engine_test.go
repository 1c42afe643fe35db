package kv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

func openTestEngine(t testing.TB) Engine {
	t.Helper()
	e, err := Open("", Options{InMemory: true, CacheSize: 8 << 20, MemTableSize: 4 << 20, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

func TestEngineBatchSnapshotIterator(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := func(w int64) hlc.Timestamp { return hlc.Timestamp{WallTime: w} }
	b := e.NewBatch()
	for _, k := range []MVCCKey{{Key: []byte("a"), Timestamp: ts(1)}, {Key: []byte("a"), Timestamp: ts(3)},
		{Key: []byte("b")}, {Key: []byte("b"), Timestamp: ts(2)}, {Key: []byte("c"), Timestamp: hlc.Timestamp{WallTime: 2, Logical: 1}}} {
		if err := b.Put(k, []byte(k.String())); err != nil {
			t.Fatal(err)
		}
	}
	// The batch reads its own writes.
	if v, err := b.Get(MVCCKey{Key: []byte("b")}); err != nil || string(v) != `"b"` {
		t.Fatalf("batch get: %q %v", v, err)
	}
	snapBefore := e.NewSnapshot()
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if v, _ := snapBefore.Get(MVCCKey{Key: []byte("b")}); v != nil {
		t.Fatalf("snapshot sees a later write: %q", v)
	}
	snapBefore.Close()

	it, err := e.NewIterator(IterOptions{LowerBound: []byte("a"), UpperBound: []byte("c")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for it.SeekGE(MVCCKey{Key: []byte("a")}); ; it.Next() {
		ok, err := it.Valid()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, it.UnsafeKey().String())
	}
	it.Close()
	want := []string{`"a"/0.000000003,0`, `"a"/0.000000001,0`, `"b"`, `"b"/0.000000002,0`}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	// Pebble records the fsync's latency after it wakes the committer, so
	// the count can trail Commit's return by a moment.
	m := e.Metrics()
	for deadline := hlc.PhysicalNow().Add(10 * time.Second); m.WALFsyncCount == 0; m = e.Metrics() {
		if hlc.PhysicalNow().After(deadline) {
			t.Fatalf("expected a WAL fsync to be counted: %+v", m)
		}
		runtime.Gosched()
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := e.Compact(context.Background(), KeyMin, KeyMax); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen: the data survived.
	e, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.Get(MVCCKey{Key: []byte("a"), Timestamp: ts(3)}); err != nil || string(v) != `"a"/0.000000003,0` {
		t.Fatalf("after reopen: %q %v", v, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStoreVersion(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, storeVersionFile), []byte("meridian-store-format: 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
	if !errors.Is(err, ErrUnknownStoreVersion) {
		t.Fatalf("expected ErrUnknownStoreVersion, got %v", err)
	}
	t.Log(err)
	// A Pebble store without the version file is not ours either.
	if err := os.Remove(filepath.Join(dir, storeVersionFile)); err != nil {
		t.Fatal(err)
	}
	if _, err = Open(dir, Options{}); !errors.Is(err, ErrUnknownStoreVersion) {
		t.Fatalf("expected ErrUnknownStoreVersion, got %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, storeVersionFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err = Open(dir, Options{}); !errors.Is(err, ErrUnknownStoreVersion) {
		t.Fatalf("expected ErrUnknownStoreVersion, got %v", err)
	}
}

// quietLogger drops Pebble's informational messages.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{}) {}
func (quietLogger) Errorf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "pebble: fatal: "+format+"\n", args...)
	os.Exit(2)
}

// TestSplitReadWriter: an MVCC write through NewReadWriter reads the
// engine, sees an intent there, and lands only in the write-only batch.
func TestSplitReadWriter(t *testing.T) {
	e := openTestEngine(t)
	ts := hlc.Timestamp{WallTime: 10}
	if err := MVCCPut(e, nil, []byte("a"), ts, MakeBytesValue([]byte("1")), MVCCWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	ro := e.NewReadOnly()
	defer ro.Close()
	b := e.NewWriteOnlyBatch()
	defer b.Close()
	rw := NewReadWriter(ro, b)
	// Below the engine's version: the read half must see it.
	var wto *WriteTooOldError
	if err := MVCCPut(rw, nil, []byte("a"), hlc.Timestamp{WallTime: 5}, MakeBytesValue([]byte("0")), MVCCWriteOptions{}); !errors.As(err, &wto) {
		t.Fatalf("write below an engine version: got %v, want WriteTooOldError", err)
	}
	var ms MVCCStats
	if err := MVCCPut(rw, &ms, []byte("b"), ts, MakeBytesValue([]byte("2")), MVCCWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err := MVCCGet(e, []byte("b"), ts, MVCCGetOptions{}); err != nil || res.Value != nil {
		t.Fatalf("write visible before the batch committed: %v %v", res.Value, err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	if res, err := MVCCGet(e, []byte("b"), ts, MVCCGetOptions{}); err != nil || res.Value == nil || string(res.Value.RawBytes) != "2" {
		t.Fatalf("committed write: %v %v", res.Value, err)
	}
	if ms.LiveCount != 1 {
		t.Fatalf("stats: live count %d, want 1", ms.LiveCount)
	}
}
