package kv

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/errors"
	"github.com/meridiandb/meridian/hlc"
)

// TestMVCCScanLarge checks scans whose results span several result chunks
// and index blocks, over keys with many versions, tombstones and values
// larger than a chunk, against MVCCGet of every key, in an engine and in
// a batch on top of it.
func TestMVCCScanLarge(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	e, err := Open("", Options{InMemory: true, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const n = 1200
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%05d", i)) }
	write := func(rw ReadWriter, i int) {
		for v := 0; v < 1+rng.IntN(3)*rng.IntN(8); v++ {
			ts := hlc.Timestamp{WallTime: int64(1 + rng.IntN(20)), Logical: int32(rng.IntN(2))}
			if rng.IntN(10) == 0 {
				if _, err := MVCCDelete(rw, nil, key(i), ts, MVCCWriteOptions{}); err != nil {
					if !errors.HasType(err, (*WriteTooOldError)(nil)) {
						t.Fatal(err)
					}
				}
				continue
			}
			size := rng.IntN(100)
			if rng.IntN(200) == 0 {
				size = scanChunkSize + rng.IntN(100)
			}
			val := MakeBytesValue(bytes.Repeat([]byte{byte('a' + rng.IntN(26))}, size))
			if err := MVCCPut(rw, nil, key(i), ts, val, MVCCWriteOptions{}); err != nil {
				if !errors.HasType(err, (*WriteTooOldError)(nil)) {
					t.Fatal(err)
				}
			}
		}
	}
	for i := 0; i < n; i++ {
		write(e, i)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	b := e.NewBatch()
	defer b.Close()
	for i := 0; i < n; i += 1 + rng.IntN(10) {
		write(b, i)
	}
	for _, r := range []Reader{e, b} {
		for _, ts := range []hlc.Timestamp{{WallTime: 5}, {WallTime: 30}} {
			var want []KeyValue
			for i := 0; i < n; i++ {
				res, err := MVCCGet(r, key(i), ts, MVCCGetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if res.Value != nil {
					want = append(want, KeyValue{Key: key(i), Value: *res.Value, Timestamp: res.Timestamp})
				}
			}
			for _, maxKeys := range []int64{0, 1, 255, 256, 257, 700} {
				for _, reverse := range []bool{false, true} {
					res, err := MVCCScan(r, key(0), key(n), ts, MVCCScanOptions{MaxKeys: maxKeys, Reverse: reverse})
					if err != nil {
						t.Fatal(err)
					}
					w := want
					if reverse {
						w = make([]KeyValue, len(want))
						for i := range want {
							w[i] = want[len(want)-1-i]
						}
					}
					if maxKeys > 0 && int64(len(w)) > maxKeys {
						w = w[:maxKeys]
					}
					got := res.KVs()
					if len(got) != len(w) || res.Len() != len(w) {
						t.Fatalf("ts %s maxKeys %d reverse %t: %d results, want %d", ts, maxKeys, reverse, len(got), len(w))
					}
					var size int64
					for i := range w {
						if !bytes.Equal(got[i].Key, w[i].Key) || !got[i].Value.Equal(w[i].Value) || got[i].Timestamp != w[i].Timestamp {
							t.Fatalf("ts %s maxKeys %d reverse %t: result %d is %s@%s=%s, want %s@%s=%s", ts, maxKeys, reverse, i,
								got[i].Key, got[i].Timestamp, got[i].Value, w[i].Key, w[i].Timestamp, w[i].Value)
						}
						size += int64(len(w[i].Key) + len(w[i].Value.RawBytes))
					}
					if res.NumBytes != size {
						t.Fatalf("NumBytes %d, want %d", res.NumBytes, size)
					}
				}
			}
		}
	}
}
