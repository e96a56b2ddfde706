package convert_test

import (
	"fmt"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/network"
)

// exampleANN is a 2-input, 2-hidden, 2-class multilayer perceptron.
func exampleANN() *network.Network {
	return &network.Network{
		Input: network.Shape{2},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc1", In: 2, Out: 2, Weight: []float32{1, 0, 0, 2}, Bias: []float32{0, 0}},
			&network.ReLU{LayerName: "relu1"},
			&network.Linear{LayerName: "fc2", In: 2, Out: 2, Weight: []float32{1, -1, -1, 1}, Bias: []float32{0, 0}},
		},
	}
}

// Convert an ANN with thresholds from the calibration set (here the
// per-layer maximum over three samples) and simulate it.
func ExampleFromANN() {
	ann := exampleANN()
	calib := []float32{0.5, 0.25, 1, 0, 0.25, 0.5} // three samples of 2 values
	snn, err := convert.FromANN(ann, calib, 3, convert.Options{Statistic: "max"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("threshold:", snn.Layers[1].(*network.Spiking).Threshold)
	fmt.Println(snn.Meta.Conversion.Description)

	res, err := dense.Engine{}.Run(snn, calib, []int{0, 0, 1}, network.SimOptions{T: 16})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("predictions:", res.Predictions, "accuracy after 16 steps:", res.AccuracyByStep()[15])
	// Output:
	// threshold: [1]
	// threshold max over 3 images, IF, soft reset, v0 0·θ
	// predictions: [0 0 1] accuracy after 16 steps: 1
}

// Thresholds and Convert separately: a percentile per channel, LIF neurons
// with hard reset, v(0) = θ/2 and the bias shift for T = 32.
func ExampleConvert() {
	ann := exampleANN()
	calib := []float32{0.5, 0.25, 1, 0, 0.25, 0.5}
	stat, _ := convert.ParseStatistic("p50-per-channel")
	th, err := convert.Thresholds(ann, calib, 3, stat)
	if err != nil {
		fmt.Println(err)
		return
	}
	snn, err := convert.Convert(ann, th, convert.Options{Statistic: stat.String(), Images: 3,
		Neuron: "lif", Alpha: 0.9, Reset: network.ResetHard, V0Fraction: 0.5, BiasShift: true, T: 32})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("thresholds:", th)
	fmt.Println("fc1 bias:", snn.Layers[0].(*network.Linear).Bias)
	fmt.Println(snn.Meta.Conversion.Description)
	fmt.Println("fitted T:", snn.FittedT())
	// Output:
	// thresholds: [[0.5 0.5]]
	// fc1 bias: [0.0078125 0.0078125]
	// threshold p50-per-channel over 3 images, LIF alpha 0.9, hard reset, v0 0.5·θ, bias shift θ/(2T) for T=32
	// fitted T: 32
}

// Percentile follows numpy.percentile's default (linear) method.
func ExamplePercentile() {
	fmt.Println(convert.Percentile([]float32{4, 1, 3, 2}, 50))
	fmt.Printf("%.6g\n", convert.Percentile([]float32{0, 0, 0, 10}, 99))
	// Output:
	// 2.5
	// 9.7
}
