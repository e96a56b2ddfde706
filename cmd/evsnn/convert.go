package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/network"
)

// ConvertCmd turns an ANN into an SNN by threshold balancing (SPEC §3).
type ConvertCmd struct {
	Model       string  `arg:"" optional:"" help:"ANN model file (.evsnn or .onnx); default: the built-in model." type:"path"`
	Threshold   string  `help:"Threshold statistic: max, pNN.NN (percentile), max-per-channel, pNN.NN-per-channel." default:"max"`
	BiasShift   bool    `help:"Add θ/(2T) to the biases (Deng & Gu 2021); needs --T."`
	T           int     `name:"T" help:"Time steps the bias shift is made for." default:"0"`
	Neuron      string  `help:"Neuron model: if or lif." default:"if" enum:"if,lif"`
	Alpha       float32 `help:"LIF leak factor α in (0,1)." default:"0.9"`
	Reset       string  `help:"Reset after a spike: soft (subtract θ) or hard (to 0)." default:"soft" enum:"soft,hard"`
	V0          string  `name:"v0" help:"Initial potential as a fraction of θ: 0 or 0.5 (any value in [0,1])." default:"0"`
	CalibImages int     `help:"Calibration images (the first N MNIST training images)." default:"1024"`
	Output      string  `short:"o" required:"" help:"Where to write the SNN model file." type:"path"`
}

// Run implements the command.
func (c *ConvertCmd) Run(g *Globals) error {
	ann, err := g.LoadModel(c.Model)
	if err != nil {
		return err
	}
	opts, err := c.options()
	if err != nil {
		return badInput(err)
	}
	snn, err := g.convert(ann, opts, c.CalibImages)
	if err != nil {
		return err
	}
	if err := modelfile.Save(c.Output, snn); err != nil {
		return err
	}
	g.Log.Info().Str("output", c.Output).Msg("SNN written")
	return nil
}

func (c *ConvertCmd) options() (convert.Options, error) {
	v0, err := strconv.ParseFloat(c.V0, 32)
	if err != nil || v0 < 0 || v0 > 1 {
		return convert.Options{}, fmt.Errorf("--v0 %q: want a fraction of θ in [0,1], e.g. 0 or 0.5", c.V0)
	}
	if _, err := convert.ParseStatistic(c.Threshold); err != nil {
		return convert.Options{}, fmt.Errorf("--threshold: %w", err)
	}
	if c.BiasShift && c.T <= 0 {
		return convert.Options{}, fmt.Errorf("--bias-shift needs --T (the bias shift θ/2T is made for one T)")
	}
	if !c.BiasShift && c.T != 0 {
		return convert.Options{}, fmt.Errorf("--T is only used with --bias-shift here; simulate takes --T")
	}
	opts := convert.Options{
		Statistic:  c.Threshold,
		Neuron:     c.Neuron,
		Reset:      network.Reset(c.Reset),
		V0Fraction: float32(v0),
		BiasShift:  c.BiasShift,
		T:          c.T,
	}
	if c.Neuron == "lif" {
		opts.Alpha = c.Alpha
	}
	return opts, nil
}

// convert runs threshold balancing on the first n calibration images.
func (g *Globals) convert(ann *network.Network, opts convert.Options, n int) (*network.Network, error) {
	if ann.IsSNN() {
		return nil, badInputf("the model is already an SNN (converted with %s thresholds); convert takes an ANN", statName(ann))
	}
	if n <= 0 {
		return nil, badInputf("--calib-images %d: must be positive", n)
	}
	calib, err := g.CalibrationSet(n)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	snn, err := convert.FromANN(ann, calib.Images, calib.N, opts)
	if err != nil {
		return nil, badInput(err)
	}
	ev := g.Log.Info().Int("images", calib.N).Str("statistic", snn.Meta.Conversion.Statistic).Dur("wall", time.Since(start).Round(time.Millisecond))
	for _, i := range snn.SpikingLayers() {
		s := snn.Layers[i].(*network.Spiking)
		ev = ev.Str("θ "+s.Name(), formatThresholds(s.Threshold))
	}
	ev.Msg("converted")
	return snn, nil
}

func statName(net *network.Network) string {
	if net.Meta.Conversion != nil {
		return net.Meta.Conversion.Statistic
	}
	return "unknown"
}

// EnsureSNN returns net if it is an SNN; an ANN is converted with the
// defaults (max threshold, IF, soft reset, v(0)=0, direct input, the first
// 1,024 training images) and the log says so.
func (g *Globals) EnsureSNN(net *network.Network) (*network.Network, error) {
	if net.IsSNN() {
		return net, nil
	}
	g.Log.Info().Msg("the model is an ANN: converting with the defaults (max threshold, IF, soft reset, v(0)=0, first 1,024 training images)")
	return g.convert(net, convert.Options{}, convert.DefaultCalibImages)
}

// warnFittedT warns when a model fitted for one T is run at another.
func (g *Globals) warnFittedT(net *network.Network, T int) {
	if ft := net.FittedT(); ft != 0 && ft != T {
		what := "converted with a bias shift"
		if net.Meta.Calibration != nil {
			what = "calibrated (" + net.Meta.Calibration.Method + ")"
		}
		g.Log.Warn().Int("fitted_T", ft).Int("T", T).Msgf("the model was %s for T=%d but runs for T=%d: expect lower accuracy", what, ft, T)
	}
}
