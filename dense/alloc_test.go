package dense

import (
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// TestRunAllocates checks that simulating a batch allocates nothing once
// a worker's state exists, on every kind of random graph, direct and
// Poisson, with delays, and with an early-exit rule and spike recording
// (whose id lists keep their memory from one batch to the next).
func TestRunAllocates(t *testing.T) {
	for _, kind := range snnref.Kinds {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			for _, record := range []bool{false, true} {
				r := rand.New(rand.NewPCG(uint64(kind), 3))
				net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 0.5, Reset: network.ResetHard})
				opts := network.SimOptions{T: 6, Encoding: enc, KeepCounts: true, KeepOutputs: true, Delays: snnref.RandomDelays(r, net)}
				if record {
					opts.Exit = network.MarginExit{M: 0.5}
					opts.RecordSpikes = true
					opts.OnImage = func(int, *network.ImageRecord) error { return nil }
				}
				if err := opts.Check(); err != nil {
					t.Fatal(err)
				}
				p, err := compile(net, opts)
				if err != nil {
					t.Fatal(err)
				}
				const batch = 3
				x := snnref.RandomImages(r, net, batch)
				res, err := network.NewSimResult(net, "dense", batch, []int{0, 1, 2}, opts)
				if err != nil {
					t.Fatal(err)
				}
				for _, skip := range []bool{false, true} {
					st := p.newState(batch, opts, skip, res)
					tl := res.NewTally()
					if n := testing.AllocsPerRun(3, func() { _ = st.run(x, 0, batch, tl) }); n != 0 {
						t.Errorf("%v %s skip=%v record=%v: %v allocations per batch", kind, enc, skip, record, n)
					}
				}
			}
		}
	}
}
