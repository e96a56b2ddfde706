package network

import "fmt"

// Add sums its inputs (two or more tensors of one shape: the residual
// join), plus an optional bias. It is linear. In a network that converts
// it feeds a ReLU (post-activation residual blocks, SPEC §1), which becomes
// the spiking layer that integrates the sum of both branches (§2a).
//
// Bias is nil, or one value per channel (the first dimension of the
// shape): an ONNX Add of a constant, and the place where conversion and
// calibration put a correction of the spiking layer after the Add (the
// bias shift θ/(2T), bias correction).
type Add struct {
	LayerName string
	Bias      []float32
}

// Kind implements Layer.
func (a *Add) Kind() Kind { return KindAdd }

// Name implements Layer.
func (a *Add) Name() string { return a.LayerName }

// OutShape implements Layer: the shape of each input (Network.Shapes
// checks that all inputs agree).
func (a *Add) OutShape(in Shape) (Shape, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("add %q: empty input shape", a.LayerName)
	}
	if a.Bias != nil && len(a.Bias) != in[0] {
		return nil, fmt.Errorf("add %q: %d bias values for %d channels", a.LayerName, len(a.Bias), in[0])
	}
	return in.Clone(), nil
}

// NumParams implements Layer.
func (a *Add) NumParams() int { return len(a.Bias) }

// MACs implements Layer: one addition per element (for two inputs).
func (a *Add) MACs(in Shape) int { return in.Size() }

// BiasAt is the bias of element i of an output of shape sh (0 without a
// bias).
func (a *Add) BiasAt(sh Shape, i int) float32 {
	if a.Bias == nil {
		return 0
	}
	return a.Bias[i/(sh.Size()/sh[0])]
}
