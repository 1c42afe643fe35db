package kv

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5"
	"github.com/meridiandb/meridian/workload"
	"github.com/meridiandb/meridian/workload/pgtest"
)

func TestZipfian(t *testing.T) {
	const n, samples = 1000, 1_000_000
	z := newZipfian(n, zipfTheta)
	r := rand.New(rand.NewPCG(1, 2))
	counts := make([]float64, n)
	for range samples {
		v := z.draw(r)
		if v >= n {
			t.Fatalf("draw %d out of [0, %d)", v, n)
		}
		counts[v]++
	}
	// P(rank i) = 1/((i+1)^theta zeta(n)) for the first ranks, where
	// Gray's method is exact.
	zn := zeta(n, zipfTheta)
	for i := range 2 {
		want := 1 / (math.Pow(float64(i+1), zipfTheta) * zn)
		if got := counts[i] / samples; math.Abs(got-want) > 0.01 {
			t.Errorf("P(rank %d) = %.4f, want %.4f", i, got, want)
		}
	}
	// Heavily skewed: the top 10% of ranks draw most of the mass.
	var top float64
	for i := range n / 10 {
		top += counts[i]
	}
	want := zeta(n/10, zipfTheta) / zn
	if got := top / samples; math.Abs(got-want) > 0.03 {
		t.Errorf("top 10%% of ranks draw %.3f, want %.3f", got, want)
	}
	// The tail of zeta beyond exactZetaUpTo is an integral: check it
	// against the exact sum at a size we can still sum.
	exact := 0.0
	for i := 1; i <= 2*exactZetaUpTo; i++ {
		exact += 1 / math.Pow(float64(i), zipfTheta)
	}
	if got := zeta(2*exactZetaUpTo, zipfTheta); math.Abs(got-exact)/exact > 1e-6 {
		t.Errorf("approximate zeta %.6f, exact %.6f", got, exact)
	}
}

func TestScrambleIsSpread(t *testing.T) {
	seen := map[int64]bool{}
	var high int
	for i := range uint64(100_000) {
		k := scramble(i)
		if k < 0 || seen[k] {
			t.Fatalf("scramble(%d) = %d: negative or repeated", i, k)
		}
		seen[k] = true
		if k > math.MaxInt64/2 {
			high++
		}
	}
	if high < 45_000 || high > 55_000 {
		t.Errorf("%d of 100,000 keys in the upper half of the keyspace, want about half", high)
	}
}

// TestKVPostgres: init with preloaded rows, check, kv0 and kv95 for 10 s
// each (zipfian, batched, sequential among them), check again.
func TestKVPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "kv")
	ctx := context.Background()
	opts := Options{CycleLength: 10_000, MinBlockBytes: 16, MaxBlockBytes: 64}
	if n, err := Init(ctx, InitConfig{URLs: []string{url}, Options: opts, Rows: 5_000}); err != nil || n != 5_000 {
		t.Fatalf("init: %d rows, %v", n, err)
	}
	res, err := Check(ctx, url)
	if err != nil || res.Rows != 5_000 {
		t.Fatalf("check after init: %+v, %v", res, err)
	}
	for _, tc := range []struct {
		name string
		cfg  RunConfig
	}{
		{"kv0", RunConfig{ReadPercent: 0, Batch: 4}},
		{"kv95-zipfian", RunConfig{ReadPercent: 95, Options: Options{Distribution: "zipfian"}}},
		{"kv50-sequential", RunConfig{ReadPercent: 50, Options: Options{Sequential: true}}},
	} {
		cfg := tc.cfg
		cfg.URLs = []string{url}
		cfg.Duration = 7 * time.Second
		cfg.Workers = 4
		cfg.CycleLength, cfg.MinBlockBytes, cfg.MaxBlockBytes = opts.CycleLength, opts.MinBlockBytes, opts.MaxBlockBytes
		r, err := Run(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var b bytes.Buffer
		r.WriteText(&b)
		t.Log(b.String())
		reads, writes := r.Ops[0].Count, r.Ops[1].Count
		if reads+writes < 100 || r.Errors != 0 {
			t.Fatalf("%s: %d reads, %d writes, %d errors (%s)", tc.name, reads, writes, r.Errors, r.FirstError)
		}
		share := 100 * float64(reads) / float64(reads+writes)
		if math.Abs(share-float64(cfg.ReadPercent)) > 3 {
			t.Errorf("%s: %.1f%% reads, want %d%%", tc.name, share, cfg.ReadPercent)
		}
	}
	// At most the cycle's scrambled keys plus its sequential ones.
	res, err = Check(ctx, url)
	if err != nil || res.Rows < 5_000 || res.Rows > 2*10_000 {
		t.Fatalf("check after the runs: %+v, %v", res, err)
	}
	// Sequential writes fill keys 0, 1, 2, …: the lowest keys exist.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var low int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM kv WHERE k >= 0 AND k < 100").Scan(&low); err != nil {
		t.Fatal(err)
	}
	if low != 100 {
		t.Errorf("%d of the keys 0..99 exist after sequential writes, want 100", low)
	}
}

func TestKVNoSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t, "kv_empty")
	_, err := Run(context.Background(), RunConfig{URLs: []string{url}, Duration: time.Second})
	if !errors.Is(err, workload.ErrNoSchema) {
		t.Fatalf("run on an empty database: %v, want ErrNoSchema", err)
	}
}
