package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/meridiandb/meridian/hlc"
)

// runDemo shows the most complete layer working for real. Today that is the
// hybrid logical clock: three simulated nodes whose physical clocks are
// skewed by up to ±200 ms exchange messages, and every receive is ordered
// after its send although the receiver's own clock is behind.
func runDemo(args []string) int {
	const skew = 200_000_000 // ns
	base := hlc.UnixNano()
	var phys [3]*hlc.ManualClock
	var clocks [3]*hlc.Clock
	for i := range clocks {
		phys[i] = hlc.NewManualClock(base + int64(i-1)*skew)
		clocks[i] = hlc.NewClock(phys[i].UnixNano, hlc.DefaultMaxOffset)
	}
	fmt.Println("Meridian demo: hybrid logical clocks on 3 nodes with clocks skewed by ±200ms")
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 8 {
		for i := range phys {
			phys[i].Increment(rng.Int64N(1_000_000))
		}
		from, to := rng.IntN(3), rng.IntN(3)
		if from == to {
			to = (to + 1) % 3
		}
		sent := clocks[from].Now()
		recv, err := clocks[to].Update(sent)
		if err != nil {
			fmt.Println("refused:", err)
			return 1
		}
		fmt.Printf("step %d: n%d sends at %s → n%d receives at %s (its physical clock reads %s)\n",
			step, from+1, sent, to+1, recv, hlc.Timestamp{WallTime: phys[to].UnixNano()})
	}
	// A clock beyond the maximum offset is refused.
	far := hlc.Timestamp{WallTime: phys[0].UnixNano() + int64(hlc.DefaultMaxOffset) + 1e8}
	_, err := clocks[0].Update(far)
	fmt.Println("a timestamp 600ms ahead is refused:", err)
	return 0
}
