package analysis_test

import (
	"fmt"
	"log"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/network"
)

// The built-in CNN (converted with max thresholds on the first 256
// training images) on the first 40 MNIST test images: the ANN, the dense
// and the event SNN side by side.
func ExampleInputs_Compare() {
	in, err := analysis.Prepare(analysis.Request{Images: 40, Opts: network.SimOptions{T: 12}, CalibImages: 256}, analysis.Env{})
	if err != nil {
		log.Fatal(err)
	}
	c, err := in.Compare(analysis.Env{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ANN %.2f, dense SNN %.2f, event SNN %.2f; the engines disagree on %d images\n",
		c.ANNAccuracy, c.DenseAccuracy, c.EventAccuracy, len(c.Disagreements))
	fmt.Println(len(c.Layers), "spiking layers compared")
	// Output:
	// ANN 1.00, dense SNN 1.00, event SNN 1.00; the engines disagree on 0 images
	// 3 spiking layers compared
}

// Simulate a model file with an engine found by name (an ANN is converted
// first, here on the first 256 training images).
func ExampleInputs_Simulate() {
	in, err := analysis.Prepare(analysis.Request{Model: "../testdata/mnist_lenet.onnx", Images: 50, Opts: network.SimOptions{T: 32}, CalibImages: 256}, analysis.Env{})
	if err != nil {
		log.Fatal(err)
	}
	engine, _ := engines.ByName("event")
	sim, err := in.Simulate(engine, analysis.Env{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s engine, T=%d: accuracy %.2f after 32 steps, %.2f after 4\n", sim.Engine, sim.T, sim.Accuracy, sim.AccuracyByStep[3])
	for _, l := range sim.Layers {
		fmt.Printf("%s: %d neurons, %.0f spikes per image\n", l.Name, l.Neurons, float64(l.Spikes)/float64(sim.Images))
	}
	// Output:
	// event engine, T=32: accuracy 1.00 after 32 steps, 0.10 after 4
	// relu1: 12544 neurons, 22622 spikes per image
	// relu2: 6272 neurons, 3577 spikes per image
	// relu3: 128 neurons, 247 spikes per image
}
