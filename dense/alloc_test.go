package dense

import (
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// TestRunAllocates checks that simulating a batch allocates nothing once
// a worker's state exists, on every kind of random graph, direct and
// Poisson, with delays.
func TestRunAllocates(t *testing.T) {
	for _, kind := range snnref.Kinds {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			r := rand.New(rand.NewPCG(uint64(kind), 3))
			net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 0.5, Reset: network.ResetHard})
			opts := network.SimOptions{T: 6, Encoding: enc, KeepCounts: true, KeepOutputs: true, Delays: snnref.RandomDelays(r, net)}
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
				if n := testing.AllocsPerRun(3, func() { st.run(x, 0, batch, tl) }); n != 0 {
					t.Errorf("%v %s skip=%v: %v allocations per batch", kind, enc, skip, n)
				}
			}
		}
	}
}
