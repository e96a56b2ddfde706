package dense_test

import (
	"fmt"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/network"
)

// A single IF neuron with threshold 1 driven by a constant current of
// 0.75 fires 3 times in 4 steps (soft reset keeps the excess); the readout
// accumulates θ = 1 per spike.
func ExampleEngine_Run() {
	net := &network.Network{
		Input: network.Shape{1},
		Layers: []network.Layer{
			&network.Linear{LayerName: "in", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
			&network.Spiking{LayerName: "if", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "readout", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
		},
	}
	res, err := dense.Engine{}.Run(net, []float32{0.75}, nil, network.SimOptions{T: 8, KeepOutputs: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("spikes per step:", res.Layers[0].SpikesByStep)
	fmt.Println("total:", res.Layers[0].Spikes, "readout:", res.Outputs[0])
	// Output:
	// spikes per step: [0 1 1 1 0 1 1 1]
	// total: 6 readout: 6
}

// Delays postpone a projection: with the input arriving 2 steps late, the
// first spike comes at step 4.
func ExampleEngine_Run_delays() {
	net := &network.Network{
		Input: network.Shape{1},
		Layers: []network.Layer{
			&network.Linear{LayerName: "in", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
			&network.Spiking{LayerName: "if", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "readout", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
		},
	}
	res, _ := dense.Engine{}.Run(net, []float32{0.75}, nil, network.SimOptions{T: 8, Delays: []int{2, 0, 0}})
	fmt.Println(res.Layers[0].SpikesByStep)
	// Output:
	// [0 0 0 1 1 1 0 1]
}
