package event_test

import (
	"fmt"

	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// A one-neuron SNN: input → Linear(1→1) → IF neuron (θ = 1, soft reset)
// → Linear readout with two classes. A constant input of 3/8 charges the
// neuron to 0.375, 0.75, 1.125 (spike, 0.125 left), ...
func tinyNet() *network.Network {
	return &network.Network{
		Input: network.Shape{1},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
			&network.Spiking{LayerName: "if", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "out", In: 1, Out: 2, Weight: []float32{1, 0}, Bias: []float32{0, 0.25}},
		},
	}
}

// Example simulates a batch of images with the Engine.
func Example() {
	net := tinyNet()
	images := []float32{0.375, 0.9}
	labels := []int{0, 0}
	res, err := event.Engine{}.Run(net, images, labels, network.SimOptions{T: 6})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("predictions:", res.Predictions)
	fmt.Println("spikes per image:", res.ImageSpikes)
	fmt.Println("correct after each step:", res.CorrectByStep)
	// Output:
	// predictions: [0 0]
	// spikes per image: [[2] [5]]
	// correct after each step: [0 1 2 2 1 2]
}

// ExampleSimulator runs one image at a time, reusing all state.
func ExampleSimulator() {
	sim, err := event.NewSimulator(tinyNet(), network.SimOptions{T: 6})
	if err != nil {
		fmt.Println(err)
		return
	}
	res := sim.NewImageResult()
	if err := sim.RunImage([]float32{0.375}, 0, res); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("prediction after each step:", res.PredictionByStep)
	fmt.Println("readout:", res.Output, "spikes:", res.Spikes, "SOPs:", res.SOPs)
	// Output:
	// prediction after each step: [1 1 0 0 1 0]
	// readout: [2 1.5] spikes: [2] SOPs: [4]
}

// ExampleSyntheticNetwork builds a network whose layers fire about 10 %
// of their neurons per step.
func ExampleSyntheticNetwork() {
	cfg := event.SyntheticConfig{Inputs: 64, Neurons: 256, Layers: 2, Activity: 0.1, Seed: 1}
	net, err := event.SyntheticNetwork(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	x, _ := event.SyntheticImages(cfg, 4)
	res, err := event.Engine{}.Run(net, x, nil, network.SimOptions{T: 50})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range res.Layers {
		rate := float64(l.Spikes) / float64(4*50*l.Neurons)
		fmt.Printf("%s: %.2f\n", l.Name, rate)
	}
	// Output:
	// if1: 0.10
	// if2: 0.10
}

// A residual SNN: the second spiking layer integrates a Linear branch of
// the first layer's spikes plus the identity shortcut of the same spikes
// (each of amplitude θ = 1), as after a ResNet block's Add.
func residualNet() *network.Network {
	if1 := &network.Spiking{LayerName: "if1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft}
	if2 := &network.Spiking{LayerName: "if2", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft}
	return &network.Network{
		Input: network.Shape{2},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc1", In: 2, Out: 2, Weight: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}},
			if1,
			&network.Linear{LayerName: "branch", In: 2, Out: 2, Weight: []float32{0, 0.5, 0.5, 0}, Bias: []float32{0, 0}},
			&network.Add{LayerName: "add"},
			if2,
			&network.Linear{LayerName: "out", In: 2, Out: 2, Weight: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}},
		},
		// add reads the branch (layer 2) and the shortcut from if1 (layer 1).
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2, 1}, {3}, {4}},
	}
}

// ExampleEngine_residual simulates a graph network with a residual Add.
// if1 fires at steps 2, 4, 6, 8 (current ½) and 4, 8 (¼); each spike
// counts 3 SOPs (two branch weights and the shortcut). if2 receives
// s0 + ½·s1 and s1 + ½·s0 and fires 4 and 3 times.
func ExampleEngine_residual() {
	res, err := event.Engine{}.Run(residualNet(), []float32{0.5, 0.25}, nil, network.SimOptions{T: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range res.Layers {
		fmt.Printf("%s: %d spikes, %d SOPs\n", l.Name, l.Spikes, l.SOPs)
	}
	fmt.Println("prediction:", res.Predictions[0])
	// Output:
	// if1: 6 spikes, 18 SOPs
	// if2: 7 spikes, 14 SOPs
	// prediction: 0
}
