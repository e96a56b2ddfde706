package main

import (
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/network"
)

// BenchCmd measures the simulation engines: the model at T on test images
// with both engines on one core (and the event engine on all cores, and its
// per-image streaming latency), their agreement, and the time of both
// engines on a synthetic network as its activity is swept.
type BenchCmd struct {
	Model          string  `arg:"" optional:"" help:"SNN or ANN model file (.evsnn or .onnx; an ANN is converted with the defaults); default: the built-in model." type:"path"`
	T              int     `name:"T" help:"Time steps." default:"32"`
	Images         int     `help:"Test images for the model benchmark (0: all)." default:"1000"`
	Engines        string  `help:"Engines to time on the model, comma-separated." default:"event,dense"`
	Latency        int     `help:"Images for the per-image streaming latency of the event engine (0: none)." default:"200"`
	ExpectedSpikes string  `help:"Mean spikes per image of each spiking layer (comma-separated) the event engine must reproduce within --expected-tol." placeholder:"N1,N2,..."`
	ExpectedTol    float64 `help:"Relative tolerance of --expected-spikes." default:"0.005"`
	NoModel        bool    `help:"Skip the model benchmark."`
	Synthetic      bool    `help:"Run the synthetic activity sweep." default:"true" negatable:""`
	Activities     string  `help:"Activities (fraction of neurons firing per step) of the synthetic sweep." default:"0.001,0.003,0.01,0.03,0.1,0.3,0.5"`
	Neurons        int     `help:"Neurons per hidden layer of the synthetic network (three layers, 1024 inputs)." default:"4096"`
	SynImages      int     `name:"syn-images" help:"Inputs per synthetic measurement." default:"16"`
	MaxDiff        float64 `help:"Largest relative per-layer spike-count difference between engines that passes the agreement check." default:"1e-4"`
	JSON           bool    `help:"Print one JSON object instead of tables."`
}

// Run implements the command.
func (c *BenchCmd) Run(g *Globals) error {
	o := analysis.BenchOptions{T: c.T, Latency: c.Latency, MaxDiff: c.MaxDiff, ExpectedTol: c.ExpectedTol, Neurons: c.Neurons, SynImages: c.SynImages}
	var err error
	for _, e := range strings.Split(c.Engines, ",") {
		o.Engines = append(o.Engines, strings.TrimSpace(e))
	}
	if o.ExpectedSpikes, err = floats("--expected-spikes", c.ExpectedSpikes); err != nil {
		return err
	}
	if c.Synthetic {
		if o.Activities, err = floats("--activities", c.Activities); err != nil {
			return err
		}
	}
	var net *network.Network
	var set *dataset.Set
	if !c.NoModel {
		req := analysis.Request{Model: c.Model, Data: g.Data, Images: c.Images, Opts: network.SimOptions{T: c.T, Workers: 1}}
		in, err := analysis.Prepare(req, g.Env)
		if err != nil {
			return err
		}
		net, set = in.SNN, in.Set
	}
	b, err := analysis.RunBench(net, set, o, g.Env)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(g.Out, b)
	}
	if err := b.WriteText(g.Out); err != nil {
		return err
	}
	return b.Check()
}

// floats parses a comma-separated list of numbers ("" is none).
func floats(flag, s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, badInputf("%s: %q is not a number", flag, f)
		}
		out = append(out, v)
	}
	return out, nil
}
