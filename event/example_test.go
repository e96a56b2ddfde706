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
