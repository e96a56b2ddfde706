package calibrate_test

import (
	"fmt"

	"github.com/evsnn/evsnn/calibrate"
	"github.com/evsnn/evsnn/network"
)

// A tiny ANN: two inputs, a linear layer of two ReLU neurons, a readout.
func tinyANN() *network.Network {
	return &network.Network{
		Input: network.Shape{2},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc1", In: 2, Out: 2, Weight: []float32{1, 0.5, -0.5, 1}, Bias: []float32{0.05, 0}},
			&network.ReLU{LayerName: "relu1"},
			&network.Linear{LayerName: "fc2", In: 2, Out: 2, Weight: []float32{1, -1, -1, 1}, Bias: []float32{0, 0}},
		},
	}
}

func Example() {
	// Calibration images: a grid over [0,1]².
	var images []float32
	for i := 0; i <= 10; i++ {
		for j := 0; j <= 10; j++ {
			images = append(images, float32(i)/10, float32(j)/10)
		}
	}
	method, _ := calibrate.ParseMethod("light") // search, shift, bc
	snn, rep, err := calibrate.Calibrate(tinyANN(), images, calibrate.Options{T: 4, Method: method})
	if err != nil {
		panic(err)
	}
	for _, l := range rep.Layers {
		for _, s := range l.Steps[1:] {
			fmt.Printf("%s %-12s error %.4f → %.4f kept=%v\n", l.Name, s.Step, s.Before, s.After, s.Kept)
		}
	}
	cb := snn.Meta.Calibration
	fmt.Printf("calibrated %s for T=%d on %d images, θ = %.3f\n", cb.Method, cb.T, cb.Images, cb.Layers[0].Threshold)
	// The search picks one threshold per neuron of fc1. Bias correction
	// would not lower either neuron's error at any strength here, so it
	// is undone, and the provenance says so.

	// Output:
	// relu1 search+shift error 0.0610 → 0.0125 kept=true
	// relu1 bc           error 0.0125 → 0.0125 kept=false
	// calibrated search,shift,bc for T=4 on 121 images, θ = [1.302 0.840]
}
