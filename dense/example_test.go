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

// A residual graph: the second spiking layer integrates the sum of a
// weighted branch (−0.5 × the first layer's spikes) and the identity
// shortcut of the first layer's spikes (amplitude θ = 1), so it receives
// 0.5 whenever the first layer fires (steps 2, 3, 4, 6, 7, 8) and fires at
// every second such step.
func ExampleEngine_Run_residual() {
	net := &network.Network{
		Input: network.Shape{1},
		Layers: []network.Layer{
			&network.Linear{LayerName: "in", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
			&network.Spiking{LayerName: "if1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "branch", In: 1, Out: 1, Weight: []float32{-0.5}, Bias: []float32{0}},
			&network.Add{LayerName: "add"},
			&network.Spiking{LayerName: "if2", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "readout", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
		},
		// add reads the branch and, as its shortcut, if1.
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2, 1}, {3}, {4}},
	}
	res, err := dense.Engine{}.Run(net, []float32{0.75}, nil, network.SimOptions{T: 8, KeepOutputs: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range res.Layers {
		fmt.Println(l.Name, l.SpikesByStep, "SOPs:", l.SOPs)
	}
	fmt.Println("readout:", res.Outputs[0])
	// Output:
	// if1 [0 1 1 1 0 1 1 1] SOPs: 12
	// if2 [0 0 1 0 0 1 0 1] SOPs: 3
	// readout: 3
}
