// Command delays builds a small SNN by hand through the Go API and runs it
// on the event engine with a synaptic delay: two IF neurons driven by a
// constant input, whose spikes reach the readout three steps later.
package main

import (
	"fmt"
	"log"

	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

func main() {
	res, err := run()
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range res.Raster {
		fmt.Printf("step %d: neuron %d of layer %d spikes\n", e.Step, e.Neuron, e.Layer)
	}
	fmt.Printf("readout after 8 steps: %v\n", res.Outputs)
}

// run simulates input [1] → Linear(2) → IF(θ=1) → Linear(1) readout, with
// the readout's projection delayed by 3 steps, for 8 steps.
func run() (*network.SimResult, error) {
	net := &network.Network{
		Input: network.Shape{1},
		Layers: []network.Layer{
			// Neuron 0 gets 0.5 per step (spikes every 2nd step), neuron 1
			// gets 0.25 (every 4th).
			&network.Linear{LayerName: "fc1", In: 1, Out: 2, Weight: []float32{0.5, 0.25}, Bias: []float32{0, 0}},
			&network.Spiking{LayerName: "if1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "readout", In: 2, Out: 1, Weight: []float32{1, 10}, Bias: []float32{0}},
		},
	}
	opts := network.SimOptions{T: 8, Raster: true, KeepOutputs: true, Delays: []int{0, 0, 3}}
	return event.Engine{}.Run(net, []float32{1}, nil, opts)
}
