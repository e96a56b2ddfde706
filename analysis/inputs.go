package analysis

import (
	"fmt"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/network"
)

// Request is what a run is asked for: a model, data, how many test images
// and the simulation options.
type Request struct {
	// Model is a model file (see package format); "" is the built-in
	// model.
	Model string
	Data  Data
	// Images is the number of test images, the first ones (0: all).
	Images int
	Opts   network.SimOptions
	// CalibImages is the number of training images an ANN is converted on
	// (0: the default of SPEC §7, convert.DefaultCalibImages).
	CalibImages int
}

// Inputs are what a run works on, loaded and checked: the model as given,
// the SNN to simulate, the test images and the options.
type Inputs struct {
	// ANN is the model as loaded: an ANN, or an SNN model file (then the
	// same network as SNN).
	ANN *network.Network
	// SNN is the model, converted with the defaults if it was an ANN.
	SNN  *network.Network
	Set  *dataset.Set
	Opts network.SimOptions
	// Model names the model in reports: its path, or BuiltinName.
	Model string
}

// Prepare checks the options, loads the model and the test images, checks
// that they fit each other (shape, classes, and pixels in [0, 1] for
// Poisson input: Check), converts an ANN with the defaults on the first
// 1,024 (CalibImages) training images of the data, and warns if the SNN was fitted for
// another T.
func Prepare(req Request, env Env) (*Inputs, error) {
	if err := req.Opts.Check(); err != nil {
		return nil, BadInput(err)
	}
	if req.Images < 0 {
		return nil, BadInput(fmt.Errorf("--images %d: must be ≥ 0", req.Images))
	}
	ann, err := LoadModel(req.Model, env)
	if err != nil {
		return nil, err
	}
	set, err := req.Data.Test(req.Images)
	if err != nil {
		return nil, err
	}
	name := req.Model
	if name == "" {
		name = BuiltinName
	}
	// The data is checked against the model before any conversion: the
	// SNN takes what the ANN takes.
	in := &Inputs{ANN: ann, SNN: ann, Set: set, Opts: req.Opts, Model: name}
	if err := in.Check(); err != nil {
		return nil, err
	}
	if in.SNN, err = ensureSNN(ann, req.Data, req.CalibImages, env); err != nil {
		return nil, err
	}
	warnFittedT(in.SNN, req.Opts.T, env)
	return in, nil
}

// Check reports whether the images fit the SNN: their shape, their classes,
// and, for Poisson input, pixels in [0, 1] (a pixel is a firing
// probability).
func (in *Inputs) Check() error {
	if err := Fits(in.SNN, in.Set); err != nil {
		return err
	}
	if in.Opts.Encoding == network.EncodingPoisson {
		if lo, hi := in.Set.PixelRange(); lo < 0 {
			how := ""
			if in.Set.Normalized() {
				how = " (normalised by --normalize)"
			}
			return BadInput(fmt.Errorf("poisson input: %s has pixels from %g to %g%s; a pixel is a firing probability and must lie in [0, 1]: use direct input, or data that is not normalised", in.Set.Name, lo, hi, how))
		}
	}
	return nil
}
