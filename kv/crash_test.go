package kv

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/hlc"
)

// The crash test: a child process (this test binary, running only
// TestCrashHelper) writes synced batches and prints the sequence number of
// each one after its commit returns; the parent SIGKILLs it at random
// moments, reopens the store and checks that every acknowledged batch is
// there, whole, and that no batch is visible in part.

const crashDirEnv = "MERIDIAN_KV_CRASH_DIR"

// crashKeysPerBatch keys are written by each batch, plus a counter version.
const crashKeysPerBatch = 3

func crashKey(seq, i int) []byte { return []byte(fmt.Sprintf("c/%08d/%d", seq, i)) }

// TestCrashHelper is the child of TestCrashSafety; it does nothing unless
// started by it.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrashSafety")
	}
	e, err := Open(dir, Options{CacheSize: 1 << 20, MemTableSize: 1 << 20, Logger: quietLogger{}})
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(3)
	}
	seq := crashMaxSeq(t, e) + 1
	fmt.Printf("start %d\n", seq)
	for ; ; seq++ {
		b := e.NewBatch()
		ts := hlc.Timestamp{WallTime: int64(seq+1) * 1e9}
		for i := 0; i < crashKeysPerBatch; i++ {
			if err := MVCCPut(b, nil, crashKey(seq, i), ts, MakeBytesValue([]byte(fmt.Sprintf("%08d", seq))), MVCCWriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := MVCCIncrement(b, nil, []byte("counter"), ts, 1, MVCCWriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(true); err != nil {
			t.Fatal(err)
		}
		// Only now is the batch acknowledged.
		fmt.Printf("ack %d\n", seq)
	}
}

// crashMaxSeq returns the newest batch in the store (0 if none), checking
// that every batch up to it is whole.
func crashMaxSeq(t testing.TB, e Engine) int {
	res, err := MVCCScan(e, []byte("c/"), []byte("c0"), hlc.MaxTimestamp, MVCCScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[int]int{}
	maxSeq := 0
	for _, kv := range res.KVs() {
		parts := strings.Split(string(kv.Key), "/")
		seq, err := strconv.Atoi(parts[1])
		if err != nil || string(kv.Value.RawBytes) != parts[1] {
			t.Fatalf("bad key/value %q=%s", kv.Key, kv.Value)
		}
		count[seq]++
		maxSeq = max(maxSeq, seq)
	}
	for s := 1; s <= maxSeq; s++ {
		if count[s] != crashKeysPerBatch {
			t.Fatalf("batch %d: %d of %d keys present (max batch %d)", s, count[s], crashKeysPerBatch, maxSeq)
		}
	}
	got, err := MVCCGet(e, []byte("counter"), hlc.MaxTimestamp, MVCCGetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if got.Value != nil {
		n, _ = got.Value.GetInt()
	}
	if n != int64(maxSeq) {
		t.Fatalf("counter %d, but %d batches present", n, maxSeq)
	}
	return maxSeq
}

func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	killPoints := 60
	if testing.Short() {
		killPoints = 10
	}
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	acked := 0
	for round := 0; round < killPoints; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of acknowledgements; 0 kills it while
		// it opens the store, or before its first commit returns.
		killAfter := rng.IntN(25)
		sc := bufio.NewScanner(out)
		n := 0
		for n < killAfter && sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "ack "):
				seq, _ := strconv.Atoi(strings.TrimPrefix(line, "ack "))
				if seq != acked+1 {
					t.Fatalf("round %d: ack %d after %d", round, seq, acked)
				}
				acked = seq
				n++
			case strings.HasPrefix(line, "start "):
				seq, _ := strconv.Atoi(strings.TrimPrefix(line, "start "))
				// Unacknowledged batches may have survived; later acks
				// build on them.
				if seq <= acked {
					t.Fatalf("round %d: child starts at %d, but %d was acknowledged", round, seq, acked)
				}
				acked = seq - 1
			case strings.HasPrefix(line, "error"):
				t.Fatalf("round %d: child: %s", round, line)
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()

		e, err := Open(dir, Options{CacheSize: 1 << 20, Logger: quietLogger{}})
		if err != nil {
			t.Fatalf("round %d: reopening after SIGKILL: %v (seed %d)", round, err, seed)
		}
		if got := crashMaxSeq(t, e); got < acked {
			t.Fatalf("round %d: %d batches acknowledged, only %d present (seed %d)", round, acked, got, seed)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d kill points, %d batches acknowledged", killPoints, acked)
}
