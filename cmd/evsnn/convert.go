package main

import (
	"fmt"
	"strconv"

	"github.com/evsnn/evsnn/analysis"
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
	CalibImages int     `help:"Calibration images (the first N training images of the data)." default:"1024"`
	Output      string  `short:"o" required:"" help:"Where to write the SNN model file." type:"path"`
}

// Run implements the command.
func (c *ConvertCmd) Run(g *Globals) error {
	opts, err := c.options()
	if err != nil {
		return analysis.BadInput(err)
	}
	ann, err := analysis.LoadModel(c.Model, g.Env)
	if err != nil {
		return err
	}
	calib, err := g.Data.Calibration(c.CalibImages)
	if err != nil {
		return err
	}
	snn, err := analysis.Convert(ann, opts, calib, g.Env)
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
	if c.CalibImages <= 0 {
		return convert.Options{}, fmt.Errorf("--calib-images %d: must be positive", c.CalibImages)
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
