package analysis_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// One traced full run prices every early-exit rule: the exact rule and a
// sweep of the margin rule, replayed exactly on the trace, and the margin
// a 1-point loss allows (on the calibration images, in a real run).
func ExampleTraceExits() {
	r := rand.New(rand.NewPCG(3, 79))
	net := snnref.RandomNet(r, snnref.Config{Kind: snnref.Chain, Alpha: 1, Reset: network.ResetSoft})
	const n = 64
	x := snnref.RandomImages(r, net, n)
	labels, _ := net.Predict(x, n, 64) // the ANN's own predictions
	in := net.Input
	set := &dataset.Set{Name: "random", Images: x, Labels: labels, N: n, C: in[0], H: in[1], W: in[2], Classes: 10}

	tr, err := analysis.TraceExits(event.Engine{}, net, set, network.SimOptions{T: 16}, analysis.Env{})
	if err != nil {
		fmt.Println(err)
		return
	}
	full := tr.Full()
	fmt.Printf("full run: %.1f %% in %.0f steps\n", 100*full.Accuracy, full.MeanSteps)
	if e, ok := tr.Exact(); ok {
		fmt.Printf("exact: %d predictions changed, %.2f steps\n", e.Changed, e.MeanSteps)
	}
	m, p, _ := tr.PickMargin(1, 1)
	fmt.Printf("loss:1 → margin M=%.3g: %.1f %% in %.2f steps\n", m.M, 100*p.Accuracy, p.MeanSteps)
	sw, _ := tr.Sweep(1, nil)
	fmt.Println("sweep points on the Pareto front:", pareto(sw))
	// Output:
	// full run: 98.4 % in 16 steps
	// exact: 0 predictions changed, 15.36 steps
	// loss:1 → margin M=0.453: 98.4 % in 3.23 steps
	// sweep points on the Pareto front: 3
}

func pareto(sw *analysis.ExitSweep) int {
	n := 0
	for _, p := range sw.Points {
		if p.Pareto {
			n++
		}
	}
	return n
}
