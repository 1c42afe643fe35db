package kv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

func TestCorruptValueNamesKey(t *testing.T) {
	e := openTestEngine(t)
	ts := hlc.Timestamp{WallTime: 10e9}
	for _, k := range []string{"a", "b"} {
		if err := MVCCPut(e, nil, []byte(k), ts, MakeBytesValue([]byte("value-"+k)), MVCCWriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk := MVCCKey{Key: []byte("a"), Timestamp: ts}
	raw, err := e.Get(mk)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, read func() error) {
		t.Helper()
		err := read()
		var ce *ChecksumError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: expected a ChecksumError, got %v", what, err)
		}
		if !strings.Contains(err.Error(), `"a"`) {
			t.Fatalf("%s: error does not name the key: %v", what, err)
		}
	}
	reads := func(what string) {
		check(what+": get", func() error {
			_, err := MVCCGet(e, []byte("a"), ts, MVCCGetOptions{})
			return err
		})
		check(what+": scan", func() error {
			_, err := MVCCScan(e, []byte("a"), []byte("z"), ts, MVCCScanOptions{})
			return err
		})
		check(what+": put", func() error {
			return MVCCPut(e, nil, []byte("a"), ts.Next(), MakeBytesValue(nil), MVCCWriteOptions{})
		})
	}
	// A flipped bit in the payload, the type or the checksum.
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x10
		if err := e.Put(mk, bad); err != nil {
			t.Fatal(err)
		}
		reads("bit flip")
	}
	// A truncated value.
	if err := e.Put(mk, raw[:3]); err != nil {
		t.Fatal(err)
	}
	reads("truncated")
	// b's (valid) value stored under a: the checksum covers the key.
	rawB, _ := e.Get(MVCCKey{Key: []byte("b"), Timestamp: ts})
	if err := e.Put(mk, rawB); err != nil {
		t.Fatal(err)
	}
	reads("misplaced")
}

// TestCorruptSST flips bytes in an SST on disk: reads must fail, or return
// the right value, never a wrong one.
func TestCorruptSST(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(dir, Options{Logger: silentLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	ts := hlc.Timestamp{WallTime: 10e9}
	val := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 100) }
	key := func(i int) []byte { return []byte{'k', byte(i / 256), byte(i % 256)} }
	for i := 0; i < 500; i++ {
		if err := MVCCPut(e, nil, key(i), ts, MakeBytesValue(val(i)), MVCCWriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("no SST written")
	}
	data, err := os.ReadFile(ssts[0])
	if err != nil {
		t.Fatal(err)
	}
	// Flip bytes through the first half of the file (the data blocks).
	for off := 100; off < len(data)/2; off += len(data) / 20 {
		data[off] ^= 0xff
	}
	if err := os.WriteFile(ssts[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	e, err = Open(dir, Options{Logger: silentLogger{}})
	if err != nil {
		t.Logf("open refused the corrupt store: %v", err)
		return
	}
	defer func() { _ = e.Close() }()
	errs := 0
	for i := 0; i < 500; i++ {
		res, err := MVCCGet(e, key(i), ts, MVCCGetOptions{})
		if err != nil {
			errs++
			continue
		}
		if res.Value == nil || !bytes.Equal(res.Value.RawBytes, val(i)) {
			t.Fatalf("key %d: wrong value %v after corruption", i, res.Value)
		}
	}
	if errs == 0 || e.Metrics().Corruptions == 0 {
		t.Fatalf("corruption went unnoticed (%d errors)", errs)
	}
	_, err = ExportSST(e, Span{Key: KeyMin, EndKey: KeyMax})
	if err == nil {
		t.Fatal("export of a corrupt span succeeded")
	}
}

// silentLogger drops Pebble's errors too: the corruption is expected.
type silentLogger struct{ quietLogger }

func (silentLogger) Errorf(string, ...interface{}) {}
