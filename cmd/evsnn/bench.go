package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/network"
)

// BenchCmd measures the simulation engines: the model at T on test images
// with both engines on one core (and the event engine on all cores, and its
// per-image streaming latency), their agreement, and the time of both
// engines on a synthetic network as its activity is swept. With
// --target-accuracy it instead finds the fastest configuration (T,
// calibration pipeline, early-exit rule) reaching a test accuracy
// (analysis.Inputs.FindTarget).
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
	RecordRounds   int     `help:"Rounds of the recording cost: the event engine with and without recording every spike (format/spikes, to a temporary file), alternated, on one core (0: none)." default:"2"`
	RecordDir      string  `help:"Directory of the recording cost's temporary file (default: the system's temporary directory)." type:"path" placeholder:"DIR"`
	JSON           bool    `help:"Print one JSON object instead of tables."`
	targetFlags
}

// targetFlags are the flags of `bench --target-accuracy`.
type targetFlags struct {
	TargetAccuracy float64 `name:"target-accuracy" help:"Instead of timing the engines, find the fastest configuration (T, calibration, early exit) reaching this test accuracy in percent, timing the candidates on one core (use --images 0 for the whole test set)." placeholder:"PERCENT"`
	TargetT        string  `name:"target-T" help:"Time steps tried by --target-accuracy." default:"4,8,16,32"`
	Calibrate      string  `help:"Calibration pipelines tried by --target-accuracy, comma-separated: none (the model as given), light, advanced, advanced+wc, ... (calibrating needs an ANN)." default:"none"`
	TargetLosses   string  `name:"target-losses" help:"Accuracy losses X of the loss:X early-exit rules tried (margins picked on the calibration images)." default:"0,0.1,0.25,0.5,1"`
	ExitMinSteps   int     `name:"exit-min-steps" help:"S of the margin rules margin:M@S tried." default:"1"`
	CalibImages    int     `help:"Calibration images (the first N training images) of --target-accuracy." default:"1024"`
	V0             float32 `name:"v0" help:"Initial potential of the calibrated SNNs, a fraction of θ." default:"0"`
	TimeAll        bool    `help:"Time every candidate of --target-accuracy, not only those reaching the target."`
}

// runTarget is `bench --target-accuracy`.
func (c *BenchCmd) runTarget(g *Globals) error {
	// Seed 1: calibrate's default, so that the printed commands reproduce the best.
	o := analysis.TargetOptions{Target: c.TargetAccuracy, MinSteps: c.ExitMinSteps, TimeAll: c.TimeAll, V0Fraction: c.V0, Seed: 1, Workers: g.Workers}
	ts, err := floats("--target-T", c.TargetT)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t != float64(int(t)) || t < 1 {
			return badInputf("--target-T: %g is not a positive integer", t)
		}
		o.Ts = append(o.Ts, int(t))
	}
	if o.Losses, err = floats("--target-losses", c.TargetLosses); err != nil {
		return err
	}
	for _, p := range strings.Split(c.Calibrate, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.Pipelines = append(o.Pipelines, p)
		}
	}
	if c.ExitMinSteps < 1 {
		return badInputf("--exit-min-steps %d: must be ≥ 1", c.ExitMinSteps)
	}
	if c.CalibImages < 1 {
		return badInputf("--calib-images %d: must be positive", c.CalibImages)
	}
	if c.V0 < 0 || c.V0 > 1 {
		return badInputf("--v0 %g: want a fraction of θ in [0,1]", c.V0)
	}
	T := 1
	for _, t := range o.Ts {
		T = max(T, t)
	}
	req := analysis.Request{Model: c.Model, Data: g.Data, Images: c.Images, CalibImages: c.CalibImages, Opts: network.SimOptions{T: T, Workers: g.Workers}}
	in, err := analysis.Prepare(req, g.Env)
	if err != nil {
		return err
	}
	s, err := in.FindTarget(g.Ctx, g.Data, c.CalibImages, o, g.Env)
	if err != nil {
		return err
	}
	if c.JSON {
		if err := writeJSON(g.Out, s); err != nil {
			return err
		}
	} else {
		if err := s.WriteText(g.Out); err != nil {
			return err
		}
		c.printBest(g, s)
	}
	return s.Check()
}

// printBest prints the commands that run the best candidate of s.
func (c *BenchCmd) printBest(g *Globals, s *analysis.TargetSearch) {
	if s.Best < 0 {
		return
	}
	b := s.Candidates[s.Best]
	model := c.Model
	if model == "" {
		model = "<the built-in model: evsnn train's output>"
	}
	exit := ""
	if b.Exit != "none" {
		exit = " --early-exit " + b.Exit
	}
	if strings.HasPrefix(b.ExitSpec, "loss:") {
		exit += " (or --early-exit " + b.ExitSpec
		if c.ExitMinSteps > 1 {
			exit += fmt.Sprintf("@%d", c.ExitMinSteps)
		}
		exit += ")"
	}
	if b.Pipeline == "none" || strings.HasPrefix(b.Pipeline, "as given") {
		fmt.Fprintf(g.Out, "to run it: evsnn simulate %s --T %d%s\n", model, b.T, exit)
		return
	}
	fmt.Fprintf(g.Out, "to run it: evsnn calibrate %s --T %d --method %s --calib-images %d --v0 %g -o snn.evsnn && evsnn simulate snn.evsnn --T %d%s\n",
		model, b.T, b.Pipeline, s.CalibImages, c.V0, b.T, exit)
}

// Run implements the command.
func (c *BenchCmd) Run(g *Globals) error {
	if c.TargetAccuracy != 0 {
		return c.runTarget(g)
	}
	if c.RecordRounds < 0 {
		return badInputf("--record-rounds %d: must be ≥ 0", c.RecordRounds)
	}
	o := analysis.BenchOptions{T: c.T, Latency: c.Latency, MaxDiff: c.MaxDiff, ExpectedTol: c.ExpectedTol, Neurons: c.Neurons, SynImages: c.SynImages,
		RecordRounds: c.RecordRounds, RecordDir: c.RecordDir}
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
