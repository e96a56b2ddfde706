package analysis

import (
	"fmt"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/network"
)

// DemoOptions configure Demo.
type DemoOptions struct {
	T int // steps
	// Images is the number of MNIST test images (0: all 10,000).
	Images int
	// CompareImages limits the dense engine's comparison to the first N
	// images (0: all).
	CompareImages int
	// ErrorImages is the number of images the conversion error is
	// measured on.
	ErrorImages int
	// Workers is the number of goroutines of each simulation (0: all
	// cores).
	Workers int
	// Data is MNIST (the zero Data: the copies built into the binary), from
	// a path if one is given; the built-in model takes no other set.
	Data Data
}

// Demo is the main job on the built-in model: the MNIST CNN converted
// (max threshold, bias shift θ/2T for T), simulated event-driven on the
// test images, compared with the dense engine and the ANN, and profiled,
// conversion error included. MNIST comes from the copies built into the
// binary unless o.Data names a path: it runs offline.
func Demo(o DemoOptions, env Env) (*Analysis, error) {
	opts := network.SimOptions{T: o.T, Encoding: network.EncodingDirect, Seed: 1, Workers: o.Workers}
	if err := opts.Check(); err != nil {
		return nil, BadInput(err)
	}
	data := o.Data
	if data.Name() != "mnist" {
		return nil, BadInput(fmt.Errorf("the demo runs the built-in MNIST CNN on MNIST, not on %s: simulate, profile or report take --dataset", data.Name()))
	}
	ann, err := LoadModel("", env)
	if err != nil {
		return nil, err
	}
	calib, err := data.Calibration(convert.DefaultCalibImages)
	if err != nil {
		return nil, err
	}
	env.log().Info("step 1/4: converting the built-in ANN (max threshold, bias shift θ/2T)", "T", o.T)
	snn, err := Convert(ann, convert.Options{BiasShift: true, T: o.T}, calib, env)
	if err != nil {
		return nil, err
	}
	set, err := data.Test(o.Images)
	if err != nil {
		return nil, err
	}
	in := &Inputs{ANN: ann, SNN: snn, Set: set, Opts: opts, Model: BuiltinName}
	env.log().Info("step 2/4: simulating event-driven, then the dense reference and the ANN on the same images")
	return in.Analyze(AnalyzeOptions{ErrorImages: o.ErrorImages, Compare: true, CompareImages: o.CompareImages}, env)
}
