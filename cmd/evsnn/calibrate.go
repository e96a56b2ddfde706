package main

import (
	"fmt"
	"time"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/calibrate"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/network"
)

// CalibrateCmd fits an SNN to T steps layer by layer (SPEC §4): threshold
// search, bias shift, weight calibration, bias and potential correction.
type CalibrateCmd struct {
	Model       string  `arg:"" help:"Model file (.evsnn or .onnx): an ANN, or an SNN converted but not yet calibrated." type:"path"`
	T           int     `name:"T" required:"" help:"Time steps the SNN is calibrated for."`
	Method      string  `help:"Pipeline: light (search+shift+bc), advanced (search+shift+pc), advanced+wc, or a list of search, shift, wc, bc, pc." default:"light"`
	CalibImages int     `help:"Calibration images (the first N training images of the data)." default:"1024"`
	Output      string  `short:"o" required:"" help:"Where to write the calibrated SNN model file." type:"path"`
	Seed        uint64  `help:"Seed of weight calibration's mini-batches." default:"1"`
	WCIters     int     `name:"wc-iters" help:"Weight calibration: Adam iterations per layer." default:"300"`
	WCLR        float64 `name:"wc-lr" help:"Weight calibration: learning rate (cosine-annealed to 0)." default:"1e-05"`
	WCBatch     int     `name:"wc-batch" help:"Weight calibration: mini-batch size." default:"32"`
	PerLayer    bool    `help:"Search one threshold per layer (as Li et al.) instead of one per channel, the default."`
	FullSearch  bool    `help:"Simulate all 95 threshold candidates (default: coarse to fine, at most 35)."`
	KeepWorse   bool    `help:"Keep a correction even when it raises the layer's error (default: undo it)."`
	Neuron      string  `help:"Neuron model when MODEL is an ANN: if or lif." default:"if" enum:"if,lif"`
	Alpha       float32 `help:"LIF leak factor α in (0,1)." default:"0.9"`
	Reset       string  `help:"Reset when MODEL is an ANN: soft or hard." default:"soft" enum:"soft,hard"`
	V0          float32 `name:"v0" help:"Initial potential as a fraction of θ when MODEL is an ANN (0 or 0.5)." default:"0"`
	Verify      string  `help:"Re-measure the final layer errors with an engine: none, event, dense or dense-skip." default:"none" enum:"none,event,dense,dense-skip"`
	JSON        bool    `help:"Print the calibration report as JSON on stdout."`
}

// Run implements the command.
func (c *CalibrateCmd) Run(g *Globals) error {
	opts, err := c.options(g)
	if err != nil {
		return err
	}
	net, err := analysis.LoadModel(c.Model, g.Env)
	if err != nil {
		return err
	}
	if cb := net.Meta.Calibration; cb != nil {
		return badInputf("%s is already calibrated (%s for T=%d); calibrate the ANN or its plain conversion", c.Model, cb.Method, cb.T)
	}
	if ft := net.FittedT(); net.IsSNN() && ft != 0 {
		g.Log.Info().Int("fitted_T", ft).Int("T", c.T).Msg("the SNN's bias shift is undone and made again for the calibration T")
	} else if !net.IsSNN() {
		g.Log.Info().Msg("the model is an ANN: converting it with the thresholds the calibration finds")
	}
	calib, err := g.Data.Calibration(c.CalibImages)
	if err != nil {
		return err
	}
	if err := analysis.FitsInput(net, calib); err != nil {
		return err
	}
	opts.Progress = c.logLayer(g, len(net.SpikingLayers()))
	g.Log.Info().Str("method", opts.Method.Name()).Str("steps", opts.Method.String()).Int("T", c.T).Int("images", calib.N).Uint64("seed", c.Seed).Msg("calibrating")
	snn, rep, err := calibrate.CalibrateContext(g.Ctx, net, calib.Images, opts)
	if g.Ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w (nothing written)", err)
	}
	if err != nil {
		return analysis.BadInput(err)
	}
	for _, l := range rep.Layers {
		if rep.Engine != "" {
			g.Log.Info().Str("engine", rep.Engine).Str("layer", l.Name).Float64("error", l.Error).
				Float64("engine_error", *l.EngineError).Int("count_mismatch", *l.EngineMismatch).
				Msg("re-measured with the engine")
		}
	}
	if err := modelfile.Save(c.Output, snn); err != nil {
		return err
	}
	g.Log.Info().Str("output", c.Output).Dur("wall", rep.Wall.Round(time.Millisecond)).
		Str("θ", analysis.ThresholdList(snn)).Msg("calibrated SNN written")
	if c.JSON {
		return writeJSON(g.Out, rep)
	}
	return nil
}

// options checks the flags and turns them into calibrate.Options.
func (c *CalibrateCmd) options(g *Globals) (calibrate.Options, error) {
	method, err := calibrate.ParseMethod(c.Method)
	if err != nil {
		return calibrate.Options{}, badInputf("--method: %w", err)
	}
	switch {
	case c.T < 1:
		return calibrate.Options{}, badInputf("--T %d: must be ≥ 1", c.T)
	case c.CalibImages <= 0:
		return calibrate.Options{}, badInputf("--calib-images %d: must be positive", c.CalibImages)
	case c.V0 < 0 || c.V0 > 1:
		return calibrate.Options{}, badInputf("--v0 %g: want a fraction of θ in [0,1]", c.V0)
	case c.Neuron == "lif" && !(c.Alpha > 0 && c.Alpha < 1):
		return calibrate.Options{}, badInputf("--alpha %g: the LIF leak factor must be in (0,1)", c.Alpha)
	}
	opts := calibrate.Options{
		T: c.T, Method: method, Seed: c.Seed,
		FullSearch: c.FullSearch, PerLayer: c.PerLayer, KeepWorse: c.KeepWorse,
		WCIters: c.WCIters, WCLR: c.WCLR, WCBatch: c.WCBatch,
		Alpha: 1, Reset: network.Reset(c.Reset), V0Fraction: c.V0,
		Workers: g.Workers,
	}
	if c.Neuron == "lif" {
		opts.Alpha = c.Alpha
	}
	if c.Verify != "none" {
		if opts.Engine, err = engines.ByName(c.Verify); err != nil {
			return opts, analysis.BadInput(err)
		}
	}
	return opts, nil
}

// logLayer logs each layer's calibration steps as it is done.
func (c *CalibrateCmd) logLayer(g *Globals, layers int) func(calibrate.LayerReport) {
	done := 0
	return func(lr calibrate.LayerReport) {
		done++
		for _, s := range lr.Steps[1:] {
			g.Log.Info().Str("layer", lr.Name).Str("step", s.Step).
				Float64("error_before", s.Before).Float64("error_after", s.After).Bool("kept", s.Kept).
				Msg(s.Detail)
		}
		g.Log.Info().Str("layer", lr.Name).Int("neurons", lr.Neurons).Str("θ", analysis.FormatThresholds(lr.Threshold)).
			Float64("error_before", lr.Steps[0].After).Float64("error_after", lr.Error).
			Dur("wall", lr.Wall.Round(time.Millisecond)).
			Msgf("layer %d/%d calibrated", done, layers)
	}
}
