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
	fmt.Printf("calibrated %s for T=%d on %d images\n", cb.Method, cb.T, cb.Images)
	// Bias correction would raise the error here at full and half
	// strength and leaves it as it is at quarter strength, so it is undone.

	// Output:
	// relu1 search+shift error 0.0793 → 0.0157 kept=true
	// relu1 bc           error 0.0157 → 0.0163 kept=false
	// relu1 bc           error 0.0157 → 0.0158 kept=false
	// relu1 bc           error 0.0157 → 0.0157 kept=false
	// calibrated search,shift,bc for T=4 on 121 images
}
