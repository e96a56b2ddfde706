package analysis

import (
	"fmt"
	"strings"
	"time"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/format"
	"github.com/evsnn/evsnn/models"
	"github.com/evsnn/evsnn/network"
)

// BuiltinName is what a run of the built-in model (models.Default) calls
// it.
const BuiltinName = "built-in MNIST CNN"

// LoadModel reads the model file at path in any format package format
// knows; "" means the built-in model.
func LoadModel(path string, env Env) (*network.Network, error) {
	if path == "" {
		net, err := models.Default()
		if err != nil {
			return nil, fmt.Errorf("built-in model: %w", err)
		}
		env.log().Info("no model given: using the built-in MNIST CNN")
		return net, nil
	}
	net, err := format.Load(path)
	if err != nil {
		return nil, BadInput(err)
	}
	env.log().Debug("model loaded", "path", path)
	return net, nil
}

// Convert converts ann by threshold balancing (convert.FromANN) on the
// calibration set and logs the thresholds. An SNN is refused.
func Convert(ann *network.Network, opts convert.Options, calib *dataset.Set, env Env) (*network.Network, error) {
	if ann.IsSNN() {
		stat := "unknown"
		if cv := ann.Meta.Conversion; cv != nil {
			stat = cv.Statistic
		}
		return nil, BadInput(fmt.Errorf("the model is already an SNN (converted with %s thresholds); convert takes an ANN", stat))
	}
	if err := FitsInput(ann, calib); err != nil {
		return nil, err
	}
	start := time.Now()
	snn, err := convert.FromANN(ann, calib.Images, calib.N, opts)
	if err != nil {
		return nil, BadInput(err)
	}
	args := []any{"images", calib.N, "statistic", snn.Meta.Conversion.Statistic, "wall", time.Since(start).Round(time.Millisecond)}
	for _, i := range snn.SpikingLayers() {
		s := snn.Layers[i].(*network.Spiking)
		args = append(args, "θ "+s.Name(), FormatThresholds(s.Threshold))
	}
	env.log().Info("converted", args...)
	return snn, nil
}

// EnsureSNN returns net if it is an SNN. An ANN is converted with the
// defaults of SPEC §7 (max threshold, IF, soft reset, v(0)=0, the first
// 1,024 training images of data, or all of them if there are fewer) and
// the log says so.
func EnsureSNN(net *network.Network, data Data, env Env) (*network.Network, error) {
	return ensureSNN(net, data, 0, env)
}

// ensureSNN is EnsureSNN on n calibration images (0: the default).
func ensureSNN(net *network.Network, data Data, n int, env Env) (*network.Network, error) {
	if net.IsSNN() {
		return net, nil
	}
	exact := n > 0
	if !exact {
		n = convert.DefaultCalibImages
	}
	env.log().Info(fmt.Sprintf("the model is an ANN: converting with the defaults (max threshold, IF, soft reset, v(0)=0, first %d training images)", n))
	calib, err := data.load(dataset.Train, n, exact)
	if err != nil {
		return nil, err
	}
	if calib.N < n {
		env.log().Warn(fmt.Sprintf("%s has only %d training images: the thresholds come from all of them", calib.Name, calib.N))
	}
	return Convert(net, convert.Options{}, calib, env)
}

// warnFittedT warns when a model fitted for one T is run at another.
func warnFittedT(net *network.Network, T int, env Env) {
	if ft := net.FittedT(); ft != 0 && ft != T {
		what := "converted with a bias shift"
		if net.Meta.Calibration != nil {
			what = "calibrated (" + net.Meta.Calibration.Method + ")"
		}
		env.log().Warn(fmt.Sprintf("the model was %s for T=%d but runs for T=%d: expect lower accuracy", what, ft, T), "fitted_T", ft, "T", T)
	}
}

// FormatThresholds prints a layer's θ: one value, or the range of a
// per-channel threshold.
func FormatThresholds(th []float32) string {
	if len(th) == 1 {
		return fmt.Sprintf("%.4g", th[0])
	}
	lo, hi := th[0], th[0]
	for _, v := range th {
		lo, hi = min(lo, v), max(hi, v)
	}
	return fmt.Sprintf("%.4g..%.4g per channel", lo, hi)
}

// ThresholdList is the thresholds of every spiking layer, comma-separated.
func ThresholdList(net *network.Network) string {
	var parts []string
	for _, i := range net.SpikingLayers() {
		if s, ok := net.Layers[i].(*network.Spiking); ok {
			parts = append(parts, FormatThresholds(s.Threshold))
		}
	}
	return strings.Join(parts, ", ")
}

// Fits checks that the images of set are what net takes (FitsInput) and
// that they have no more classes than the network has outputs.
func Fits(net *network.Network, set *dataset.Set) error {
	if err := FitsInput(net, set); err != nil {
		return err
	}
	shapes, err := net.Shapes()
	if err != nil {
		return BadInput(err)
	}
	if out := shapes[len(shapes)-1].Size(); set.Classes > out {
		return BadInput(fmt.Errorf("%s has %d classes, the model %d outputs", set.Name, set.Classes, out))
	}
	return nil
}

// FitsInput checks that the images of set have as many values as net's
// input (the same shape, for an image input). Conversion and calibration,
// which read no labels, need no more.
func FitsInput(net *network.Network, set *dataset.Set) error {
	in := net.Input
	shape := network.Shape(set.Shape())
	if in.Size() != shape.Size() || (len(in) == 3 && !in.Equal(shape)) {
		return BadInput(fmt.Errorf("the model takes %v inputs, %s images are %v", in, set.Name, shape))
	}
	return nil
}
